import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';

/** An upgrade that has not opened by then is given up (its slot is freed). */
const HANDSHAKE_TIMEOUT_MS = 10_000;
const RETRY_AFTER_SECONDS = '5';

/**
 * Counts WebSockets: a slot is reserved when an upgrade is let through, and freed when the
 * socket closes (or when it never opened). Runtime-free: the app calls `opened`/`closed` from
 * its socket events, so Node and Deno refuse the same upgrade.
 */
export interface ConnectionLimiter {
  /** Middleware before the upgrade: 503 `too_many_connections` when every slot is taken. */
  guard(): MiddlewareHandler;
  /** Call from onOpen with the reservation `guard` put on the context (`claim`). */
  opened(reservation: Reservation): void;
  closed(reservation: Reservation): void;
  /** Sockets open or opening. */
  readonly count: number;
}

export interface Reservation {
  released: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

declare module 'hono' {
  interface ContextVariableMap {
    socketReservation: Reservation;
  }
}

export function createConnectionLimiter(options: { maxConnections: number }): ConnectionLimiter {
  let count = 0;
  const release = (reservation: Reservation) => {
    clearTimeout(reservation.timer);
    if (reservation.released) return;
    reservation.released = true;
    count -= 1;
  };
  return {
    get count() {
      return count;
    },
    guard: () => async (context, next) => {
      if (context.req.header('upgrade')?.toLowerCase() !== 'websocket') return next();
      if (count >= options.maxConnections) {
        throw new AppError(503, 'too_many_connections', `the chat already has ${options.maxConnections} open sockets (WS_MAX_CONNECTIONS); try again shortly`, {
          headers: { 'Retry-After': RETRY_AFTER_SECONDS },
        });
      }
      count += 1;
      const reservation: Reservation = { released: false };
      reservation.timer = setTimeout(() => release(reservation), HANDSHAKE_TIMEOUT_MS);
      context.set('socketReservation', reservation);
      await next();
    },
    opened(reservation) {
      clearTimeout(reservation.timer);
    },
    closed: release,
  };
}
