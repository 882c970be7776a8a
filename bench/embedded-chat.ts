// The embedded chat runtime (node-llama-cpp in the service process) against llama-server
// straight, on the same GGUF and thread count, in ONE interleaved run:
//   1. tokens/s and time to first token, embedded ÷ llama-server (rounds alternate);
//   2. embedded tokens/s by thread count (the LLM_THREADS default, DEVELOPERS.md);
//   3. `npm start` as a process: /healthz latency while the model loads and with two answers
//      streaming, and the process RSS with the model loaded.
//
//   npx tsx bench/embedded-chat.ts [--rounds 5] [--tokens 256] [--model path.gguf]
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { connectChatSocket } from '../scripts/eval/chat-socket-client.ts';
import { loadConfig } from '../lib/config.ts';
import { createChatModel } from '../lib/llm/chat-model.ts';
import { createEmbeddedChatModel, type EmbeddedChatModel } from '../lib/llm/embedded/embedded-chat-model.ts';
import { defaultThreadCount } from '../lib/llm/embedded/thread-count.ts';
import type { ChatMessage, ChatModel } from '../lib/llm/types.ts';
import { startLlamaServer } from '../tests/support/llama-server.ts';
import { freePort, startServiceProcess, stopServiceProcess, waitUntil } from '../tests/support/service-process.ts';
import { commandLine, integerArgument, parseArguments, PROJECT_ROOT, runRows, writeResults } from './support/bench-environment.ts';
import { processTree, readProcessMemory } from './support/process-memory.ts';
import { fixed, markdownTable, median, percentile } from './support/stats.ts';

const argv = process.argv.slice(2);
const parsed = parseArguments(argv);
const ROUNDS = integerArgument(parsed, 'rounds', 5);
const ANSWER_TOKENS = integerArgument(parsed, 'tokens', 256);
const MODEL = path.resolve(PROJECT_ROOT, typeof parsed.get('model') === 'string' ? (parsed.get('model') as string) : '../shared/fixtures/models/stories260K.gguf');
const THREADS = defaultThreadCount();
/** node-llama-cpp's own default: max(4, cpuMathCores) (cpuMathCores ≈ the CPU count here). */
const NODE_LLAMA_CPP_DEFAULT_THREADS = Math.max(4, availableParallelism());
const SWEEP_THREADS = [...new Set([1, 2, THREADS, NODE_LLAMA_CPP_DEFAULT_THREADS])].sort((a, b) => a - b);
const CONTEXT_TOKENS = 2048;
const HEALTH_POLL_MS = 20;
/** The longest one measured answer may take. */
const ANSWER_CAP_MS = 30_000;
/** The tokens/s goal of the issue: embedded at least 0.9× llama-server on the same GGUF. */
const RATE_GOAL = 0.9;

const messages: ChatMessage[] = [
  { role: 'system', content: 'You answer questions using only the numbered context below.\n\nContext:\n[1] (garden.md#0) The little garden has tomatoes, beans and sunflowers that grow tall in the summer sun.' },
  { role: 'user', content: 'What grows in the little garden in summer?' },
];

interface Run {
  ttftMs: number;
  tokensPerSecond: number;
  tokens: number;
}

/**
 * One answer: time to the first token, and decode rate after it. An answer is cut at
 * ANSWER_CAP_MS (a thread count that oversubscribes the CPUs makes fewer than one token a
 * second); the rate then counts the token frames received.
 */
async function measure(model: ChatModel): Promise<Run> {
  const started = performance.now();
  let first: number | undefined;
  let frames = 0;
  let tokens = 0;
  const signal = AbortSignal.timeout(ANSWER_CAP_MS);
  for await (const event of model.stream(messages, { maxTokens: ANSWER_TOKENS, temperature: 0, signal })) {
    if (event.type === 'token') {
      first ??= performance.now();
      frames++;
    } else tokens = event.usage?.completionTokens ?? frames;
  }
  const ended = performance.now();
  const firstAt = first ?? ended;
  return { ttftMs: firstAt - started, tokensPerSecond: tokens > 1 ? ((tokens - 1) * 1000) / (ended - firstAt) : 0, tokens };
}

