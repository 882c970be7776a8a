// Memory benchmark (issue 2): peak RSS of `npm start` (the Node entry under tsx) idle with the
// model loaded, and while ingesting 10k chunks through the HTTP API. Embedded PGlite in a
// temporary DATA_DIR. Linux only (reads /proc). See bench/results/memory.md.
//
//   npx tsx bench/memory.ts [--chunks 10000] [--concurrency 2]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT, benchConfig, commandLine, integerArgument, modelDescription, parseArguments, runRows, writeResults } from './support/bench-environment.ts';
import { loadReadmeCorpus } from './support/corpus.ts';
import { MemorySampler, readProcessMemory, type ProcessMemory } from './support/process-memory.ts';
import { fixed, markdownTable } from './support/stats.ts';

const argv = process.argv.slice(2);
const parsed = parseArguments(argv);
const targetChunks = integerArgument(parsed, 'chunks', 10_000);
const concurrency = integerArgument(parsed, 'concurrency', 2);
const IDLE_MS = 5_000;
const config = benchConfig();
const documents = loadReadmeCorpus();

const port = await freePort();
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'local-rag-bench-memory-'));
const environment: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? os.tmpdir(),
  PORT: String(port),
  HOST: '127.0.0.1',
  DATA_DIR: dataDir,
  FUNCTIONS: 'add-document,search',
  LOG_LEVEL: 'warn',
  EMBEDDING_MODEL: config.embedding.model,
  EMBEDDING_DTYPE: config.embedding.dtype,
  EMBEDDING_THREADS: String(config.embedding.threads),
  EMBEDDING_BATCH_SIZE: String(config.embedding.batchSize),
  ...(config.embedding.modelsDir ? { MODELS_DIR: config.embedding.modelsDir } : {}),
  ...(config.embedding.offline ? { HF_HUB_OFFLINE: '1' } : {}),
};
type Snapshot = { processes: ProcessMemory[]; sampledPeakKiB: number; seconds: number };
type Launched = { pid: number; sampler: MemorySampler; exited: () => boolean };
const base = `http://127.0.0.1:${port}`;
const snapshots: Record<string, Snapshot> = {};
let chunksStored = 0;
let documentsStored = 0;
let running: Launched | undefined;
try {
  // First start: PGlite creates its cluster in the empty DATA_DIR and the migrations run.
  running = launch();
  let readySeconds = await waitForReady(running, 120_000);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  snapshots.idle = { processes: running.sampler.sample(), sampledPeakKiB: running.sampler.takePeak(), seconds: readySeconds };

  const ingestStart = performance.now();
  let next = 0;
  const worker = async () => {
    while (chunksStored < targetChunks) {
      const number = next++;
      const document = documents[number % documents.length]!;
      const response = await fetch(`${base}/api/v1/knowledge/add-document`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: `pass-${Math.floor(number / documents.length)}/${document.source}`, content: document.content }),
      });
      const body = (await response.json()) as { chunks?: number };
      if (response.status !== 201) throw new Error(`add-document: ${response.status} ${JSON.stringify(body)}`);
      chunksStored += body.chunks ?? 0;
      documentsStored++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  snapshots.ingest = { processes: running.sampler.sample(), sampledPeakKiB: running.sampler.takePeak(), seconds: (performance.now() - ingestStart) / 1000 };
  console.error(`ingested ${documentsStored} documents, ${chunksStored} chunks in ${fixed(snapshots.ingest.seconds, 1)} s`);

  // A later start on the same data: what a restarted service needs without the first start-up.
  await stopChild(running);
  running = launch();
  readySeconds = await waitForReady(running, 120_000);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  snapshots.restart = { processes: running.sampler.sample(), sampledPeakKiB: running.sampler.takePeak(), seconds: readySeconds };
} finally {
  if (running) await stopChild(running);
  await rm(dataDir, { recursive: true, force: true });
}

