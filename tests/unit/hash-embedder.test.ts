import { describe, expect, it } from 'vitest';
import { createHashEmbedder } from '../support/hash-embedder.ts';

const cosine = (left: number[], right: number[]) => left.reduce((sum, value, index) => sum + value * right[index]!, 0);

describe('createHashEmbedder', () => {
  it('returns deterministic unit-length vectors of the requested size', async () => {
    const embedder = createHashEmbedder({ dimensions: 64 });
    const [first, empty] = await embedder.embed(['Postgres stores vectors', '']);
    const [again] = await createHashEmbedder({ dimensions: 64 }).embed(['Postgres stores vectors']);
    expect(first).toHaveLength(64);
    expect(Math.hypot(...first!)).toBeCloseTo(1, 10);
    expect(Math.hypot(...empty!)).toBeCloseTo(1, 10);
    expect(again).toEqual(first);
  });

  it('scores texts sharing words above texts sharing none, ignoring case', async () => {
    const [query, related, unrelated] = await createHashEmbedder().embed(['How to install PostgreSQL', 'install postgresql on debian', 'bake a chocolate cake']);
    expect(cosine(query!, related!)).toBeGreaterThan(cosine(query!, unrelated!));
  });

  it('counts words and CJK characters as tokens', () => {
    const embedder = createHashEmbedder();
    expect(embedder.countTokens('Hello, brave new world!')).toBe(4);
    expect(embedder.countTokens('今天天气很好。')).toBe(6);
    expect(embedder.countTokens('   ')).toBe(0);
  });

  it('only sees the first maxTokens - 2 tokens, like a real model', async () => {
    const embedder = createHashEmbedder({ maxTokens: 6 });
    const [short, long] = await embedder.embed(['one two three four', 'one two three four five six seven']);
    expect(long).toEqual(short);
  });
});
