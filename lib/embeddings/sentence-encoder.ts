import { Tensor, type FeatureExtractionPipeline } from '@huggingface/transformers';
import type { EmbeddingInput, TokenCounter } from '../contracts.ts';

/**
 * What the feature-extraction pipeline does with `{ pooling: 'mean', normalize: true }`,
 * rebuilt from its parts so that the service does each step once and cheaply:
 *
 * - Token ids the chunker already computed (to fit the window) are reused, not recomputed:
 *   the pipeline would tokenize every chunk again.
 * - Mean pooling reads each token vector once, in memory order, and skips padding;
 *   transformers.js' `mean_pooling` walks the hidden state column by column and converts every
 *   int64 mask entry (padding included) for every dimension — with a small model that loop
 *   costs more than the model (bench/results/ingest.md).
 *
 * The vectors are the pipeline's (same ids, same model run, same arithmetic up to float
 * rounding) for every text within the window: lib/embeddings/sentence-encoder.test.ts
 * compares them.
 */
export interface SentenceEncoder {
  /** Word-piece ids of `text` without special tokens. */
  tokenize(text: string): number[];
  /** See {@link TokenCounter.splitsAtWhitespace}: read from the tokenizer's definition. */
  splitsAtWhitespace: boolean;
  /** Unit-length mean-pooled vectors, one per input, in order: ONE model run. */
  encode(inputs: readonly EmbeddingInput[]): Promise<number[][]>;
}

/** The special tokens the tokenizer puts around one sequence (BERT: [CLS] … [SEP]). */
interface SequenceTemplate {
  prefix: number[];
  suffix: number[];
}

type Tokenizer = FeatureExtractionPipeline['tokenizer'];

/**
 * `window`: the model's window in tokens, special tokens included. Longer inputs keep their
 * first tokens and still end in the closing special token, as sentence-transformers truncates
 * (transformers.js' own truncation cuts that token off instead).
 */
export function createSentenceEncoder(extractor: FeatureExtractionPipeline, window: number): SentenceEncoder {
  const tokenizer = extractor.tokenizer;
  const template = sequenceTemplate(tokenizer);
  const budget = Math.max(1, window - template.prefix.length - template.suffix.length);
  const padId = tokenizer.pad_token_id ?? 0;
  const padLeft = tokenizer.padding_side === 'left';
  const tokenize = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });

  return {
    tokenize,
    splitsAtWhitespace: splitsAtWhitespace((tokenizer as unknown as { _tokenizerJSON?: TokenizerDefinition })._tokenizerJSON),
    async encode(inputs) {
      const sequences = inputs.map((input) => {
        const ids = typeof input === 'string' ? tokenize(input) : input.tokenIds;
        return [...template.prefix, ...(ids.length > budget ? ids.slice(0, budget) : ids), ...template.suffix];
      });
      const batch = modelInputs(sequences, padId, padLeft);
      const outputs = (await extractor.model({ input_ids: batch.inputIds, attention_mask: batch.attentionMask })) as Record<string, Tensor | undefined>;
      const hidden = outputs.last_hidden_state ?? outputs.logits ?? outputs.token_embeddings;
      try {
        if (!hidden || hidden.dims.length !== 3) throw new Error(`the model returned no token embeddings to pool (outputs: ${Object.keys(outputs).join(', ')})`);
        // fp16 models return float16 (stored as Uint16Array where there is no Float16Array).
        return meanPoolNormalized(hidden.to('float32').data as Float32Array, batch.spans, hidden.dims[1]!, hidden.dims[2]!);
      } finally {
        for (const output of Object.values(outputs)) output?.dispose();
      }
    },
  };
}

interface TokenizerDefinition {
  normalizer?: { type?: string; normalizers?: Array<{ type?: string }> } | null;
  pre_tokenizer?: { type?: string; pretokenizers?: Array<{ type?: string }> } | null;
  model?: { type?: string };
}

// Normalizers that act on each character (or on a character and the marks that follow it),
// so whitespace between two texts keeps them apart.
const CHARACTER_NORMALIZERS = new Set(['BertNormalizer', 'Lowercase', 'NFC', 'NFD', 'NFKC', 'NFKD', 'StripAccents']);
// Pre-tokenizers that cut at every whitespace (and BERT's also at punctuation).
const WHITESPACE_PRE_TOKENIZERS = new Set(['BertPreTokenizer', 'Whitespace', 'WhitespaceSplit']);
// Models that map each pre-tokenized word on its own.
const WORD_MODELS = new Set(['WordPiece', 'WordLevel']);

