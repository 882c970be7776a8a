import OpenAI from 'openai';
import type { Config } from '../config.ts';
import { codeForStatus, LlmError, toLlmError } from './errors.ts';
import { retryingStaleConnections } from './stale-connection-retry.ts';
import { estimatePromptTokens, estimateTokens } from './token-estimate.ts';
import type { ChatMessage, ChatModel, ChatModelHealth, ChatStreamEvent, ChatStreamOptions, ChatUsage } from './types.ts';

/** Sent when LLM_API_KEY is unset: llama-server without `--api-key` ignores the header. */
const PLACEHOLDER_API_KEY = 'no-key';
/** `/health` is answered without touching the model; a slow one means the server is in trouble. */
const HEALTH_TIMEOUT_MS = 5_000;
/**
 * How long the window read from `/props` is trusted. It is also re-read whenever the server
 * was seen down, loading or refusing a prompt for length (a restart may change `--parallel`).
 */
const WINDOW_REFRESH_MS = 30_000;
const utf8 = new TextEncoder();

/**
 * A {@link ChatModel} for an OpenAI-compatible server, tuned for llama.cpp's llama-server:
 * streaming through the `openai` client, `/health` for readiness and `/tokenize` plus
 * `/apply-template` for exact token counts (with an upper-bound estimate where they are
 * missing). Every setting comes from `settings`: the client never reads `OPENAI_*`
 * variables for the key, base URL, organisation or project, and never retries.
 *
 * `settings.timeoutMs` bounds each wait for the server: until the response starts and then
 * between two chunks of the stream, so a long answer that keeps flowing is never cut off.
 */
