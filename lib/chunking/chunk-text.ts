import type { TokenCounter } from '../contracts.ts';
import { splitLongText } from './split-long.ts';
import { iterateUnits, type Unit } from './split-units.ts';

export interface ChunkTextOptions {
  /** Counts tokens the way the embedding model does (without its special tokens). */
  tokenCounter: TokenCounter;
  /** Budget for a chunk's own tokens; the caller has already left room for [CLS] and [SEP]. */
  maxTokens: number;
  /** How many trailing sentences of a chunk start the next one (within a section). */
  overlapSentences: number;
}

export interface TextChunk {
  content: string;
  /** `tokenCounter.countTokens(content)`: always at most `maxTokens`. */
  tokenCount: number;
  /** `tokenCounter.tokenize(content)` when the counter has it: the embedder reuses them. */
  tokenIds?: number[];
}

/** A text's count (and ids, when the counter gives them), measured once. */
interface Measured {
  tokens: number;
  ids?: number[];
}

interface CountedUnit extends Unit {
  tokens: number;
  /** The unit's own ids, when the counter gives them. */
  ids?: number[];
}

interface Measurer {
  /** Counts (and tokenizes) a text. */
  text(content: string): Measured;
  /** Measures `render(members)`: by joining the members' ids when the tokenizer allows it. */
  members(members: CountedUnit[]): Measured;
}

function createMeasurer(counter: TokenCounter): Measurer {
  const text = (content: string): Measured => {
    if (!counter.tokenize) return { tokens: counter.countTokens(content) };
    const ids = counter.tokenize(content);
    return { tokens: ids.length, ids };
  };
  return {
    text,
    members(members) {
      // Whitespace between every two members: their ids joined are the text's ids.
      if (counter.splitsAtWhitespace && members.every((member, index) => member.ids && (index === 0 || member.joiner !== ''))) {
        const ids = members.flatMap((member) => member.ids!);
        return { tokens: ids.length, ids };
      }
      return text(render(members));
    },
  };
}

/**
 * A chunk's text is at most this many characters per token of its budget. Tokenizers count
 * an unknown word as one token however long it is, so without this a 1 MB "word" would be
 * one 1 MB chunk; prose stays far below it (about 4–6 characters a token).
 */
export const MAX_CHARACTERS_PER_TOKEN = 16;

/**
 * Splits a document into chunks of whole sentences that each fit `maxTokens` as the model
 * counts the chunk's final text. Sentences come from Intl.Segmenter (English, Chinese and
 * other scripts); a markdown heading starts a new section and stays with the text after it;
 * blank lines and code lines are boundaries; consecutive chunks of a section share
 * `overlapSentences` sentences. A sentence longer than the budget is split on word, then
 * character, boundaries, so no text is ever dropped. Whitespace-only input gives `[]`.
 * Time is linear in the text's length (see {@link iterateChunks}).
 */
export function chunkText(text: string, options: ChunkTextOptions): TextChunk[] {
  return Array.from(iterateChunks(text, options));
}

/**
 * {@link chunkText}, one chunk at a time: the work between two chunks is bounded by the
 * window, not by the document, so a caller can give the event loop a turn between them.
 */
export function* iterateChunks(text: string, options: ChunkTextOptions): Generator<TextChunk> {
  const counter = options.tokenCounter;
  const budget = Math.max(1, Math.floor(options.maxTokens));
  const limits: Limits = { budget, maxCharacters: budget * MAX_CHARACTERS_PER_TOKEN };
  const overlap = Math.max(0, Math.floor(options.overlapSentences));
  const measure = createMeasurer(counter);
  const units = unitQueue(fittedUnits(text, limits, counter, measure));
  const chunk = (members: CountedUnit[], measured = measure.members(members)): TextChunk => {
    const content = render(members);
    return measured.ids ? { content, tokenCount: measured.tokens, tokenIds: measured.ids } : { content, tokenCount: measured.tokens };
  };
  const fits = (tokens: number, characters: number) => tokens <= limits.budget && characters <= limits.maxCharacters;

  let carry: CountedUnit[] = [];
  while (units.peek()) {
    const headings: CountedUnit[] = [];
    while (units.peek()?.heading) headings.push(units.take());
    if (headings.length > 0) carry = [];
    if (!units.peek()) {
      // Headings with no text after them: nothing to keep them with.
      yield* headingsAlone(headings, limits, measure, chunk);
      break;
    }
    if (headings.length > 0 && !makeRoomAfterHeadings(units, headings, limits, counter, measure)) {
      yield* headingsAlone(headings, limits, measure, chunk);
      headings.length = 0;
    }

    // Overlap from the previous chunk, oldest sentences dropped first until the next one fits.
    const shared = carry.slice(carry.length - Math.min(overlap, carry.length));
    const first = units.peek()!;
    while (shared.length > 0 && !fits(sumTokens(shared) + first.tokens, sumCharacters(shared) + sizeOf(first))) shared.shift();
    const body = [...shared];
    let tokens = sumTokens(headings) + sumTokens(shared);
    let characters = sumCharacters(headings) + sumCharacters(shared);
    let fresh = 0;
    for (let next = units.peek(); next && !next.heading && (fresh === 0 || fits(tokens + next.tokens, characters + sizeOf(next))); next = units.peek()) {
      tokens += next.tokens;
      characters += sizeOf(next);
      body.push(units.take());
      fresh++;
    }

    // Word pieces can differ at the joins: only the count of the final text decides.
    let members = [...headings, ...body];
    let measured = measure.members(members);
    while (members.length > 1 && !fits(measured.tokens, render(members).length)) {
      if (fresh > 1) {
        units.putBack(body.pop()!);
        fresh--;
      } else if (body.length > 1) {
        body.shift();
      } else {
        break; // a heading with one unit that was verified to fit beside it in makeRoomAfterHeadings
      }
      members = [...headings, ...body];
      measured = measure.members(members);
    }
    yield chunk(members, measured);
    carry = body;
  }
}

