import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}

/** Whether `origin` (a browser's Origin header) is the page's own: its host:port is the request's Host. */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === new URL(`http://${host.trim()}`).host;
  } catch {
    // "null" (sandboxed frames, file: pages) and malformed values are no origin of ours.
    return false;
  }
}

/**
 * Refuses a browser page from another site (cross-site WebSocket hijacking: browsers apply
 * no CORS to WebSockets) with 403 `origin_not_allowed`. Allowed: requests without Origin (not
 * from a browser page), the page's own origin, and the origins in `allowedOrigins` (`*` = any).
 */
export function originGuard(options: { allowedOrigins: readonly string[] }): MiddlewareHandler {
  const allowed = new Set(options.allowedOrigins.map(normalizeOrigin));
  return async (context, next) => {
    const origin = context.req.header('origin');
    if (origin !== undefined && !allowed.has('*') && !allowed.has(normalizeOrigin(origin)) && !isSameOrigin(origin, context.req.header('host') ?? new URL(context.req.url).host)) {
      throw new AppError(403, 'origin_not_allowed', 'this Origin may not open the chat socket (only the page\'s own origin and ALLOWED_ORIGINS may)');
    }
    await next();
  };
}
