// Search benchmark (issue 2): p50/p95 of POST /api/v1/knowledge/search through the composed app
// against the raw path (same embedder + the same SQL via postgres.js), at 10k chunks on the
// embedded PGlite and 100k chunks on the PostgreSQL server; HNSW recall@10 against an exact
// scan. See bench/results/search.md.
//
//   npx tsx bench/search.ts [--only embedded|server] [--embedded-chunks 10000] [--server-chunks 100000] [--queries 200]
import { benchConfig, commandLine, integerArgument, modelDescription, parseArguments, runRows, writeResults } from './support/bench-environment.ts';
import { loadReadmeCorpus, proseSentences } from './support/corpus.ts';
import { openBenchKnowledge, type BenchKnowledge } from './support/knowledge-setup.ts';
import { measureLatency, measureRecall } from './support/search-measurements.ts';
import { embedMaterial, extendMaterial, seedChunks, type SeedMaterial } from './support/seed-chunks.ts';
import { fixed, markdownTable } from './support/stats.ts';

const LATENCY_GOAL = 1.25;
const RECALL_GOAL = 0.95;
const TOP_K = 10;
const argv = process.argv.slice(2);
const parsed = parseArguments(argv);
const only = parsed.get('only');
if (only !== undefined && only !== 'embedded' && only !== 'server') throw new Error('--only must be embedded or server');
const phases = [
  { target: 'embedded' as const, chunks: integerArgument(parsed, 'embedded-chunks', 10_000) },
  { target: 'server' as const, chunks: integerArgument(parsed, 'server-chunks', 100_000) },
].filter((phase) => only === undefined || phase.target === only);
const queryCount = integerArgument(parsed, 'queries', 100);
const config = benchConfig();

// Every 10th real sentence is held out as a query; the others build the chunks.
const sentences = proseSentences(loadReadmeCorpus());
const queries = sentences.filter((_, index) => index % 10 === 0).slice(0, queryCount);
const material = sentences.filter((_, index) => index % 10 !== 0);
const realChunks = Math.min(10_000, Math.max(...phases.map((phase) => phase.chunks)));
let seed: SeedMaterial | undefined;

for (const phase of phases) {
  const started = performance.now();
  const knowledge = await openBenchKnowledge(config, phase.target);
  try {
    if (!seed) {
      const embedStart = performance.now();
      seed = await embedMaterial(knowledge.embedder, material, realChunks);
      console.error(`embedded ${realChunks} real chunk texts in ${fixed((performance.now() - embedStart) / 1000, 1)} s`);
    }
    const data = extendMaterial(seed, phase.chunks);
    const timings = await seedChunks(knowledge.database.sql, data);
    console.error(`${phase.target}: seeded ${phase.chunks} chunks in ${fixed(timings.insertMs / 1000, 1)} s, HNSW build ${fixed(timings.indexMs / 1000, 1)} s`);
    console.error(`${phase.target}: latency, ${queries.length} queries x 2 per side, mode vector`);
    const latency = await measureLatency(knowledge, queries, { topK: TOP_K });
    const recall = await measureRecall(knowledge, queries, TOP_K, knowledge.config.retrieval.efSearch);
    const seconds = (performance.now() - started) / 1000;
    console.error(`${phase.target}: p50 ratio ${fixed(latency.p50Ratio, 3)}, recall@10 ${fixed(recall.byEfSearch[0]!.recall, 3)} (${fixed(seconds, 0)} s)`);
    const markdown = report(knowledge, phase, data, timings, latency, recall, seconds);
    console.log(markdown);
    console.error(`written to ${await writeResults('search', phase.target, 'Search latency and HNSW recall', markdown)}`);
  } finally {
    await knowledge.close();
  }
}