/** The limits every chunk and unit keeps to. */
interface Limits {
  budget: number;
  maxCharacters: number;
}

/** Units ready for packing: each fits the limits on its own. */
function* fittedUnits(text: string, limits: Limits, counter: TokenCounter, measure: Measurer): Generator<CountedUnit> {
  for (const unit of iterateUnits(text)) yield* fitUnit(unit, limits, counter, measure);
}

/** A lookahead of the unit stream: packing peeks at the next unit, and may put one back or split it. */
interface UnitQueue {
  peek(): CountedUnit | undefined;
  take(): CountedUnit;
  putBack(unit: CountedUnit): void;
  /** Replaces the next unit by `replacement` (its pieces). */
  replaceNext(replacement: CountedUnit[]): void;
}

function unitQueue(source: Iterator<CountedUnit>): UnitQueue {
  // Holds only units taken back or split: a few at a time, so shifting it is cheap.
  const buffer: CountedUnit[] = [];
  const fill = () => {
    if (buffer.length > 0) return;
    const next = source.next();
    if (!next.done) buffer.push(next.value);
  };
  return {
    peek() {
      fill();
      return buffer[0];
    },
    take() {
      fill();
      return buffer.shift()!;
    },
    putBack(unit) {
      buffer.unshift(unit);
    },
    replaceNext(replacement) {
      fill();
      buffer.splice(0, 1, ...replacement);
    },
  };
}

/** The unit itself if it fits, else its pieces (the first keeps the unit's joiner and kind). */
function fitUnit(unit: Unit, limits: Limits, counter: TokenCounter, measure: Measurer): CountedUnit[] {
  // Too long to be worth tokenizing whole: it is split whatever its count.
  if (unit.text.length > limits.maxCharacters) return splitUnit(unit, limits, counter);
  const { tokens, ids } = measure.text(unit.text);
  if (tokens <= limits.budget) return [ids ? { ...unit, tokens, ids } : { ...unit, tokens }];
  return splitUnit(unit, limits, counter);
}

/** `unit` as pieces within `limits`; the first keeps the unit's joiner and kind. */
function splitUnit(unit: Unit, limits: Limits, counter: TokenCounter): CountedUnit[] {
  return splitLongText(unit.text, limits.budget, counter, limits.maxCharacters).map((piece, index) => ({
    text: piece.text,
    tokens: piece.tokens,
    joiner: index === 0 ? unit.joiner : piece.spaceBefore ? ' ' : '',
    heading: index === 0 && unit.heading,
  }));
}

/**
 * Makes sure the first unit after a heading fits in one chunk with it, splitting that unit
 * further when needed. False when the headings leave too little room to be worth sharing.
 */
function makeRoomAfterHeadings(units: UnitQueue, headings: CountedUnit[], limits: Limits, counter: TokenCounter, measure: Measurer): boolean {
  const headingCharacters = sumCharacters(headings);
  for (let attempt = 0; attempt < 4; attempt++) {
    const next = units.peek()!;
    const count = measure.members([...headings, next]).tokens;
    const characters = headingCharacters + sizeOf(next);
    if (count <= limits.budget && characters <= limits.maxCharacters) return true;
    const room = next.tokens - Math.max(0, count - limits.budget) - attempt;
    const characterRoom = limits.maxCharacters - headingCharacters;
    if (room < Math.max(4, limits.budget / 4) || characterRoom < limits.maxCharacters / 4) return false;
    units.replaceNext(splitUnit(next, { budget: room, maxCharacters: characterRoom }, counter));
  }
  return false;
}

function* headingsAlone(headings: CountedUnit[], limits: Limits, measure: Measurer, chunk: (members: CountedUnit[], measured?: Measured) => TextChunk): Generator<TextChunk> {
  if (headings.length === 0) return;
  const together = measure.members(headings);
  if (together.tokens <= limits.budget && render(headings).length <= limits.maxCharacters) yield chunk(headings, together);
  else for (const heading of headings) yield chunk([heading]);
}

function render(members: Unit[]): string {
  return members.map((member, index) => (index === 0 ? member.text : member.joiner + member.text)).join('').trim();
}

/** A unit's share of a chunk's length: its text and the joiner before it (an upper bound). */
function sizeOf(member: Unit): number {
  return member.text.length + member.joiner.length;
}

function sumTokens(members: CountedUnit[]): number {
  return members.reduce((sum, member) => sum + member.tokens, 0);
}

function sumCharacters(members: CountedUnit[]): number {
  return members.reduce((sum, member) => sum + sizeOf(member), 0);
}
