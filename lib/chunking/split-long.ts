import type { TokenCounter } from '../contracts.ts';
import { SEGMENT_WINDOW_CHARACTERS, textWindows } from './windows.ts';

/** A part of a text that was too long for one chunk. */
export interface TextPiece {
  text: string;
  /** True when whitespace stood between this piece and the one before it. */
  spaceBefore: boolean;
  tokens: number;
}

const wordSegmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

/** How long a piece may be: in tokens as the counter counts it, and in characters. */
export interface PieceLimits {
  budget: number;
  /** A tokenizer may count a long unknown word as one token: this bounds the piece's text itself. */
  maxCharacters: number;
}

/**
 * Splits `text` into pieces of at most `budget` tokens and `maxCharacters` characters each,
 * as the counter counts the piece itself: on word boundaries (Intl.Segmenter words, which
 * also splits CJK runs into words), and a single word longer than the limits (a base64 blob,
 * a URL) by characters. Pieces hold every character of `text` but the whitespace between
 * them, in order. Work is linear in the text's length: ICU sees it in bounded windows.
 */
export function splitLongText(text: string, budget: number, counter: TokenCounter, maxCharacters = Number.POSITIVE_INFINITY): TextPiece[] {
  const limits = { budget, maxCharacters };
  if (text.length <= SEGMENT_WINDOW_CHARACTERS) return splitWindow(text, limits, counter);
  const pieces: TextPiece[] = [];
  for (const window of textWindows(text)) {
    splitWindow(window.text, limits, counter).forEach((piece, index) => pieces.push(index === 0 ? { ...piece, spaceBefore: pieces.length > 0 && window.spaceBefore } : piece));
  }
  return pieces;
}

function splitWindow(text: string, { budget, maxCharacters }: PieceLimits, counter: TokenCounter): TextPiece[] {
  const segments = Array.from(wordSegmenter.segment(text), (segment) => segment.segment);
  const segmentTokens = segments.map((segment) => (segment.trim() === '' ? 0 : counter.countTokens(segment)));
  const join = (from: number, to: number) => segments.slice(from, to).join('').trim();
  const pieces: TextPiece[] = [];
  let spaceBefore = false;
  let start = 0;
  while (start < segments.length) {
    if (segments[start]!.trim() === '') {
      spaceBefore = pieces.length > 0;
      start++;
      continue;
    }
    if (segmentTokens[start]! > budget || segments[start]!.length > maxCharacters) {
      const parts = splitByCharacters(segments[start]!, { budget, maxCharacters }, counter);
      parts.forEach((part, index) => pieces.push({ ...part, spaceBefore: index === 0 && spaceBefore }));
      spaceBefore = false;
      start++;
      continue;
    }
    // Estimate with the words' own counts, then trust only the count of the joined piece.
    let end = start;
    let estimate = 0;
    let characters = 0;
    while (end < segments.length && estimate + segmentTokens[end]! <= budget && characters + segments[end]!.length <= maxCharacters) {
      characters += segments[end]!.length;
      estimate += segmentTokens[end++]!;
    }
    let tokens = counter.countTokens(join(start, end));
    if (tokens > budget) {
      let fits = start + 1;
      let tooLong = end;
      tokens = segmentTokens[start]!;
      while (tooLong - fits > 1) {
        const middle = Math.floor((fits + tooLong) / 2);
        const count = counter.countTokens(join(start, middle));
        if (count <= budget) [fits, tokens] = [middle, count];
        else tooLong = middle;
      }
      end = fits;
    }
    pieces.push({ text: join(start, end), spaceBefore, tokens });
    spaceBefore = false;
    start = end;
  }
  return pieces;
}

/** Longest prefixes (in code points) that fit, found by binary search on the count. */
function splitByCharacters(word: string, { budget, maxCharacters }: PieceLimits, counter: TokenCounter): Array<{ text: string; tokens: number }> {
  const codePoints = Array.from(word);
  const parts: Array<{ text: string; tokens: number }> = [];
  let start = 0;
  while (start < codePoints.length) {
    const rest = codePoints.length - start;
    const restText = codePoints.slice(start).join('');
    const whole = restText.length <= maxCharacters ? counter.countTokens(restText) : Number.POSITIVE_INFINITY;
    if (whole <= budget) {
      parts.push({ text: restText, tokens: whole });
      break;
    }
    // One code point always goes, even if a tokenizer counts it above the budget: no loss, no loop.
    let fits = 1;
    let tokens = counter.countTokens(codePoints[start]!);
    let tooLong = Math.min(rest, maxCharacters + 1);
    while (tooLong - fits > 1) {
      const middle = Math.floor((fits + tooLong) / 2);
      const candidate = codePoints.slice(start, start + middle).join('');
      const count = candidate.length <= maxCharacters ? counter.countTokens(candidate) : Number.POSITIVE_INFINITY;
      if (count <= budget) [fits, tokens] = [middle, count];
      else tooLong = middle;
    }
    parts.push({ text: codePoints.slice(start, start + fits).join(''), tokens });
    start += fits;
  }
  return parts;
}
