import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseLane } from '../support/test-environment.ts';
import { jsonRequest, startKnowledgeApp } from '../support/knowledge-app.ts';

type Harness = Awaited<ReturnType<typeof startKnowledgeApp>>;
let harness: Harness;

beforeAll(async () => {
  harness = await startKnowledgeApp({ API_KEY: 'writer-key' });
}, 120_000);
afterAll(async () => harness?.close());

const auth = { authorization: 'Bearer writer-key' };
const add = (body: unknown) => harness.app.request('/api/v1/knowledge/add-document', jsonRequest('POST', body, auth));
const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string } }).error;
const storedRow = async (source: string) =>
  (await harness.admin<{ content_sha256: string; chunk_count: number }[]>`SELECT content_sha256, chunk_count FROM knowledge_documents WHERE source = ${source}`)[0];

const WRITERS = 20;

describe(`add-document writes on ${databaseLane()} PostgreSQL`, () => {
  it(`answers exactly one "created" to ${WRITERS} racing writers of one source, and keeps the last acknowledged version`, async () => {
    const acknowledged: number[] = [];
    const contents = Array.from({ length: WRITERS }, (_, writer) => `Version ${writer} of the shared notes. Writer ${writer} wrote this paragraph about racing uploads.`);
    const responses = await Promise.all(
      contents.map(async (content, writer) => {
        const response = await add({ source: 'race/notes.md', content, metadata: { writer } });
        const body = (await response.json()) as { status: string };
        acknowledged.push(writer);
        return { status: response.status, body };
      }),
    );
    expect(responses.map((response) => response.body.status).filter((status) => status === 'created')).toHaveLength(1);
    expect(responses.filter((response) => response.status === 201)).toHaveLength(1);
    expect(responses.filter((response) => response.body.status === 'replaced')).toHaveLength(WRITERS - 1);

    const [document] = await harness.admin<{ metadata: { writer: number } }[]>`SELECT metadata FROM knowledge_documents WHERE source = 'race/notes.md'`;
    expect(document!.metadata.writer).toBe(acknowledged.at(-1));
    const [chunks] = await harness.admin<{ content: string }[]>`SELECT string_agg(content, ' ' ORDER BY chunk_index) AS content FROM knowledge_chunks WHERE source = 'race/notes.md'`;
    expect(chunks!.content).toBe(contents[acknowledged.at(-1)!]);
  });

  it('answers "unchanged" to every writer but one when they race with the same content', async () => {
    const bodies = await Promise.all(Array.from({ length: 8 }, async () => (await (await add({ source: 'race/same.md', content: 'The same words from every writer.' })).json()) as { status: string }));
    expect(bodies.map((body) => body.status).sort()).toEqual(['created', ...Array(7).fill('unchanged')]);
    expect((await storedRow('race/same.md'))?.chunk_count).toBe(1);
  });

  it.each([
    ['.', 'must not be "." or ".."'],
    ['..', 'must not be "." or ".."'],
    ['line\nbreak.md', 'control characters'],
    ['tab\there', 'control characters'],
    ['bell\u0007', 'control characters'],
    ['c1\u0085', 'control characters'],
  ])('refuses the source %j with a 400 that says why, storing nothing', async (source, message) => {
    const response = await add({ source, content: 'Some text.' });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: 'invalid_request', message: expect.stringContaining(message) });
    expect(await storedRow(source)).toBeUndefined();
  });

  it.each(['.', '..', 'line\nbreak.md', 'docs/../secret.md', '%2e%2e', 'a?b#c'])('deletes a stored source %j through the query form', async (source) => {
    // Stored as older versions allowed (straight through the store), so the refusal at creation does not help.
    await harness.store.replaceDocument({ source, contentSha256: 'legacy', metadata: {}, chunks: [] });
    expect(await storedRow(source)).toBeDefined();
    const path = `/api/v1/knowledge/documents?source=${encodeURIComponent(source)}`;
    expect((await harness.app.request(path, { method: 'DELETE' })).status).toBe(401);
    expect((await harness.app.request(path, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect(await storedRow(source)).toBeUndefined();
    const again = await harness.app.request(path, { method: 'DELETE', headers: auth });
    expect(again.status).toBe(404);
    expect((await errorOf(again)).code).toBe('document_not_found');
  });

  it('adds a long single-paragraph document in English and in Chinese, chunks within the window', async () => {
    const english = 'The service splits long text into bounded windows before it looks for sentence ends. '.repeat(3000);
    const chinese = '本服务在寻找句子结尾之前先把长文本切成有限的窗口并逐段处理'.repeat(3000);
    for (const [source, content] of [['long/english.md', english], ['long/chinese.md', chinese]] as const) {
      const response = await add({ source, content });
      expect(response.status).toBe(201);
      const [longest] = await harness.admin<{ characters: number; tokens: number }[]>`SELECT max(length(content))::int AS characters, max(token_count)::int AS tokens FROM knowledge_chunks WHERE source = ${source}`;
      expect(longest!.tokens).toBeLessThanOrEqual(harness.embedder.maxTokens - 2);
      expect(longest!.characters).toBeLessThan(content.length / 10);
    }
  });
});
