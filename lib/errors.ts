/**
 * The one error type the service raises on purpose. `status` is the HTTP status a client
 * sees, `code` a stable machine-readable string, `details` optional structured context
 * (field paths for validation errors). Anything else thrown becomes a 500 `internal_error`
 * without its message.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;

  constructor(status: number, code: string, message: string, options: { details?: unknown; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** Database unreachable or refusing connections: clients should retry later. */
export function databaseUnavailable(cause?: unknown): AppError {
  return new AppError(503, 'database_unavailable', 'The database is unreachable; try again shortly.', { headers: { 'Retry-After': '5' }, cause });
}
