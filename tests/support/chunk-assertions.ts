import { expect } from 'vitest';
import type { TextChunk } from '../../lib/chunking/chunk-text.ts';
import type { TokenCounter } from '../../lib/contracts.ts';

const nonSpace = (text: string) => text.replace(/\s/g, '');

/**
 * Every non-whitespace character of `input` appears in the chunks, in order: some placement
 * of the chunks, each starting no later than where the previous ones reached (overlap
 * allowed, no gap), covers the whole text. Tracks every reachable end, so repeated text
 * cannot fool it.
 */
export function expectNoTextLost(input: string, chunks: TextChunk[]): void {
  const source = nonSpace(input);
  let reached = new Set([0]);
  for (const chunk of chunks) {
    const piece = nonSpace(chunk.content);
    const next = new Set<number>();
    const furthest = Math.max(...reached);
    for (let start = source.indexOf(piece); start !== -1 && start <= furthest; start = source.indexOf(piece, start + 1)) {
      for (const end of reached) if (start <= end && start + piece.length >= end) next.add(start + piece.length);
    }
    expect(next.size, `chunk cannot be placed after the ones before it: ${chunk.content.slice(0, 80)}`).toBeGreaterThan(0);
    reached = next;
  }
  expect([...reached]).toContain(source.length);
}

/** Each chunk's count is its text's count, within the budget, and its text within `maxCharacters`. */
export function expectWithinBudget(chunks: TextChunk[], counter: TokenCounter, maxTokens: number, maxCharacters = Number.POSITIVE_INFINITY): void {
  for (const chunk of chunks) {
    expect(chunk.tokenCount).toBe(counter.countTokens(chunk.content));
    expect(chunk.tokenCount).toBeLessThanOrEqual(maxTokens);
    expect(chunk.content.length).toBeLessThanOrEqual(maxCharacters);
  }
}