async function embedded(threads: number): Promise<EmbeddedChatModel> {
  const model = createEmbeddedChatModel({ temperature: 0, maxTokens: ANSWER_TOKENS, contextTokens: CONTEXT_TOKENS, threads, parallel: 1, queueLimit: 0 });
  await model.load(MODEL);
  return model;
}

// 1 + 2: models side by side, rounds interleaved so load on the shared machine hits all alike.
process.env.LLAMA_THREADS = String(THREADS);
const server = await startLlamaServer({ parallel: 1, ctxSize: CONTEXT_TOKENS, model: MODEL });
const serverModel = createChatModel(loadConfig({ LLM_BASE_URL: server.baseURL, LLM_API_KEY: server.apiKey, LLM_TIMEOUT_MS: '120000' }).llm);
const sweep = new Map<number, EmbeddedChatModel>();
for (const threads of SWEEP_THREADS) sweep.set(threads, await embedded(threads));
const runs = new Map<string, Run[]>();
const record = (name: string, run: Run) => runs.set(name, [...(runs.get(name) ?? []), run]);
try {
  // One warm-up each (page cache, first allocation), not recorded.
  await measure(serverModel);
  for (const model of sweep.values()) await measure(model);
  for (let round = 0; round < ROUNDS; round++) {
    record('llama-server', await measure(serverModel));
    for (const [threads, model] of sweep) record(`embedded ${threads}`, await measure(model));
    console.error(`round ${round + 1}/${ROUNDS} done`);
  }
} finally {
  await server.stop();
  for (const model of sweep.values()) await model.close();
}

const medianOf = (name: string, key: keyof Run) => median((runs.get(name) ?? []).map((run) => run[key]));
const direct = { rate: medianOf('llama-server', 'tokensPerSecond'), ttft: medianOf('llama-server', 'ttftMs') };
const same = { rate: medianOf(`embedded ${THREADS}`, 'tokensPerSecond'), ttft: medianOf(`embedded ${THREADS}`, 'ttftMs') };

// 3: the service process (npm start without LLM_BASE_URL).
const port = await freePort();
const dataDir = path.join(PROJECT_ROOT, `.bench-embedded-${process.pid}`);
const service = startServiceProcess({ DATA_DIR: dataDir, PORT: String(port), FUNCTIONS: 'all', LLM_MODEL_FILE: MODEL, LLM_MAX_TOKENS: '1000', LOG_LEVEL: 'warn' });
const base = `http://127.0.0.1:${port}`;
const loadingLatencies: number[] = [];
const streamingLatencies: number[] = [];
let rssMb = 0;
try {
  await waitUntil(async () => (await fetch(`${base}/healthz`)).ok, 120_000, '/healthz');
  // While the model (and the embedder) load: every /healthz until /readyz has llm ready.
  for (let ready = false; !ready; ) {
    const started = performance.now();
    await fetch(`${base}/healthz`).then((response) => response.arrayBuffer());
    loadingLatencies.push(performance.now() - started);
    // A busy start-up may reset a connection: that poll just counts as not ready.
    const readiness = (await fetch(`${base}/readyz`).then((response) => response.json(), () => ({}))) as { status?: string; error?: { details?: { llm?: { ok: boolean } } } };
    ready = readiness.status === 'ready' || readiness.error?.details?.llm?.ok === true;
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
  await waitUntil(async () => (await fetch(`${base}/readyz`)).ok, 120_000, '/readyz 200');
  await fetch(`${base}/api/v1/knowledge/add-document`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ source: 'garden.md', content: 'The little garden grows tomatoes, beans and sunflowers in the summer sun.' }) });
  const sockets = await Promise.all([connectChatSocket(`ws://127.0.0.1:${port}/ws/llm`), connectChatSocket(`ws://127.0.0.1:${port}/ws/llm`)]);
  const answers = sockets.map((socket) => socket.ask({ type: 'chat', message: 'What grows in the little garden in summer?' }, 300_000));
  await Promise.all(sockets.map((socket) => socket.waitFor((frame) => frame.type === 'token', { timeoutMs: 60_000 })));
  let streaming = true;
  void Promise.all(answers).then(() => (streaming = false));
  while (streaming) {
    const started = performance.now();
    await fetch(`${base}/healthz`).then((response) => response.arrayBuffer());
    streamingLatencies.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
  await Promise.all(sockets.map((socket) => socket.close()));
  // tsx runs the service in a child node process: sum the whole tree.
  rssMb = processTree(service.child.pid!).reduce((sum, pid) => sum + (readProcessMemory(pid)?.rssKiB ?? 0), 0) / 1024;
} finally {
  await stopServiceProcess(service.child);
  const { rm } = await import('node:fs/promises');
  await rm(dataDir, { recursive: true, force: true });
}

