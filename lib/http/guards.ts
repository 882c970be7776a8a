import { timingSafeEqual } from 'node:crypto';
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

/** When `apiKey` is set, requires `Authorization: Bearer <apiKey>` (constant-time compare). */
export function requireApiKey(apiKey: string | undefined): MiddlewareHandler {
  const expected = apiKey ? Buffer.from(apiKey) : undefined;
  return async (context, next) => {
    if (expected) {
      const match = /^Bearer\s+(.+)$/i.exec(context.req.header('authorization') ?? '');
      const given = match ? Buffer.from(match[1]!.trim()) : undefined;
      if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new AppError(401, 'unauthorized', match ? 'wrong API key' : 'this endpoint needs Authorization: Bearer <API_KEY>', { headers: { 'WWW-Authenticate': 'Bearer' } });
      }
    }
    await next();
  };
}

/**
 * Rejects bodies over `maxBytes` before reading them whole (Content-Length first, counted
 * while streaming for chunked uploads), so an oversized upload costs no memory.
 */
export function limitBody(maxBytes: number, message: string): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new AppError(413, 'payload_too_large', message);
    },
  });
}
