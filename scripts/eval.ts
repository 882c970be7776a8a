// `npm run eval -- <set.json> [--calibrate] [--json] [--min-evidence-at-3 X] [--store embedded|memory] [--answers]`
// Ingests an evaluation set into a throwaway embedded database (deleted afterwards), runs
// every question in vector, text and hybrid mode and prints retrieval and refusal metrics.
// Exits 1 when hybrid evidence@3 is below --min-evidence-at-3 (the CI gate).
// --answers asks every question over /ws/llm of the LLM at LLM_BASE_URL instead and scores
// the answers (scripts/eval-answers.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../lib/config.ts';
import { loadEmbedder } from '../lib/embeddings/load-embedder.ts';
import { openKnowledgeBase, type OpenedKnowledgeBase } from '../lib/knowledge/open-knowledge-base.ts';
import { EvalSetError, loadEvalSet } from './eval/eval-set.ts';
import { createCachingEmbedder, createExactReference } from './eval/exact-reference.ts';
import { formatReport } from './eval/format-report.ts';
import { runEvaluation } from './eval/run-eval.ts';
import { formatAnswerReport, runAnswerEvaluation } from './eval-answers.ts';
import { createExactScanStore } from './eval/exact-scan-store.ts';
import { thresholdsForModel } from '../lib/knowledge/sufficiency.ts';
import type { Embedder, KnowledgeStore } from '../lib/contracts.ts';

const usage = 'usage: npm run eval -- <set.json> [--calibrate] [--json] [--min-evidence-at-3 X] [--store embedded|memory] [--answers]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      calibrate: { type: 'boolean', default: false },
      answers: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'min-evidence-at-3': { type: 'string' },
      store: { type: 'string', default: 'embedded' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.error(usage);
    return values.help ? 0 : 2;
  }
  const gate = values['min-evidence-at-3'] === undefined ? undefined : Number(values['min-evidence-at-3']);
  if (gate !== undefined && !(gate >= 0 && gate <= 1)) throw new UsageError(`--min-evidence-at-3 must be a number between 0 and 1, got ${values['min-evidence-at-3']}`);
  if (values.store !== 'embedded' && values.store !== 'memory') throw new UsageError(`--store must be embedded or memory, got ${values.store}`);

  const config = loadConfig(process.env);
  const set = await loadEvalSet(positionals[0]!);
  const log = (message: string) => console.error(`eval: ${message}`);
  let knowledgeBase: OpenedKnowledgeBase | undefined;
  let embedderOnly: Embedder | undefined;
  let dataDir: string | undefined;
  try {
    let loaded: Embedder;
    let store: KnowledgeStore;
    if (values.store === 'memory') {
      loaded = embedderOnly = await loadEmbedder(config.embedding, { log });
      store = createExactScanStore();
    } else {
      dataDir = await mkdtemp(path.join(tmpdir(), 'local-rag-eval-'));
      // Never DATABASE_URL: the evaluation must not write into a real knowledge base.
      const evalConfig = { ...config, database: { ...config.database, url: undefined, dataDir, migrateOnStart: true } };
      knowledgeBase = await openKnowledgeBase(evalConfig, { log: (_level, message) => log(message) });
      loaded = knowledgeBase.embedder;
      store = knowledgeBase.store;
    }
    // One cache for both stores: the exact reference embeds the same chunks again.
    const embedder = createCachingEmbedder(loaded);
    const chunking = config.chunking;
    const thresholds = thresholdsForModel(embedder.modelId, config.retrieval.minScore === undefined ? {} : { minBestScore: config.retrieval.minScore });
    if (values.answers) {
      const answers = await runAnswerEvaluation({ set, config, knowledge: { store, embedder, chunking }, thresholds, onProgress: log });
      console.log(values.json ? JSON.stringify(answers, null, 2) : formatAnswerReport(answers));
      return 0;
    }
    const report = await runEvaluation({
      set,
      knowledge: { store, embedder, chunking },
      thresholds,
      decisionTopK: config.retrieval.topK,
      hybrid: config.retrieval.hybrid,
      // The exact-scan store is itself the reference; only the database's HNSW needs checking.
      exactSearch: values.store === 'embedded' ? await createExactReference(set.documents, { embedder, chunking }) : undefined,
      calibrate: values.calibrate,
      onProgress: log,
    });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
    const hybrid = report.modes.find((mode) => mode.mode === 'hybrid');
    if (gate !== undefined && hybrid && hybrid.retrieval.evidenceAt[3] < gate) {
      console.error(`eval: hybrid evidence@3 ${hybrid.retrieval.evidenceAt[3].toFixed(3)} is below the required ${gate}`);
      return 1;
    }
    return 0;
  } finally {
    await (knowledgeBase ?? embedderOnly)?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

class UsageError extends Error {}

try {
  process.exitCode = await main();
} catch (error) {
  const known = error instanceof ConfigError || error instanceof EvalSetError || error instanceof UsageError;
  console.error(`eval: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}`);
  if (error instanceof UsageError) console.error(usage);
  process.exitCode = 2;
}