export function createChatModel(settings: Config['llm'], options: { fetch?: typeof fetch } = {}): ChatModel {
  if (settings.baseURL === undefined) throw new Error('createChatModel needs LLM_BASE_URL; without it the embedded runtime is used (open-chat-model.ts)');
  const baseURL = settings.baseURL;
  const fetchImplementation = retryingStaleConnections(options.fetch ?? globalThis.fetch);
  const apiKey = settings.apiKey ?? PLACEHOLDER_API_KEY;
  const client = new OpenAI({
    apiKey,
    baseURL,
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: settings.timeoutMs,
    logLevel: 'off',
    fetch: fetchImplementation,
  });
  // llama-server serves /health, /tokenize and /apply-template beside /v1, not under it.
  const origin = baseURL.replace(/\/+$/, '').replace(/\/v1$/, '');
  const authorization = { Authorization: `Bearer ${apiKey}` };
  let tokenizerMissing = false;
  let templateMissing = false;
  let window: { value: Promise<number | undefined>; readAt: number } | undefined;
  /** Forget the window: the next prompt reads it again from the (maybe restarted) server. */
  const forgetWindow = () => {
    window = undefined;
  };

  /** POSTs to a llama-server extension; `undefined` when this server does not have it. */
  async function postExtension<T>(path: string, body: unknown): Promise<T | undefined> {
    let response: Response;
    try {
      response = await fetchImplementation(`${origin}${path}`, {
        method: 'POST',
        headers: { ...authorization, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        // Under load these queue behind streams for an HTTP thread of llama-server: allow the full timeout.
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (error) {
      forgetWindow();
      throw new LlmError(isTimeout(error) ? 'llm_timeout' : 'llm_unavailable', { cause: error });
    }
    const text = await response.text().catch(() => '');
    if (response.ok) {
      try {
        return JSON.parse(text) as T;
      } catch {
        return undefined;
      }
    }
    const code = codeForStatus(response.status, text);
    if (code === 'llm_unauthorized' || code === 'llm_loading') throw new LlmError(code);
    return undefined;
  }

  async function countTokens(text: string): Promise<number> {
    if (!tokenizerMissing) {
      // parse_special as llama-server does when it tokenizes a chat prompt.
      const result = await postExtension<{ tokens?: unknown[] }>('/tokenize', { content: text, add_special: false, parse_special: true });
      if (Array.isArray(result?.tokens)) return result.tokens.length;
      tokenizerMissing = true;
    }
    return estimateTokens(text);
  }

  async function countTokensEach(texts: string[]): Promise<number[]> {
    if (texts.length === 0) return [];
    if (!tokenizerMissing) {
      // One request for every text: joined by newlines, split back by where each token's piece starts.
      const joined = texts.join('\n');
      const result = await postExtension<{ tokens?: unknown[] }>('/tokenize', { content: joined, add_special: false, parse_special: true, with_pieces: true });
      if (Array.isArray(result?.tokens)) return splitTokenCounts(texts, result.tokens);
      tokenizerMissing = true;
    }
    return texts.map(estimateTokens);
  }

  /** llama-server's per-slot window (`/props` `default_generation_settings.n_ctx`, else `/slots`). */
  async function readWindow(): Promise<number | undefined> {
    const props = await getExtension<{ default_generation_settings?: { n_ctx?: unknown }; n_ctx?: unknown }>('/props');
    const fromProps = props?.default_generation_settings?.n_ctx ?? props?.n_ctx;
    if (typeof fromProps === 'number' && fromProps > 0) return fromProps;
    const slots = await getExtension<Array<{ n_ctx?: unknown }>>('/slots');
    const fromSlots = Array.isArray(slots) ? slots.map((slot) => slot.n_ctx).filter((value): value is number => typeof value === 'number' && value > 0) : [];
    return fromSlots.length > 0 ? Math.min(...fromSlots) : undefined;
  }

  async function contextWindow(): Promise<number | undefined> {
    if (!window || Date.now() - window.readAt > WINDOW_REFRESH_MS) {
      const value = readWindow();
      window = { value, readAt: Date.now() };
      // A failed read is not remembered: the next prompt asks again.
      value.catch(forgetWindow);
    }
    return window.value;
  }

  /** GETs a llama-server extension; `undefined` when this server does not have it. */
  async function getExtension<T>(path: string): Promise<T | undefined> {
    let response: Response;
    try {
      response = await fetchImplementation(`${origin}${path}`, { headers: authorization, signal: AbortSignal.timeout(settings.timeoutMs) });
    } catch (error) {
      throw new LlmError(isTimeout(error) ? 'llm_timeout' : 'llm_unavailable', { cause: error });
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      const code = codeForStatus(response.status, text);
      if (code === 'llm_unauthorized' || code === 'llm_loading') throw new LlmError(code);
      return undefined;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
  }

  async function countPromptTokens(messages: ChatMessage[]): Promise<number> {
    if (!templateMissing && !tokenizerMissing) {
      const rendered = await postExtension<{ prompt?: unknown }>('/apply-template', { messages });
      if (typeof rendered?.prompt === 'string') {
        const result = await postExtension<{ tokens?: unknown[] }>('/tokenize', { content: rendered.prompt, add_special: true, parse_special: true });
        if (Array.isArray(result?.tokens)) return result.tokens.length;
        tokenizerMissing = true;
      } else {
        templateMissing = true;
      }
    }
    const counts: number[] = [];
    for (const message of messages) counts.push(await countTokens(message.content));
    let index = 0;
    return estimatePromptTokens(messages, () => counts[index++]!);
  }

  async function health(): Promise<ChatModelHealth> {
    let response: Response;
    try {
      response = await fetchImplementation(`${origin}/health`, { headers: authorization, signal: AbortSignal.timeout(Math.min(settings.timeoutMs, HEALTH_TIMEOUT_MS)) });
    } catch (error) {
      forgetWindow();
      return { status: 'unavailable', detail: `${origin}/health: ${describe(error)}` };
    }
    const text = await response.text().catch(() => '');
    if (response.ok) return { status: 'ready', detail: 'model loaded' };
    forgetWindow();
    if (response.status === 503) return { status: 'loading', detail: 'model loading' };
    // Some OpenAI-compatible servers have no /health; the chat request itself will tell.
    if (response.status === 404) return { status: 'ready', detail: 'no /health endpoint; assuming ready' };
    return { status: 'unavailable', detail: `${origin}/health answered ${response.status} ${text.slice(0, 200)}` };
  }

  async function* stream(messages: ChatMessage[], streamOptions: ChatStreamOptions = {}): AsyncGenerator<ChatStreamEvent> {
    const callerSignal = streamOptions.signal;
    if (callerSignal?.aborted) {
      yield { type: 'done', finishReason: 'cancelled' };
      return;
    }
    const controller = new AbortController();
    const abortUpstream = () => controller.abort();
    callerSignal?.addEventListener('abort', abortUpstream, { once: true });
    let stalled = false;
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    const armStallTimer = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        stalled = true;
        controller.abort();
      }, settings.timeoutMs);
    };
    let phase: 'request' | 'stream' = 'request';
    let finishReason: string | undefined;
    let usage: ChatUsage | undefined;
    try {
      armStallTimer();
      const completion = await client.chat.completions.create(
        {
          model: settings.model,
          messages,
          stream: true,
          stream_options: { include_usage: true },
          max_tokens: streamOptions.maxTokens ?? settings.maxTokens,
          temperature: streamOptions.temperature ?? settings.temperature,
        },
        { signal: controller.signal },
      );
      phase = 'stream';
      // The openai iterator ends quietly (no throw) when the signal aborts, hence the checks after the loop.
      for await (const chunk of completion) {
        armStallTimer();
        if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens, totalTokens: chunk.usage.total_tokens };
        const choice = chunk.choices[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (choice?.delta?.content) yield { type: 'token', content: choice.delta.content };
      }
    } catch (error) {
      if (stalled) throw new LlmError('llm_timeout', { cause: error });
      if (!callerSignal?.aborted) {
        const failure = toLlmError(error, phase);
        // Down, loading, cut off or refusing for length: maybe restarted with another window.
        if (failure.code !== 'llm_error' && failure.code !== 'llm_unauthorized') forgetWindow();
        throw failure;
      }
    } finally {
      clearTimeout(stallTimer);
      callerSignal?.removeEventListener('abort', abortUpstream);
      // Also reached when the consumer stops iterating early: close the upstream request.
      controller.abort();
    }
    if (stalled) throw new LlmError('llm_timeout');
    if (callerSignal?.aborted) {
      yield { type: 'done', finishReason: 'cancelled', usage };
      return;
    }
    // A stream that ends without a finish reason was cut off (e.g. the server restarted).
    if (finishReason === undefined) throw new LlmError('llm_stream_interrupted');
    yield { type: 'done', finishReason, usage };
  }

  return { stream, health, countTokens, countTokensEach, countPromptTokens, contextWindow };
}

/**
 * Splits the tokens of `texts.join('\n')` (llama-server's `with_pieces` answer) back into one
 * count per text: a token belongs to the text its first byte falls in. Without pieces (an
 * older server), the total is shared out in proportion to each text's bytes, rounded up.
 */
export function splitTokenCounts(texts: string[], tokens: unknown[]): number[] {
  const sizes = texts.map((text) => utf8.encode(text).length);
  const counts = texts.map(() => 0);
  const withPieces = tokens.every((token) => typeof token === 'object' && token !== null && 'piece' in token);
  if (!withPieces) {
    const totalBytes = sizes.reduce((sum, size) => sum + size + 1, 0);
    return sizes.map((size) => Math.ceil((tokens.length * (size + 1)) / totalBytes));
  }
  // Where each text ends in the joined bytes (its newline included).
  const ends: number[] = [];
  let end = 0;
  for (const size of sizes) ends.push((end += size + 1));
  let offset = 0;
  let index = 0;
  for (const token of tokens as Array<{ piece: unknown }>) {
    while (index < ends.length - 1 && offset >= ends[index]!) index++;
    counts[index]!++;
    offset += typeof token.piece === 'string' ? utf8.encode(token.piece).length : Array.isArray(token.piece) ? token.piece.length : 1;
  }
  return counts;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function describe(error: unknown): string {
  // undici wraps the socket error: `TypeError: fetch failed` with `cause.code` ECONNREFUSED.
  const cause = error instanceof Error && error.cause && typeof error.cause === 'object' ? error.cause : error;
  if (cause && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string') return cause.code;
  if (cause instanceof Error && cause !== error) return `${(error as Error).message}: ${cause.message}`;
  return error instanceof Error ? error.message : String(error);
}