const service = (snapshot: Snapshot) => snapshot.processes.reduce((largest, memory) => (memory.peakKiB > largest.peakKiB ? memory : largest));
const mib = (kib: number) => fixed(kib / 1024, 0);
const labels = {
  idle: (snapshot: Snapshot) => `first start, idle with the model loaded (ready after ${fixed(snapshot.seconds, 1)} s, then ${IDLE_MS / 1000} s idle); peak = the start-up's`,
  ingest: (snapshot: Snapshot) => `same process while ingesting ${chunksStored} chunks (${documentsStored} documents in ${fixed(snapshot.seconds, 1)} s, ${concurrency} requests in flight)`,
  restart: (snapshot: Snapshot) => `restart on the same DATA_DIR (${chunksStored} chunks stored), idle (ready after ${fixed(snapshot.seconds, 1)} s)`,
};
const rows = (['idle', 'ingest', 'restart'] as const).map((phase) => {
  const snapshot = snapshots[phase]!;
  const main = service(snapshot);
  const treeRss = snapshot.processes.reduce((sum, memory) => sum + memory.rssKiB, 0);
  const label = labels[phase](snapshot);
  return [label, mib(main.rssKiB), mib(main.peakKiB), mib(treeRss), mib(snapshot.sampledPeakKiB)];
});
const idleTree = snapshots.idle!.processes.map((memory) => `\`${memory.command}\` (${mib(memory.peakKiB)} MiB peak)`).join(', ');
const markdown = [
  '## npm start, embedded PGlite',
  '',
  markdownTable(
    ['', ''],
    [
      ...runRows(),
      ['model', modelDescription(config, { batch: true })],
      ['service', `\`tsx functions/serve.node.ts\` (what \`npm start\` runs), FUNCTIONS=add-document,search, embedded PGlite in a temporary DATA_DIR`],
      ['process tree', idleTree],
      ['texts', 'package READMEs from node_modules, posted in turn (new source each pass) until the chunk target'],
      ['command', `\`${commandLine('bench/memory.ts', argv)}\``],
    ],
  ),
  '',
  'Service process = the node process of the tree with the highest VmHWM (the one running the app; tsx\'s launcher is the other). VmHWM is the kernel\'s own peak for that process since it started; the tree columns sum VmRSS over every process of the tree (sampled every 100 ms for the peak).',
  '',
  markdownTable(['phase', 'service VmRSS MiB', 'service VmHWM (peak) MiB', 'tree VmRSS MiB', 'tree sampled peak MiB'], rows),
].join('\n');
console.log(markdown);
console.error(`written to ${await writeResults('memory', 'embedded', 'Memory of the service', markdown)}`);

/**
 * Starts the service the way `npm start` does (`tsx functions/serve.node.ts`; spawning tsx
 * directly keeps npm's own process out of the measured tree) and samples its tree's memory.
 */
function launch(): Launched {
  const child = spawn(path.join(PROJECT_ROOT, 'node_modules/.bin/tsx'), ['functions/serve.node.ts'], { cwd: PROJECT_ROOT, env: environment, stdio: ['ignore', 'inherit', 'inherit'] });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const sampler = new MemorySampler(child.pid!);
  sampler.start(100);
  return { pid: child.pid!, sampler, exited: () => exited };
}

/** Seconds until `/readyz` answers 200. */
async function waitForReady(launched: Launched, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (launched.exited()) throw new Error('the service exited before it was ready');
    const status = await fetch(`${base}/readyz`).then((response) => response.status, () => 0);
    if (status === 200) return (performance.now() - start) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the service was not ready within ${timeoutMs} ms`);
}

/** SIGTERM to the child (tsx passes it on), then SIGKILL by PID to whatever of its tree outlived that. */
async function stopChild(launched: Launched): Promise<void> {
  const tree = launched.sampler.sample();
  launched.sampler.stop();
  if (!launched.exited()) process.kill(launched.pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  const alive = () => tree.filter((memory) => readProcessMemory(memory.pid)?.command === memory.command);
  while (Date.now() < deadline && alive().length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  // Only PIDs that still run the same command: never a process that merely reused the number.
  for (const memory of alive().reverse()) {
    try {
      process.kill(memory.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
