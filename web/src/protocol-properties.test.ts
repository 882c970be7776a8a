import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseServerFrame, type ServerFrame } from './protocol.ts';

const score = fc.double({ min: -1, max: 1, noNaN: true });
const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const source = fc.record({ n: fc.integer({ min: 1, max: 50 }), source: text, chunk_index: fc.nat(), score, content: text });
/** Every frame type the server sends, as the protocol's schemas describe it. */
const serverFrame: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({ type: fc.constant('sources' as const), sources: fc.array(source, { maxLength: 4 }) }),
  fc.record({ type: fc.constant('token' as const), content: text }),
  fc.record({ type: fc.constant('done' as const), finish_reason: fc.constantFrom('stop', 'length', 'cancelled', 'insufficient', 'error') }),
  fc.record({
    type: fc.constant('insufficient' as const),
    message: fc.constant('资料不足' as const),
    best_score: fc.option(score, { nil: null }),
    reason: fc.constantFrom('no_results' as const, 'below_threshold' as const, 'no_text_match' as const, 'low_term_coverage' as const, 'ambiguous' as const),
  }),
  fc.record({ type: fc.constant('status' as const), message: fc.constant('model loading' as const) }),
  fc.record({ type: fc.constant('error' as const), code: text, message: text }),
);
const TYPES = new Set(['sources', 'token', 'done', 'insufficient', 'status', 'error']);

describe('parseServerFrame properties (fast-check)', () => {
  it('gives back every frame the server can send', () => {
    fc.assert(
      fc.property(serverFrame, (frame) => {
        expect(parseServerFrame(JSON.stringify(frame))).toEqual(frame);
      }),
    );
  });

  it('never throws on any text, and what it returns carries the fields the page reads', () => {
    const anyText = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.json({ maxDepth: 5 }),
      fc.record({ type: fc.constantFrom(...TYPES, 'toString', 'constructor'), content: fc.anything(), sources: fc.anything(), code: fc.anything(), message: fc.anything() }).map((value) => JSON.stringify(value)),
    );
    fc.assert(
      fc.property(anyText, (data) => {
        const frame = parseServerFrame(data);
        if (frame === undefined) return;
        expect(TYPES.has(frame.type)).toBe(true);
        if (frame.type === 'token') expect(typeof frame.content).toBe('string');
        if (frame.type === 'error') expect([typeof frame.code, typeof frame.message]).toEqual(['string', 'string']);
        if (frame.type === 'sources') for (const item of frame.sources) expect(typeof item.content).toBe('string');
      }),
      { numRuns: 200 },
    );
  });
});
