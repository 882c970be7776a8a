import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';

/** Clients remembered at most; past it the oldest window is forgotten (bounded memory under a flood of addresses). */
const MAX_TRACKED_CLIENTS = 10_000;
const MILLISECONDS_PER_SECOND = 1000;

export interface RateLimitSettings {
  /** Requests each client may make per window; 0 = unlimited. */
  requests: number;
  windowMs: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** A fixed-window counter per client id, in memory (one process; each replica counts its own). */
export interface RateLimiter {
  take(clientId: string): RateDecision;
}

/** {@link RateLimiter} with `settings`; `now` is injectable for tests. */
export function createRateLimiter(settings: RateLimitSettings, now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { startedAt: number; count: number }>();
  return {
    take(clientId) {
      if (settings.requests === 0) return { allowed: true };
      const time = now();
      let window = windows.get(clientId);
      if (!window || time - window.startedAt >= settings.windowMs) {
        windows.delete(clientId);
        if (windows.size >= MAX_TRACKED_CLIENTS) windows.delete(windows.keys().next().value!);
        window = { startedAt: time, count: 0 };
        windows.set(clientId, window);
      }
      if (window.count >= settings.requests) {
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.startedAt + settings.windowMs - time) / MILLISECONDS_PER_SECOND)) };
      }
      window.count += 1;
      return { allowed: true };
    },
  };
}

/** The 429 a refused request gets. */
export function rateLimited(retryAfterSeconds: number): AppError {
  return new AppError(429, 'rate_limited', `too many requests; retry in ${retryAfterSeconds} s (RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW_MS)`, {
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

/** Middleware: one request taken from the client's window, 429 with Retry-After when it is spent. */
export function rateLimit(options: { limiter: RateLimiter; clientId: (context: Context) => Promise<string> }): MiddlewareHandler {
  return async (context, next) => {
    const decision = options.limiter.take(await options.clientId(context));
    if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds);
    await next();
  };
}
