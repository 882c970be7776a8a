import { AppError, databaseUnavailable } from '../errors.ts';

// Connection-level failures: the server is down, restarting or unreachable.
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);

/**
 * Translates a postgres.js / network error into an {@link AppError} a client can act on.
 * SQLSTATE classes 08 (connection) and 57P0x (shutdown) mean "try again later".
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const code = String((error as { code?: unknown })?.code ?? '');
  if (CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code)) return databaseUnavailable(error);
  if (code === '22021' || code === '22P05') return new AppError(400, 'invalid_text', 'text contains bytes PostgreSQL cannot store (such as NUL)', { cause: error });
  if (code === '40001' || code === '40P01') return new AppError(503, 'conflict_retry', 'a concurrent change conflicted; try again', { headers: { 'Retry-After': '1' }, cause: error });
  return new AppError(500, 'internal_error', 'internal error', { cause: error });
}

/** Runs `work`, translating database failures with {@link toAppError}. */
export async function withDatabaseErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toAppError(error);
  }
}
