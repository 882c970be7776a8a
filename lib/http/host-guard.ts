import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';

/** Probes that reveal nothing private and are called by address (container and cluster health checks). */
const UNGUARDED_PATHS = new Set(['/healthz', '/readyz']);

/** The host name of a Host header value, lower-cased, without its port (`[::1]:8080` → `[::1]`). */
export function hostName(host: string): string {
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith('[')) return trimmed.slice(0, trimmed.indexOf(']') + 1);
  const colon = trimmed.lastIndexOf(':');
  return colon === -1 ? trimmed : trimmed.slice(0, colon);
}

/**
 * Refuses requests whose Host is not in `allowedHosts` with 421 `host_not_allowed`: a page
 * that rebinds its own DNS name to 127.0.0.1 sends its own name as Host, so it cannot read
 * the loopback service. `*` allows any Host; a name ending in `.localhost` counts as
 * `localhost` (browsers resolve it to loopback only, RFC 6761).
 */
export function hostGuard(options: { allowedHosts: readonly string[] }): MiddlewareHandler {
  const allowed = new Set(options.allowedHosts.map(hostName));
  const allowAny = allowed.has('*');
  return async (context, next) => {
    if (!allowAny && !UNGUARDED_PATHS.has(context.req.path)) {
      const name = hostName(context.req.header('host') ?? new URL(context.req.url).host);
      const known = allowed.has(name) || (allowed.has('localhost') && name.endsWith('.localhost'));
      if (!known) throw new AppError(421, 'host_not_allowed', `this service does not answer for Host ${JSON.stringify(name)}; add it to ALLOWED_HOSTS`);
    }
    await next();
  };
}
