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
  const measure = createMeasurer(counter);
  const units = splitUnits(text).flatMap((unit) => fitUnit(unit, budget, counter, measure));
  const chunks: TextChunk[] = [];
  const emit = (members: CountedUnit[], measured = measure.members(members)) => {
    const content = render(members);
    chunks.push(measured.ids ? { content, tokenCount: measured.tokens, tokenIds: measured.ids } : { content, tokenCount: measured.tokens });
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
    if (headings.length > 0 && !makeRoomAfterHeadings(units, index, headings, budget, counter, measure)) {
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
    let measured = measure.members(members);
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
      measured = measure.members(members);
    }
    emit(members, measured);
    carry = body;
  }
  return chunks;
}

/** The unit itself if it fits, else its pieces (the first keeps the unit's joiner and kind). */
function fitUnit(unit: Unit, budget: number, counter: TokenCounter, measure: Measurer): CountedUnit[] {
  const { tokens, ids } = measure.text(unit.text);
  if (tokens <= budget) return [ids ? { ...unit, tokens, ids } : { ...unit, tokens }];
  return splitUnit(unit, budget, counter);
}

/** `unit` as pieces of at most `budget` tokens; the first keeps the unit's joiner and kind. */
function splitUnit(unit: Unit, budget: number, counter: TokenCounter): CountedUnit[] {
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
function makeRoomAfterHeadings(units: CountedUnit[], index: number, headings: CountedUnit[], budget: number, counter: TokenCounter, measure: Measurer): boolean {
  for (let attempt = 0; attempt < 4; attempt++) {
    const count = measure.members([...headings, units[index]!]).tokens;
    if (count <= budget) return true;
    const room = units[index]!.tokens - (count - budget) - attempt;
    if (room < Math.max(4, budget / 4)) return false;
    units.splice(index, 1, ...splitUnit(units[index]!, room, counter));
  }
  return false;
}

function emitHeadingsAlone(headings: CountedUnit[], budget: number, measure: Measurer, emit: (members: CountedUnit[], measured?: Measured) => void): void {
  if (headings.length === 0) return;
  const together = measure.members(headings);
  if (together.tokens <= budget) emit(headings, together);
  else for (const heading of headings) emit([heading]);
}

function render(members: Unit[]): string {
  return members.map((member, index) => (index === 0 ? member.text : member.joiner + member.text)).join('').trim();
}

function sumTokens(members: CountedUnit[]): number {
  return members.reduce((sum, member) => sum + member.tokens, 0);
}
