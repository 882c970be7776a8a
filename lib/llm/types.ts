/**
 * The chat model as the functions see it: an interface, so tests can hand in a double and
 * the real implementation (`createChatModel`, the only user of `openai`) stays swappable.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Token usage as the server reports it (`stream_options.include_usage`). */
export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/**
 * What a stream yields: tokens as they arrive, then exactly one `done`. `finishReason` is the
 * server's (`stop`, `length`, …) or `cancelled` when the caller's signal aborted the request.
 */
export type ChatStreamEvent =
  | { type: 'token'; content: string }
  | { type: 'done'; finishReason: string; usage?: ChatUsage };

export interface ChatStreamOptions {
  /** Aborting it closes the upstream HTTP request, which frees the llama-server slot. */
  signal?: AbortSignal;
  maxTokens?: number;
  temperature?: number;
}

export interface ChatModelHealth {
  /** `loading`: the server answers but its model is not loaded yet (llama-server `/health` 503). */
  status: 'ready' | 'loading' | 'unavailable';
  detail: string;
}

export interface ChatModel {
  /**
   * Streams a completion. Fails with an `LlmError` (see `errors.ts`) before or during the
   * stream; never ends silently without a `done`.
   */
  stream(messages: ChatMessage[], options?: ChatStreamOptions): AsyncIterable<ChatStreamEvent>;
  health(): Promise<ChatModelHealth>;
  /** Tokens of `text` in the model's vocabulary, without special tokens; never an undercount. */
  countTokens(text: string): Promise<number>;
  /**
   * Tokens of each text, in one round trip where the model is remote (the prompt builder
   * sizes every chunk of an overflowing context at once); never an undercount in total.
   */
  countTokensEach(texts: string[]): Promise<number[]>;
  /**
   * The real window of one answer (prompt + answer), in tokens: llama-server's per-slot
   * `n_ctx`, the embedded context's size; `undefined` when the server does not say.
   */
  contextWindow(): Promise<number | undefined>;
  /**
   * Tokens of the whole prompt as the server will feed it to the model: chat template,
   * special tokens and the assistant turn header included; never an undercount.
   */
  countPromptTokens(messages: ChatMessage[]): Promise<number>;
}
