// local-rag beside a peer (issue 11): LangChain.js' PGVectorStore with its transformers.js
// embeddings and default splitter, and the raw transformers.js pipeline, on the same corpus
// (the reference evaluation set's 16 documents), the same model and the same PostgreSQL, in
// one interleaved run: ingestion throughput, search p50, evidence@3 on the set's questions.
//
//   npm run bench:peers -- [--rounds 3] [--no-warmup]   (installs bench/peers' own packages first)
//
// Database: BENCH_DATABASE_URL, or the project's test server in PG_TEST_DB (default
// local_rag_bench). Results: bench/results/peers.md.
import path from 'node:path';
import { containsEvidence, loadEvalSet } from '../../scripts/eval/eval-set.ts';
import { chunkDocument, searchSimilarChunks } from '../../lib/knowledge/knowledge-base.ts';
import type { SearchMode } from '../../lib/contracts.ts';
import { benchConfig, commandLine, describeUrl, integerArgument, modelDescription, parseArguments, PROJECT_ROOT, runRows, serverDatabaseUrl, writeResults } from '../support/bench-environment.ts';
import { jsonRequest, openBenchKnowledge } from '../support/knowledge-setup.ts';
import { embedRaw, loadRawPipeline } from '../support/raw-pipeline.ts';
import { elapsedMs, fixed, markdownTable, median } from '../support/stats.ts';
import { openLangChainPeer, type PeerHit } from './langchain-peer.ts';

const INGEST_GOAL_RATIO = 1.2;
const EVIDENCE_GOAL_MARGIN = 0.1;
const TOP_K = 3;
const SET_FILE = path.join(PROJECT_ROOT, 'bench/eval/sets/reference/reference.json');

const argv = process.argv.slice(2);
const parsed = parseArguments(argv);
const rounds = integerArgument(parsed, 'rounds', 3);
// Every side is already warmed by one embedding when it opens; the warm-up round adds JIT and caches.
const warmupRounds = parsed.has('no-warmup') ? 0 : 1;
const config = benchConfig();
const set = await loadEvalSet(SET_FILE);
// Follow-ups need the chat's two-turn retrieval, which the peer has no counterpart for.
const questions = set.questions.filter((question) => question.answerable && question.previous_question === undefined);
const bytes = set.documents.reduce((sum, document) => sum + Buffer.byteLength(document.content), 0);

