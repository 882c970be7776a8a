import { AppError } from '../errors.ts';
import type { SearchHit } from '../contracts.ts';
import type { ChatMessage, ChatModel } from './types.ts';

/** The exact reply the model is told to give when the context does not hold the answer. */
export const INSUFFICIENT_MESSAGE = '资料不足';

/** Each history message is cut to this many characters: old turns are context, not content. */
export const HISTORY_MESSAGE_MAX_CHARS = 2_000;

/** A best chunk cut shorter than this is not worth answering from. */
const MIN_CHUNK_TOKENS = 32;
/** Cutting by characters is proportional only on average: cut a little more. */
const TRUNCATION_MARGIN_TOKENS = 8;

export interface PromptInput {
  question: string;
  /** Retrieved chunks, best first; they are numbered `[1]`, `[2]`, … in this order. */
  hits: SearchHit[];
  /** Earlier turns, oldest first. */
  history?: Array<{ role: 'user' | 'assistant'; content: string }>;
}

export interface PromptBudget {
  /** The window of one answer: the server's real per-slot context, capped by LLM_CONTEXT_TOKENS (see {@link resolveContextTokens}). */
  contextTokens: number;
  /** Room kept for the answer. */
  maxTokens: number;
  /** How many of the most recent history messages may be included. */
  historyMessages: number;
}

export interface ChatPrompt {
  messages: ChatMessage[];
  /** The chunks in the prompt, `n` being the number the model cites. */
  sources: Array<SearchHit & { n: number }>;
  /** Prompt tokens as counted by the model's server (or an upper bound). */
  promptTokens: number;
  /** The `max_tokens` to request: the room left for the answer. */
  answerTokens: number;
  droppedChunks: number;
  droppedHistory: number;
  /** The best chunk alone did not fit and only its beginning is in the prompt. */
  truncatedChunk: boolean;
}

/** The window assumed when neither the server nor LLM_CONTEXT_TOKENS says (a server without `/props`). */
export const FALLBACK_CONTEXT_TOKENS = 4096;

/**
 * The window a prompt must fit: the model's real one (llama-server's per-slot `n_ctx`, the
 * embedded context) capped by `upperBound` (LLM_CONTEXT_TOKENS) when the operator set one.
 */
export async function resolveContextTokens(model: Pick<ChatModel, 'contextWindow'>, upperBound: number | undefined): Promise<number> {
  const real = await model.contextWindow();
  if (real === undefined) return upperBound ?? FALLBACK_CONTEXT_TOKENS;
  return upperBound === undefined ? real : Math.min(real, upperBound);
}

/**
 * Builds the RAG prompt: a system message with the rules and the numbered context, the most
 * recent history, then the question. It fits `contextTokens - answerTokens`, counted by
 * `counter` (the server's own tokenizer and chat template): over budget it drops the
 * lowest-ranked chunks (keeping the best one), then the oldest history, then cuts the best
 * chunk short. Throws `AppError` `message_too_long` when the question leaves no room for
 * even the beginning of one chunk.
 */
export async function buildChatPrompt(input: PromptInput, budget: PromptBudget, counter: Pick<ChatModel, 'countTokensEach' | 'countPromptTokens'>): Promise<ChatPrompt> {
  // A misconfigured LLM_MAX_TOKENS (≥ the window) would otherwise leave no room for any prompt.
  const answerTokens = Math.max(1, Math.min(budget.maxTokens, Math.floor(budget.contextTokens / 2)));
  // llama-server refuses a prompt of n_ctx tokens or more, so the prompt must stay strictly below.
  const promptBudget = budget.contextTokens - answerTokens;
  const history = (budget.historyMessages > 0 ? (input.history ?? []).slice(-budget.historyMessages) : [])
    .map((message) => ({ role: message.role, content: truncate(message.content.trim(), HISTORY_MESSAGE_MAX_CHARS) }))
    .filter((message) => message.content !== '');
  const contextLines = input.hits.map((hit, index) => `[${index + 1}] (${hit.source}#${hit.chunkIndex}) ${hit.content.trim()}`);

  let chunkCount = contextLines.length;
  let historyStart = 0;
  let truncatedChunk = false;
  const compose = (): ChatMessage[] => [
    { role: 'system', content: systemMessage(contextLines.slice(0, chunkCount)) },
    ...history.slice(historyStart),
    { role: 'user', content: input.question },
  ];

  let messages = compose();
  let promptTokens = await counter.countPromptTokens(messages);
  if (promptTokens > promptBudget) {
    // Sizes of what can be dropped, to drop enough at once; all counted in one request
    // (llama-server has few HTTP threads, shared with the streams).
    const sizes = await counter.countTokensEach([...contextLines, ...history.map((message) => message.content)]);
    const chunkTokens = sizes.slice(0, contextLines.length);
    const historyTokens = sizes.slice(contextLines.length);
    while (promptTokens > promptBudget) {
      const excess = promptTokens - promptBudget;
      let freed = 0;
      while (freed < excess) {
        if (chunkCount > 1) freed += chunkTokens[--chunkCount]! + 1;
        else if (historyStart < history.length) freed += historyTokens[historyStart++]! + 1;
        else break;
      }
      if (freed < excess) {
        // Only the best chunk is left: keep its beginning rather than answer without context.
        const keepTokens = (chunkTokens[0] ?? 0) - (excess - freed) - TRUNCATION_MARGIN_TOKENS;
        if (chunkCount === 0 || keepTokens < MIN_CHUNK_TOKENS) throw questionTooLong();
        const line = contextLines[0]!;
        contextLines[0] = `${line.slice(0, Math.floor((line.length * keepTokens) / chunkTokens[0]!))}…`;
        chunkTokens[0] = keepTokens;
        truncatedChunk = true;
      }
      messages = compose();
      promptTokens = await counter.countPromptTokens(messages);
    }
  }
  return {
    messages,
    sources: input.hits.slice(0, chunkCount).map((hit, index) => ({ ...hit, n: index + 1 })),
    promptTokens,
    answerTokens,
    droppedChunks: contextLines.length - chunkCount,
    droppedHistory: historyStart,
    truncatedChunk,
  };
}

function systemMessage(contextLines: string[]): string {
  return [
    'You answer questions using only the numbered context below.',
    'Cite the passages you use with their numbers in square brackets, like [1].',
    `If the context does not contain the answer, reply exactly: ${INSUFFICIENT_MESSAGE}`,
    '',
    'Context:',
    ...contextLines,
  ].join('\n');
}

function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…`;
}

function questionTooLong(): AppError {
  return new AppError(400, 'message_too_long', "The question is too long to answer within the model's context window; shorten it.");
}