const latencyRow = (name: string, values: number[]) => [name, values.length, fixed(median(values), 1), fixed(percentile(values, 99), 1), fixed(Math.max(...values), 1)];
const modelName = path.relative(PROJECT_ROOT, MODEL);
const markdown = [
  markdownTable(['what', 'value'], [
    ...runRows(),
    ['command', `\`${commandLine('bench/embedded-chat.ts', argv)}\``],
    ['model', `${modelName}, context ${CONTEXT_TOKENS}, 1 sequence, temperature 0, ${ANSWER_TOKENS} answer tokens`],
    ['llama-server', `\`--parallel 1 --ctx-size ${CONTEXT_TOKENS} --threads ${THREADS} --chat-template chatml\` (built from node-llama-cpp's llama.cpp source)`],
    ['rounds', `${ROUNDS}, interleaved: llama-server, then embedded at each thread count; an answer is cut after ${ANSWER_CAP_MS / 1000} s`],
  ]),
  '',
  `### Embedded ÷ llama-server, ${THREADS} thread(s) each (the LLM_THREADS default here)`,
  '',
  markdownTable(['', 'llama-server', 'embedded', 'ratio'], [
    ['tokens/s (median)', fixed(direct.rate, 0), fixed(same.rate, 0), `${fixed(same.rate / direct.rate)}× (goal ≥ ${RATE_GOAL})`],
    ['time to first token, ms (median)', fixed(direct.ttft, 1), fixed(same.ttft, 1), `${fixed(same.ttft - direct.ttft, 1)} ms more`],
  ]),
  '',
  '### Embedded tokens/s by thread count (LLM_THREADS)',
  '',
  markdownTable(['threads', 'tokens/s (median)', 'min', 'max', 'time to first token, ms (median)', 'tokens per answer (median)'], SWEEP_THREADS.map((threads) => {
    const rates = (runs.get(`embedded ${threads}`) ?? []).map((run) => run.tokensPerSecond);
    return [threads === THREADS ? `${threads} (default)` : threads === NODE_LLAMA_CPP_DEFAULT_THREADS ? `${threads} (node-llama-cpp's default)` : String(threads), fixed(median(rates), 1), fixed(Math.min(...rates), 1), fixed(Math.max(...rates), 1), fixed(medianOf(`embedded ${threads}`, 'ttftMs'), 1), fixed(medianOf(`embedded ${threads}`, 'tokens'), 0)];
  })),
  '',
  '### `npm start` with LLM_MODEL_FILE: /healthz latency (ms) and memory',
  '',
  markdownTable(['phase', 'requests', 'p50', 'p99', 'max'], [latencyRow('while the chat model and the embedder load', loadingLatencies), latencyRow('2 answers streaming', streamingLatencies)]),
  '',
  `RSS of the service processes (tsx and the node it runs) with ${modelName} loaded (2 sequences) and the embedding model: ${fixed(rssMb, 0)} MB.`,
].join('\n');
console.log(markdown);
console.error(`written to ${await writeResults('embedded-chat', path.basename(MODEL, '.gguf'), 'Embedded chat runtime against llama-server', markdown)}`);
