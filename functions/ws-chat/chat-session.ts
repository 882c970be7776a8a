import type { Config } from '../../lib/config.ts';
import { AppError } from '../../lib/errors.ts';
import type { RateDecision } from '../../lib/http/rate-limit.ts';
import type { Log } from '../../lib/log.ts';
import { retrieveForQuestion } from '../../lib/knowledge/follow-up.ts';
import type { SufficiencyThresholds } from '../../lib/knowledge/sufficiency.ts';
import type { SearchHit, SearchOptions } from '../../lib/contracts.ts';
import { LlmError } from '../../lib/llm/errors.ts';
import { buildChatPrompt, INSUFFICIENT_MESSAGE, resolveContextTokens } from '../../lib/llm/prompt.ts';
import type { ChatModel, ChatStreamEvent } from '../../lib/llm/types.ts';
import { type ChatFrame, clientFrameSchema, type ServerFrame } from './protocol.ts';

/** What one chat socket needs; the same object serves every socket of an app. */
export interface ChatSessionDependencies {
  config: Config;
  /** `searchSimilarChunks` bound to the store and embedder: the only retrieval path. */
  retrieve(query: string, options: SearchOptions): Promise<SearchHit[]>;
  chatModel: ChatModel;
  /**
   * When the retrieved chunks count as covering the question (decided before any model
   * call); `minBestScore` also keeps weaker chunks out of the prompt.
   */
  thresholds: SufficiencyThresholds;
  log?: Log;
}

/** How often `/health` is asked while the model loads. */
const LOADING_POLL_MS = 250;

/**
 * The state of one WebSocket: at most one answer in flight, cancelled by a `cancel` frame or
 * by {@link close}. `send` must not throw when the socket is gone.
 */
