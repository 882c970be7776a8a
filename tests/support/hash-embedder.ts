import { inputText, type Embedder } from '../../lib/contracts.ts';

export interface HashEmbedderOptions {
  dimensions?: number;
  /** Window in tokens, special tokens included, as a real model reports it. */
  maxTokens?: number;
}

/** A CJK character is a token of its own (as in BERT); any other letter/digit run is one word. */
const TOKEN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{M}\p{N}_]+/gu;

/**
 * An in-memory {@link Embedder} for tests: deterministic bag-of-words hashing (each lowercase
 * word adds ±1 to one bucket), normalised to unit length. Texts sharing words score higher
 * than texts that share none; no model files, loads instantly. Tokens are words and CJK
 * characters (punctuation is not counted).
 */
export function createHashEmbedder(options: HashEmbedderOptions = {}): Embedder {
  const dimensions = options.dimensions ?? 384;
  const maxTokens = options.maxTokens ?? 256;
  const tokensOf = (text: string): string[] => text.toLowerCase().match(TOKEN) ?? [];

  function embedOne(text: string): number[] {
    const vector = new Array<number>(dimensions).fill(0);
    // Like a real model, only the window (less [CLS] and [SEP]) is seen.
    for (const token of tokensOf(text).slice(0, maxTokens - 2)) {
      const hash = fnv1a(token);
      vector[hash % dimensions]! += hash & 0x80000000 ? -1 : 1;
    }
    const length = Math.hypot(...vector);
    // An empty text still gets a unit vector, as a real model's would be.
    if (length === 0) return vector.map((_, index) => (index === 0 ? 1 : 0));
    return vector.map((value) => value / length);
  }

  return {
    modelId: 'hash-embedder',
    dimensions,
    maxTokens,
    countTokens: (text) => tokensOf(text).length,
    embed: async (inputs) => inputs.map((input) => embedOne(inputText(input))),
    close: async () => {},
  };
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
