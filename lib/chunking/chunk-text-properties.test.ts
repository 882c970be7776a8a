import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectNoTextLost, expectWithinBudget } from '../../tests/support/chunk-assertions.ts';
import type { TokenCounter } from '../contracts.ts';
import { chunkText, MAX_CHARACTERS_PER_TOKEN } from './chunk-text.ts';
import { SEGMENT_WINDOW_CHARACTERS } from './windows.ts';

/** BERT-like: a word, a CJK character or a punctuation mark is one token. */
const wordCounter: TokenCounter = { countTokens: (text) => (text.match(/[\p{Script=Han}]|[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []).length };
/** WordLevel-like: every whitespace-separated word is one token however long ([UNK]). */
const unknownWordCounter: TokenCounter = { countTokens: (text) => (text.match(/\S+/g) ?? []).length, splitsAtWhitespace: true, tokenize: (text) => (text.match(/\S+/g) ?? []).map(() => 1) };
/** One token per three non-space characters. */
const characterCounter: TokenCounter = { countTokens: (text) => Math.ceil(text.replace(/\s/g, '').length / 3) };

/** Pieces that stress the segmenters and the splitter: long words, no sentence ends, Chinese runs, abbreviations. */
const piece = (maxRepeat: number) => fc.oneof(
  fc.constantFrom('the', 'Dr.', 'e.g.', 'J.', 'vector', '数据库', '检索。', '很好！', '?', '!', '.', ',', '\n', '\n\n', '\n# Title\n', '\n```\ncode();\n```\n', 'https://x.org/a?b=c.', '- item', '　', '😀'),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.tuple(fc.constantFrom('a', '中', 'Dr. ', 'x.', '# h\n', '😀', 'word '), fc.integer({ min: 1, max: maxRepeat })).map(([text, times]) => text.repeat(times)),
);
const documentText = (maxRepeat: number) => fc.array(piece(maxRepeat), { maxLength: 40 }).chain((pieces) => fc.constantFrom(' ', '', '\n').map((separator) => pieces.join(separator)));
const settings = fc.record({
  counter: fc.constantFrom(wordCounter, unknownWordCounter, characterCounter),
  maxTokens: fc.constantFrom(8, 20, 64, 254),
  overlapSentences: fc.constantFrom(0, 1, 2),
});

describe('chunkText properties (fast-check)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('loses no text and keeps every chunk within the token budget and the character window', () => {
    fc.assert(
      // Short repeats: the no-loss check costs the square of a repetitive text.
      fc.property(documentText(200), settings, (text, { counter, maxTokens, overlapSentences }) => {
        const chunks = chunkText(text, { tokenCounter: counter, maxTokens, overlapSentences });
        if (text.trim() === '') expect(chunks).toEqual([]);
        else expectNoTextLost(text, chunks);
        expectWithinBudget(chunks, counter, maxTokens, maxTokens * MAX_CHARACTERS_PER_TOKEN);
      }),
      { numRuns: 80 },
    );
  });

  it('does work linear in the input: ICU never sees more than a window, and the text is counted a bounded number of times', () => {
    const segmented: number[] = [];
    const segment = Intl.Segmenter.prototype.segment;
    vi.spyOn(Intl.Segmenter.prototype, 'segment').mockImplementation(function (this: Intl.Segmenter, input: string) {
      segmented.push(input.length);
      return segment.call(this, input);
    });
    fc.assert(
      fc.property(documentText(5000), settings, (text, { counter, maxTokens, overlapSentences }) => {
        segmented.length = 0;
        let counted = 0;
        const counting: TokenCounter = {
          countTokens: (part) => ((counted += part.length), counter.countTokens(part)),
          ...(counter.tokenize ? { tokenize: (part: string) => ((counted += part.length), counter.tokenize!(part)) } : {}),
          splitsAtWhitespace: counter.splitsAtWhitespace,
        };
        chunkText(text, { tokenCounter: counting, maxTokens, overlapSentences });
        expect(Math.max(0, ...segmented)).toBeLessThanOrEqual(SEGMENT_WINDOW_CHARACTERS);
        // Binary searches count a piece's prefixes ~log2(window) times; overlap re-counts a few sentences.
        const bound = WORK_PER_CHARACTER * (text.length + SEGMENT_WINDOW_CHARACTERS);
        expect(segmented.reduce((sum, length) => sum + length, 0)).toBeLessThanOrEqual(bound);
        expect(counted).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 60 },
    );
  });
});

// A constant independent of the input's size: a quadratic step would exceed it on long inputs.
const WORK_PER_CHARACTER = 64;
