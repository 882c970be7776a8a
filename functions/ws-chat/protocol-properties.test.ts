import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClientFrame } from './chat-session.ts';
import { clientFrameSchema, MAX_CLIENT_TOP_K, MAX_HISTORY_ITEMS } from './protocol.ts';

const MAX_FRAME_BYTES = 16 * 1024;
const utf8Size = (text: string) => new TextEncoder().encode(text).length;

const historyMessage = fc.record({ role: fc.constantFrom('user' as const, 'assistant' as const), content: fc.string({ unit: 'grapheme', maxLength: 40 }) });
const chatFrame = fc.record(
  {
    type: fc.constant('chat' as const),
    message: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }).filter((message) => message.trim() !== ''),
    history: fc.array(historyMessage, { maxLength: 5 }),
    top_k: fc.integer({ min: 1, max: MAX_CLIENT_TOP_K }),
  },
  { requiredKeys: ['type', 'message'] },
);
const validFrame = fc.oneof(chatFrame, fc.constant({ type: 'cancel' as const }));
/** What a careless or hostile client sends: any JSON, any text, frames with one field wrong, deep nesting, binary. */
const anyFrame = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.json({ maxDepth: 6 }),
  fc.jsonValue().map((value) => JSON.stringify({ type: 'chat', message: value })),
  fc.record({ type: fc.constantFrom('chat', 'cancel', 'toString', '__proto__', ''), message: fc.anything(), history: fc.anything(), top_k: fc.anything() }).map((value) => JSON.stringify(value)),
  fc.integer({ min: 1, max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 1, max: 5000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.uint8Array({ maxLength: 64 }),
);

describe('parseClientFrame properties (fast-check)', () => {
  it('never throws, and every accepted frame satisfies the protocol schema', () => {
    fc.assert(
      fc.property(anyFrame, (data) => {
        const parsed = parseClientFrame(data, MAX_FRAME_BYTES);
        if (parsed.ok) expect(clientFrameSchema.safeParse(parsed.frame).success).toBe(true);
        else expect(parsed.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts every valid frame as sent, trimming only the message', () => {
    fc.assert(
      fc.property(validFrame, (frame) => {
        const parsed = parseClientFrame(JSON.stringify(frame), MAX_FRAME_BYTES);
        expect(parsed).toEqual({ ok: true, frame: frame.type === 'chat' ? { ...frame, message: frame.message.trim() } : frame });
      }),
    );
  });

  it('takes any non-blank text that is not JSON as the question itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }).filter((text) => text.trim() !== '' && !/^[{[]/.test(text.trim())), (text) => {
        expect(parseClientFrame(text, MAX_FRAME_BYTES)).toEqual({ ok: true, frame: { type: 'chat', message: text.trim() } });
      }),
    );
  });

  it('refuses exactly the frames over the byte limit, counted in UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.integer({ min: 16, max: 600 }), (text, limit) => {
        const parsed = parseClientFrame(text, limit);
        expect(!parsed.ok && parsed.code === 'frame_too_large').toBe(utf8Size(text) > limit);
      }),
    );
  });

  it('refuses a history longer than the protocol allows with a message naming the field', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_HISTORY_ITEMS + 1, max: MAX_HISTORY_ITEMS + 20 }), (length) => {
        const frame = JSON.stringify({ type: 'chat', message: 'hi', history: Array.from({ length }, () => ({ role: 'user', content: 'x' })) });
        expect(parseClientFrame(frame, MAX_FRAME_BYTES)).toMatchObject({ ok: false, code: 'bad_request', message: expect.stringContaining('history') });
      }),
      { numRuns: 20 },
    );
  });
});
