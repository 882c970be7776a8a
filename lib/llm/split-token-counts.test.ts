import { describe, expect, it } from 'vitest';
import { splitTokenCounts } from './chat-model.ts';

describe('splitTokenCounts', () => {
  it("gives each text the tokens whose piece starts in it (llama-server's with_pieces answer)", () => {
    // "ab\ncd\né": pieces as a BPE tokenizer might cut them; "é" arrives as two byte pieces.
    const tokens = [
      { id: 1, piece: 'ab' },
      { id: 2, piece: '\n' },
      { id: 3, piece: 'c' },
      { id: 4, piece: 'd\n' },
      { id: 5, piece: [0xc3] },
      { id: 6, piece: [0xa9] },
    ];
    expect(splitTokenCounts(['ab', 'cd', 'é'], tokens)).toEqual([2, 2, 2]);
  });

  it('shares the total out by size, rounding up, when the server sends no pieces', () => {
    const counts = splitTokenCounts(['a'.repeat(30), 'b'.repeat(10)], Array.from({ length: 9 }, (_, index) => index));
    expect(counts).toEqual([7, 3]);
    expect(counts.reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(9);
  });
});
