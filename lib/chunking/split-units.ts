/**
 * Turns text (plain or markdown) into the units chunks are packed from: headings, sentences
 * and code lines, each with the whitespace that joined it to the unit before.
 */

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
  const units: Unit[] = [];
  let nextJoiner: Unit['joiner'] = '\n\n';
  let paragraph: string[] = [];
  let fence: string | undefined;
  // Headings on consecutive lines stay on consecutive lines.
  let afterHeading = false;

  const push = (unitText: string, heading = false) => {
    units.push({ text: unitText, joiner: heading && afterHeading ? '\n' : nextJoiner, heading });
    afterHeading = heading;
  };
  const flushParagraph = () => {
    if (paragraph.length === 0) return;
    // Soft line wraps inside a paragraph are spaces, so a wrapped sentence stays one sentence.
    for (const sentence of splitSentences(paragraph.join(' '))) {
      push(sentence.text);
      nextJoiner = sentence.followedBySpace ? ' ' : '';
    }
    paragraph = [];
  };

  for (const rawLine of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (fence !== undefined) {
      // Code keeps its indentation; only trailing spaces and blank lines go.
      const codeLine = rawLine.trimEnd();
      if (codeLine.trim() === '') continue;
      push(codeLine);
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
      flushParagraph();
      nextJoiner = '\n\n';
      afterHeading = false;
    } else if (fenceMatch) {
      flushParagraph();
      if (units.length > 0) nextJoiner = '\n\n';
      push(line);
      fence = fenceMatch[1];
      nextJoiner = '\n';
    } else if (HEADING.test(line)) {
      flushParagraph();
      nextJoiner = '\n\n';
      push(line, true);
      nextJoiner = '\n\n';
    } else {
      if (HARD_LINE.test(line) && paragraph.length > 0) {
        flushParagraph();
        nextJoiner = '\n';
      }
      paragraph.push(line);
    }
  }
  flushParagraph();
  return units;
}

/** Sentences of one paragraph, with ICU's splits after abbreviations and inside URLs undone. */
export function splitSentences(paragraph: string): Array<{ text: string; followedBySpace: boolean }> {
  const raw = Array.from(sentenceSegmenter.segment(paragraph), (segment) => segment.segment);
  const merged: string[] = [];
  for (const segment of raw) {
    const previous = merged.at(-1);
    if (previous !== undefined && (ABBREVIATION.test(previous) || splitInsideWord(previous, segment))) merged[merged.length - 1] = previous + segment;
    else merged.push(segment);
  }
  return merged
    .map((segment) => ({ text: segment.trim(), followedBySpace: /\s$/.test(segment) }))
    .filter((sentence) => sentence.text !== '');
}

/** ICU breaks after `?`/`!`/`.` even with no space ("example.com/a?b=c"); between Latin letters that is no sentence end. */
function splitInsideWord(previous: string, next: string): boolean {
  return /[A-Za-z0-9/][.?!]$/.test(previous) && /^[A-Za-z0-9]/.test(next);
}
