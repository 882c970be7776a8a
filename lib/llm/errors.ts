import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { AppError } from '../errors.ts';

/** The stable codes an LLM failure carries; clients branch on these, never on messages. */
export type LlmErrorCode =
  | 'llm_unauthorized'
  | 'llm_unavailable'
  | 'llm_loading'
  | 'llm_timeout'
  | 'llm_error'
  | 'llm_context_exceeded'
  | 'llm_stream_interrupted';

const STATUS_AND_MESSAGE: Record<LlmErrorCode, [number, string]> = {
  llm_unauthorized: [502, 'The language model server rejected the API key (check LLM_API_KEY).'],
  llm_unavailable: [503, 'The language model server is unreachable; try again shortly.'],
  llm_loading: [503, 'The language model is still loading; try again shortly.'],
  llm_timeout: [504, 'The language model did not answer in time.'],
  llm_error: [502, 'The language model server failed to answer.'],
  llm_context_exceeded: [502, "The prompt did not fit the language model's context window."],
  llm_stream_interrupted: [502, 'The language model server stopped in the middle of the answer.'],
};

/** An LLM failure with a stable `code` and a message safe to show a user. */
export class LlmError extends AppError {
  declare readonly code: LlmErrorCode;
  constructor(code: LlmErrorCode, options: { cause?: unknown; message?: string } = {}) {
    const [status, message] = STATUS_AND_MESSAGE[code];
    super(status, code, options.message ?? message, { cause: options.cause });
    this.name = 'LlmError';
  }
}


/**
 * Maps an error from the `openai` client (or from reading the HTTP body) to an {@link LlmError}.
 * `phase` says whether tokens had started to flow: a failure after that is an interruption.
 */
export function toLlmError(error: unknown, phase: 'request' | 'stream'): LlmError {
  if (error instanceof LlmError) return error;
  if (error instanceof APIConnectionTimeoutError) return new LlmError('llm_timeout', { cause: error });
  if (error instanceof APIConnectionError) return new LlmError(phase === 'stream' ? 'llm_stream_interrupted' : 'llm_unavailable', { cause: error });
  if (error instanceof APIError) return new LlmError(codeForStatus(error.status, describeApiError(error)), { cause: error });
  // undici reports a body cut off mid-way as `TypeError: terminated`; anything else unexpected
  // while reading the body is an interruption too.
  return new LlmError(phase === 'stream' ? 'llm_stream_interrupted' : 'llm_unavailable', { cause: error });
}

/** The code for an HTTP status (and the server's error text) from an OpenAI-compatible server. */
export function codeForStatus(status: number | undefined, errorText: string): LlmErrorCode {
  if (status === 401 || status === 403) return 'llm_unauthorized';
  // llama-server: 400 `exceed_context_size_error`; older builds said so with a 500.
  if (/exceed_context_size|context size|context length|context window|too many tokens/i.test(errorText)) return 'llm_context_exceeded';
  if (status === 503 && /loading/i.test(errorText)) return 'llm_loading';
  if (status === 408 || status === 504) return 'llm_timeout';
  return 'llm_error';
}

function describeApiError(error: APIError): string {
  const body = error.error as { type?: unknown; message?: unknown } | undefined;
  return [body?.type, body?.message, error.message].filter((part) => typeof part === 'string').join(' ');
}
