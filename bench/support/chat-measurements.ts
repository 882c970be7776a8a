import OpenAI from 'openai';
import { connectChatSocket, type ChatSocketClient, type TimedFrame } from '../../scripts/eval/chat-socket-client.ts';
import { retryingStaleConnections } from '../../lib/llm/stale-connection-retry.ts';
import type { ChatMessage } from '../../lib/llm/types.ts';
import type { AnswerProbe, ChatBench } from './chat-setup.ts';
import { median, percentile } from './stats.ts';

/** One streamed answer: time to first token and the rate over the token frames (or chunks). */
export interface StreamTiming {
  ttftMs: number;
  tokens: number;
  /** First token to last token. */
  spreadMs: number;
  tokensPerSecond: number;
  finishReason: string;
}

/** Where one ws-chat answer's time to first token went, from the probe's timestamps. */
export interface TtftStages {
  /** Frame sent → the app starts retrieving (ws transport, JSON parse, zod, dispatch). */
  dispatchMs: number;
  retrievalMs: number;
  /** `countPromptTokens` / `countTokens` calls: HTTP round trips to llama-server. */
  countingMs: number;
  countCalls: number;
  /** HTTP requests those calls made: `countPromptTokens` = `/apply-template` + `/tokenize`, `countTokens` = `/tokenize`. */
  countRequests: number;
  /** Sufficiency decision, prompt assembly, the `sources` frame: the rest before `stream()`. */
  promptOtherMs: number;
  /** `stream()` called → first `token` frame at the client: llama-server's TTFT plus the way back. */
  streamToFirstTokenMs: number;
}

// Above LLM_TIMEOUT_MS (60 s by default), so the app's own timeout is what a slow answer meets.
const ANSWER_TIMEOUT_MS = 120_000;

function rate(tokens: number, spreadMs: number): number {
  return tokens > 1 && spreadMs > 0 ? (tokens - 1) / (spreadMs / 1000) : Number.NaN;
}

function tokenTiming(sentAt: number, frames: TimedFrame[]): StreamTiming {
  const tokens = frames.filter((frame) => frame.type === 'token');
  const done = frames.at(-1);
  if (tokens.length === 0) throw new Error(`no token frames: ${JSON.stringify(frames.filter((frame) => frame.type !== 'sources'))}`);
  const spreadMs = tokens.at(-1)!.receivedAtMs - tokens[0]!.receivedAtMs;
  return {
    ttftMs: tokens[0]!.receivedAtMs - sentAt,
    tokens: tokens.length,
    spreadMs,
    tokensPerSecond: rate(tokens.length, spreadMs),
    finishReason: done?.type === 'done' ? done.finish_reason : '?',
  };
}

function stagesOf(probe: AnswerProbe, sentAt: number, firstTokenAt: number): TtftStages {
  const countingMs = probe.counts.reduce((sum, count) => sum + (count.ended - count.started), 0);
  return {
    dispatchMs: probe.retrieveStarted! - sentAt,
    retrievalMs: probe.retrieveEnded! - probe.retrieveStarted!,
    countingMs,
    countCalls: probe.counts.length,
    countRequests: probe.counts.reduce((sum, count) => sum + (count.kind === 'prompt' ? 2 : 1), 0),
    promptOtherMs: probe.streamCalled! - probe.retrieveEnded! - countingMs,
    streamToFirstTokenMs: firstTokenAt - probe.streamCalled!,
  };
}

/** Asks one question through `/ws/llm` and times it, with the app's own stage timestamps. */
export async function askThroughSocket(bench: ChatBench, socket: ChatSocketClient, question: string, topK?: number) {
  const probe = bench.probe();
  const sentAt = performance.now();
  const frames = await socket.ask({ type: 'chat', message: question, ...(topK ? { top_k: topK } : {}) }, ANSWER_TIMEOUT_MS);
  const timing = tokenTiming(sentAt, frames);
  const firstTokenAt = frames.find((frame) => frame.type === 'token')!.receivedAtMs;
  const sources = frames.find((frame) => frame.type === 'sources');
  const done = frames.at(-1);
  return {
    timing,
    stages: stagesOf(probe, sentAt, firstTokenAt),
    probe,
    sourceCount: sources?.type === 'sources' ? sources.sources.length : 0,
    promptTokens: done?.type === 'done' ? (done.usage?.prompt_tokens ?? Number.NaN) : Number.NaN,
  };
}

/** One interleaved comparison: the same question through ws-chat and its prompt streamed directly. */
export interface PairedMeasurement {
  topK: number;
  ws: StreamTiming[];
  direct: StreamTiming[];
  stages: TtftStages[];
  retrievals: number[];
  /** `countPromptTokens` alone on the captured prompt. */
  promptCounts: number[];
  /** Raw `fetch` of each request the prompt count makes. */
  applyTemplate: number[];
  tokenize: number[];
  messages: ChatMessage[];
  settings: { maxTokens: number; temperature: number };
  samePrompt: boolean;
  sourceCount: number;
  promptTokens: number;
}

