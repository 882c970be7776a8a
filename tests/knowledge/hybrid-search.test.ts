import type { z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchResultSchema } from '../../functions/search/route.ts';
import { RRF_K } from '../../lib/db/search-query.ts';
import { databaseLane } from '../support/test-environment.ts';
import { jsonRequest, startKnowledgeApp } from '../support/knowledge-app.ts';

type Harness = Awaited<ReturnType<typeof startKnowledgeApp>>;
let harness: Harness;

type Result = z.infer<typeof SearchResultSchema>;

const auth = { authorization: 'Bearer hybrid-key' };
const add = (body: unknown) => harness.app.request('/api/v1/knowledge/add-document', jsonRequest('POST', body, auth));
const search = (body: unknown) => harness.app.request('/api/v1/knowledge/search', jsonRequest('POST', body, auth));
const results = async (body: unknown) => {
  const response = await search(body);
  expect(response.status).toBe(200);
  return ((await response.json()) as { results: Result[] }).results;
};

// Prose the embedding model understands, and two chunks whose only distinctive content is an
// identifier: a word vector model knows neither "XQZVRB_4471" nor "--zstd-window-log".
const DOCUMENTS = [
  { source: 'prose/weather.md', content: 'Storms and heavy rain are expected along the coast this weekend, with strong winds at night.' },
  { source: 'prose/cooking.md', content: 'Bake the bread in a hot oven until the crust is golden and the loaf sounds hollow.' },
  { source: 'prose/travel.md', content: 'The train leaves the station early in the morning and reaches the mountains by noon.' },
  { source: 'prose/garden.md', content: 'Water the tomatoes every evening during the dry summer months so the fruit does not split.' },
  { source: 'prose/errors.md', content: 'When the client fails, read the error message and try the request again later.' },
  { source: 'prose/failures.md', content: 'A failing client usually means the server is down; the error explains what went wrong.' },
  { source: 'prose/meaning.md', content: 'What an error means depends on the client: check what the message says when it fails.' },
  { source: 'codes/pool.md', content: 'Code XQZVRB_4471: pool drained.' },
  { source: 'codes/zstd.md', content: 'Flag: --zstd-window-log' },
  { source: 'zh/shadow.md', content: '口令文件包含账户过期日期。管理员可以更改组成员。' },
  { source: 'zh/other.md', content: '今天的会议改到下午三点，请大家准时参加。' },
];

beforeAll(async () => {
  // The smallest ef_search: no default has it, and a top_k above it must raise it (see below).
  harness = await startKnowledgeApp({ API_KEY: 'hybrid-key', RAG_HNSW_EF_SEARCH: '10' });
  for (const document of DOCUMENTS) expect((await add(document)).status).toBe(201);
  for (let index = 0; index < 8; index++) {
    await add({ source: `team/${index}.md`, content: `Team note ${index}: the volcano erupted and lava reached the valley.`, metadata: { team: index % 2 ? 'odd' : 'even' } });
  }
}, 180_000);
afterAll(async () => harness?.close());

