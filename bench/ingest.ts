// Ingestion benchmark (issue 2): end-to-end add-document throughput through the composed app
// against the raw transformers.js pipeline on the same chunk texts. See bench/results/ingest.md.
//
//   npx tsx bench/ingest.ts [--server] [--rounds 5] [--documents 40]
import { chunkDocument } from '../lib/knowledge/knowledge-base.ts';
import { commandLine, benchConfig, integerArgument, modelDescription, parseArguments, runRows, writeResults } from './support/bench-environment.ts';
import { loadReadmeCorpus } from './support/corpus.ts';
import { measureStages, type StageTimes } from './support/ingest-stages.ts';
import { jsonRequest, openBenchKnowledge } from './support/knowledge-setup.ts';
import { embedRaw, loadRawPipeline } from './support/raw-pipeline.ts';
import { elapsedMs, fixed, markdownTable, median } from './support/stats.ts';

const GOAL = 0.85;
const argv = process.argv.slice(2);
const parsed = parseArguments(argv);
const target = parsed.has('server') ? 'server' : 'embedded';
const rounds = integerArgument(parsed, 'rounds', 5);
const config = benchConfig();
const documents = loadReadmeCorpus().slice(0, integerArgument(parsed, 'documents', 40));

const knowledge = await openBenchKnowledge(config, target);
const extractor = await loadRawPipeline(config.embedding);
try {
  // The chunks the service will produce, computed once outside the clock: the raw side embeds
  // exactly these texts, and both sides are credited with exactly these tokens.
  const chunked = documents.map((document) => chunkDocument({ embedder: knowledge.embedder, chunking: config.chunking }, document.content));
  const chunkTexts = chunked.map((chunks) => chunks.map((chunk) => chunk.content));
  const allChunks = chunkTexts.flat();
  const tokens = chunked.flat().reduce((sum, chunk) => sum + chunk.tokenCount, 0);
  const bytes = documents.reduce((sum, document) => sum + Buffer.byteLength(document.content), 0);
  console.error(`${documents.length} documents, ${(bytes / 1024).toFixed(0)} KiB, ${allChunks.length} chunks, ${tokens} tokens; ${rounds} rounds on ${knowledge.databaseDescription}`);

  const rawDocument = async (index: number) => {
    const start = performance.now();
    await embedRaw(extractor, chunkTexts[index]!, config.embedding.batchSize);
    return elapsedMs(start);
  };
  const serviceDocument = async (index: number, round: number) => {
    const document = documents[index]!;
    const source = `round-${round}/${document.source}`;
    const start = performance.now();
    const response = await knowledge.app.request('/api/v1/knowledge/add-document', jsonRequest('POST', { source, content: document.content }));
    const body = (await response.json()) as { chunks?: number };
    const took = elapsedMs(start);
    if (response.status !== 201 || body.chunks !== chunkTexts[index]!.length) throw new Error(`add-document ${document.source}: ${response.status} ${JSON.stringify(body)}`);
    return took;
  };
  // A round is every document once on each side. The sides alternate per document (A/B, then
  // B/A), so a burst of load from other processes on this shared machine hits both alike.
  const runRound = async (round: number) => {
    let rawMs = 0;
    let serviceMs = 0;
    for (let index = 0; index < documents.length; index++) {
      if ((index + round) % 2 === 0) {
        rawMs += await rawDocument(index);
        serviceMs += await serviceDocument(index, round);
      } else {
        serviceMs += await serviceDocument(index, round);
        rawMs += await rawDocument(index);
      }
    }
    // Back to an empty table (off the clock), so every round inserts into the same state.
    // VACUUM matters: pgvector adds a vector equal to one of a dead, not yet vacuumed row's
    // to that row's graph element instead of inserting it, so without it every round after
    // the first would skip most HNSW work (~4 ms a chunk on PGlite, bench/README.md).
    for (const document of documents) await knowledge.store.deleteDocument(`round-${round}/${document.source}`);
    await knowledge.database.sql`VACUUM knowledge_chunks, knowledge_documents, knowledge_lexemes`;
    return { round, rawMs, serviceMs };
  };

  // One untimed round warms caches, JIT and the database.
  await runRound(0);
  const results: { round: number; rawMs: number; serviceMs: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const result = await runRound(round);
    results.push(result);
    console.error(`round ${round}: raw ${fixed(tokens / (result.rawMs / 1000), 0)} tok/s, service ${fixed(tokens / (result.serviceMs / 1000), 0)} tok/s, ratio ${fixed(result.rawMs / result.serviceMs, 3)}`);
  }
  const ratio = median(results.map((result) => result.rawMs / result.serviceMs));
  const stages: StageTimes = await measureStages(knowledge, extractor, documents, config);
  const serviceMedian = median(results.map((result) => result.serviceMs));

  const roundRows = results.map((result) => [result.round, fixed(tokens / (result.rawMs / 1000), 0), fixed(tokens / (result.serviceMs / 1000), 0), fixed(result.rawMs / result.serviceMs, 3)]);
  const stageRows = Object.entries(stages.milliseconds).map(([stage, ms]) => [stage, fixed(ms, 0), `${fixed((100 * ms) / stages.total, 1)} %`]);
  const markdown = [
    `## ${target === 'server' ? 'PostgreSQL server (`--server`)' : 'Embedded PGlite (default)'}`,
    '',
    markdownTable(
      ['', ''],
      [
        ...runRows(),
        ['model', modelDescription(config, { batch: true })],
        ['database', knowledge.databaseDescription],
        ['texts', `${documents.length} package READMEs from node_modules, ${(bytes / 1024).toFixed(0)} KiB, ${allChunks.length} chunks, ${tokens} tokens (model tokenizer, without [CLS]/[SEP])`],
        ['command', `\`${commandLine('bench/ingest.ts', argv)}\``],
      ],
    ),
    '',
    `Service = \`POST /api/v1/knowledge/add-document\` per document through \`app.request\` on the composed app (validation, chunking, embedding, one transaction per document). Raw = \`pipeline('feature-extraction')\` with \`{ pooling: 'mean', normalize: true }\` on the same chunk texts in batches of ${config.embedding.batchSize}. Interleaved per document (raw then service, service then raw, alternating), after one untimed warm-up round; ${rounds} rounds; ratio = service tok/s ÷ raw tok/s.`,
    '',
    markdownTable(['round', 'raw tok/s', 'service tok/s', 'ratio'], roundRows),
    '',
    `**Median ratio ${fixed(ratio, 3)}** (goal ≥ ${GOAL}: ${ratio >= GOAL ? 'met' : 'not met'}).`,
    '',
    '### Where the service\'s time goes',
    '',
    `Each stage timed on its own over the same ${documents.length} documents, calling the same lib functions as the handler, alternating per document with an end-to-end request (one pass after the rounds; median service round ${fixed(serviceMedian, 0)} ms). Shares are of the end-to-end pass.`,
    '',
    markdownTable(['stage', 'ms', 'share'], stageRows),
    '',
    ...stages.notes,
  ].join('\n');
  console.log(markdown);
  console.error(`written to ${await writeResults('ingest', target, 'Ingestion throughput: add-document vs the raw transformers.js pipeline', markdown)}`);
} finally {
  await extractor.dispose();
  await knowledge.close();
}
