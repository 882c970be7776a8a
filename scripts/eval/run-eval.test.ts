import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { loadEmbedder } from '../../lib/embeddings/load-embedder.ts';
import { createExactScanStore } from './exact-scan-store.ts';
import { thresholdsForModel } from '../../lib/knowledge/sufficiency.ts';
import type { Embedder } from '../../lib/contracts.ts';
import { loadEvalSet } from './eval-set.ts';
import { createCachingEmbedder, createExactReference } from './exact-reference.ts';
import { formatReport } from './format-report.ts';
import { CUTOFFS } from './metrics.ts';
import { runEvaluation, SEARCH_MODES, type EvaluationReport } from './run-eval.ts';
import { describeWhenPresent } from '../../tests/support/requirements.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const referenceSet = `${projectRoot}bench/eval/sets/reference/reference.json`;
const fixtureModel = `${projectRoot}../shared/fixtures/models/glove-static-384d`;
// The fixture model, or whatever EMBEDDING_MODEL names on a machine without ../shared.
const model = process.env.EMBEDDING_MODEL ?? (existsSync(fixtureModel) ? fixtureModel : undefined);

describeWhenPresent({ present: model !== undefined, missing: 'no fixture model and no EMBEDDING_MODEL' }, 'runEvaluation on the reference set (exact-scan store, real embedder)', () => {
  let embedder: Embedder;
  let report: EvaluationReport;

  beforeAll(async () => {
    const config = loadConfig({ ...process.env, EMBEDDING_MODEL: model });
    embedder = createCachingEmbedder(await loadEmbedder(config.embedding));
    const set = await loadEvalSet(referenceSet);
    const chunking = config.chunking;
    report = await runEvaluation({
      set,
      knowledge: { store: createExactScanStore(), embedder, chunking },
      thresholds: thresholdsForModel(embedder.modelId),
      // The exact-scan store is the reference itself, so recall against it must come out perfect.
      exactSearch: await createExactReference(set.documents, { embedder, chunking }),
      calibrate: true,
    });
  }, 120_000);

  afterAll(async () => {
    await embedder?.close();
  });

  it('reports every metric for every mode', () => {
    expect(report.modes.map((mode) => mode.mode)).toEqual(SEARCH_MODES);
    for (const mode of report.modes) {
      expect(mode.retrieval.questions).toBeGreaterThanOrEqual(30);
      CUTOFFS.forEach((cutoff, index) => {
        // A chunk holding the evidence is from the right source, and a longer list finds no less.
        expect(mode.retrieval.sourceAt[cutoff]).toBeGreaterThanOrEqual(mode.retrieval.evidenceAt[cutoff]);
        const next = CUTOFFS[index + 1];
        if (next !== undefined) expect(mode.retrieval.evidenceAt[next]).toBeGreaterThanOrEqual(mode.retrieval.evidenceAt[cutoff]);
      });
      expect(mode.retrieval.mrr).toBeGreaterThan(0);
      expect(mode.refusal.unanswerable).toBeGreaterThanOrEqual(10);
      expect(Object.keys(mode.byLanguage).sort()).toEqual(['en', 'zh']);
      expect(mode.calibration?.falseRefusals).toEqual([]);
    }
  });

  it('finds the evidence of some questions near the top, so the measurement is not vacuous', () => {
    expect(report.modes[0]!.retrieval.evidenceAt[5]).toBeGreaterThan(0.2);
  });

  it('measures HNSW-style recall against the exact reference', () => {
    expect(report.hnsw).toEqual({ recallAt10: 1, queries: report.modes[0]!.questions.filter((question) => !question.usedPreviousQuestion).length });
  });

  it('prints a table with a row per mode and the HNSW line', () => {
    const text = formatReport(report);
    for (const mode of SEARCH_MODES) expect(text).toMatch(new RegExp(`^${mode} +\\d\\.\\d{3}`, 'm'));
    expect(text).toContain('HNSW recall@10 against an exact scan: 1.000');
    expect(text).toContain('calibration (hybrid)');
  });
});
