import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../config.ts';
import type { Embedder } from '../contracts.ts';
import { loadEmbedder } from './load-embedder.ts';
import { describeWhenPresent } from '../../tests/support/requirements.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');
const fixtureFolder = path.resolve(projectRoot, '../shared/fixtures/models/glove-static-384d');
const fixturePresent = existsSync(path.join(fixtureFolder, 'onnx', 'model.onnx'));

const settings = (overrides: Partial<Config['embedding']> = {}): Config['embedding'] => ({
  model: path.relative(process.cwd(), fixtureFolder),
  dimensions: 384,
  dtype: 'fp32',
  threads: 1,
  batchSize: 32,
  modelsDir: './models',
  offline: false,
  ...overrides,
});

const cosine = (left: number[], right: number[]) => left.reduce((sum, value, index) => sum + value * right[index]!, 0);
const norm = (vector: number[]) => Math.sqrt(cosine(vector, vector));

describeWhenPresent({ present: fixturePresent, missing: `no fixture model at ${path.relative(projectRoot, fixtureFolder)}` }, 'loadEmbedder with the fixture model', () => {
  let embedder: Embedder;
  beforeAll(async () => {
    embedder = await loadEmbedder(settings());
  });
  afterAll(async () => {
    await embedder?.close();
  });

  it('loads a local folder given relative to the project and reports its id, size and window', () => {
    expect(embedder.modelId).toBe('glove-static-384d');
    expect(embedder.dimensions).toBe(384);
    // No sentence_bert_config.json in the fixture: the tokenizer's model_max_length (512) applies.
    expect(embedder.maxTokens).toBe(512);
  });

  it('returns one unit-length 384-dimensional vector per text, in order', async () => {
    const texts = ['A cat sat on the mat.', '', 'The stock market fell sharply today.'];
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(3);
    for (const vector of vectors) {
      expect(vector).toHaveLength(384);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
    expect(cosine(vectors[0]!, vectors[2]!)).toBeLessThan(0.99);
  });

  it('gives the same vectors in batches as one by one', async () => {
    const batched = await loadEmbedder(settings({ batchSize: 3 }));
    try {
      const texts = Array.from({ length: 8 }, (_, index) => `sentence number ${index} ${'about rivers and mountains '.repeat(index + 1)}`);
      const together = await batched.embed(texts);
      for (const [index, text] of texts.entries()) {
        const [alone] = await embedder.embed([text]);
        expect(cosine(together[index]!, alone!)).toBeCloseTo(1, 5);
      }
    } finally {
      await batched.close();
    }
  });

  it('scores related sentences above unrelated ones', async () => {
    const [query, related, unrelated] = await embedder.embed([
      'How do I cook pasta for dinner?',
      'Boil the noodles in salted water and serve them with tomato sauce.',
      'The senate passed the new tax law after a long debate.',
    ]);
    expect(cosine(query!, related!)).toBeGreaterThan(cosine(query!, unrelated!));
  });

  it('counts word pieces exactly as the tokenizer encodes them, without [CLS] and [SEP]', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(fixtureFolder, { local_files_only: true });
    for (const text of ['Hello, world!', 'Unbelievable tokenization of e-mail addresses like a.b@example.com', '', '中文 mixed with English.']) {
      expect(embedder.countTokens(text)).toBe(tokenizer.encode(text).length - 2);
    }
  });

  it('embeds a text longer than the window as its first window of tokens', async () => {
    const words = 'river mountain forest ocean desert valley island city village road'.split(' ');
    const prefix = Array.from({ length: embedder.maxTokens - 2 }, (_, index) => words[index % words.length]).join(' ');
    const endingA = ' stock market bank money '.repeat(300);
    const endingB = ' cat dog horse cow '.repeat(300);
    expect(embedder.countTokens(prefix + endingA)).toBeGreaterThan(embedder.maxTokens * 2);
    const [longA, longB, justPrefix] = await embedder.embed([prefix + endingA, prefix + endingB, prefix]);
    expect(cosine(longA!, justPrefix!)).toBeCloseTo(1, 5);
    expect(cosine(longB!, justPrefix!)).toBeCloseTo(1, 5);
  });

  it('loads a hub id from the models folder with HF_HUB_OFFLINE, never reaching the hub', async () => {
    const modelsDir = mkdtempSync(path.join(os.tmpdir(), 'local-rag-models-'));
    try {
      cpSync(fixtureFolder, path.join(modelsDir, 'example-owner', 'static-384d'), { recursive: true });
      const offline = await loadEmbedder(settings({ model: 'example-owner/static-384d', offline: true, modelsDir }));
      try {
        expect(offline.modelId).toBe('example-owner/static-384d');
        const [fromHubLayout] = await offline.embed(['A cat sat on the mat.']);
        const [fromFolder] = await embedder.embed(['A cat sat on the mat.']);
        expect(cosine(fromHubLayout!, fromFolder!)).toBeCloseTo(1, 6);
      } finally {
        await offline.close();
      }
    } finally {
      rmSync(modelsDir, { recursive: true, force: true });
    }
  });

  it('fails at load when the configured dimensions differ, naming both numbers', async () => {
    await expect(loadEmbedder(settings({ dimensions: 768 }))).rejects.toThrow(/384-dimensional.*768 are configured/);
  });

  it('fails at load naming the folder and file when the requested dtype has no model file', async () => {
    await expect(loadEmbedder(settings({ dtype: 'q8' }))).rejects.toThrow(/glove-static-384d.*model_quantized\.onnx/);
  });

  it.runIf(process.platform === 'linux')('sizes ONNX Runtime\'s intra-op pool to settings.threads', async () => {
    // ONNX Runtime starts threads - 1 pool threads per session (the caller's thread is the first).
    const threadCount = () => readdirSync('/proc/self/task').length;
    const before = threadCount();
    const single = await loadEmbedder(settings({ threads: 1 }));
    const afterSingle = threadCount();
    const triple = await loadEmbedder(settings({ threads: 3 }));
    const afterTriple = threadCount();
    await Promise.all([single.close(), triple.close()]);
    expect(afterSingle - before).toBe(0);
    expect(afterTriple - afterSingle).toBe(2);
  });
});

describe('loadEmbedder errors', () => {
  it('names the folder when a local model folder is missing', async () => {
    await expect(loadEmbedder(settings({ model: './no-such-models/missing-model' }))).rejects.toThrow(
      `embedding model folder ${path.resolve('./no-such-models/missing-model')} does not exist`,
    );
  });

  it('names the model and the models folder when offline and the hub model was never downloaded', async () => {
    const modelsDir = path.join(projectRoot, 'no-such-models-dir');
    const attempt = loadEmbedder(settings({ model: 'sentence-transformers/all-MiniLM-L6-v2', offline: true, modelsDir }));
    await expect(attempt).rejects.toThrow('"sentence-transformers/all-MiniLM-L6-v2" is not in the models folder');
    await expect(attempt).rejects.toThrow(path.join(modelsDir, 'sentence-transformers', 'all-MiniLM-L6-v2'));
    expect(existsSync(modelsDir)).toBe(false);
  });
});