/**
 * Warms up, captures the prompt ws-chat builds for `question`, then runs `rounds` rounds of
 * ws and direct (the order alternating), each followed by the retrieval and the prompt count
 * timed on their own.
 */
export async function measurePaired(bench: ChatBench, socket: ChatSocketClient, question: string, options: { topK: number; rounds: number; warmup: number }): Promise<PairedMeasurement> {
  const direct = directStreamer(bench);
  const first = await askThroughSocket(bench, socket, question, options.topK);
  const messages = first.probe.messages!;
  const settings = { maxTokens: first.probe.streamOptions!.maxTokens!, temperature: first.probe.streamOptions!.temperature ?? bench.config.llm.temperature };
  for (let index = 0; index < options.warmup; index++) {
    await askThroughSocket(bench, socket, question, options.topK);
    await direct(messages, settings);
    await timeRetrieval(bench, question, options.topK);
  }
  const result: PairedMeasurement = {
    topK: options.topK, ws: [], direct: [], stages: [], retrievals: [], promptCounts: [], applyTemplate: [], tokenize: [],
    messages, settings, samePrompt: true, sourceCount: first.sourceCount, promptTokens: first.promptTokens,
  };
  for (let round = 0; round < options.rounds; round++) {
    const runWs = async () => {
      const answer = await askThroughSocket(bench, socket, question, options.topK);
      result.ws.push(answer.timing);
      result.stages.push(answer.stages);
      result.samePrompt &&= JSON.stringify(answer.probe.messages) === JSON.stringify(messages);
    };
    const runDirect = async () => void result.direct.push(await direct(messages, settings));
    // Alternate which path goes first, so neither always meets a server that just finished.
    if (round % 2 === 0) await runWs().then(runDirect);
    else await runDirect().then(runWs);
    result.retrievals.push(await timeRetrieval(bench, question, options.topK));
    result.promptCounts.push(await timePromptCount(bench, messages));
    const split = await timeExtensionRequests(bench, messages);
    result.applyTemplate.push(split.applyTemplateMs);
    result.tokenize.push(split.tokenizeMs);
  }
  return result;
}

/** Streams `messages` straight from llama-server with the request ws-chat's chat model sends. */
export function directStreamer(bench: ChatBench) {
  // The same stale-connection retry as the chat model's, so both paths meet the same server.
  const client = new OpenAI({ baseURL: bench.llama.baseURL, apiKey: bench.llama.apiKey, maxRetries: 0, fetch: retryingStaleConnections(fetch) });
  return async (messages: ChatMessage[], settings: { maxTokens: number; temperature: number }): Promise<StreamTiming> => {
    const startedAt = performance.now();
    const stream = await client.chat.completions.create({
      model: bench.config.llm.model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: settings.maxTokens,
      temperature: settings.temperature,
    });
    const arrivals: number[] = [];
    let finishReason = '?';
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta?.content) arrivals.push(performance.now());
      if (choice?.finish_reason) finishReason = choice.finish_reason;
    }
    if (arrivals.length === 0) throw new Error('the direct stream produced no tokens');
    const spreadMs = arrivals.at(-1)! - arrivals[0]!;
    return { ttftMs: arrivals[0]! - startedAt, tokens: arrivals.length, spreadMs, tokensPerSecond: rate(arrivals.length, spreadMs), finishReason };
  };
}

/** Times the retrieval ws-chat runs, on its own. */
export async function timeRetrieval(bench: ChatBench, question: string, topK = bench.config.retrieval.topK): Promise<number> {
  const startedAt = performance.now();
  await bench.retrieve(question, { topK });
  return performance.now() - startedAt;
}

/** Times the prompt count (`/apply-template` + `/tokenize`) on its own. */
export async function timePromptCount(bench: ChatBench, messages: ChatMessage[]): Promise<number> {
  const startedAt = performance.now();
  await bench.chatModel.countPromptTokens(messages);
  return performance.now() - startedAt;
}