describe(`POST /api/v1/knowledge/search modes on ${databaseLane()} PostgreSQL`, () => {
  it('finds an exact error code by text and hybrid search when vector search misses it', async () => {
    const query = 'What does XQZVRB_4471 mean?';
    const vector = await results({ query, mode: 'vector', top_k: 3 });
    expect(vector.map((result) => result.source)).not.toContain('codes/pool.md');
    const text = await results({ query, mode: 'text', top_k: 3 });
    expect(text[0]?.source).toBe('codes/pool.md');
    const hybrid = await results({ query, top_k: 3 });
    expect(hybrid.map((result) => result.source)).toContain('codes/pool.md');
  });

  it('matches an option name with its dashes as written', async () => {
    const text = await results({ query: 'which flag is --zstd-window-log?', mode: 'text', top_k: 1 });
    expect(text[0]?.source).toBe('codes/zstd.md');
  });

  it('finds Chinese text by full-text search, word by word', async () => {
    const text = await results({ query: '账户过期日期在哪里？', mode: 'text', top_k: 3 });
    expect(text[0]?.source).toBe('zh/shadow.md');
    // The other Chinese document shares no word with the question.
    expect(text.map((result) => result.source)).not.toContain('zh/other.md');
  });

  it('reports component ranks that agree with each mode run alone', async () => {
    const query = 'rain and storms on the coast, XQZVRB_4471';
    const hybrid = await results({ query, top_k: 8 });
    const vector = await results({ query, mode: 'vector', top_k: 10 });
    const text = await results({ query, mode: 'text', top_k: 10 });
    for (const result of hybrid) {
      expect(result.vector_rank ?? result.text_rank).not.toBeNull();
      const inVector = vector.findIndex((hit) => hit.source === result.source && hit.chunk_index === result.chunk_index);
      const inText = text.findIndex((hit) => hit.source === result.source && hit.chunk_index === result.chunk_index);
      expect(result.vector_rank).toBe(inVector < 0 ? null : inVector + 1);
      expect(result.text_rank).toBe(inText < 0 ? null : inText + 1);
      if (result.text_rank !== null) expect(result.text_score).toBeCloseTo(text[inText]!.text_score!, 6);
    }
    expect(vector.every((result) => result.text_rank === null && result.fused_score === null)).toBe(true);
    expect(text.every((result, index) => result.text_rank === index + 1 && result.vector_rank === null)).toBe(true);
  });

  it('orders hybrid results by reciprocal rank fusion of the returned ranks', async () => {
    const hybrid = await results({ query: 'error message of the client: XQZVRB_4471, try again', top_k: 10 });
    // Default weights: vector 1, text 2 (RAG_HYBRID_*).
    const expected = hybrid.map((result) => (result.vector_rank ? 1 / (RRF_K + result.vector_rank) : 0) + (result.text_rank ? 2 / (RRF_K + result.text_rank) : 0));
    hybrid.forEach((result, index) => expect(result.fused_score).toBeCloseTo(expected[index]!, 12));
    expect([...expected].sort((a, b) => b - a)).toEqual(expected);
    // A chunk found by both rankings beats one found by either alone at the same ranks.
    expect(hybrid.some((result) => result.vector_rank !== null && result.text_rank !== null)).toBe(true);
  });

  it('keeps score as the cosine similarity in every mode', async () => {
    const query = 'heavy rain and wind';
    const [vectorTop] = await results({ query, mode: 'vector', top_k: 1 });
    const text = await results({ query, mode: 'text', top_k: 5 });
    const same = text.find((result) => result.source === vectorTop!.source);
    expect(same?.score).toBeCloseTo(vectorTop!.score, 5);
  });

  it.each(['vector', 'text', 'hybrid'] as const)('fills top_k under source and metadata filters in %s mode', async (mode) => {
    const query = 'volcano lava valley team note';
    const byMetadata = await results({ query, mode, metadata: { team: 'odd' }, top_k: 4 });
    expect(byMetadata).toHaveLength(4);
    expect(byMetadata.every((result) => result.metadata.team === 'odd')).toBe(true);
    const bySource = await results({ query, mode, sources: ['team/2.md', 'team/5.md', 'prose/weather.md'], top_k: 3 });
    const expected = mode === 'text' ? ['team/2.md', 'team/5.md'] : ['prose/weather.md', 'team/2.md', 'team/5.md'];
    expect(bySource.map((result) => result.source).sort()).toEqual(expected);
  });

  it('returns 400 for an unknown mode', async () => {
    const response = await search({ query: 'anything', mode: 'fuzzy' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; details?: { path: string }[] } };
    expect(body.error.details?.map((detail) => detail.path)).toContain('mode');
  });

  it('treats tsquery operators in the query as plain text', async () => {
    for (const query of ["a & b | !c <-> d:* ')(", '\\', "'''"]) {
      expect((await search({ query, mode: 'text' })).status).toBe(200);
      expect((await search({ query })).status).toBe(200);
    }
  });
});

