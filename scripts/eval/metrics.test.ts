import { describe, expect, it } from 'vitest';
import { firstRank, recallAtK, refusalMetrics, retrievalMetrics, type QuestionOutcome } from './metrics.ts';

const answerable = (id: string, sourceRank: number | null, evidenceRank: number | null, refused = false): QuestionOutcome => ({
  id,
  language: 'en',
  answerable: true,
  sourceRank,
  evidenceRank,
  refused,
});
const unanswerable = (id: string, refused: boolean): QuestionOutcome => ({ id, language: 'en', answerable: false, sourceRank: null, evidenceRank: null, refused });

describe('retrieval metrics', () => {
  const outcomes = [answerable('a', 1, 1), answerable('b', 2, 4), answerable('c', 3, null), answerable('d', null, null), unanswerable('x', true)];

  it('counts source@k and evidence@k over answerable questions only', () => {
    const metrics = retrievalMetrics(outcomes);
    expect(metrics.questions).toBe(4);
    expect(metrics.sourceAt).toEqual({ 1: 0.25, 3: 0.75, 5: 0.75 });
    expect(metrics.evidenceAt).toEqual({ 1: 0.25, 3: 0.25, 5: 0.5 });
  });

  it('computes MRR of the evidence, with 0 for evidence never retrieved', () => {
    expect(retrievalMetrics(outcomes).mrr).toBeCloseTo((1 + 1 / 4 + 0 + 0) / 4, 10);
  });

  it('gives zeros, not NaN, for a set without answerable questions', () => {
    expect(retrievalMetrics([unanswerable('x', false)])).toEqual({ questions: 0, sourceAt: { 1: 0, 3: 0, 5: 0 }, evidenceAt: { 1: 0, 3: 0, 5: 0 }, mrr: 0 });
  });

  it('finds the 1-based rank of the first match', () => {
    expect(firstRank(['x', 'y', 'y'], (item) => item === 'y')).toBe(2);
    expect(firstRank(['x'], (item) => item === 'z')).toBeNull();
  });
});

describe('refusal metrics', () => {
  it('is precise when only unanswerable questions are refused, and recalls the share refused', () => {
    const metrics = refusalMetrics([answerable('a', 1, 1), unanswerable('x', true), unanswerable('y', false)]);
    expect(metrics).toMatchObject({ refused: 1, correctRefusals: 1, falseRefusals: 0, precision: 1, recall: 0.5 });
  });

  it('loses precision with every answerable question refused', () => {
    const metrics = refusalMetrics([answerable('a', 1, 1, true), answerable('b', 1, 1, true), unanswerable('x', true)]);
    expect(metrics.falseRefusals).toBe(2);
    expect(metrics.precision).toBeCloseTo(1 / 3, 10);
    expect(metrics.recall).toBe(1);
  });

  it('reports precision as unknown when nothing was refused', () => {
    expect(refusalMetrics([answerable('a', 1, 1), unanswerable('x', false)]).precision).toBeNull();
  });
});

describe('recall@k', () => {
  it('is the share of the exact top-k found by the approximate search', () => {
    expect(recallAtK(['a', 'b', 'z', 'y'], ['a', 'b', 'c', 'd'], 4)).toBe(0.5);
    expect(recallAtK(['b', 'a'], ['a', 'b'], 2)).toBe(1);
  });

  it('looks only at the first k of each list', () => {
    expect(recallAtK(['x', 'a'], ['a', 'b'], 1)).toBe(0);
  });
});
