/**
 * Follow-up questions in a chat: "and on the client?" needs the earlier question to be found,
 * "What is the capital city of Australia?" does not, and must not borrow the earlier
 * question's documents to get past the refusal.
 */

import { contentTerms } from '../text-search/terms.ts';
import { decideSufficiency, type SufficiencyDecision, type SufficiencyThresholds } from './sufficiency.ts';
import type { SearchHit } from '../contracts.ts';

// Openings that continue the previous question ("and …", "what about …", 那么…, 还有…).
const CONTINUATION_OPENINGS = /^(?:and|also|or|but|so|then|what about|how about|what if|same for)(?![\p{L}\p{N}])/iu;
// Chinese has no spaces after a word: 那它呢 starts with 那 and goes on.
const CHINESE_CONTINUATION_OPENINGS = /^(?:那么|那|还有|另外|此外|并且|以及)/u;
// A question ending in 呢 asks "what about …" of something already said.
const CHINESE_FOLLOW_UP_PARTICLE = /呢[\s?？。!！]*$/u;
// Words that point back at something the message itself does not name.
const ANAPHORA = /(?<![\p{L}\p{N}])(?:it|its|that|this|these|those|they|them|their|there|same|one|ones|other|instead)(?![\p{L}\p{N}])|它|它们|这个|那个|这些|那些|该|其/iu;
/** With this few content terms of its own, a message with a pronoun is read as a follow-up. */
const MAX_TERMS_OF_AN_ANAPHORIC_FOLLOW_UP = 3;
/** A message of at most this many content terms names too little to be searched alone. */
const MAX_TERMS_OF_A_BARE_FOLLOW_UP = 1;

/**
 * True when `message` reads as a follow-up of an earlier question: it opens with a
 * continuation ("and …", "what about …", 那…), ends with 呢, names at most one topic word, or
 * points back with a pronoun ("is it exact?", 它…) while naming few words of its own.
 * A complete question of its own ("What is the capital city of Australia?") is not one.
 */
export function readsAsFollowUp(message: string): boolean {
  const text = message.trim();
  if (CONTINUATION_OPENINGS.test(text) || CHINESE_CONTINUATION_OPENINGS.test(text) || CHINESE_FOLLOW_UP_PARTICLE.test(text)) return true;
  const terms = contentTerms(text).length;
  if (terms <= MAX_TERMS_OF_A_BARE_FOLLOW_UP) return true;
  return terms <= MAX_TERMS_OF_AN_ANAPHORIC_FOLLOW_UP && ANAPHORA.test(text);
}

/** The retrieval behind one chat answer, and the decision on it. */
export interface QuestionRetrieval {
  /** The hits of the query that was used, best first. */
  hits: SearchHit[];
  decision: SufficiencyDecision;
  /** The text that was searched: the message, or the previous question and the message. */
  query: string;
  usedPreviousQuestion: boolean;
}

export interface RetrieveForQuestionOptions {
  message: string;
  /** The last user turn before `message`, if any. */
  previousQuestion?: string;
  /** Runs one search (mode and top k are the caller's). */
  search(query: string): Promise<SearchHit[]>;
  thresholds: SufficiencyThresholds;
  /** Hits the decision reads (what the model would be handed); all of them when absent. */
  decisionTopK?: number;
}

/**
 * Searches for the message alone; when the message reads as a follow-up and there is an
 * earlier question, searches the two together as well and prefers that result when it is
 * sufficient ("and on the client?" alone would match any chunk that says "client"). The
 * retry's term coverage is measured on the message's own words (the earlier question's
 * words cannot vouch for it); only a message that names no content word of its own
 * ("why?") is measured on both. A message that does not read as a follow-up is searched
 * alone, so an unrelated complete question is refused as it would be without the history.
 */
export async function retrieveForQuestion(options: RetrieveForQuestionOptions): Promise<QuestionRetrieval> {
  const { message, thresholds } = options;
  const judge = (hits: SearchHit[], question: string) => decideSufficiency(hits.slice(0, options.decisionTopK ?? hits.length), thresholds, question);
  const aloneHits = await options.search(message);
  const alone: QuestionRetrieval = { hits: aloneHits, decision: judge(aloneHits, message), query: message, usedPreviousQuestion: false };
  const previousQuestion = options.previousQuestion?.trim();
  if (!previousQuestion || !readsAsFollowUp(message)) return alone;
  const query = `${previousQuestion}\n${message}`;
  const hits = await options.search(query);
  const decision = judge(hits, contentTerms(message).length > 0 ? message : query);
  return decision.sufficient ? { hits, decision, query, usedPreviousQuestion: true } : alone;
}
