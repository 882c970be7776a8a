import { describe, expect, it } from 'vitest';
import { parseServerFrame } from './protocol.ts';

describe('parseServerFrame', () => {
  it('accepts the frames of the ws-chat protocol', () => {
    const sources = { type: 'sources', sources: [{ n: 1, source: 'a.md', chunk_index: 0, score: 0.9, content: 'x' }] };
    expect(parseServerFrame(JSON.stringify(sources))).toEqual(sources);
    expect(parseServerFrame('{"type":"token","content":"Hi"}')).toEqual({ type: 'token', content: 'Hi' });
    expect(parseServerFrame('{"type":"done","finish_reason":"stop"}')).toEqual({ type: 'done', finish_reason: 'stop' });
    expect(parseServerFrame('{"type":"insufficient","message":"资料不足","best_score":null,"reason":"no_results"}')?.type).toBe('insufficient');
  });

  it('ignores what the page cannot use instead of throwing', () => {
    expect(parseServerFrame('not json')).toBeUndefined();
    expect(parseServerFrame('[1,2]')).toBeUndefined();
    expect(parseServerFrame('{"type":"toString"}')).toBeUndefined();
    expect(parseServerFrame('{"type":"token"}')).toBeUndefined();
    expect(parseServerFrame('{"type":"sources","sources":[{"n":1}]}')).toBeUndefined();
    expect(parseServerFrame('{"type":"telemetry"}')).toBeUndefined();
  });
});
