import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { createSequencePool } from './sequence-pool.ts';

describe('createSequencePool', () => {
  it('hands out each sequence once, queues the next callers in order and answers busy past the queue', async () => {
    const pool = createSequencePool({ sequences: ['a', 'b'], queueLimit: 1 });
    const first = await pool.acquire();
    const second = await pool.acquire();
    expect(new Set([first.sequence, second.sequence])).toEqual(new Set(['a', 'b']));
    const queued = pool.acquire();
    const refused = await pool.acquire().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'busy', status: 503 });
    expect(pool.stats()).toEqual({ busy: 2, waiting: 1 });
    first.release();
    first.release(); // twice is once
    expect((await queued).sequence).toBe(first.sequence);
    expect(pool.stats()).toEqual({ busy: 2, waiting: 0 });
  });

  it('drops an aborted waiter from the queue, so it neither holds a place nor takes a sequence', async () => {
    const pool = createSequencePool({ sequences: ['only'], queueLimit: 1 });
    const holder = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    expect(pool.stats()).toEqual({ busy: 1, waiting: 0 });
    holder.release();
    expect(pool.stats()).toEqual({ busy: 0, waiting: 0 });
    expect((await pool.acquire()).sequence).toBe('only');
  });
});
