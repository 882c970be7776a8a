/**
 * Turns text (plain or markdown) into the units chunks are packed from: headings, sentences
 * and code lines, each with the whitespace that joined it to the unit before.
 */

import { SEGMENT_WINDOW_CHARACTERS, windowCut } from './windows.ts';

/** One indivisible piece of a chunk. */
export interface Unit {
  text: string;
  /** What separates this unit from the previous one when both are in the same chunk. */
  joiner: '' | ' ' | '\n' | '\n\n';
  heading: boolean;
}

const HEADING = /^#{1,6}(\s|$)/;
const FENCE = /^(`{3,}|~{3,})/;
/** Lines that start a new line of their own even without a blank line: list items, quotes, tables. */
const HARD_LINE = /^([-*+]\s|\d{1,9}[.)]\s|>|\|)/;
/** Every whitespace character but the line feed: runs collapse to one space. */
const INLINE_SPACE = /[^\S\n]+/g;
/**
 * Words that end in a full stop without ending the sentence; ICU splits after them when a
 * capitalised word follows ("Dr. Smith"). Single capitals are initials ("J. R. Tolkien").
 */
const ABBREVIATION = /(?:^|[\s(])(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sr|Jr|St|Mt|Rev|Hon|Gen|Col|Lt|Sgt|Capt|Fig|Figs|No|Nos|Vol|Vols|Eq|Sec|Ch|vs|cf|approx|e\.g|i\.e|[A-Z])\.\s*$/;

const sentenceSegmenter = new Intl.Segmenter(undefined, { granularity: 'sentence' });

/** Splits normalised text into units, in order; no non-whitespace character is dropped. */
export function splitUnits(text: string): Unit[] {
  return Array.from(iterateUnits(text));
}

/** {@link splitUnits}, one unit at a time: each costs work bounded by a window, not by the text. */
export function* iterateUnits(text: string): Generator<Unit> {
  let nextJoiner: Unit['joiner'] = '\n\n';
  let paragraph: string[] = [];
  let fence: string | undefined;
  let produced = 0;
  // Headings on consecutive lines stay on consecutive lines.
  let afterHeading = false;

  const unit = (unitText: string, heading = false): Unit => {
    const made: Unit = { text: unitText, joiner: heading && afterHeading ? '\n' : nextJoiner, heading };
    afterHeading = heading;
    produced++;
    return made;
  };
  function* flushParagraph(): Generator<Unit> {
    if (paragraph.length === 0) return;
    // Soft line wraps inside a paragraph are spaces, so a wrapped sentence stays one sentence.
    const joined = paragraph.join(' ');
    paragraph = [];
    for (const sentence of iterateSentences(joined)) {
      yield unit(sentence.text);
      nextJoiner = sentence.followedBySpace ? ' ' : '';
    }
  }

  for (const rawLine of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (fence !== undefined) {
      // Code keeps its indentation; only trailing spaces and blank lines go.
      const codeLine = rawLine.trimEnd();
      if (codeLine.trim() === '') continue;
      yield unit(codeLine);
      nextJoiner = '\n';
      if (codeLine.trim().startsWith(fence) && codeLine.trim().replace(/[`~]/g, '') === '') {
        fence = undefined;
        nextJoiner = '\n\n';
      }
      continue;
    }
    const line = rawLine.replace(INLINE_SPACE, ' ').trim();
    const fenceMatch = FENCE.exec(line);
    if (line === '') {
      yield* flushParagraph();
      nextJoiner = '\n\n';
      afterHeading = false;
    } else if (fenceMatch) {
      yield* flushParagraph();
      if (produced > 0) nextJoiner = '\n\n';
      yield unit(line);
      fence = fenceMatch[1];
      nextJoiner = '\n';
    } else if (HEADING.test(line)) {
      yield* flushParagraph();
      nextJoiner = '\n\n';
      yield unit(line, true);
      nextJoiner = '\n\n';
    } else {
      if (HARD_LINE.test(line) && paragraph.length > 0) {
        yield* flushParagraph();
        nextJoiner = '\n';
      }
      paragraph.push(line);
    }
  }
  yield* flushParagraph();
}

/** Sentences of one paragraph, with ICU's splits after abbreviations and inside URLs undone. */
export function splitSentences(paragraph: string): Array<{ text: string; followedBySpace: boolean }> {
  return Array.from(iterateSentences(paragraph));
}

/**
 * {@link splitSentences}, one sentence at a time. ICU sees the paragraph in windows of
 * {@link SEGMENT_WINDOW_CHARACTERS}, so the cost is linear in its length; a sentence longer
 * than a window comes in window-sized pieces cut between words.
 */
export function* iterateSentences(paragraph: string): Generator<{ text: string; followedBySpace: boolean }> {
  let pending: string | undefined;
  for (const segment of rawSentences(paragraph)) {
    // Merged sentences stay within one window, so the unit stays bounded too.
    if (pending !== undefined && pending.length + segment.length <= SEGMENT_WINDOW_CHARACTERS && (endsInAbbreviation(pending) || splitInsideWord(pending, segment))) {
      pending += segment;
      continue;
    }
    if (pending !== undefined) yield* finished(pending);
    pending = segment;
  }
  if (pending !== undefined) yield* finished(pending);
}

function* finished(segment: string): Generator<{ text: string; followedBySpace: boolean }> {
  const text = segment.trim();
  if (text !== '') yield { text, followedBySpace: /\s$/.test(segment) };
}

/**
 * ICU's sentence segments of `paragraph`, found window by window: the last segment of a
 * window may be cut by the window's end, so the next window starts where it starts. A window
 * with no sentence end in it is cut between words ({@link windowCut}).
 */
function* rawSentences(paragraph: string): Generator<string> {
  let start = 0;
  while (start < paragraph.length) {
    const window = paragraph.slice(start, start + SEGMENT_WINDOW_CHARACTERS);
    const segments = Array.from(sentenceSegmenter.segment(window));
    if (start + window.length >= paragraph.length) {
      for (const { segment } of segments) yield segment;
      return;
    }
    if (segments.length > 1) {
      for (const { segment } of segments.slice(0, -1)) yield segment;
      start += segments.at(-1)!.index;
    } else {
      const cut = windowCut(window);
      yield window.slice(0, cut);
      start += cut;
    }
  }
}

// Long enough for the longest abbreviation with the space before and after it.
const ABBREVIATION_TAIL = 32;

/** Only the segment's end is tested: an end-anchored pattern is tried at every position of the string. */
function endsInAbbreviation(segment: string): boolean {
  return ABBREVIATION.test(segment.length > ABBREVIATION_TAIL ? segment.slice(-ABBREVIATION_TAIL) : segment);
}

/** ICU breaks after `?`/`!`/`.` even with no space ("example.com/a?b=c"); between Latin letters that is no sentence end. */
function splitInsideWord(previous: string, next: string): boolean {
  return /[A-Za-z0-9/][.?!]$/.test(previous.slice(-2)) && /^[A-Za-z0-9]/.test(next);
}
