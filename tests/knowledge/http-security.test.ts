// Regression tests for issue 10's HTTP findings (rows 1–3, 5, 8, 11) against the real database
// and embedder: the composed app as `npm start` builds it, each scenario with its own settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app.ts';
import type { FunctionName } from '../../lib/config.ts';
import { databaseLane, testConfig } from '../support/test-environment.ts';
import { jsonRequest, startKnowledgeApp } from '../support/knowledge-app.ts';

type Harness = Awaited<ReturnType<typeof startKnowledgeApp>>;
let harness: Harness;

const PRIVATE_DOCUMENT = { source: 'private/salaries.md', content: 'The salary table of the finance team is confidential and lives in the vault.' };
const WRITE_KEY = 'write-key-for-tests';
const READ_KEY = 'read-key-for-tests';

beforeAll(async () => {
  harness = await startKnowledgeApp();
  const stored = await harness.app.request('/api/v1/knowledge/add-document', jsonRequest('POST', PRIVATE_DOCUMENT));
  expect(stored.status).toBe(201);
}, 120_000);
afterAll(async () => harness?.close());

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** The knowledge functions over the shared store, with `environment` on top of the test defaults. */
function appWith(environment: Record<string, string> = {}, only: FunctionName[] = ['add-document', 'search']) {
  const config = testConfig({ FUNCTIONS: only.join(','), ...environment });
  const lines: LogLine[] = [];
  const app = createApp(
    {
      config,
      knowledge: () => ({ store: harness.store, embedder: harness.embedder, chunking: config.chunking }),
      readiness: async () => ({ ready: true, checks: {} }),
      log: (level, message, fields = {}) => lines.push({ level, message, fields }),
    },
    { only },
  );
  return { app, lines };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const searchBody = { query: 'salary table of the finance team' };
const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

describe(`HTTP security on ${databaseLane()} PostgreSQL`, () => {
  describe('keys (row 1: search and the document list took no key)', () => {
    const { app } = appWith({ API_KEY: WRITE_KEY, READ_API_KEY: READ_KEY });

    it('refuses search and the document list without a key or with a wrong one (401)', async () => {
      for (const headers of [{}, bearer('guess')]) {
        const search = await app.request('/api/v1/knowledge/search', jsonRequest('POST', searchBody, headers));
        expect(search.status).toBe(401);
        expect(await search.text()).not.toContain('salary');
        const list = await app.request('/api/v1/knowledge/documents', { headers });
        expect(list.status).toBe(401);
        expect(await list.text()).not.toContain('private/');
      }
    });

    it('lets READ_API_KEY search and list, but not add or delete (403)', async () => {
      const search = await app.request('/api/v1/knowledge/search', jsonRequest('POST', searchBody, bearer(READ_KEY)));
      expect(search.status).toBe(200);
      expect(JSON.stringify(await search.json())).toContain('private/salaries.md');
      expect((await app.request('/api/v1/knowledge/documents', { headers: bearer(READ_KEY) })).status).toBe(200);
      const add = await app.request('/api/v1/knowledge/add-document', jsonRequest('POST', { source: 'intruder.md', content: 'Planted text.' }, bearer(READ_KEY)));
      expect(add.status).toBe(403);
      const remove = await app.request(`/api/v1/knowledge/documents/${encodeURIComponent(PRIVATE_DOCUMENT.source)}`, { method: 'DELETE', headers: bearer(READ_KEY) });
      expect(remove.status).toBe(403);
      expect((await harness.store.findDocument(PRIVATE_DOCUMENT.source))?.source).toBe(PRIVATE_DOCUMENT.source);
      expect(await harness.store.findDocument('intruder.md')).toBeNull();
    });

    it('lets API_KEY do everything', async () => {
      expect((await app.request('/api/v1/knowledge/search', jsonRequest('POST', searchBody, bearer(WRITE_KEY)))).status).toBe(200);
      const add = await app.request('/api/v1/knowledge/add-document', jsonRequest('POST', { source: 'keyed.md', content: 'Written with the write key.' }, bearer(WRITE_KEY)));
      expect(add.status).toBe(201);
      expect((await app.request('/api/v1/knowledge/documents/keyed.md', { method: 'DELETE', headers: bearer(WRITE_KEY) })).status).toBe(204);
    });
  });

  describe('Host (row 2: a DNS-rebinding page read search results and the document list)', () => {
    const { app } = appWith();

    it('answers a rebinding Host with 421 on every route, never with documents', async () => {
      const rebinding = { host: 'rebind.attacker.example:8080' };
      const search = await app.request('/api/v1/knowledge/search', jsonRequest('POST', searchBody, rebinding));
      expect(search.status).toBe(421);
      expect(await errorCode(search)).toBe('host_not_allowed');
      const list = await app.request('/api/v1/knowledge/documents', { headers: rebinding });
      expect(list.status).toBe(421);
      expect(await list.text()).not.toContain('private/');
      expect((await app.request('/openapi.json', { headers: rebinding })).status).toBe(421);
    });

    it('serves loopback names, and the Host names in ALLOWED_HOSTS', async () => {
      expect((await app.request('/api/v1/knowledge/documents', { headers: { host: '127.0.0.1:8080' } })).status).toBe(200);
      const gateway = appWith({ HOST: '0.0.0.0', ALLOWED_HOSTS: 'rag.internal.example' }).app;
      expect((await gateway.request('/api/v1/knowledge/documents', { headers: { host: 'rag.internal.example' } })).status).toBe(200);
      expect((await gateway.request('/api/v1/knowledge/documents', { headers: { host: 'localhost:8080' } })).status).toBe(421);
    });
  });

  describe('limits (rows 3 and 5: no body limit on search, no limit on sources, deep metadata gave 500)', () => {
    const { app } = appWith({ MAX_REQUEST_BYTES: '65536' });

    it('refuses a search body over MAX_REQUEST_BYTES with 413, by length and when chunked', async () => {
      const huge = JSON.stringify({ query: 'x', sources: Array.from({ length: 40_000 }, (_, index) => `source-${index}`) });
      const byLength = await app.request('/api/v1/knowledge/search', jsonRequest('POST', huge));
      expect(byLength.status).toBe(413);
      expect(await errorCode(byLength)).toBe('payload_too_large');
      const encoded = new TextEncoder().encode(huge);
      const chunked = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < encoded.length; offset += 16_384) controller.enqueue(encoded.slice(offset, offset + 16_384));
          controller.close();
        },
      });
      const streamed = await app.request('/api/v1/knowledge/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunked, duplex: 'half' } as RequestInit);
      expect(streamed.status).toBe(413);
    });

    it('refuses too many sources and a source filter longer than any source (400 naming the field)', async () => {
      const tooMany = await app.request('/api/v1/knowledge/search', jsonRequest('POST', { query: 'x', sources: Array.from({ length: 101 }, (_, index) => `s${index}`) }));
      expect(tooMany.status).toBe(400);
      expect(await tooMany.text()).toContain('sources');
      const tooLong = await app.request('/api/v1/knowledge/search', jsonRequest('POST', { query: 'x', sources: ['a'.repeat(1025)] }));
      expect(tooLong.status).toBe(400);
      expect(await tooLong.text()).toContain('sources.0');
    });

    it('answers metadata nested 3,000 deep with 400 (add-document and search) and stores nothing', async () => {
      const deep = JSON.parse('{"a":'.repeat(3000) + '1' + '}'.repeat(3000));
      const add = await app.request('/api/v1/knowledge/add-document', jsonRequest('POST', { source: 'deep.md', content: 'Deeply nested metadata.', metadata: deep }));
      expect(add.status).toBe(400);
      expect(await add.text()).toContain('metadata');
      expect(await harness.store.findDocument('deep.md')).toBeNull();
      const search = await app.request('/api/v1/knowledge/search', jsonRequest('POST', { query: 'x', metadata: deep }));
      expect(search.status).toBe(400);
      const fine = await app.request('/api/v1/knowledge/add-document', jsonRequest('POST', { source: 'shallow.md', content: 'Shallow metadata.', metadata: { a: { b: { c: 1 } } } }));
      expect(fine.status).toBe(201);
    });
  });

  describe('rate limit', () => {
    it('answers 429 with Retry-After once a client spends RATE_LIMIT_REQUESTS, per function', async () => {
      const { app } = appWith({ RATE_LIMIT_REQUESTS: '2', RATE_LIMIT_WINDOW_MS: '60000' });
      for (let attempt = 0; attempt < 2; attempt++) expect((await app.request('/api/v1/knowledge/search', jsonRequest('POST', searchBody))).status).toBe(200);
      const limited = await app.request('/api/v1/knowledge/search', jsonRequest('POST', searchBody));
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await errorCode(limited)).toBe('rate_limited');
      // add-document counts on its own.
      expect((await app.request('/api/v1/knowledge/add-document', jsonRequest('POST', { source: 'rate.md', content: 'Within the limit.' }))).status).toBe(201);
    });

    it('counts each key apart when keys are required', async () => {
      const { app } = appWith({ API_KEY: WRITE_KEY, READ_API_KEY: READ_KEY, RATE_LIMIT_REQUESTS: '1' });
      expect((await app.request('/api/v1/knowledge/search', jsonRequest('POST', searchBody, bearer(READ_KEY)))).status).toBe(200);
      expect((await app.request('/api/v1/knowledge/search', jsonRequest('POST', searchBody, bearer(READ_KEY)))).status).toBe(429);
      expect((await app.request('/api/v1/knowledge/search', jsonRequest('POST', searchBody, bearer(WRITE_KEY)))).status).toBe(200);
    });
  });

  describe('headers (row 8: no X-Content-Type-Options anywhere, no CSP on /docs)', () => {
    const { app } = appWith({}, ['add-document', 'search']);

    it('sends nosniff and Referrer-Policy on JSON routes, errors included', async () => {
      for (const response of [
        await app.request('/api/v1/knowledge/documents'),
        await app.request('/api/v1/knowledge/search', jsonRequest('POST', { query: '' })),
        await app.request('/no/such/route'),
        await app.request('/openapi.json'),
      ]) {
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      }
    });

    it('gives /docs a CSP with frame-ancestors, and every HTML page frame-ancestors', async () => {
      const docs = await app.request('/docs');
      expect(docs.headers.get('x-content-type-options')).toBe('nosniff');
      const policy = docs.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("script-src 'self'");
      expect(policy).not.toContain("'unsafe-eval'");
      expect(policy).toContain("frame-ancestors 'none'");
      const page = await app.request('/');
      if (page.headers.get('content-type')?.startsWith('text/html')) expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    });
  });

  describe('access log (row 11: no request log at all)', () => {
    it('writes one JSON line per request with method, route, status, ms and request id, and echoes the id', async () => {
      const { app, lines } = appWith({ API_KEY: WRITE_KEY });
      const secretQuery = 'who earns the most in the finance team';
      const response = await app.request('/api/v1/knowledge/search', jsonRequest('POST', { query: secretQuery }, { ...bearer(WRITE_KEY), 'x-request-id': 'caller-id-42' }));
      expect(response.status).toBe(200);
      expect(response.headers.get('x-request-id')).toBe('caller-id-42');
      await app.request(`/api/v1/knowledge/documents/${encodeURIComponent('private/salaries.md')}?token=${WRITE_KEY}`, { method: 'DELETE' });
      const requests = lines.filter((line) => line.message === 'request');
      expect(requests).toHaveLength(2);
      expect(requests[0]!.fields).toEqual({ method: 'POST', route: '/api/v1/knowledge/search', status: 200, ms: expect.any(Number), request_id: 'caller-id-42' });
      expect(requests[1]!.fields).toMatchObject({ method: 'DELETE', route: '/api/v1/knowledge/documents/:source', status: 401 });
      const info = JSON.stringify(lines.filter((line) => line.level !== 'debug'));
      for (const secret of [secretQuery, WRITE_KEY, 'salaries']) expect(info).not.toContain(secret);
    });

    it('makes a fresh id when the caller sends none or one that is not plain', async () => {
      const { app } = appWith();
      const made = (await app.request('/healthz')).headers.get('x-request-id');
      expect(made).toMatch(/^[0-9a-f-]{36}$/);
      for (const given of ['has spaces and "quotes"', 'x'.repeat(129), '{"level":"error"}']) {
        const replaced = (await app.request('/healthz', { headers: { 'x-request-id': given } })).headers.get('x-request-id');
        expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
      }
    });
  });
});