/** `POST /apply-template` then `POST /tokenize` of its output, each timed, as the chat model sends them. */
export async function timeExtensionRequests(bench: ChatBench, messages: ChatMessage[]) {
  const post = async (path: string, body: unknown) => {
    const startedAt = performance.now();
    const response = await extensionFetch(`${bench.llama.origin}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${bench.llama.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as { prompt?: string };
    return { json, ms: performance.now() - startedAt };
  };
  const template = await post('/apply-template', { messages });
  const tokens = await post('/tokenize', { content: template.json.prompt, add_special: true, parse_special: true });
  return { applyTemplateMs: template.ms, tokenizeMs: tokens.ms };
}

const extensionFetch = retryingStaleConnections(fetch);

/** The insufficient-context path: chat frame sent → `done` received, no model call. */
export async function askInsufficient(bench: ChatBench, socket: ChatSocketClient, question: string) {
  const probe = bench.probe();
  const sentAt = performance.now();
  const frames = await socket.ask({ type: 'chat', message: question }, ANSWER_TIMEOUT_MS);
  const types = frames.map((frame) => frame.type).join(',');
  if (types !== 'insufficient,done') throw new Error(`expected insufficient + done, got ${types}`);
  if (probe.streamCalled !== undefined || probe.counts.length > 0) throw new Error('the insufficient path called the model');
  const insufficient = frames[0]!;
  return { latencyMs: frames.at(-1)!.receivedAtMs - sentAt, reason: insufficient.type === 'insufficient' ? insufficient.reason : '?' };
}

/** `sockets` sockets each ask at once; wall time from the first send to the last `done`. */
export async function askConcurrently(bench: ChatBench, sockets: number, question: string) {
  const clients = await Promise.all(Array.from({ length: sockets }, () => connectChatSocket(bench.url)));
  bench.clearCountLog();
  try {
    const startedAt = performance.now();
    const answers = await Promise.all(
      clients.map(async (client) => {
        const sentAt = performance.now();
        const frames = await client.ask({ type: 'chat', message: question }, ANSWER_TIMEOUT_MS);
        return { frames, sentAt };
      }),
    );
    const wallMs = performance.now() - startedAt;
    const answered = answers.filter(({ frames }) => {
      const done = frames.at(-1);
      return frames.some((frame) => frame.type === 'token') && done?.type === 'done' && (done.finish_reason === 'stop' || done.finish_reason === 'length');
    });
    const failures = answers
      .filter((answer) => !answered.includes(answer))
      .map(({ frames }) => frames.filter((frame) => frame.type === 'error' || frame.type === 'done').map((frame) => (frame.type === 'error' ? frame.code : frame.type === 'done' ? frame.finish_reason : '')).join('+'));
    const ttfts = answered.map(({ frames, sentAt }) => frames.find((frame) => frame.type === 'token')!.receivedAtMs - sentAt);
    const counts = bench.countLog.map((call) => call.ended - call.started);
    return { wallMs, answered: answered.length, failures, countP50: median(counts), countMax: Math.max(...counts), ttftP50: median(ttfts), ttftP95: percentile(ttfts, 95), ttftMax: Math.max(...ttfts) };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

/** The same burst straight to llama-server: `streams` direct streams of `messages` at once. */
export async function streamDirectConcurrently(bench: ChatBench, streams: number, messages: ChatMessage[], settings: { maxTokens: number; temperature: number }) {
  const direct = directStreamer(bench);
  const startedAt = performance.now();
  const results = await Promise.allSettled(Array.from({ length: streams }, () => direct(messages, settings)));
  const wallMs = performance.now() - startedAt;
  const answered = results.flatMap((result) => (result.status === 'fulfilled' && (result.value.finishReason === 'stop' || result.value.finishReason === 'length') ? [result.value] : []));
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason instanceof Error ? result.reason.message.slice(0, 80) : String(result.reason)] : []));
  const ttfts = answered.map((timing) => timing.ttftMs);
  return { wallMs, answered: answered.length, failures, ttftP50: median(ttfts), ttftP95: percentile(ttfts, 95), ttftMax: Math.max(...ttfts), countP50: Number.NaN, countMax: Number.NaN };
}

const COUNTERS = ['prompt_tokens_total', 'prompt_seconds_total', 'tokens_predicted_total', 'tokens_predicted_seconds_total', 'n_decode_total'] as const;
export type LlamaCounters = Record<(typeof COUNTERS)[number], number>;

/** llama-server's cumulative `/metrics` counters (it runs with `--metrics`). */
export async function llamaCounters(bench: ChatBench): Promise<LlamaCounters> {
  const response = await extensionFetch(`${bench.llama.origin}/metrics`, { headers: { Authorization: `Bearer ${bench.llama.apiKey}` } });
  const text = await response.text();
  const value = (name: string) => Number(new RegExp(`^llamacpp:${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return Object.fromEntries(COUNTERS.map((name) => [name, value(name)])) as LlamaCounters;
}

/** Runs `burst` and returns its result with what llama-server did meanwhile (counter deltas). */
export async function withLlamaWork<T>(bench: ChatBench, burst: () => Promise<T>): Promise<T & { llama: LlamaCounters }> {
  const before = await llamaCounters(bench);
  const result = await burst();
  const after = await llamaCounters(bench);
  const llama = Object.fromEntries(COUNTERS.map((name) => [name, after[name] - before[name]])) as LlamaCounters;
  return { ...result, llama };
}
