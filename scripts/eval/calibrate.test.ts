import { describe, expect, it } from 'vitest';
import { judgeSignals, type SufficiencySignals } from '../../lib/knowledge/sufficiency.ts';
import { calibrateThresholds, type CalibrationSample } from './calibrate.ts';

const signals = (values: Partial<SufficiencySignals>): SufficiencySignals => ({
  hit_count: 3,
  best_score: 0.5,
  text_matched: null,
  fused_margin: null,
  term_coverage: null,
  ...values,
});
const sample = (id: string, answerable: boolean, values: Partial<SufficiencySignals>): CalibrationSample => ({ id, answerable, signals: signals(values) });

describe('calibrateThresholds', () => {
  it('puts the score threshold midway between the weakest answerable and the strongest unanswerable below it', () => {
    const proposal = calibrateThresholds([
      sample('a1', true, { best_score: 0.8 }),
      sample('a2', true, { best_score: 0.6 }),
      sample('u1', false, { best_score: 0.2 }),
      sample('u2', false, { best_score: 0.4 }),
    ]);
    expect(proposal.thresholds.minBestScore).toBeCloseTo(0.5, 4);
    expect(proposal.correctRefusals).toBe(2);
    expect(proposal.falseRefusals).toEqual([]);
  });

  it('never refuses an answerable question, leaving inseparable unanswerable ones answered', () => {
    const samples = [sample('a1', true, { best_score: 0.3 }), sample('a2', true, { best_score: 0.9 }), sample('u1', false, { best_score: 0.5 }), sample('u2', false, { best_score: 0.1 })];
    const proposal = calibrateThresholds(samples);
    for (const item of samples.filter((entry) => entry.answerable)) expect(judgeSignals(item.signals, proposal.thresholds).sufficient).toBe(true);
    expect(proposal.stillAnswered).toEqual(['u1']);
    expect(proposal.correctRefusals).toBe(1);
  });

  it('combines signals: term coverage refuses what the score cannot', () => {
    const proposal = calibrateThresholds([
      sample('a1', true, { best_score: 0.5, term_coverage: 0.6 }),
      sample('a2', true, { best_score: 0.7, term_coverage: 1 }),
      sample('u-score', false, { best_score: 0.2, term_coverage: 0.8 }),
      sample('u-terms', false, { best_score: 0.9, term_coverage: 0 }),
    ]);
    expect(proposal.correctRefusals).toBe(2);
    expect(proposal.refusedBy).toEqual({ below_threshold: 1, low_term_coverage: 1 });
  });

  it('calibrates the no-text-match score only on searches where full-text matched nothing', () => {
    const proposal = calibrateThresholds([
      sample('a-text', true, { best_score: 0.3, text_matched: true }),
      sample('a-vector', true, { best_score: 0.7, text_matched: false }),
      sample('u', false, { best_score: 0.4, text_matched: false }),
    ]);
    expect(proposal.thresholds.minBestScore).toBeLessThanOrEqual(0.3);
    expect(proposal.thresholds.minBestScoreWithoutTextMatch).toBeCloseTo(0.55, 4);
    expect(proposal.correctRefusals).toBe(1);
  });

  it('keeps a check disabled when it refuses nothing or has no answerable question to bound it', () => {
    const proposal = calibrateThresholds([sample('a', true, { best_score: 0.1 }), sample('u', false, { best_score: 0.9, fused_margin: 0.01 })]);
    expect(proposal.thresholds).toEqual({ minBestScore: -1, minBestScoreWithoutTextMatch: -1, minTermCoverage: 0, minFusedMargin: 0 });
    expect(proposal.stillAnswered).toEqual(['u']);
  });
});
