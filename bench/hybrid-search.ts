// Hybrid search latency against vector-only search, side by side in one run.
//
//   npx tsx bench/hybrid-search.ts [--embedded-chunks 10000] [--server-chunks 100000] [--rounds 5] [--ef-search 100] [--out bench/results/hybrid-search.md]
//
// Embedded lane: a throwaway PGlite in a temporary folder. Server lane (skipped without it):
// BENCH_DATABASE_URL, a database the benchmark may wipe (its name must end in _bench), e.g.
//   BENCH_DATABASE_URL=$(PG_TEST_DB=local_rag_bench bash scripts/pg-server.sh start) npx tsx bench/hybrid-search.ts
//
// Chunks: random unit vectors (the index's work does not depend on what the vectors mean) and
// realistic text: sentences drawn at random from the evaluation set's real READMEs and Chinese
// manual pages, so term frequencies are those of real technical prose. Queries: the set's
// questions, each with a random unit vector. Every query runs in both modes, in alternating
// order, through the store's own search; p50 over every (round, query) pair.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Sql } from 'postgres';
import { openDatabase, type Database } from '../lib/db/connect.ts';
import { createPostgresStore } from '../lib/db/knowledge-store.ts';
import { runMigrations } from '../lib/db/migrate.ts';
import { DEFAULT_HNSW_EF_SEARCH } from '../lib/config.ts';
import type { SearchMode, SearchOptions } from '../lib/contracts.ts';
import { PROJECT_ROOT } from './support/bench-environment.ts';
import { seededRandom } from './support/stats.ts';

const SET_DIRECTORY = path.join(PROJECT_ROOT, 'bench/eval/sets/reference');
const DIMENSIONS = 384;
const CHUNKS_PER_DOCUMENT = 1000;
const TOP_K = 5;

const { values } = parseArgs({
  options: {
    'embedded-chunks': { type: 'string', default: '10000' },
    'server-chunks': { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '5' },
    // The session's hnsw.ef_search (RAG_HNSW_EF_SEARCH): the vector ranking's cost in both modes.
    'ef-search': { type: 'string', default: String(DEFAULT_HNSW_EF_SEARCH) },
    out: { type: 'string', default: 'bench/results/hybrid-search.md' },
  },
});

interface LaneResult {
  lane: string;
  server: string;
  chunks: number;
  loadSeconds: number;
  samples: number;
  p50: Record<SearchMode, number>;
  p95: Record<SearchMode, number>;
  textMatchesMedian: number;
}

