import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limit.ts';

describe('createRateLimiter', () => {
  it('allows `requests` per window per client, then says when to retry', () => {
    let now = 0;
    const limiter = createRateLimiter({ requests: 2, windowMs: 10_000 }, () => now);
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: true });
    now = 2_500;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 8 });
    expect(limiter.take('b')).toEqual({ allowed: true });
    now = 10_000;
    expect(limiter.take('a')).toEqual({ allowed: true });
  });

  it('never refuses when requests is 0', () => {
    const limiter = createRateLimiter({ requests: 0, windowMs: 1000 });
    for (let index = 0; index < 1000; index++) expect(limiter.take('a').allowed).toBe(true);
  });
});