const url = serverDatabaseUrl();
const knowledge = await openBenchKnowledge(config, 'server');
const peer = await openLangChainPeer({ url, embedding: config.embedding });
const extractor = await loadRawPipeline(config.embedding);
try {
  // The raw side embeds exactly local-rag's chunk texts, chunked once off the clock.
  const chunkTexts = set.documents.map((document) => chunkDocument({ embedder: knowledge.embedder, chunking: config.chunking }, document.content).map((chunk) => chunk.content));
  const localChunks = chunkTexts.flat().length;
  console.error(`${set.documents.length} documents, ${(bytes / 1024).toFixed(0)} KiB; ${rounds} rounds on ${knowledge.databaseDescription}`);

  const sides = {
    'local-rag': async () => {
      // Empty tables off the clock; TRUNCATE gives new files, so no dead rows are reused by HNSW.
      await knowledge.database.sql`TRUNCATE knowledge_chunks, knowledge_documents, knowledge_lexemes`;
      const start = performance.now();
      for (const document of set.documents) {
        const response = await knowledge.app.request('/api/v1/knowledge/add-document', jsonRequest('POST', { source: document.source, content: document.content, metadata: document.metadata }));
        if (response.status !== 201) throw new Error(`add-document ${document.source}: ${response.status} ${await response.text()}`);
      }
      return { ms: elapsedMs(start), chunks: localChunks };
    },
    langchain: async () => {
      await peer.reset();
      const start = performance.now();
      const { chunks } = await peer.ingest(set.documents);
      return { ms: elapsedMs(start), chunks };
    },
    raw: async () => {
      const start = performance.now();
      for (const texts of chunkTexts) await embedRaw(extractor, texts, config.embedding.batchSize);
      return { ms: elapsedMs(start), chunks: localChunks };
    },
  };
  type Side = keyof typeof sides;
  const names = Object.keys(sides) as Side[];
  const ingestMs: Record<Side, number[]> = { 'local-rag': [], langchain: [], raw: [] };
  const chunkCounts = {} as Record<Side, number>;
  // Round 0 (unless --no-warmup) warms caches and JIT; each round rotates the order so load
  // bursts hit every side.
  for (let round = 1 - warmupRounds; round <= rounds; round++) {
    for (let offset = 0; offset < names.length; offset++) {
      const name = names[(round + offset) % names.length]!;
      const result = await sides[name]();
      chunkCounts[name] = result.chunks;
      if (round > 0) ingestMs[name].push(result.ms);
    }
    if (round > 0) console.error(`round ${round}: ${names.map((name) => `${name} ${fixed(bytes / 1024 / (ingestMs[name].at(-1)! / 1000), 1)} KiB/s`).join(', ')}`);
  }

  // Searches, interleaved per question; the last round's data is in both stores.
  const searchers: Record<string, (query: string) => Promise<PeerHit[]>> = {
    'local-rag hybrid': (query) => localSearch(query, 'hybrid'),
    'local-rag vector': (query) => localSearch(query, 'vector'),
    langchain: (query) => peer.search(query, TOP_K),
  };
  const searcherNames = Object.keys(searchers);
  const searchMs: Record<string, number[]> = Object.fromEntries(searcherNames.map((name) => [name, []]));
  const found: Record<string, number> = Object.fromEntries(searcherNames.map((name) => [name, 0]));
  const missed: Record<string, string[]> = Object.fromEntries(searcherNames.map((name) => [name, []]));
  for (let index = 0; index < questions.length; index++) {
    const question = questions[index]!;
    if (!question.answerable) continue;
    for (let offset = 0; offset < searcherNames.length; offset++) {
      const name = searcherNames[(index + offset) % searcherNames.length]!;
      const start = performance.now();
      const hits = await searchers[name]!(question.question);
      searchMs[name]!.push(elapsedMs(start));
      if (hits.slice(0, TOP_K).some((hit) => hit.source === question.expected_source && containsEvidence(hit.content, question.evidence))) found[name]!++;
      else missed[name]!.push(question.id);
    }
  }

  const throughput = (name: Side) => bytes / 1024 / (median(ingestMs[name]) / 1000);
  const ingestRatio = throughput('local-rag') / throughput('langchain');
  const evidence = (name: string) => found[name]! / questions.length;
  const evidenceMargin = evidence('local-rag hybrid') - evidence('langchain');
  const markdown = [
    '## PostgreSQL server',
    '',
    markdownTable(
      ['', ''],
      [
        ...runRows(),
        ['model', modelDescription(config, { batch: true })],
        ['database', `${knowledge.databaseDescription} (${describeUrl(url)})`],
        ['corpus', `the reference evaluation set's ${set.documents.length} documents, ${(bytes / 1024).toFixed(0)} KiB; ${questions.length} answerable questions (follow-ups left out)`],
        ['peer', 'LangChain.js: @langchain/community 1.1.29 PGVectorStore (node-postgres, cosine, its createHnswIndex), HuggingFaceTransformersEmbeddings, @langchain/textsplitters 1.0.2 RecursiveCharacterTextSplitter with its defaults (1000 characters, 200 overlap)'],
        ['command', `\`${commandLine('bench/peers/compare.ts', argv)}\``],
      ],
    ),
    '',
    `One process, interleaved: ${rounds} timed rounds${warmupRounds ? ' after a warm-up round' : ' (no warm-up round)'}, each ingesting the whole corpus once per side in a rotating order; then every question once per searcher, rotating, top ${TOP_K}. local-rag = \`POST /api/v1/knowledge/add-document\` per document through the composed app; raw = transformers.js \`pipeline('feature-extraction')\` over local-rag's chunk texts, no database (the floor).`,
    '',
    markdownTable(
      ['side', 'chunks', 'ingest KiB/s (median)', 'rounds (ms)'],
      names.map((name) => [name, chunkCounts[name], fixed(throughput(name), 1), ingestMs[name].map((ms) => fixed(ms, 0)).join(', ')]),
    ),
    '',
    markdownTable(
      ['searcher', 'search p50 (ms)', `evidence@${TOP_K}`, 'missed'],
      searcherNames.map((name) => [name, fixed(median(searchMs[name]!), 1), `${fixed(evidence(name), 3)} (${found[name]}/${questions.length})`, missed[name]!.join(', ') || '-']),
    ),
    '',
    `**Ingestion: local-rag ${fixed(ingestRatio, 2)}× the peer's throughput** (goal ≥ ${INGEST_GOAL_RATIO}: ${ingestRatio >= INGEST_GOAL_RATIO ? 'met' : 'not met'}). ` +
      `**evidence@${TOP_K}: local-rag hybrid ${fixed(evidence('local-rag hybrid'), 3)} vs ${fixed(evidence('langchain'), 3)}, ${evidenceMargin >= 0 ? '+' : ''}${fixed(evidenceMargin, 3)}** (goal ≥ +${EVIDENCE_GOAL_MARGIN}: ${evidenceMargin >= EVIDENCE_GOAL_MARGIN ? 'met' : 'not met'}).`,
  ].join('\n');
  console.log(markdown);
  console.error(`written to ${await writeResults('peers', 'server', 'local-rag beside LangChain.js and the raw pipeline', markdown)}`);
} finally {
  await extractor.dispose();
  await peer.close();
  await knowledge.close();
}

async function localSearch(query: string, mode: SearchMode): Promise<PeerHit[]> {
  const hits = await searchSimilarChunks({ store: knowledge.store, embedder: knowledge.embedder }, query, { topK: TOP_K, mode, hybrid: config.retrieval.hybrid });
  return hits.map((hit) => ({ source: hit.source, content: hit.content }));
}
