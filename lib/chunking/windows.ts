/**
 * Bounded windows over long text. V8's `Intl.Segmenter` costs time in proportion to the
 * length of the string it was given for every segment it returns, so one segmentation of a
 * long paragraph costs its length squared (a 1 MiB paragraph: minutes). The chunker therefore
 * only ever hands ICU strings of at most {@link SEGMENT_WINDOW_CHARACTERS}.
 */

/**
 * Longest string given to `Intl.Segmenter` at once. Small enough that ICU's per-segment
 * cost stays small, large enough to hold many sentences (bench/results/chunking.md).
 */
export const SEGMENT_WINDOW_CHARACTERS = 1024;

/** How much of a window's end is searched for a word boundary (longer than any dictionary word). */
const WORD_BOUNDARY_TAIL = 64;

const wordSegmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

/** One window of a longer text. */
export interface TextWindow {
  text: string;
  /** True when whitespace stood between this window and the one before it. */
  spaceBefore: boolean;
}

/**
 * Where to cut `window` (a prefix of a longer text) so that no word is cut: after its last
 * whitespace, else at its last word boundary (Chinese has no spaces), else at its end, never
 * inside a surrogate pair. Always at least one code point, so callers always progress.
 */
export function windowCut(window: string): number {
  const space = window.lastIndexOf(' ');
  if (space > 0) return space + 1;
  // Only the tail is segmented: a word boundary near the end is all a cut needs.
  const tailStart = Math.max(0, window.length - WORD_BOUNDARY_TAIL);
  let lastBoundary = 0;
  for (const { index } of wordSegmenter.segment(window.slice(tailStart))) lastBoundary = index;
  if (tailStart + lastBoundary > 0) return tailStart + lastBoundary;
  const end = window.length;
  const beforeEnd = window.charCodeAt(end - 1);
  // A high surrogate at the end: its pair is in the next window.
  return end > 1 && beforeEnd >= 0xd800 && beforeEnd <= 0xdbff ? end - 1 : end;
}

/**
 * `text` in consecutive windows of at most `size` characters, cut after whitespace (or at a
 * word boundary, or by characters when a single word is longer than the window). Each
 * window's text is trimmed; together they hold every non-whitespace character, in order.
 */
export function* textWindows(text: string, size = SEGMENT_WINDOW_CHARACTERS): Generator<TextWindow> {
  let start = 0;
  let spaceBefore = false;
  while (start < text.length) {
    const end = Math.min(text.length, start + size);
    const cut = end === text.length ? end - start : windowCut(text.slice(start, end));
    const piece = text.slice(start, start + cut);
    const trimmed = piece.trim();
    if (trimmed !== '') {
      yield { text: trimmed, spaceBefore: spaceBefore || /^\s/.test(piece) };
      spaceBefore = /\s$/.test(piece);
    } else {
      spaceBefore = true;
    }
    start += cut;
  }
}
