/** Retrieval and refusal metrics of an evaluation run: pure functions over per-question outcomes. */

/** The cut-offs source@k and evidence@k are reported at. */
export const CUTOFFS = [1, 3, 5] as const;
export type Cutoff = (typeof CUTOFFS)[number];

/** What one question produced in one mode. Ranks are 1-based; `null` = not in the results. */
export interface QuestionOutcome {
  id: string;
  language: string;
  answerable: boolean;
  /** Rank of the first hit from the expected source (answerable questions). */
  sourceRank: number | null;
  /** Rank of the first hit containing the evidence string (answerable questions). */
  evidenceRank: number | null;
  /** True when the refusal decision said the documents do not cover the question. */
  refused: boolean;
}

export interface RetrievalMetrics {
  /** Answerable questions measured. */
  questions: number;
  sourceAt: Record<Cutoff, number>;
  evidenceAt: Record<Cutoff, number>;
  /** Mean reciprocal rank of the first hit holding the evidence (0 when it is not retrieved). */
  mrr: number;
}

export interface RefusalMetrics {
  answerable: number;
  unanswerable: number;
  refused: number;
  correctRefusals: number;
  falseRefusals: number;
  /** Correct refusals / refusals; `null` when nothing was refused. */
  precision: number | null;
  /** Correct refusals / unanswerable questions; `null` without unanswerable questions. */
  recall: number | null;
}

/** The 1-based rank of the first item that satisfies `predicate`, or `null`. */
export function firstRank<T>(items: readonly T[], predicate: (item: T) => boolean): number | null {
  const index = items.findIndex(predicate);
  return index < 0 ? null : index + 1;
}

/** source@k, evidence@k and MRR over the answerable questions among `outcomes`. */
export function retrievalMetrics(outcomes: readonly QuestionOutcome[]): RetrievalMetrics {
  const answerable = outcomes.filter((outcome) => outcome.answerable);
  const share = (count: number) => (answerable.length ? count / answerable.length : 0);
  const within = (rank: number | null, cutoff: number) => rank !== null && rank <= cutoff;
  const atCutoffs = (rankOf: (outcome: QuestionOutcome) => number | null) =>
    Object.fromEntries(CUTOFFS.map((cutoff) => [cutoff, share(answerable.filter((outcome) => within(rankOf(outcome), cutoff)).length)])) as Record<Cutoff, number>;
  return {
    questions: answerable.length,
    sourceAt: atCutoffs((outcome) => outcome.sourceRank),
    evidenceAt: atCutoffs((outcome) => outcome.evidenceRank),
    mrr: share(answerable.reduce((sum, outcome) => sum + (outcome.evidenceRank ? 1 / outcome.evidenceRank : 0), 0)),
  };
}

/** Precision and recall of refusals: a refusal is correct when the question is unanswerable. */
export function refusalMetrics(outcomes: readonly QuestionOutcome[]): RefusalMetrics {
  const unanswerable = outcomes.filter((outcome) => !outcome.answerable).length;
  const refused = outcomes.filter((outcome) => outcome.refused);
  const correctRefusals = refused.filter((outcome) => !outcome.answerable).length;
  return {
    answerable: outcomes.length - unanswerable,
    unanswerable,
    refused: refused.length,
    correctRefusals,
    falseRefusals: refused.length - correctRefusals,
    precision: refused.length ? correctRefusals / refused.length : null,
    recall: unanswerable ? correctRefusals / unanswerable : null,
  };
}

/**
 * Recall@k of an approximate search against the exact one for one query: the share of the
 * exact top-k (by identity key) that the approximate top-k also returned.
 */
export function recallAtK(approximateKeys: readonly string[], exactKeys: readonly string[], k: number): number {
  const exact = exactKeys.slice(0, k);
  if (exact.length === 0) return 1;
  const approximate = new Set(approximateKeys.slice(0, k));
  return exact.filter((key) => approximate.has(key)).length / exact.length;
}

/** The arithmetic mean; 0 for no values. */
export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : 0;
}
