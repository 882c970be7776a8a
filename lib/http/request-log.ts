import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Log } from '../log.ts';

export const REQUEST_ID_HEADER = 'X-Request-Id';

const SWITCHING_PROTOCOLS = 101;
const HANDED_OVER_UPGRADE_STATUS = 200;

/** A caller's id is kept when it is short and plain (safe in a log line and a header). */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What the access log line says about a request; the route is the pattern, never the path. */
declare module 'hono' {
  interface ContextVariableMap {
    requestId: string;
  }
}

/** The caller's X-Request-Id when it is acceptable, else a fresh UUID. */
export function requestIdFor(given: string | undefined): string {
  return given !== undefined && ACCEPTED_REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

/**
 * One JSON line per request at `info`: method, route pattern (`/api/v1/knowledge/documents/:source`,
 * so no source, query text, key or body ever reaches it), status, milliseconds and request id.
 * The id (the caller's, validated, or a new one) is echoed in `X-Request-Id`. The concrete path
 * is added at `debug` only.
 */
export function requestLog(options: { log?: Log }): MiddlewareHandler {
  const { log } = options;
  return async (context, next) => {
    const started = performance.now();
    const requestId = requestIdFor(context.req.header(REQUEST_ID_HEADER));
    context.set('requestId', requestId);
    // Read before the handler runs: once Deno has upgraded the connection, its request headers
    // can no longer be read ("Request closed").
    const upgradeRequested = context.req.header('upgrade')?.toLowerCase() === 'websocket';
    try {
      await next();
    } finally {
      if (context.res.status !== 101) {
        try {
          context.res.headers.set(REQUEST_ID_HEADER, requestId);
        } catch {
          // Immutable headers: the id is still in the log line.
        }
      }
      const route = routePath(context, -1);
      // Node's adapter answers a WebSocket upgrade it takes over with an empty 200 and writes the
      // 101 itself; Deno returns the 101. Both are logged as what the client saw: 101.
      const upgraded = upgradeRequested && context.res.status === HANDED_OVER_UPGRADE_STATUS && context.res.body === null;
      const fields = {
        method: context.req.method,
        route: route === '*' || route === '/*' ? '(no route)' : route,
        status: upgraded ? SWITCHING_PROTOCOLS : context.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        request_id: requestId,
      };
      log?.('info', 'request', fields);
      log?.('debug', 'request path', { request_id: requestId, path: context.req.path });
    }
  };
}
