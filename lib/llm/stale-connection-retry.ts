/**
 * Wraps `fetch` to send a request once more when it failed on a kept-alive connection the
 * server had just closed (undici `UND_ERR_SOCKET` "other side closed", `ECONNRESET`, `EPIPE`,
 * before any response). llama-server's HTTP library closes kept-alive connections on its own
 * schedule and a request can race that close; seen in the 20-socket test. Nothing reached the
 * server, so sending again is safe. A refused connection (server down), an aborted request or
 * a streamed body is not retried.
 */
export function retryingStaleConnections(fetchImplementation: typeof fetch): typeof fetch {
  return async (input, init) => {
    try {
      return await fetchImplementation(input, init);
    } catch (error) {
      const resendable = init?.body === undefined || init.body === null || typeof init.body === 'string';
      if (init?.signal?.aborted || !resendable || !isStaleConnection(error)) throw error;
      return fetchImplementation(input, init);
    }
  };
}

function isStaleConnection(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current !== null && typeof current === 'object' && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
