import { AppError } from '../../errors.ts';

/** A sequence handed out by {@link createSequencePool}; `release` gives it back (once). */
export interface SequenceLease<T> {
  sequence: T;
  release(): void;
}

/**
 * Hands out a fixed set of sequences (one answer each) and queues up to `queueLimit` callers
 * beyond them, first come first served. A caller past the queue gets the `busy` error at
 * once, so a burst of chats cannot pile up unbounded work; an aborted waiter leaves the queue.
 */
export function createSequencePool<T>(options: { sequences: T[]; queueLimit: number }) {
  const free = [...options.sequences];
  const waiters: Array<{ resolve: (lease: SequenceLease<T>) => void; reject: (error: unknown) => void; signal?: AbortSignal; onAbort: () => void }> = [];

  function lease(sequence: T): SequenceLease<T> {
    let released = false;
    return {
      sequence,
      release() {
        if (released) return;
        released = true;
        const next = waiters.shift();
        if (next) {
          next.signal?.removeEventListener('abort', next.onAbort);
          next.resolve(lease(sequence));
        } else {
          free.push(sequence);
        }
      },
    };
  }

  return {
    /** Waits for a free sequence; throws `busy` when the queue is full, the signal's reason when aborted. */
    acquire(signal?: AbortSignal): Promise<SequenceLease<T>> {
      if (signal?.aborted) return Promise.reject(signal.reason);
      const sequence = free.pop();
      if (sequence !== undefined) return Promise.resolve(lease(sequence));
      if (waiters.length >= options.queueLimit) {
        return Promise.reject(new AppError(503, 'busy', `the model is answering ${options.sequences.length} chat(s) and ${waiters.length} more are waiting; try again shortly`, { headers: { 'Retry-After': '2' } }));
      }
      return new Promise((resolve, reject) => {
        const waiter = {
          resolve,
          reject,
          signal,
          onAbort: () => {
            const index = waiters.indexOf(waiter);
            if (index >= 0) waiters.splice(index, 1);
            reject(signal?.reason);
          },
        };
        signal?.addEventListener('abort', waiter.onAbort, { once: true });
        waiters.push(waiter);
      });
    },
    /** Sequences in use and callers waiting, for logs and tests. */
    stats: () => ({ busy: options.sequences.length - free.length, waiting: waiters.length }),
  };
}
