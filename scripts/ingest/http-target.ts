import type { IngestTarget } from './ingest-files.ts';

/** A 429 (the service's per-client rate limit) is retried after its Retry-After, this many times at most. */
const MAX_RATE_LIMIT_RETRIES = 5;
const TOO_MANY_REQUESTS = 429;
const MILLISECONDS_PER_SECOND = 1000;
/** Waited when a 429 carries no usable Retry-After. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** Posts documents to a running service's add-document endpoint. */
export function httpTarget(baseUrl: string, apiKey?: string, fetchImplementation: typeof fetch = fetch): IngestTarget {
  const endpoint = new URL('api/v1/knowledge/add-document', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  return {
    async add(source, content) {
      for (let attempt = 0; ; attempt++) {
        const response = await fetchImplementation(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
          body: JSON.stringify({ source, content }),
        });
        const body = (await response.json().catch(() => ({}))) as { status?: 'created' | 'replaced' | 'unchanged'; chunks?: number; error?: { message?: string } };
        if (response.status === TOO_MANY_REQUESTS && attempt < MAX_RATE_LIMIT_RETRIES) {
          // A large folder can pass RATE_LIMIT_REQUESTS per window: wait as told, then go on.
          const seconds = Number(response.headers.get('retry-after'));
          await new Promise((resolve) => setTimeout(resolve, (Number.isFinite(seconds) && seconds >= 0 ? seconds : DEFAULT_RETRY_AFTER_SECONDS) * MILLISECONDS_PER_SECOND));
          continue;
        }
        if (!response.ok) throw new Error(`HTTP ${response.status}: ${body.error?.message ?? response.statusText}`);
        return { status: body.status ?? 'created', chunks: body.chunks ?? 0 };
      }
    },
  };
}
