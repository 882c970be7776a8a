import type { ChatMessage } from './types.ts';

const encoder = new TextEncoder();

/**
 * An upper bound on the tokens of `text`, for servers without `/tokenize`. Every token of a
 * BPE or SentencePiece vocabulary with byte fallback (llama, qwen, mistral, gemma, phi; the
 * stories260K fixture) decodes to at least one byte of its text, so a text has at most as
 * many tokens as UTF-8 bytes; the `+ 1` covers SentencePiece's added leading space. Far above
 * real counts for English (≈4 bytes a token), about right for Chinese in a small vocabulary
 * (3 bytes a character, one token a byte) — never below, which is what matters here.
 */
export function estimateTokens(text: string): number {
  return encoder.encode(text).length + 1;
}

/**
 * Tokens a chat template adds around one message, as an upper bound in bytes: the longest
 * common markers (llama-3 `<|start_header_id|>assistant<|end_header_id|>\n\n…<|eot_id|>` is
 * 55 bytes; chatml `<|im_start|>assistant\n…<|im_end|>\n` 33) counted as text, for vocabularies
 * where the markers are not special tokens.
 */
export const TEMPLATE_TOKENS_PER_MESSAGE = 64;

/** An upper bound on the tokens of a whole chat prompt when the server cannot render it. */
export function estimatePromptTokens(messages: ChatMessage[], countContent: (text: string) => number = estimateTokens): number {
  // One more message's worth for BOS and the assistant header that opens the answer.
  return messages.reduce((sum, message) => sum + countContent(message.content) + TEMPLATE_TOKENS_PER_MESSAGE, TEMPLATE_TOKENS_PER_MESSAGE);
}
