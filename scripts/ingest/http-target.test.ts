import { describe, expect, it } from 'vitest';
import { httpTarget } from './http-target.ts';

/** A fetch that answers with the given responses in order and counts its calls. */
function scripted(responses: Array<() => Response>) {
  let calls = 0;
  const fetchImplementation = (async () => responses[Math.min(calls++, responses.length - 1)]!()) as unknown as typeof fetch;
  return { fetchImplementation, calls: () => calls };
}

const rateLimited = () => Response.json({ error: { code: 'rate_limited', message: 'too many requests' } }, { status: 429, headers: { 'Retry-After': '0' } });

describe('httpTarget', () => {
  it('waits out a 429 (Retry-After) and sends the document again', async () => {
    const server = scripted([rateLimited, () => Response.json({ status: 'created', chunks: 2 }, { status: 201 })]);
    const result = await httpTarget('http://127.0.0.1:1', 'key', server.fetchImplementation).add('a.md', 'text');
    expect(result).toEqual({ status: 'created', chunks: 2 });
    expect(server.calls()).toBe(2);
  });

  it('gives up with the error after a bounded number of 429s', async () => {
    const server = scripted([rateLimited]);
    await expect(httpTarget('http://127.0.0.1:1', undefined, server.fetchImplementation).add('a.md', 'text')).rejects.toThrow(/HTTP 429/);
    expect(server.calls()).toBe(6);
  });
});