describe(`term statistics and HNSW settings on ${databaseLane()} PostgreSQL`, () => {
  const deleteDocument = (source: string) => harness.app.request(`/api/v1/knowledge/documents/${encodeURIComponent(source)}`, { method: 'DELETE', headers: auth });
  // What knowledge_lexemes must hold: each lexeme's chunk count, recounted from the chunks.
  const recounted = () => harness.admin`
    SELECT lexeme COLLATE "C" AS lexeme, count(*)::int AS chunks
    FROM knowledge_chunks c CROSS JOIN LATERAL unnest(tsvector_to_array(c.search_vector)) AS lexeme
    GROUP BY 1 ORDER BY 1`;
  const stored = () => harness.admin`SELECT lexeme, chunks FROM knowledge_lexemes WHERE chunks <> 0 ORDER BY lexeme`;
  const chunkCount = async () => (await harness.admin<{ count: number }[]>`SELECT count(*)::int AS count FROM knowledge_chunks`)[0]!.count;
  const chunksOf = async (lexeme: string) => (await harness.admin<{ chunks: number }[]>`SELECT chunks FROM knowledge_lexemes WHERE lexeme = ${lexeme}`)[0]?.chunks ?? 0;

  it('keeps per-term chunk counts equal to a recount through add, replace and delete', async () => {
    expect(await stored()).toEqual(await recounted());
    const before = await chunksOf('volcano');
    expect(before).toBe(8);

    expect((await add({ source: 'stats/a.md', content: 'The volcano glowwormzz erupted.' })).status).toBe(201);
    expect((await add({ source: 'stats/b.md', content: 'Another glowwormzz sighting.' })).status).toBe(201);
    expect(await chunksOf('glowwormzz')).toBe(2);
    expect(await chunksOf('volcano')).toBe(before + 1);
    expect(await stored()).toEqual(await recounted());

    // Replacing a document takes its old terms' counts away and adds the new ones.
    expect((await add({ source: 'stats/a.md', content: 'Nothing left of that word here.' })).status).toBe(200);
    expect(await chunksOf('glowwormzz')).toBe(1);
    expect(await chunksOf('volcano')).toBe(before);
    expect(await stored()).toEqual(await recounted());

    expect((await deleteDocument('stats/b.md')).status).toBe(204);
    expect((await deleteDocument('stats/a.md')).status).toBe(204);
    expect(await chunksOf('glowwormzz')).toBe(0);
    expect(await stored()).toEqual(await recounted());
    // A term no chunk holds any longer is rare again: text search still answers without it.
    expect(await results({ query: 'glowwormzz', mode: 'text' })).toEqual([]);
  });

  it('weighs a term in fewer chunks above a term in more', async () => {
    // "volcano" is in 8 chunks, "XQZVRB_4471" in one: the rare code must score higher.
    const [rare] = await results({ query: 'XQZVRB_4471', mode: 'text', top_k: 1 });
    const [common] = await results({ query: 'volcano', mode: 'text', top_k: 1 });
    expect(rare!.text_score!).toBeGreaterThan(common!.text_score!);
  });

  it('searches with RAG_HNSW_EF_SEARCH on every pooled connection, also after a search that raised it', async () => {
    const show = async () => (await harness.admin<{ value: string }[]>`SELECT current_setting('hnsw.ef_search') AS value`)[0]!.value;
    // Concurrent queries make a pool open several connections (the embedded lane has one).
    expect(await Promise.all(Array.from({ length: 4 }, show))).toEqual(['10', '10', '10', '10']);
    // An HNSW scan returns at most ef_search rows: all of them means it was raised for top_k,
    // for that transaction only (as for the iterative scan of a filtered search).
    expect(await chunkCount()).toBeGreaterThan(10);
    expect(await results({ query: 'volcano', mode: 'vector', top_k: 50 })).toHaveLength(await chunkCount());
    expect(await results({ query: 'volcano', mode: 'vector', top_k: 4, metadata: { team: 'odd' } })).toHaveLength(4);
    expect(await Promise.all(Array.from({ length: 4 }, show))).toEqual(['10', '10', '10', '10']);
  });
});

describe('chunks stored before migration 00002', () => {
  it('are searchable by text without being re-added', async () => {
    // A writer that does not know search_text (as every row before the migration): NULL.
    await harness.admin`UPDATE knowledge_chunks SET search_text = NULL WHERE source = 'codes/pool.md'`;
    const text = await results({ query: 'XQZVRB_4471', mode: 'text', top_k: 1 });
    expect(text[0]?.source).toBe('codes/pool.md');
  });
});
