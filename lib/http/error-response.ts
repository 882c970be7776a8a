import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError } from '../errors.ts';

/** The one error body every endpoint returns. */
export const ErrorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid_request' }),
      message: z.string().openapi({ example: 'content: must not be empty' }),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

/** OpenAPI response entries for the given error statuses. */
export function errorResponses<const Status extends number>(...statuses: Status[]) {
  const descriptions: Record<number, string> = {
    400: 'Invalid request (the body names the failing field)',
    401: 'Missing or wrong key (when API_KEY is set)',
    403: 'The key may only read (READ_API_KEY)',
    404: 'Not found',
    413: 'Body larger than its limit (MAX_DOCUMENT_BYTES for documents, MAX_REQUEST_BYTES otherwise)',
    415: 'Body is not JSON',
    421: 'The Host header is not in ALLOWED_HOSTS',
    429: 'Too many requests from this client; retry after the Retry-After header',
    503: 'Database or model unavailable; retry after the Retry-After header',
  };
  return Object.fromEntries(
    statuses.map((status) => [status, { description: descriptions[status] ?? 'Error', content: { 'application/json': { schema: ErrorResponseSchema } } }]),
  ) as Record<Status, { description: string; content: { 'application/json': { schema: typeof ErrorResponseSchema } } }>;
}

/** Renders an error as the JSON body; unexpected errors are logged, never shown. */
export function renderError(error: unknown, context: Context, log: (message: string, error: unknown) => void = defaultLog): Response {
  const appError = toHttpError(error);
  if (appError.status >= 500 && appError.code === 'internal_error') log(`${context.req.method} ${context.req.path} failed`, error);
  const body: ErrorResponse = { error: { code: appError.code, message: appError.message, ...(appError.details === undefined ? {} : { details: appError.details }) } };
  return context.json(body, appError.status as ContentfulStatusCode, appError.headers);
}

function toHttpError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException) {
    // Hono's own: malformed JSON (400), body too large (413), ...
    const code = error.status === 400 ? 'invalid_json' : error.status === 413 ? 'payload_too_large' : `http_${error.status}`;
    const message = error.status === 400 ? 'request body is not valid JSON' : error.message || 'request failed';
    return new AppError(error.status, code, message);
  }
  return new AppError(500, 'internal_error', 'internal error');
}

function defaultLog(message: string, error: unknown) {
  console.error(JSON.stringify({ level: 'error', message, error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) }));
}

/** Validation failures as 400 with the failing field paths (the OpenAPIHono defaultHook). */
export function validationError(issues: readonly { path: readonly PropertyKey[]; message: string }[]): AppError {
  const details = issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(body)', message: issue.message }));
  return new AppError(400, 'invalid_request', details.map((detail) => `${detail.path}: ${detail.message}`).join('; '), { details });
}
