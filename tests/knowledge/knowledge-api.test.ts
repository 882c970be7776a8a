import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseLane } from '../support/test-environment.ts';
import { jsonRequest, startKnowledgeApp } from '../support/knowledge-app.ts';

const SEED_CONTENT =
  'local-rag is a self-hosted retrieval-augmented chat service. It answers questions from your own documents with a local model. ' +
  'Documents are split into chunks, embedded and stored in PostgreSQL with pgvector. No data leaves your machine.';

type Harness = Awaited<ReturnType<typeof startKnowledgeApp>>;
let harness: Harness;

beforeAll(async () => {
  harness = await startKnowledgeApp({ MAX_DOCUMENT_BYTES: '20000', API_KEY: 'secret-key' });
}, 120_000);
afterAll(async () => harness?.close());

const auth = { authorization: 'Bearer secret-key' };
const add = (body: unknown, headers: Record<string, string> = auth) => harness.app.request('/api/v1/knowledge/add-document', jsonRequest('POST', body, headers));
const search = (body: unknown) => harness.app.request('/api/v1/knowledge/search', jsonRequest('POST', body, auth));
const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string; details?: { path: string }[] } }).error;

async function expectStillServing() {
  const response = await search({ query: 'self-hosted chat service' });
  expect(response.status).toBe(200);
}

