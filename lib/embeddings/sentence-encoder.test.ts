import { existsSync } from 'node:fs';
import path from 'node:path';
import { pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkText } from '../chunking/chunk-text.ts';
import type { Embedder } from '../contracts.ts';
import { loadEmbedder } from './load-embedder.ts';
import { meanPoolNormalized, splitsAtWhitespace } from './sentence-encoder.ts';
import { describeWhenPresent } from '../../tests/support/requirements.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');
const fixtureFolder = path.resolve(projectRoot, '../shared/fixtures/models/glove-static-384d');
const fixturePresent = existsSync(path.join(fixtureFolder, 'onnx', 'model.onnx'));

describe('meanPoolNormalized', () => {
  it('averages only the real positions of each row, whatever side the padding is on, and scales to unit length', () => {
    // Two rows of width 3, 2 dimensions: row 0 real at 0..1 (right padding), row 1 real at 1..2 (left padding).
    const hidden = Float32Array.from([3, 0, 1, 0, 99, 99, /* row 1 */ 99, 99, 0, 2, 0, 4]);
    const [first, second] = meanPoolNormalized(hidden, [{ start: 0, length: 2 }, { start: 1, length: 2 }], 3, 2);
    expect(first).toEqual([1, 0]);
    expect(second).toEqual([0, 1]);
  });

  it('gives a zero vector, not NaN, when every token vector is zero', () => {
    const [vector] = meanPoolNormalized(new Float32Array(6), [{ start: 0, length: 3 }], 3, 2);
    expect(vector).toEqual([0, 0]);
  });
});

describe('splitsAtWhitespace', () => {
  it('holds for BERT-style definitions (all-MiniLM-L6-v2: BertNormalizer, BertPreTokenizer, WordPiece)', () => {
    expect(splitsAtWhitespace({ normalizer: { type: 'BertNormalizer' }, pre_tokenizer: { type: 'BertPreTokenizer' }, model: { type: 'WordPiece' } })).toBe(true);
    expect(splitsAtWhitespace({ normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Lowercase' }, { type: 'StripAccents' }] }, pre_tokenizer: { type: 'Whitespace' }, model: { type: 'WordLevel' } })).toBe(true);
  });

  it('does not hold where spaces live inside tokens or the definition does not say', () => {
    expect(splitsAtWhitespace({ normalizer: null, pre_tokenizer: { type: 'Metaspace' }, model: { type: 'Unigram' } })).toBe(false);
    expect(splitsAtWhitespace({ normalizer: null, pre_tokenizer: { type: 'ByteLevel' }, model: { type: 'BPE' } })).toBe(false);
    expect(splitsAtWhitespace({ normalizer: { type: 'Replace' }, pre_tokenizer: { type: 'BertPreTokenizer' }, model: { type: 'WordPiece' } })).toBe(false);
    expect(splitsAtWhitespace({ normalizer: null, pre_tokenizer: null, model: { type: 'WordPiece' } })).toBe(false);
    expect(splitsAtWhitespace(undefined)).toBe(false);
  });
});

describeWhenPresent({ present: fixturePresent, missing: 'no fixture model' }, 'the service embedder against the transformers.js pipeline (fixture model)', () => {
  let embedder: Embedder;
  let reference: FeatureExtractionPipeline;
  beforeAll(async () => {
    embedder = await loadEmbedder({ model: fixtureFolder, dimensions: 384, dtype: 'fp32', threads: 1, batchSize: 4, modelsDir: './models', offline: true });
    reference = await pipeline('feature-extraction', fixtureFolder, { dtype: 'fp32', local_files_only: true, session_options: { intraOpNumThreads: 1 } });
  });
  afterAll(async () => {
    await embedder?.close();
    await reference?.dispose();
  });

  const words = 'river mountain forest ocean desert valley island city village road market bank'.split(' ');
  // Each of these words is one token of the fixture's vocabulary.
  const wordRun = (count: number) => Array.from({ length: count }, (_, index) => words[index % words.length]).join(' ');
  const texts = [
    'A cat sat on the mat.',
    '',
    'Emoji 🙂 and 中文 mixed with English, café, naïve.',
    words.join(' '),
    // Longer than the window (512 with [CLS] and [SEP]): see below.
    wordRun(700),
    'short',
    'The stock market fell sharply today, and the central bank said it would act.',
  ];

  async function pipelineVectors(batch: string[]): Promise<number[][]> {
    const output = await reference(batch, { pooling: 'mean', normalize: true });
    try {
      return output.tolist() as number[][];
    } finally {
      output.dispose();
    }
  }

  const expectSameVectors = (actual: number[][], expected: number[][]) => {
    expect(actual).toHaveLength(expected.length);
    actual.forEach((vector, row) => vector.forEach((value, dimension) => expect(Math.abs(value - expected[row]![dimension]!)).toBeLessThan(1e-6)));
  };

  it('produces the pipeline\'s vectors for texts of mixed lengths in padded batches, over-long text included', async () => {
    // The pipeline run on each text alone: no padding on the reference side.
    // An over-long text embeds as [CLS], its first 510 tokens, [SEP], as sentence-transformers
    // truncates. (transformers.js' own truncation cuts [SEP] off instead, so the reference is
    // the pipeline on the text's first 510 words.)
    const expected: number[][] = [];
    for (const text of texts) expected.push(...(await pipelineVectors([text === wordRun(700) ? wordRun(embedder.maxTokens - 2) : text])));
    expectSameVectors(await embedder.embed(texts), expected);
  });

  it('produces the same vectors from the chunker\'s token ids as from the texts', async () => {
    const document = Array.from({ length: 40 }, (_, index) => `Sentence ${index} is about the ${words[index % words.length]} and the ${words[(index * 5) % words.length]}.`).join(' ');
    const chunks = chunkText(document, { tokenCounter: embedder, maxTokens: 60, overlapSentences: 1 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) expect(chunk.tokenIds).toEqual(embedder.tokenize!(chunk.content));
    const fromIds = await embedder.embed(chunks.map((chunk) => ({ text: chunk.content, tokenIds: chunk.tokenIds! })));
    expectSameVectors(fromIds, await pipelineVectors(chunks.map((chunk) => chunk.content)));
  });
});