function unitVector(next: () => number): number[] {
  // Sum of uniforms ≈ normal: an isotropic direction, cheaply.
  const vector = Array.from({ length: DIMENSIONS }, () => next() + next() + next() - 1.5);
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

async function loadSentences(): Promise<string[]> {
  const directory = path.join(SET_DIRECTORY, 'docs');
  const sentences: string[] = [];
  for (const file of (await readdir(directory)).sort()) {
    const text = await readFile(path.join(directory, file), 'utf8');
    for (const sentence of text.split(/(?<=[.!?。！？])\s+|\n{2,}/)) {
      const trimmed = sentence.replace(/\s+/g, ' ').trim();
      if (trimmed.length >= 20 && trimmed.length <= 400) sentences.push(trimmed);
    }
  }
  return sentences;
}

async function loadQuestions(): Promise<string[]> {
  const set = JSON.parse(await readFile(path.join(SET_DIRECTORY, 'reference.json'), 'utf8')) as { questions: { question: string }[] };
  return set.questions.map((question) => question.question);
}

async function seed(sql: Sql, chunks: number, sentences: string[]): Promise<number> {
  const started = performance.now();
  const store = createPostgresStore(sql);
  const next = seededRandom(42);
  // Building the HNSW index once after loading is much faster than growing it row by row; it
  // is rebuilt with the migration's own definition.
  const [index] = await sql<{ definition: string }[]>`SELECT indexdef AS definition FROM pg_indexes WHERE indexname = 'knowledge_chunks_embedding_hnsw'`;
  if (!index) throw new Error('index knowledge_chunks_embedding_hnsw not found: is the database migrated?');
  await sql`DROP INDEX knowledge_chunks_embedding_hnsw`;
  for (let documentIndex = 0; documentIndex * CHUNKS_PER_DOCUMENT < chunks; documentIndex++) {
    const count = Math.min(CHUNKS_PER_DOCUMENT, chunks - documentIndex * CHUNKS_PER_DOCUMENT);
    const records = Array.from({ length: count }, () => {
      const sentenceCount = 3 + Math.floor(next() * 5);
      const content = Array.from({ length: sentenceCount }, () => sentences[Math.floor(next() * sentences.length)]!).join(' ');
      return { content, tokenCount: Math.ceil(content.length / 4), embedding: unitVector(next) };
    });
    // The store's own write path: multi-row INSERTs, search_text filled by lib/text-search.
    await store.replaceDocument({ source: `bench/${documentIndex}.md`, contentSha256: String(documentIndex), metadata: { bench: true }, chunks: records });
  }
  await sql`SET maintenance_work_mem = '512MB'`.catch(() => {});
  await sql.unsafe(index.definition);
  await sql`ANALYZE knowledge_chunks`;
  return (performance.now() - started) / 1000;
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

async function measure(sql: Sql, questions: string[], rounds: number, efSearch: number) {
  const store = createPostgresStore(sql, { efSearch });
  const next = seededRandom(7);
  const queries = questions.map((text) => ({ text, embedding: unitVector(next) }));
  const timings: Record<SearchMode, number[]> = { vector: [], text: [], hybrid: [] };
  const textMatches: number[] = [];
  const run = async (mode: SearchMode, query: (typeof queries)[number]) => {
    const options: SearchOptions = { topK: TOP_K, mode };
    const started = performance.now();
    const hits = await store.search(query, options);
    timings[mode].push(performance.now() - started);
    return hits;
  };
  // Warm-up: caches and prepared statements, not measured.
  for (const query of queries) {
    await store.search(query, { topK: TOP_K, mode: 'vector' });
    await store.search(query, { topK: TOP_K, mode: 'hybrid' });
  }
  for (let round = 0; round < rounds; round++) {
    for (const [index, query] of queries.entries()) {
      // Alternating which mode goes first cancels any advantage of running second.
      const order: SearchMode[] = (round + index) % 2 ? ['vector', 'hybrid'] : ['hybrid', 'vector'];
      for (const mode of order) {
        const hits = await run(mode, query);
        if (mode === 'hybrid' && round === 0) textMatches.push(hits.filter((hit) => hit.textRank !== null).length);
      }
    }
  }
  return { timings, textMatches };
}

async function runLane(lane: string, database: Database, chunks: number, sentences: string[], questions: string[], rounds: number): Promise<LaneResult> {
  await database.sql`DROP TABLE IF EXISTS knowledge_chunks, knowledge_documents, knowledge_lexemes, schema_migrations CASCADE`;
  await runMigrations(database.sql);
  const [version] = await database.sql<{ version: string }[]>`SELECT split_part(version(), ' ', 2) AS version`;
  console.error(`${lane}: loading ${chunks} chunks`);
  const loadSeconds = await seed(database.sql, chunks, sentences);
  console.error(`${lane}: loaded in ${loadSeconds.toFixed(0)} s; measuring`);
  const { timings, textMatches } = await measure(database.sql, questions, rounds, database.efSearch);
  const result: LaneResult = {
    lane,
    server: `PostgreSQL ${version!.version}`,
    chunks,
    loadSeconds,
    samples: timings.hybrid.length,
    p50: { vector: percentile(timings.vector, 0.5), text: 0, hybrid: percentile(timings.hybrid, 0.5) },
    p95: { vector: percentile(timings.vector, 0.95), text: 0, hybrid: percentile(timings.hybrid, 0.95) },
    textMatchesMedian: percentile(textMatches, 0.5),
  };
  console.error(`${lane}: vector p50 ${result.p50.vector.toFixed(2)} ms, hybrid p50 ${result.p50.hybrid.toFixed(2)} ms, ratio ${(result.p50.hybrid / result.p50.vector).toFixed(2)}`);
  return result;
}

function report(results: LaneResult[], rounds: number, questions: number): string {
  const lines = [
    '# Hybrid search vs vector-only search',
    '',
    `\`npx tsx bench/hybrid-search.ts\` (${new Date().toISOString().slice(0, 10)}, ${rounds} rounds × ${questions} questions per mode, top_k ${TOP_K}, hnsw.ef_search ${values['ef-search']}, interleaved).`,
    'Chunks: random unit vectors (384 d) + 3–7 sentences drawn from the evaluation set\'s real READMEs and Chinese manual pages;',
    'queries: the set\'s questions with random vectors. Both modes through `createPostgresStore(...).search`.',
    '',
    '| lane | server | chunks | vector p50 ms | hybrid p50 ms | ratio p50 | vector p95 ms | hybrid p95 ms | load s |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (result) =>
        `| ${result.lane} | ${result.server} | ${result.chunks} | ${result.p50.vector.toFixed(2)} | ${result.p50.hybrid.toFixed(2)} | ${(result.p50.hybrid / result.p50.vector).toFixed(2)} | ${result.p95.vector.toFixed(2)} | ${result.p95.hybrid.toFixed(2)} | ${result.loadSeconds.toFixed(0)} |`,
    ),
    '',
    'Goal: ratio p50 ≤ 1.5.',
  ];
  return `${lines.join('\n')}\n`;
}

async function main() {
  const rounds = Number(values.rounds);
  const sentences = await loadSentences();
  const questions = await loadQuestions();
  const results: LaneResult[] = [];

  const embeddedChunks = Number(values['embedded-chunks']);
  if (embeddedChunks > 0) {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'local-rag-bench-'));
    const database = await openDatabase({ url: undefined, dataDir, poolSize: 1, migrateOnStart: false }, { efSearch: Number(values['ef-search']) });
    try {
      results.push(await runLane('embedded (PGlite)', database, embeddedChunks, sentences, questions, rounds));
    } finally {
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }

  const serverUrl = process.env.BENCH_DATABASE_URL;
  const serverChunks = Number(values['server-chunks']);
  if (serverUrl && serverChunks > 0) {
    const name = decodeURIComponent(new URL(serverUrl).pathname.slice(1));
    if (!name.endsWith('_bench')) throw new Error(`BENCH_DATABASE_URL names database "${name}"; the benchmark wipes it, so its name must end in _bench`);
    const database = await openDatabase({ url: serverUrl, dataDir: '', poolSize: 1, migrateOnStart: false }, { efSearch: Number(values['ef-search']) });
    try {
      results.push(await runLane('server', database, serverChunks, sentences, questions, rounds));
    } finally {
      await database.close();
    }
  } else {
    console.error('server lane skipped: set BENCH_DATABASE_URL');
  }

  const markdown = report(results, rounds, questions.length);
  console.log(markdown);
  await writeFile(path.resolve(PROJECT_ROOT, values.out!), markdown);
}

await main();
