import { AppError } from './errors.ts';

/**
 * Holds what the handlers need once start-up (database, migrations, model) is done. Until
 * then `get()` throws a 503 `not_ready` naming what is still pending, so the HTTP server
 * can listen (and `/healthz` answer) from the first millisecond.
 */
export interface ServiceState<T> {
  get(): T;
  isReady(): boolean;
  /** What start-up is doing or why it failed; undefined when ready. */
  reason(): string | undefined;
  setReason(reason: string): void;
  setReady(value: T): void;
}

export function createServiceState<T>(initialReason = 'starting'): ServiceState<T> {
  let value: T | undefined;
  let ready = false;
  let reason: string | undefined = initialReason;
  return {
    get() {
      if (!ready) throw new AppError(503, 'not_ready', `service is not ready: ${reason}`, { headers: { 'Retry-After': '2' } });
      return value as T;
    },
    isReady: () => ready,
    reason: () => (ready ? undefined : reason),
    setReason(next) {
      reason = next;
    },
    setReady(next) {
      value = next;
      ready = true;
      reason = undefined;
    },
  };
}
