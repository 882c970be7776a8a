import type { IngestTarget } from './ingest-files.ts';

/** Posts documents to a running service's add-document endpoint. */
export function httpTarget(baseUrl: string, apiKey?: string, fetchImplementation: typeof fetch = fetch): IngestTarget {
  const endpoint = new URL('api/v1/knowledge/add-document', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  return {
    async add(source, content) {
      const response = await fetchImplementation(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
        body: JSON.stringify({ source, content }),
      });
      const body = (await response.json().catch(() => ({}))) as { status?: 'created' | 'replaced' | 'unchanged'; chunks?: number; error?: { message?: string } };
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${body.error?.message ?? response.statusText}`);
      return { status: body.status ?? 'created', chunks: body.chunks ?? 0 };
    },
  };
}
