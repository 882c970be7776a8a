import { describe, expect, it } from 'vitest';
import { chatFrameWithin, Conversation, reconnectDelay } from './conversation.ts';

describe('Conversation history', () => {
  it('sends nothing before the first answer', () => {
    expect(new Conversation().history()).toEqual([]);
  });

  it('keeps finished exchanges in order as user/assistant messages', () => {
    const conversation = new Conversation();
    conversation.addExchange('What is pgvector?', 'A Postgres extension [1].');
    conversation.addExchange('Which index?', 'HNSW [2].');
    expect(conversation.history()).toEqual([
      { role: 'user', content: 'What is pgvector?' },
      { role: 'assistant', content: 'A Postgres extension [1].' },
      { role: 'user', content: 'Which index?' },
      { role: 'assistant', content: 'HNSW [2].' },
    ]);
  });

  it('drops the oldest exchanges beyond the limit and never starts with an answer', () => {
    const conversation = new Conversation();
    for (let turn = 1; turn <= 6; turn += 1) conversation.addExchange(`q${turn}`, `a${turn}`);
    expect(conversation.history(4).map((message) => message.content)).toEqual(['q5', 'a5', 'q6', 'a6']);
    expect(conversation.history(3).map((message) => message.content)).toEqual(['q6', 'a6']);
  });

  it('skips an exchange that produced no answer text', () => {
    const conversation = new Conversation();
    conversation.addExchange('stopped at once', '  ');
    expect(conversation.history()).toEqual([]);
  });
});

describe('reconnectDelay', () => {
  it('doubles from half a second up to a ten second cap', () => {
    const noJitter = () => 0;
    expect([0, 1, 2, 3, 4, 5, 10].map((attempt) => reconnectDelay(attempt, noJitter))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('adds at most 20 % jitter', () => {
    expect(reconnectDelay(0, () => 0.999)).toBeLessThanOrEqual(600);
    expect(reconnectDelay(0, () => 0.5)).toBe(550);
  });
});

describe('chatFrameWithin', () => {
  const history = [
    { role: 'user' as const, content: 'q1 '.repeat(100) },
    { role: 'assistant' as const, content: '答'.repeat(300) },
    { role: 'user' as const, content: 'q2' },
    { role: 'assistant' as const, content: 'a2' },
  ];

  it('sends the whole history when it fits', () => {
    expect(chatFrameWithin('next?', history, 16 * 1024)).toEqual({ type: 'chat', message: 'next?', history });
  });

  it('drops the oldest exchanges, counting UTF-8 bytes, until the frame fits', () => {
    // 300 CJK characters are 900 bytes: the first exchange cannot fit in 600.
    const frame = chatFrameWithin('next?', history, 600);
    expect(frame?.history).toEqual(history.slice(2));
    expect(new TextEncoder().encode(JSON.stringify(frame)).length).toBeLessThanOrEqual(600);
  });

  it('refuses a question that alone is over the limit', () => {
    expect(chatFrameWithin('问'.repeat(6000), [], 16 * 1024)).toBeUndefined();
  });
});
