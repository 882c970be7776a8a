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
  const fetchImplementation = retryingStaleConnections(options.fetch ?? globalThis.fetch);
  const apiKey = settings.apiKey ?? PLACEHOLDER_API_KEY;
  const client = new OpenAI({
    apiKey,
    baseURL: settings.baseURL,
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: settings.timeoutMs,
    logLevel: 'off',
    fetch: fetchImplementation,
  });
  // llama-server serves /health, /tokenize and /apply-template beside /v1, not under it.
  const origin = settings.baseURL.replace(/\/+$/, '').replace(/\/v1$/, '');
  const authorization = { Authorization: `Bearer ${apiKey}` };
  let tokenizerMissing = false;
  let templateMissing = false;

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
      return { status: 'unavailable', detail: `${origin}/health: ${describe(error)}` };
    }
    const text = await response.text().catch(() => '');
    if (response.ok) return { status: 'ready', detail: 'model loaded' };
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
      if (!callerSignal?.aborted) throw toLlmError(error, phase);
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

  return { stream, health, countTokens, countPromptTokens };
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