function report(
  knowledge: BenchKnowledge,
  phase: { target: string; chunks: number },
  data: SeedMaterial,
  timings: { insertMs: number; indexMs: number; indexes: string[] },
  latency: Awaited<ReturnType<typeof measureLatency>>,
  recall: Awaited<ReturnType<typeof measureRecall>>,
  seconds: number,
): string {
  const ms = (value: number) => fixed(value, 2);
  return [
    `## ${phase.target === 'server' ? 'PostgreSQL server' : 'Embedded PGlite'}: ${phase.chunks.toLocaleString('en')} chunks`,
    '',
    markdownTable(
      ['', ''],
      [
        ...runRows(),
        ['model', modelDescription(config)],
        ['database', knowledge.databaseDescription],
        ['data', `${phase.chunks} chunks in ${Math.ceil(phase.chunks / 100)} documents: ${data.embeddedByModel} texts of 2-4 real README sentences embedded by the model${phase.chunks > data.embeddedByModel ? `, ${phase.chunks - data.embeddedByModel} mixtures of two of them (0.75/0.25 + noise, renormalised)` : ''}`],
        ['load', `multi-row INSERT ${fixed(timings.insertMs / 1000, 1)} s with ${timings.indexes.join(' and ')} dropped, then rebuilt with their migration definitions (HNSW m 16, ef_construction 64) + ANALYZE ${fixed(timings.indexMs / 1000, 1)} s`],
        ['queries', `${latency.samples} per side: ${queries.length} held-out README sentences x ${latency.passes}, top_k ${TOP_K}, mode "vector"`],
        ['command', `\`${commandLine('bench/search.ts', argv)}\``],
        ['phase runtime', `${fixed(seconds, 0)} s`],
      ],
    ),
    '',
    'Service = `POST /api/v1/knowledge/search` through `app.request` on the composed app. Raw = the same embedder\'s `embed([query])` + the service\'s own vector statement (`searchChunks` of lib/db/search-query.ts, mode `vector`) straight on the same postgres.js pool, without HTTP, validation, the store wrapper or JSON. Alternating order per query, after a warm-up.',
    '',
    markdownTable(
      ['path', 'p50 ms', 'p95 ms', 'mean ms'],
      [
        ['service (POST /search)', ms(latency.service.p50), ms(latency.service.p95), ms(latency.service.mean)],
        ['raw (embed + SQL)', ms(latency.raw.p50), ms(latency.raw.p95), ms(latency.raw.mean)],
        ['of which embedding the query', ms(latency.embed.p50), ms(latency.embed.p95), ms(latency.embed.mean)],
        ['ratio service / raw', fixed(latency.p50Ratio, 3), fixed(latency.p95Ratio, 3), ''],
      ],
    ),
    '',
    `**p50 ratio ${fixed(latency.p50Ratio, 3)}** (goal ≤ ${LATENCY_GOAL}: ${latency.p50Ratio <= LATENCY_GOAL ? 'met' : 'not met'}). Same top-${TOP_K} (source, chunk_index) from both paths for ${latency.agreeing} of ${latency.compared} queries.`,
    '',
    `### HNSW recall@${TOP_K} against an exact scan (${recall.queries} queries)`,
    '',
    markdownTable(['hnsw.ef_search', 'recall@10', 'min over queries', 'mean ms of the SQL'], recall.byEfSearch.map((row) => [`${row.efSearch}${row.efSearch === recall.byEfSearch[0]!.efSearch ? ' (the service\'s RAG_HNSW_EF_SEARCH)' : row.efSearch === 40 ? ' (pgvector default)' : ''}`, fixed(row.recall, 4), fixed(row.minimum, 2), fixed(row.meanMs, 2)])),
    '',
    `**recall@10 ${fixed(recall.byEfSearch[0]!.recall, 4)}** at the service's setting (goal ≥ ${RECALL_GOAL}: ${recall.byEfSearch[0]!.recall >= RECALL_GOAL ? 'met' : 'not met'}). Exact = the same query with \`SET LOCAL enable_indexscan = off\` in a transaction. Plans:`,
    '',
    '```',
    `-- indexed\n${recall.indexedPlan}\n-- exact\n${recall.exactPlan}`,
    '```',
  ].join('\n');
}