export function createChatSession(
  dependencies: ChatSessionDependencies,
  send: (frame: ServerFrame) => void,
  options: {
    /** Takes one question from the client's rate limit; a refused one gets a `rate_limited` error frame. */
    admitQuestion?: () => RateDecision;
  } = {},
) {
  const { config, chatModel, log } = dependencies;
  let inFlight: AbortController | undefined;

  function receive(data: unknown): void {
    const parsed = parseClientFrame(data, config.chat.maxFrameBytes);
    if (!parsed.ok) {
      send({ type: 'error', code: parsed.code, message: parsed.message });
      return;
    }
    if (parsed.frame.type === 'cancel') {
      inFlight?.abort();
      return;
    }
    if (inFlight) {
      send({ type: 'error', code: 'busy', message: 'an answer is in flight on this socket; wait for its done frame or send cancel' });
      return;
    }
    const admission = options.admitQuestion?.() ?? { allowed: true };
    if (!admission.allowed) {
      send({ type: 'error', code: 'rate_limited', message: `too many questions; retry in ${admission.retryAfterSeconds} s` });
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    void answer(parsed.frame, controller.signal).finally(() => {
      if (inFlight === controller) inFlight = undefined;
    });
  }

  async function answer(frame: ChatFrame, signal: AbortSignal): Promise<void> {
    const startedAt = performance.now();
    const cancelled = () => send({ type: 'done', finish_reason: 'cancelled' });
    try {
      const { hits, decision } = await retrieveForChat(frame);
      const relevant = hits.filter((hit) => hit.score >= dependencies.thresholds.minBestScore).sort((a, b) => b.score - a.score);
      if (signal.aborted) return cancelled();
      if (!decision.sufficient || relevant.length === 0) {
        const reason = decision.reason ?? 'below_threshold';
        send({ type: 'insufficient', message: INSUFFICIENT_MESSAGE, best_score: decision.signals.best_score, reason, signals: decision.signals });
        send({ type: 'done', finish_reason: 'insufficient' });
        log?.('info', 'chat insufficient', { reason, signals: decision.signals, ms: elapsed(startedAt) });
        return;
      }
      // No /health call per chat: the first request to llama-server (counting the prompt)
      // says 503 "Loading model" while it loads, and only then do we wait.
      const waitForModel = loadingWaiter(signal);
      const prompt = await waitForModel(async () =>
        buildChatPrompt(
          { question: frame.message, hits: relevant, history: frame.history },
          { contextTokens: await resolveContextTokens(chatModel, config.llm.contextTokens), maxTokens: config.llm.maxTokens, historyMessages: config.chat.historyMessages },
          chatModel,
        ),
      );
      if (signal.aborted) return cancelled();
      send({
        type: 'sources',
        sources: prompt.sources.map((hit) => ({ n: hit.n, source: hit.source, chunk_index: hit.chunkIndex, score: hit.score, content: hit.content })),
      });
      let events!: AsyncIterator<ChatStreamEvent>;
      let next = await waitForModel(() => {
        events = chatModel.stream(prompt.messages, { signal, maxTokens: prompt.answerTokens })[Symbol.asyncIterator]();
        return events.next();
      });
      let firstTokenMs: number | undefined;
      let tokens = 0;
      for (; !next.done; next = await events.next()) {
        const event = next.value;
        if (event.type === 'token') {
          firstTokenMs ??= elapsed(startedAt);
          tokens++;
          send({ type: 'token', content: event.content });
        } else {
          const usage = event.usage && { prompt_tokens: event.usage.promptTokens, completion_tokens: event.usage.completionTokens, total_tokens: event.usage.totalTokens };
          send({ type: 'done', finish_reason: event.finishReason, ...(usage ? { usage } : {}) });
          log?.('info', 'chat answered', { finishReason: event.finishReason, firstTokenMs, tokens, promptTokens: prompt.promptTokens, droppedChunks: prompt.droppedChunks, droppedHistory: prompt.droppedHistory, ms: elapsed(startedAt) });
        }
      }
    } catch (error) {
      if (signal.aborted) return cancelled();
      const { code, message } = describeFailure(error);
      log?.(code === 'internal_error' ? 'error' : 'warn', 'chat failed', { code, error: error instanceof Error ? error.message : String(error), ms: elapsed(startedAt) });
      send({ type: 'error', code, message });
      send({ type: 'done', finish_reason: 'error' });
    }
  }

  /**
   * Runs an operation against the model; when it fails with `llm_loading`, sends one `status`
   * frame, polls `/health` until the model is ready and runs it again, all within
   * `LLM_READY_WAIT_MS` (shared by every operation of one answer).
   */
  function loadingWaiter(signal: AbortSignal) {
    let deadline: number | undefined;
    return async <T>(operation: () => Promise<T>): Promise<T> => {
      for (;;) {
        try {
          return await operation();
        } catch (error) {
          if (!(error instanceof LlmError && error.code === 'llm_loading') || signal.aborted) throw error;
          if (deadline === undefined) {
            deadline = Date.now() + config.llm.readyWaitMs;
            send({ type: 'status', message: 'model loading' });
          }
          await waitUntilReady(deadline, signal);
        }
      }
    };
  }

  /** The message alone, or with the earlier question when it reads as a follow-up (lib/knowledge/follow-up.ts). */
  function retrieveForChat(frame: ChatFrame) {
    const options: SearchOptions = { topK: frame.top_k ?? config.retrieval.topK };
    return retrieveForQuestion({
      message: frame.message,
      previousQuestion: frame.history?.findLast((message) => message.role === 'user')?.content,
      search: (query) => retrieve(query, options),
      thresholds: dependencies.thresholds,
    });
  }

  async function retrieve(query: string, options: SearchOptions): Promise<SearchHit[]> {
    try {
      return await dependencies.retrieve(query, options);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError(503, 'retrieval_failed', 'The knowledge base search failed; try again shortly.', { cause: error });
    }
  }

  /** Returns once `/health` says ready or the answer is cancelled; throws `llm_loading` at the deadline. */
  async function waitUntilReady(deadline: number, signal: AbortSignal): Promise<void> {
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new LlmError('llm_loading');
      await abortableSleep(Math.min(LOADING_POLL_MS, remaining), signal);
      if (signal.aborted) return;
      // `unavailable` while loading is usually a restart: keep waiting until the deadline.
      if ((await chatModel.health()).status === 'ready') return;
    }
  }

  return {
    receive,
    /** The socket closed: abort the answer in flight so the model's slot is freed. */
    close() {
      inFlight?.abort();
    },
  };
}

const utf8Encoder = new TextEncoder();

type ParsedFrame = { ok: true; frame: ChatFrame | { type: 'cancel' } } | { ok: false; code: 'bad_request' | 'frame_too_large'; message: string };

/** Parses one WebSocket message; the size is checked here too because Deno has no maxPayload. */
export function parseClientFrame(data: unknown, maxFrameBytes: number): ParsedFrame {
  const size = typeof data === 'string' ? utf8Encoder.encode(data).length : binarySize(data);
  if (size > maxFrameBytes) return { ok: false, code: 'frame_too_large', message: `frames are limited to ${maxFrameBytes} bytes (got ${size})` };
  if (typeof data !== 'string') return { ok: false, code: 'bad_request', message: 'send text frames (JSON or the plain question)' };
  const text = data.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) {
    if (text === '') return { ok: false, code: 'bad_request', message: 'message: must not be empty' };
    return { ok: true, frame: { type: 'chat', message: text } };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, code: 'bad_request', message: 'frame is not valid JSON' };
  }
  const result = clientFrameSchema.safeParse(json);
  if (!result.success) {
    return { ok: false, code: 'bad_request', message: result.error.issues.map((issue) => `${issue.path.join('.') || '(frame)'}: ${issue.message}`).join('; ') };
  }
  return { ok: true, frame: result.data };
}

function binarySize(data: unknown): number {
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  return 0;
}

function describeFailure(error: unknown): { code: string; message: string } {
  if (error instanceof AppError) return { code: error.code, message: error.message };
  return { code: 'internal_error', message: 'internal error' };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

function elapsed(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}
