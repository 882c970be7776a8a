/**
 * Scoring of chat answers against the evaluation set (`npm run eval -- <set> --answers`): does
 * the answer hold what the question asks, do its `[n]` citations point at the passage that
 * holds the evidence, and does the chat refuse what the documents do not answer.
 */

import { contentTerms } from '../../lib/text-search/terms.ts';
import { INSUFFICIENT_MESSAGE } from '../../lib/llm/prompt.ts';
import { containsEvidence, normalizeWhitespace, type EvalQuestion } from './eval-set.ts';

/** Without a figure or code span to look for, this share of the evidence's words must be in the answer. */
const MIN_EVIDENCE_TERM_SHARE = 0.5;

/** One chat turn as the socket delivered it. */
export interface ChatAnswer {
  /** The `insufficient` frame came (refused before the model was called). */
  refusedByRetrieval: boolean;
  /** The streamed tokens joined. */
  text: string;
  /** The `sources` frame: `n` → source and chunk text. */
  sources: Array<{ n: number; source: string; content: string }>;
  /** An `error` frame's code, if the turn failed. */
  errorCode?: string;
}

/** What one answer scored. */
export interface AnswerScore {
  id: string;
  answerable: boolean;
  refused: boolean;
  /** Answerable and not refused: the answer holds the evidence or the figure asked for. */
  grounded: boolean | null;
  /** Cited numbers found in the answer. */
  citations: number[];
  /** Some cited `[n]` is a chunk of the expected source holding the evidence; `null` without citations. */
  citationAccurate: boolean | null;
}

/**
 * The figures and code spans of the evidence that the question does not already name
 * (`By default \`max\` is 10` asked as "default maximum number of connections" → `max`, `10`).
 */
export function answerKeys(question: string, evidence: string): string[] {
  const asked = question.toLowerCase();
  const spans = [...evidence.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
  const numbers = [...evidence.replace(/`[^`]*`/g, ' ').matchAll(/(?<![\p{L}\d.])\d[\d,.]*\d|(?<![\p{L}\d.])\d(?![\d\p{L}])/gu)].map((match) => match[0]);
  return [...new Set([...spans, ...numbers])].filter((key) => !asked.includes(key.toLowerCase()));
}

/**
 * An answer is grounded when it holds the evidence verbatim, or every figure/code span of the
 * evidence that the question does not name ({@link answerKeys}), or — when there is none —
 * at least half of the evidence's content words.
 */
export function isGrounded(answer: string, question: string, evidence: string): boolean {
  if (containsEvidence(answer, evidence)) return true;
  const text = normalizeWhitespace(answer).toLowerCase();
  const keys = answerKeys(question, evidence);
  if (keys.length > 0) return keys.every((key) => includesWord(text, normalizeWhitespace(key).toLowerCase()));
  const terms = contentTerms(evidence);
  if (terms.length === 0) return false;
  return terms.filter((term) => text.includes(term)).length / terms.length >= MIN_EVIDENCE_TERM_SHARE;
}

/** `key` occurs in `text` not as part of a longer word or number ("10" is not in "100"). */
function includesWord(text: string, key: string): boolean {
  const wordChar = /[\p{L}\p{N}]/u;
  for (let at = text.indexOf(key); at >= 0; at = text.indexOf(key, at + 1)) {
    const before = text[at - 1];
    const after = text[at + key.length];
    const startsClean = !wordChar.test(key[0]!) || before === undefined || !wordChar.test(before);
    const endsClean = !wordChar.test(key.at(-1)!) || after === undefined || !wordChar.test(after);
    if (startsClean && endsClean) return true;
  }
  return false;
}

/** The `[n]` citation numbers in an answer, in order, unique. */
export function citedNumbers(answer: string): number[] {
  return [...new Set([...answer.matchAll(/\[(\d{1,2})\]/g)].map((match) => Number(match[1])))];
}

/** True when the answer says the documents do not hold it. */
export function isRefusal(answer: ChatAnswer): boolean {
  return answer.refusedByRetrieval || answer.text.includes(INSUFFICIENT_MESSAGE);
}

/** Scores one answer to one question of the set. */
export function scoreAnswer(question: EvalQuestion, answer: ChatAnswer): AnswerScore {
  const refused = isRefusal(answer);
  const citations = citedNumbers(answer.text);
  if (!question.answerable) return { id: question.id, answerable: false, refused, grounded: null, citations, citationAccurate: null };
  const holding = new Set(answer.sources.filter((source) => source.source === question.expected_source && containsEvidence(source.content, question.evidence)).map((source) => source.n));
  return {
    id: question.id,
    answerable: true,
    refused,
    grounded: refused ? false : isGrounded(answer.text, question.question, question.evidence),
    citations,
    citationAccurate: citations.length === 0 ? null : citations.some((n) => holding.has(n)),
  };
}

/** The rates over a set's answers. */
export interface AnswerMetrics {
  answerable: number;
  unanswerable: number;
  /** Grounded answers / answerable questions (a refusal counts as not grounded). */
  groundedRate: number;
  /** Answerable questions refused (by retrieval or by the model). */
  falseRefusalRate: number;
  /** Accurate citations / answers that cite at all. */
  citationAccuracy: number | null;
  /** Answers to answerable questions that cite at least one `[n]`. */
  citingRate: number;
  /** Unanswerable questions refused. */
  refusalRate: number;
}

/** Aggregates {@link scoreAnswer} results. */
export function answerMetrics(scores: readonly AnswerScore[]): AnswerMetrics {
  const answerable = scores.filter((score) => score.answerable);
  const unanswerable = scores.filter((score) => !score.answerable);
  const answered = answerable.filter((score) => !score.refused);
  const citing = answered.filter((score) => score.citationAccurate !== null);
  const share = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);
  return {
    answerable: answerable.length,
    unanswerable: unanswerable.length,
    groundedRate: share(answerable.filter((score) => score.grounded).length, answerable.length),
    falseRefusalRate: share(answerable.length - answered.length, answerable.length),
    citationAccuracy: citing.length === 0 ? null : citing.filter((score) => score.citationAccurate).length / citing.length,
    citingRate: share(citing.length, answered.length),
    refusalRate: share(unanswerable.filter((score) => score.refused).length, unanswerable.length),
  };
}
