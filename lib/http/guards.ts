import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../errors.ts';

/** 415 unless the request declares a JSON body. */
export function requireJson(): MiddlewareHandler {
  return async (context, next) => {
    const type = context.req.header('content-type') ?? '';
    if (!/^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(type)) {
      throw new AppError(415, 'unsupported_media_type', 'send the body as JSON with Content-Type: application/json');
    }
    await next();
  };
}

/**
 * Rejects bodies over `maxBytes` before reading them whole (Content-Length first, counted
 * while streaming for chunked uploads), so an oversized upload costs no memory.
 */
export function limitBody(options: { maxBytes: number; message: string }): MiddlewareHandler {
  const { message } = options;
  return bodyLimit({
    maxSize: options.maxBytes,
    onError: () => {
      throw new AppError(413, 'payload_too_large', message);
    },
  });
}
