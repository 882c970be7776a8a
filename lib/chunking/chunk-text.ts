import type { TokenCounter } from '../knowledge/types.ts';
import { splitLongText } from './split-long.ts';
import { splitUnits, type Unit } from './split-units.ts';

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
}

/**
 * Splits a document into chunks of whole sentences that each fit `maxTokens` as the model
 * counts the chunk's final text. Sentences come from Intl.Segmenter (English, Chinese and
 * other scripts); a markdown heading starts a new section and stays with the text after it;
 * blank lines and code lines are boundaries; consecutive chunks of a section share
 * `overlapSentences` sentences. A sentence longer than the budget is split on word, then
 * character, boundaries, so no text is ever dropped. Whitespace-only input gives `[]`.
 */
export function chunkText(text: string, options: ChunkTextOptions): TextChunk[] {
  const counter = options.tokenCounter;
  const budget = Math.max(1, Math.floor(options.maxTokens));
  const overlap = Math.max(0, Math.floor(options.overlapSentences));
  const units = splitUnits(text).flatMap((unit) => fitUnit(unit, budget, counter));
  const chunks: TextChunk[] = [];
  const measure = (content: string): Measured => {
    if (!counter.tokenize) return { tokens: counter.countTokens(content) };
    const ids = counter.tokenize(content);
    return { tokens: ids.length, ids };
  };
  const emit = (members: CountedUnit[], measured?: Measured) => {
    const content = render(members);
    const { tokens, ids } = measured ?? measure(content);
    chunks.push(ids ? { content, tokenCount: tokens, tokenIds: ids } : { content, tokenCount: tokens });
  };

  let carry: CountedUnit[] = [];
  let index = 0;
  while (index < units.length) {
    const headings: CountedUnit[] = [];
    while (index < units.length && units[index]!.heading) headings.push(units[index++]!);
    if (headings.length > 0) carry = [];
    if (index === units.length) {
      // Headings with no text after them: nothing to keep them with.
      emitHeadingsAlone(headings, budget, measure, emit);
      break;
    }
    if (headings.length > 0 && !makeRoomAfterHeadings(units, index, headings, budget, counter)) {
      emitHeadingsAlone(headings, budget, measure, emit);
      headings.length = 0;
    }

    // Overlap from the previous chunk, oldest sentences dropped first until the next one fits.
    const shared = carry.slice(carry.length - Math.min(overlap, carry.length));
    while (shared.length > 0 && sumTokens(shared) + units[index]!.tokens > budget) shared.shift();
    const body = [...shared];
    let estimate = sumTokens(headings) + sumTokens(shared);
    let fresh = 0;
    while (index < units.length && !units[index]!.heading && (fresh === 0 || estimate + units[index]!.tokens <= budget)) {
      estimate += units[index]!.tokens;
      body.push(units[index++]!);
      fresh++;
    }

    // Word pieces can differ at the joins: only the count of the final text decides.
    let members = [...headings, ...body];
    let measured = measure(render(members));
    while (members.length > 1 && measured.tokens > budget) {
      if (fresh > 1) {
        body.pop();
        fresh--;
        index--;
      } else if (body.length > 1) {
        body.shift();
      } else {
        break; // a heading with one unit that was verified to fit beside it in makeRoomAfterHeadings
      }
      members = [...headings, ...body];
      measured = measure(render(members));
    }
    emit(members, measured);
    carry = body;
  }
  return chunks;
}

/** The unit itself if it fits, else its pieces (the first keeps the unit's joiner and kind). */
function fitUnit(unit: Unit, budget: number, counter: TokenCounter): CountedUnit[] {
  const tokens = counter.countTokens(unit.text);
  if (tokens <= budget) return [{ ...unit, tokens }];
  return splitLongText(unit.text, budget, counter).map((piece, index) => ({
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
function makeRoomAfterHeadings(units: CountedUnit[], index: number, headings: CountedUnit[], budget: number, counter: TokenCounter): boolean {
  for (let attempt = 0; attempt < 4; attempt++) {
    const count = counter.countTokens(render([...headings, units[index]!]));
    if (count <= budget) return true;
    const room = units[index]!.tokens - (count - budget) - attempt;
    if (room < Math.max(4, budget / 4)) return false;
    const pieces = splitLongText(units[index]!.text, room, counter).map((piece, pieceIndex) => ({
      text: piece.text,
      tokens: piece.tokens,
      joiner: pieceIndex === 0 ? units[index]!.joiner : piece.spaceBefore ? (' ' as const) : ('' as const),
      heading: false,
    }));
    units.splice(index, 1, ...pieces);
  }
  return false;
}

function emitHeadingsAlone(headings: CountedUnit[], budget: number, measure: (content: string) => Measured, emit: (members: CountedUnit[], measured?: Measured) => void): void {
  if (headings.length === 0) return;
  const together = measure(render(headings));
  if (together.tokens <= budget) emit(headings, together);
  else for (const heading of headings) emit([heading]);
}

function render(members: Unit[]): string {
  return members.map((member, index) => (index === 0 ? member.text : member.joiner + member.text)).join('').trim();
}

function sumTokens(members: CountedUnit[]): number {
  return members.reduce((sum, member) => sum + member.tokens, 0);
}
