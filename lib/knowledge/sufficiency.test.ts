import { describe, expect, it } from 'vitest';
import { contentTerms } from '../text-search/terms.ts';
import { decideSufficiency, PERMISSIVE_THRESHOLDS, termCoverage, thresholdsForModel, type SufficiencyHit } from './sufficiency.ts';

const hit = (score: number, content = 'text', extra: Partial<SufficiencyHit> = {}): SufficiencyHit => ({ score, content, ...extra });
const thresholds = { minBestScore: 0.3, minBestScoreWithoutTextMatch: 0.6, minTermCoverage: 0.5, minFusedMargin: 0.05 };

describe('decideSufficiency', () => {
  it('refuses with no_results when the search found nothing', () => {
    expect(decideSufficiency([], PERMISSIVE_THRESHOLDS, 'anything')).toMatchObject({ sufficient: false, reason: 'no_results', signals: { hit_count: 0, best_score: null } });
  });

  it('refuses with below_threshold and reports the best score', () => {
    const decision = decideSufficiency([hit(0.1), hit(0.25)], thresholds);
    expect(decision).toMatchObject({ sufficient: false, reason: 'below_threshold', signals: { best_score: 0.25 } });
  });

  it('asks for a higher score when full-text matched nothing', () => {
    const hits = [hit(0.5, 'pool size', { textRank: null, fusedScore: 0.016 }), hit(0.4, 'other', { textRank: null, fusedScore: 0.01 })];
    expect(decideSufficiency(hits, thresholds)).toMatchObject({ sufficient: false, reason: 'no_text_match', signals: { text_matched: false } });
    const matched = [hit(0.5, 'pool size', { textRank: 1, fusedScore: 0.03 }), hit(0.4, 'other', { textRank: null, fusedScore: 0.01 })];
    expect(decideSufficiency(matched, thresholds)).toMatchObject({ sufficient: true, signals: { text_matched: true } });
  });

  it('refuses when the question\'s terms are missing from every hit', () => {
    const decision = decideSufficiency([hit(0.9, 'How to bake bread')], thresholds, 'What is the default pool size of postgres?');
    expect(decision).toMatchObject({ sufficient: false, reason: 'low_term_coverage', signals: { term_coverage: 0 } });
  });

  it('refuses as ambiguous when the fused scores of the first two hits are nearly equal', () => {
    const hits = [hit(0.9, 'a', { textRank: 1, fusedScore: 0.0325 }), hit(0.9, 'b', { textRank: 2, fusedScore: 0.032 })];
    expect(decideSufficiency(hits, thresholds)).toMatchObject({ sufficient: false, reason: 'ambiguous' });
  });

  it('accepts a strong vector-only result: signals a mode does not produce never refuse', () => {
    const decision = decideSufficiency([hit(0.8, 'The default pool size is 10')], thresholds, 'default pool size');
    expect(decision.sufficient).toBe(true);
    expect(decision.signals).toMatchObject({ text_matched: null, fused_margin: null, term_coverage: 1 });
  });
});

describe('term coverage', () => {
  it('drops stopwords and segments Chinese into words', () => {
    expect(contentTerms('How do I set the max_lifetime option?')).toEqual(['max_lifetime', 'option']);
    expect(contentTerms('今天北京的天气怎么样？')).toEqual(['今天', '北京', '天气']);
  });

  it('matches Latin terms at word starts only and Chinese terms anywhere', () => {
    expect(termCoverage('connection city', ['many connections at capacity'])).toBe(0.5);
    expect(termCoverage('账户 状态', ['显示账户状态信息'])).toBe(1);
  });

  it('takes the best single hit rather than pooling terms across hits', () => {
    expect(termCoverage('alpha beta', ['alpha only', 'beta only'])).toBe(0.5);
  });
});

describe('thresholdsForModel', () => {
  it('finds a local model folder by its name and applies configured overrides', () => {
    const fromFolder = thresholdsForModel('../shared/fixtures/models/glove-static-384d');
    expect(fromFolder).toEqual(thresholdsForModel('glove-static-384d'));
    expect(thresholdsForModel('glove-static-384d', { minBestScore: 0.42 }).minBestScore).toBe(0.42);
  });

  it('falls back to thresholds that refuse only empty results for an unknown model', () => {
    expect(thresholdsForModel('someone/unknown-model')).toEqual(PERMISSIVE_THRESHOLDS);
  });
});