describe(`knowledge API on ${databaseLane()} PostgreSQL`, () => {
  describe('POST /api/v1/knowledge/add-document', () => {
    it("stores the seed's example document and makes it searchable", async () => {
      const response = await add({ source: 'README', content: SEED_CONTENT });
      expect(response.status).toBe(201);
      const body = (await response.json()) as { document_id: string; source: string; chunks: number; status: string };
      expect(body).toMatchObject({ source: 'README', status: 'created' });
      expect(body.chunks).toBeGreaterThanOrEqual(1);
      expect(body.document_id).toMatch(/^[0-9a-f-]{36}$/);

      const found = (await (await search({ query: 'Where are the documents stored?', top_k: 1 })).json()) as { results: { source: string; content: string }[] };
      expect(found.results[0]?.source).toBe('README');
      expect(found.results[0]?.content).toContain('pgvector');
    });

    it('returns 200 and duplicates nothing when the same content is added again', async () => {
      const first = (await (await add({ source: 'again.md', content: SEED_CONTENT })).json()) as { chunks: number; document_id: string };
      const second = await add({ source: 'again.md', content: SEED_CONTENT });
      expect(second.status).toBe(200);
      expect(await second.json()).toMatchObject({ status: 'unchanged', chunks: first.chunks, document_id: first.document_id });
      const [row] = await harness.admin<{ count: number }[]>`SELECT count(*)::int AS count FROM knowledge_chunks WHERE source = 'again.md'`;
      expect(row!.count).toBe(first.chunks);
    });

    it('replaces the old chunks when the same source gets new content', async () => {
      await add({ source: 'replace.md', content: 'The old version talks about zebras grazing in the savanna.' });
      const response = await add({ source: 'replace.md', content: 'The new version talks about glaciers melting in the mountains.' });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: 'replaced' });
      const rows = await harness.admin<{ content: string }[]>`SELECT content FROM knowledge_chunks WHERE source = 'replace.md'`;
      expect(rows.map((row) => row.content).join(' ')).toContain('glaciers');
      expect(rows.map((row) => row.content).join(' ')).not.toContain('zebras');
    });

    it('keeps the previous version complete when a replacement fails midway', async () => {
      const original = 'Version one sentence alpha. '.repeat(40) + 'Version one ends here.';
      const before = (await (await add({ source: 'atomic.md', content: original })).json()) as { chunks: number };
      // A real failure inside the transaction: the database refuses the third chunk.
      await harness.admin.unsafe(`
        CREATE OR REPLACE FUNCTION fail_midway() RETURNS trigger AS $$
        BEGIN IF NEW.source = 'atomic.md' AND NEW.chunk_index = 2 THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
        CREATE TRIGGER fail_midway BEFORE INSERT ON knowledge_chunks FOR EACH ROW EXECUTE FUNCTION fail_midway();`);
      try {
        const failed = await add({ source: 'atomic.md', content: 'Version two sentence beta. '.repeat(200) });
        expect(failed.status).toBe(500);
        expect((await errorOf(failed)).message).not.toContain('injected');
      } finally {
        await harness.admin.unsafe('DROP TRIGGER fail_midway ON knowledge_chunks; DROP FUNCTION fail_midway();');
      }
      const rows = await harness.admin<{ content: string }[]>`SELECT content FROM knowledge_chunks WHERE source = 'atomic.md' ORDER BY chunk_index`;
      expect(rows).toHaveLength(before.chunks);
      expect(rows.every((row) => row.content.includes('Version one'))).toBe(true);
      await expectStillServing();
    });

    it('stores each chunk\'s embedding as the embedder made it, to float4 precision and in chunk order', async () => {
      const content = 'Glaciers carve valleys over thousands of years. Rivers then fill the valleys with gravel and sand. Forests grow on the terraces.';
      await add({ source: 'vectors.md', content });
      const rows = await harness.admin<{ chunk_index: number; content: string; embedding: string }[]>`
        SELECT chunk_index, content, embedding::text AS embedding FROM knowledge_chunks WHERE source = 'vectors.md' ORDER BY chunk_index`;
      expect(rows.length).toBeGreaterThanOrEqual(1);
      const expected = await harness.embedder.embed(rows.map((row) => row.content));
      for (const [index, row] of rows.entries()) {
        expect(row.chunk_index).toBe(index);
        const stored = JSON.parse(row.embedding) as number[];
        expect(stored).toHaveLength(expected[index]!.length);
        // float4 keeps ~7 significant digits; the integer transfer must not lose more.
        stored.forEach((value, dimension) => expect(Math.abs(value - expected[index]![dimension]!)).toBeLessThan(2e-7));
      }
    });

    it('stores emoji and CJK text exactly and finds it again', async () => {
      const content = '向量数据库存储嵌入。它支持相似度搜索！Emoji too: 🚀🧠 are kept.';
      expect((await add({ source: '文档/中文 🚀.md', content })).status).toBe(201);
      const rows = await harness.admin<{ content: string }[]>`SELECT content FROM knowledge_chunks WHERE source = ${'文档/中文 🚀.md'} ORDER BY chunk_index`;
      expect(rows.map((row) => row.content).join(' ')).toContain('🚀🧠');
      expect(rows.map((row) => row.content).join(' ')).toContain('向量数据库存储嵌入。');
    });

    it('stores SQL-looking text verbatim and runs none of it', async () => {
      const content = "Robert'); DROP TABLE knowledge_chunks; -- is a classic. SELECT * FROM pg_user;";
      expect((await add({ source: "x'; DROP TABLE knowledge_documents; --", content })).status).toBe(201);
      const [row] = await harness.admin<{ content: string }[]>`SELECT content FROM knowledge_chunks WHERE source = ${"x'; DROP TABLE knowledge_documents; --"}`;
      expect(row!.content).toBe(content);
    });

    it.each([
      ['empty content', { source: 's', content: '' }, 'content'],
      ['whitespace-only content', { source: 's', content: ' \n\t ' }, 'content'],
      ['empty source', { source: '', content: 'text' }, 'source'],
      ['missing content', { source: 's' }, 'content'],
      ['missing source', { content: 'text' }, 'source'],
      ['content of the wrong type', { source: 's', content: 42 }, 'content'],
      ['metadata that is not an object', { source: 's', content: 'text', metadata: 'x' }, 'metadata'],
      ['an unknown field', { source: 's', content: 'text', conten: 'typo' }, '(body)'],
      ['NUL bytes', { source: 's', content: 'bad\u0000byte' }, 'content'],
    ])('returns 400 naming the field for %s', async (_name, body, field) => {
      const response = await add(body);
      expect(response.status).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe('invalid_request');
      expect(error.details?.map((detail) => detail.path)).toContain(field);
      await expectStillServing();
    });

    it('returns 400 for a lone surrogate instead of storing a replacement character', async () => {
      const response = await add('{"source":"s","content":"broken \\ud800 text"}');
      expect(response.status).toBe(400);
      expect((await errorOf(response)).message).toContain('well-formed');
      await expectStillServing();
    });

    it('returns 413 for content over MAX_DOCUMENT_BYTES and stores nothing', async () => {
      const response = await add({ source: 'huge.md', content: 'word '.repeat(5000) });
      expect(response.status).toBe(413);
      expect((await errorOf(response)).code).toBe('payload_too_large');
      const body = await add({ source: 'huge.md', content: '字'.repeat(7000) });
      expect(body.status).toBe(413);
      const [row] = await harness.admin<{ count: number }[]>`SELECT count(*)::int AS count FROM knowledge_documents WHERE source = 'huge.md'`;
      expect(row!.count).toBe(0);
    });

    it('returns 415 for a body that is not JSON and 400 for malformed JSON', async () => {
      const text = await harness.app.request('/api/v1/knowledge/add-document', { method: 'POST', headers: { 'content-type': 'text/plain', ...auth }, body: 'hello' });
      expect(text.status).toBe(415);
      expect((await errorOf(text)).code).toBe('unsupported_media_type');
      const malformed = await add('{"source": "s", "content": ');
      expect(malformed.status).toBe(400);
      expect((await errorOf(malformed)).code).toBe('invalid_json');
      await expectStillServing();
    });

    it('returns 401 without the API key or with a wrong one', async () => {
      const missing = await add({ source: 'a', content: 'b' }, {});
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      const wrong = await add({ source: 'a', content: 'b' }, { authorization: 'Bearer nope' });
      expect(wrong.status).toBe(401);
      expect((await errorOf(wrong)).code).toBe('unauthorized');
    });
  });

  describe('POST /api/v1/knowledge/search', () => {
    it('returns the best matches first with their scores, RAG_TOP_K by default', async () => {
      const response = await search({ query: 'glaciers in the mountains' });
      expect(response.status).toBe(200);
      const { results } = (await response.json()) as { results: { source: string; score: number; chunk_index: number }[] };
      expect(results).toHaveLength(harness.config.retrieval.topK);
      expect(results[0]!.source).toBe('replace.md');
      const scores = results.map((result) => result.score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    });

    it('filters by source and by metadata and still fills top_k', async () => {
      for (let index = 0; index < 6; index++) {
        await add({ source: `filtered-${index}.md`, content: `Filtered note number ${index} about volcanoes and lava.`, metadata: { team: index % 2 ? 'odd' : 'even' } });
      }
      const bySource = (await (await search({ query: 'volcano lava', sources: ['filtered-1.md', 'filtered-4.md'], top_k: 5 })).json()) as { results: { source: string }[] };
      expect(bySource.results.map((result) => result.source).sort()).toEqual(['filtered-1.md', 'filtered-4.md']);
      const byMetadata = (await (await search({ query: 'volcano lava', metadata: { team: 'odd' }, top_k: 3 })).json()) as { results: { source: string; metadata: { team: string } }[] };
      expect(byMetadata.results).toHaveLength(3);
      expect(byMetadata.results.every((result) => result.metadata.team === 'odd')).toBe(true);
    });

    it('drops results below min_score', async () => {
      const { results } = (await (await search({ query: 'glaciers', top_k: 50, min_score: 0.99 })).json()) as { results: { score: number }[] };
      expect(results.every((result) => result.score >= 0.99)).toBe(true);
    });

    it.each([
      ['top_k 0', { query: 'q', top_k: 0 }, 'top_k'],
      ['top_k -1', { query: 'q', top_k: -1 }, 'top_k'],
      ['top_k 51', { query: 'q', top_k: 51 }, 'top_k'],
      ['top_k "3"', { query: 'q', top_k: '3' }, 'top_k'],
      ['an empty query', { query: '' }, 'query'],
      ['a whitespace-only query', { query: '   ' }, 'query'],
      ['a missing query', {}, 'query'],
      ['a NUL in the query', { query: 'a\u0000b' }, 'query'],
    ])('returns 400 for %s', async (_name, body, field) => {
      const response = await search(body);
      expect(response.status).toBe(400);
      expect((await errorOf(response)).details?.map((detail) => detail.path)).toContain(field);
    });

    it('treats SQL-looking queries as text', async () => {
      const response = await search({ query: "'; DROP TABLE knowledge_chunks; --" });
      expect(response.status).toBe(200);
      await expectStillServing();
    });
  });

  describe('GET and DELETE /api/v1/knowledge/documents', () => {
    it('lists documents with their chunk counts', async () => {
      const response = await harness.app.request('/api/v1/knowledge/documents', { headers: auth });
      const { documents } = (await response.json()) as { documents: { source: string; chunks: number }[] };
      expect(documents.find((document) => document.source === 'README')?.chunks).toBeGreaterThan(0);
    });

    it.each(['docs/guide/intro.md', 'name with spaces.txt', 'ünïcødé/文件.md'])('deletes %s given percent-encoded, then 404s', async (source) => {
      await add({ source, content: 'Temporary document about deleting things.' });
      const path = `/api/v1/knowledge/documents/${encodeURIComponent(source)}`;
      const first = await harness.app.request(path, { method: 'DELETE', headers: auth });
      expect(first.status).toBe(204);
      const [row] = await harness.admin<{ count: number }[]>`SELECT count(*)::int AS count FROM knowledge_chunks WHERE source = ${source}`;
      expect(row!.count).toBe(0);
      const second = await harness.app.request(path, { method: 'DELETE', headers: auth });
      expect(second.status).toBe(404);
      expect((await errorOf(second)).code).toBe('document_not_found');
    });

    it('needs the API key to delete', async () => {
      const response = await harness.app.request('/api/v1/knowledge/documents/README', { method: 'DELETE' });
      expect(response.status).toBe(401);
    });
  });

  describe('when the database goes away', () => {
    it('answers 503 with Retry-After, then recovers when it is back', async () => {
      await harness.proxy.cut();
      try {
        const searchResponse = await search({ query: 'anything' });
        expect(searchResponse.status).toBe(503);
        expect(searchResponse.headers.get('retry-after')).toBeTruthy();
        expect((await errorOf(searchResponse)).code).toBe('database_unavailable');
        const addResponse = await add({ source: 'during-outage.md', content: 'Written while the database was away.' });
        expect(addResponse.status).toBe(503);
      } finally {
        await harness.proxy.restore();
      }
      await expectStillServing();
      expect((await add({ source: 'after-outage.md', content: 'Written after the database came back.' })).status).toBe(201);
    });

    it('answers 503 when it goes away in the middle of an add-document, keeping the previous version', async () => {
      await add({ source: 'midway.md', content: 'The original version is about rivers and their deltas.' });
      const embed = harness.embedder.embed;
      // The request has already read the document from the database; it vanishes while embedding.
      harness.embedder.embed = async (texts) => {
        await harness.proxy.cut();
        return embed.call(harness.embedder, texts);
      };
      try {
        const response = await add({ source: 'midway.md', content: 'The replacement is about deserts and dunes.' });
        expect(response.status).toBe(503);
        expect((await errorOf(response)).code).toBe('database_unavailable');
      } finally {
        harness.embedder.embed = embed;
        await harness.proxy.restore();
      }
      const rows = await harness.admin<{ content: string }[]>`SELECT content FROM knowledge_chunks WHERE source = 'midway.md'`;
      expect(rows.map((row) => row.content).join(' ')).toContain('rivers');
      expect(rows.map((row) => row.content).join(' ')).not.toContain('deserts');
      await expectStillServing();
    });
  });

  describe('other routes', () => {
    it('returns a JSON 404 for unknown routes', async () => {
      const response = await harness.app.request('/api/v1/nope');
      expect(response.status).toBe(404);
      expect((await errorOf(response)).code).toBe('not_found');
    });

    it('serves /healthz and the OpenAPI document', async () => {
      expect((await harness.app.request('/healthz')).status).toBe(200);
      const document = (await (await harness.app.request('/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
      expect(document.openapi).toBe('3.1.0');
      expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/api/v1/knowledge/add-document', '/api/v1/knowledge/search']));
    });

    it('serves interactive docs at /docs with their assets from the installed package', async () => {
      const page = await harness.app.request('/docs');
      expect(page.status).toBe(200);
      const html = await page.text();
      for (const asset of html.match(/docs\/[\w.-]+\.(js|css)/g) ?? []) {
        const response = await harness.app.request(`/${asset}`);
        expect(response.status, asset).toBe(200);
        expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(10);
      }
      expect(html).toContain('docs/swagger-ui-bundle.js');
    });
  });
});
