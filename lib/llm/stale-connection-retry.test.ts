import { describe, expect, it } from 'vitest';
import { retryingStaleConnections } from './stale-connection-retry.ts';

/** A fetch that throws the given errors in turn, then answers 200. */
function failingFetch(...errors: unknown[]) {
  const calls: string[] = [];
  const implementation = (async (input: RequestInfo | URL) => {
    calls.push(String(input));
    const error = errors.shift();
    if (error) throw error;
    return new Response('ok');
  }) as typeof fetch;
  return { implementation, calls };
}

const fetchFailed = (code: string) => new TypeError('fetch failed', { cause: Object.assign(new Error('socket'), { code }) });

describe('retryingStaleConnections', () => {
  it('sends once more when a kept-alive connection was closed under the request', async () => {
    const { implementation, calls } = failingFetch(fetchFailed('UND_ERR_SOCKET'));
    const response = await retryingStaleConnections(implementation)('http://127.0.0.1:1/health', { method: 'POST', body: '{}' });
    expect(await response.text()).toBe('ok');
    expect(calls).toHaveLength(2);
  });

  it('does not retry a refused connection, an aborted request or a second stale failure', async () => {
    const refused = failingFetch(fetchFailed('ECONNREFUSED'));
    await expect(retryingStaleConnections(refused.implementation)('http://127.0.0.1:1/')).rejects.toThrow('fetch failed');
    expect(refused.calls).toHaveLength(1);

    const controller = new AbortController();
    controller.abort();
    const aborted = failingFetch(fetchFailed('ECONNRESET'));
    await expect(retryingStaleConnections(aborted.implementation)('http://127.0.0.1:1/', { signal: controller.signal })).rejects.toThrow();
    expect(aborted.calls).toHaveLength(1);

    const twice = failingFetch(fetchFailed('ECONNRESET'), fetchFailed('ECONNRESET'));
    await expect(retryingStaleConnections(twice.implementation)('http://127.0.0.1:1/')).rejects.toThrow();
    expect(twice.calls).toHaveLength(2);
  });
});