/**
 * Whether tokenizing `a + whitespace + b` always gives `a`'s ids followed by `b`'s: true for
 * BERT-style tokenizers (all-MiniLM-L6-v2's included), false for anything that keeps spaces
 * in its tokens (SentencePiece's ▁, byte-level BPE's Ġ) or that the definition does not show.
 */
export function splitsAtWhitespace(definition: TokenizerDefinition | undefined): boolean {
  if (!definition) return false;
  const normalizers = !definition.normalizer ? [] : definition.normalizer.type === 'Sequence' ? (definition.normalizer.normalizers ?? []) : [definition.normalizer];
  const preTokenizers = !definition.pre_tokenizer ? [] : definition.pre_tokenizer.type === 'Sequence' ? (definition.pre_tokenizer.pretokenizers ?? []) : [definition.pre_tokenizer];
  return (
    normalizers.every((normalizer) => CHARACTER_NORMALIZERS.has(normalizer.type ?? '')) &&
    preTokenizers.length > 0 &&
    preTokenizers.every((preTokenizer) => WHITESPACE_PRE_TOKENIZERS.has(preTokenizer.type ?? '')) &&
    WORD_MODELS.has(definition.model?.type ?? '')
  );
}

/** Where the tokenizer puts its special tokens, found by encoding a probe with and without them. */
function sequenceTemplate(tokenizer: Tokenizer): SequenceTemplate {
  const probe = 'hello world';
  const bare = tokenizer.encode(probe, { add_special_tokens: false });
  const full = tokenizer.encode(probe);
  for (let start = 0; start + bare.length <= full.length; start++) {
    if (bare.every((id, offset) => full[start + offset] === id)) {
      return { prefix: full.slice(0, start), suffix: full.slice(start + bare.length) };
    }
  }
  throw new Error('the tokenizer\'s special tokens do not surround a single sequence; this model is not a sentence encoder');
}

interface ModelBatch {
  inputIds: Tensor;
  attentionMask: Tensor;
  /** Where each sequence's real tokens sit in its padded row. */
  spans: Array<{ start: number; length: number }>;
}

function modelInputs(sequences: number[][], padId: number, padLeft: boolean): ModelBatch {
  const width = Math.max(1, ...sequences.map((sequence) => sequence.length));
  const ids = new BigInt64Array(sequences.length * width).fill(BigInt(padId));
  const mask = new BigInt64Array(sequences.length * width);
  const spans = sequences.map((sequence, row) => {
    const start = padLeft ? width - sequence.length : 0;
    const base = row * width + start;
    for (let index = 0; index < sequence.length; index++) {
      ids[base + index] = BigInt(sequence[index]!);
      mask[base + index] = 1n;
    }
    return { start, length: sequence.length };
  });
  return {
    inputIds: new Tensor('int64', ids, [sequences.length, width]),
    attentionMask: new Tensor('int64', mask, [sequences.length, width]),
    spans,
  };
}

/**
 * Mean of each row's real token vectors, scaled to unit length (sentence-transformers'
 * Pooling(mean) + Normalize). `hidden` is `[rows, width, dimensions]`, row-major.
 */
export function meanPoolNormalized(hidden: Float32Array, spans: ReadonlyArray<{ start: number; length: number }>, width: number, dimensions: number): number[][] {
  const sum = new Float64Array(dimensions);
  return spans.map(({ start, length }, row) => {
    sum.fill(0);
    for (let position = start; position < start + length; position++) {
      const offset = (row * width + position) * dimensions;
      for (let dimension = 0; dimension < dimensions; dimension++) sum[dimension]! += hidden[offset + dimension]!;
    }
    let squares = 0;
    for (let dimension = 0; dimension < dimensions; dimension++) squares += sum[dimension]! * sum[dimension]!;
    // The mean's length is the sum's length over `length`: normalizing the sum gives the same unit vector.
    const scale = squares > 0 ? 1 / Math.sqrt(squares) : 0;
    const vector = new Array<number>(dimensions);
    for (let dimension = 0; dimension < dimensions; dimension++) vector[dimension] = Math.fround(sum[dimension]! * scale);
    return vector;
  });
}
