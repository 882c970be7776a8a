import type { MiddlewareHandler } from 'hono';

/** Pages that set no policy of their own may not be framed (clickjacking). */
const FRAME_ONLY_POLICY = "frame-ancestors 'none'";

/**
 * Headers on every response: no MIME sniffing, no referrer sent to other sites, and every HTML
 * page unframeable (a page's own Content-Security-Policy must say `frame-ancestors` itself).
 */
export function securityHeaders(): MiddlewareHandler {
  return async (context, next) => {
    await next();
    const headers = context.res.headers;
    // A 101 upgrade response (Deno) has immutable headers and carries no content anyway.
    if (context.res.status === 101) return;
    try {
      headers.set('X-Content-Type-Options', 'nosniff');
      if (!headers.has('Referrer-Policy')) headers.set('Referrer-Policy', 'no-referrer');
      if ((headers.get('content-type') ?? '').startsWith('text/html') && !headers.has('Content-Security-Policy')) headers.set('Content-Security-Policy', FRAME_ONLY_POLICY);
    } catch {
      // Immutable headers (a response passed through from fetch): nothing to add to.
    }
  };
}
