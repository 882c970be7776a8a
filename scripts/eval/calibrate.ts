import {
  judgeSignals,
  PERMISSIVE_THRESHOLDS,
  type InsufficientReason,
  type SufficiencySignals,
  type SufficiencyThresholds,
} from '../../lib/knowledge/sufficiency.ts';

/** One question's signals, as measured by an evaluation run. */
export interface CalibrationSample {
  id: string;
  answerable: boolean;
  signals: SufficiencySignals;
}

/** How one threshold was chosen. */
export interface ThresholdFigure {
  name: keyof SufficiencyThresholds;
  value: number;
  /** Unanswerable questions this check alone refuses. */
  refuses: number;
  /** The lowest signal value among answerable questions the check applies to (the safety margin's other side). */
  lowestAnswerable: number | null;
  candidatesTried: number;
}

export interface CalibrationProposal {
  thresholds: SufficiencyThresholds;
  figures: ThresholdFigure[];
  answerable: number;
  unanswerable: number;
  correctRefusals: number;
  /** Answerable questions refused anyway (only possible when a search returned nothing). */
  falseRefusals: string[];
  /** Unanswerable questions no threshold can refuse without refusing an answerable one. */
  stillAnswered: string[];
  refusedBy: Partial<Record<InsufficientReason, number>>;
}

interface Check {
  name: keyof SufficiencyThresholds;
  /** The signal value the check compares, or `null` when it does not apply to this sample. */
  valueOf(signals: SufficiencySignals): number | null;
  disabled: number;
}

// Each check refuses when its value is below its threshold (see judgeSignals).
const CHECKS: Check[] = [
  { name: 'minBestScore', valueOf: (signals) => signals.best_score, disabled: PERMISSIVE_THRESHOLDS.minBestScore },
  {
    name: 'minBestScoreWithoutTextMatch',
    valueOf: (signals) => (signals.text_matched === false ? signals.best_score : null),
    disabled: PERMISSIVE_THRESHOLDS.minBestScoreWithoutTextMatch,
  },
  { name: 'minTermCoverage', valueOf: (signals) => signals.term_coverage, disabled: PERMISSIVE_THRESHOLDS.minTermCoverage },
  { name: 'minFusedMargin', valueOf: (signals) => signals.fused_margin, disabled: PERMISSIVE_THRESHOLDS.minFusedMargin },
];

/**
 * Proposes thresholds that refuse as many unanswerable questions as possible while refusing
 * no answerable one. Grid search per signal over the midpoints between consecutive observed
 * values. Each check refuses a superset when its threshold rises, and a question is refused
 * when any check fails, so the checks can be maximised one at a time: the combination of the
 * per-check optima is the optimum of the full grid. Among equally good values the highest is
 * kept — the midpoint between the lowest answerable value and the unanswerable value below
 * it, the widest margin on both sides; a check that refuses nothing stays disabled.
 */
export function calibrateThresholds(samples: readonly CalibrationSample[]): CalibrationProposal {
  const figures = CHECKS.map((check) => calibrateCheck(check, samples));
  const thresholds = Object.fromEntries(figures.map((figure) => [figure.name, figure.value])) as unknown as SufficiencyThresholds;
  const decisions = samples.map((sample) => ({ sample, decision: judgeSignals(sample.signals, thresholds) }));
  const refusedBy: Partial<Record<InsufficientReason, number>> = {};
  for (const { sample, decision } of decisions) {
    if (!sample.answerable && decision.reason) refusedBy[decision.reason] = (refusedBy[decision.reason] ?? 0) + 1;
  }
  return {
    thresholds,
    figures,
    answerable: samples.filter((sample) => sample.answerable).length,
    unanswerable: samples.filter((sample) => !sample.answerable).length,
    correctRefusals: decisions.filter(({ sample, decision }) => !sample.answerable && !decision.sufficient).length,
    falseRefusals: decisions.filter(({ sample, decision }) => sample.answerable && !decision.sufficient).map(({ sample }) => sample.id),
    stillAnswered: decisions.filter(({ sample, decision }) => !sample.answerable && decision.sufficient).map(({ sample }) => sample.id),
    refusedBy,
  };
}

function calibrateCheck(check: Check, samples: readonly CalibrationSample[]): ThresholdFigure {
  const measured = samples
    .map((sample) => ({ answerable: sample.answerable, value: check.valueOf(sample.signals) }))
    .filter((entry): entry is { answerable: boolean; value: number } => entry.value !== null);
  const answerableValues = measured.filter((entry) => entry.answerable).map((entry) => entry.value);
  const lowestAnswerable = answerableValues.length ? Math.min(...answerableValues) : null;
  const candidates = midpoints(measured.map((entry) => entry.value));
  let best = { value: check.disabled, refuses: 0 };
  for (const candidate of candidates) {
    if (lowestAnswerable !== null && lowestAnswerable < candidate) continue;
    const refuses = measured.filter((entry) => !entry.answerable && entry.value < candidate).length;
    if (refuses > best.refuses || (refuses === best.refuses && refuses > 0 && candidate > best.value)) best = { value: candidate, refuses };
  }
  // Without answerable questions to bound it, a threshold would refuse everything it sees.
  if (lowestAnswerable === null) best = { value: check.disabled, refuses: 0 };
  return { name: check.name, value: round(best.value), refuses: best.refuses, lowestAnswerable, candidatesTried: candidates.length };
}

function midpoints(values: readonly number[]): number[] {
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  return distinct.slice(1).map((value, index) => (distinct[index]! + value) / 2);
}

// Four decimals keep the proposal readable; rounding down never makes a threshold stricter.
function round(value: number): number {
  return Math.floor(value * 10_000) / 10_000;
}
