import { describe, expect, it } from 'vitest';
import type { SearchHit } from '../contracts.ts';
import { buildChatPrompt, HISTORY_MESSAGE_MAX_CHARS, INSUFFICIENT_MESSAGE } from './prompt.ts';
import type { ChatMessage } from './types.ts';

/** A counter with the fake server's rules: one token per word, chatml markers included. */
const countWords = (text: string) => text.split(/\s+/).filter(Boolean).length;
const wordCounter = {
  countTokensEach: async (texts: string[]) => texts.map(countWords),
  countPromptTokens: async (messages: ChatMessage[]) =>
    messages.map((message) => `<|im_start|>${message.role}\n${message.content}<|im_end|>\n`).join('').concat('<|im_start|>assistant\n').split(/\s+/).filter(Boolean).length,
};

const hit = (rank: number, words = 5): SearchHit => ({
  documentId: 'doc',
  source: 'guide.md',
  chunkIndex: rank,
  content: Array.from({ length: words }, (_, index) => `r${rank}w${index}`).join(' '),
  score: 1 - rank / 10,
  metadata: {},
});

describe('buildChatPrompt', () => {
  it('puts the rules and the numbered context in the system message, then history, then the question', async () => {
    const prompt = await buildChatPrompt(
      { question: 'What is it?', hits: [hit(0), hit(1)], history: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }] },
      { contextTokens: 4096, maxTokens: 512, historyMessages: 6 },
      wordCounter,
    );
    const [system, ...rest] = prompt.messages;
    expect(system!.role).toBe('system');
    expect(system!.content).toContain(`reply exactly: ${INSUFFICIENT_MESSAGE}`);
    expect(system!.content).toContain('[1] (guide.md#0) r0w0');
    expect(system!.content).toContain('[2] (guide.md#1) r1w0');
    expect(rest).toEqual([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'What is it?' }]);
    expect(prompt.sources.map((source) => source.n)).toEqual([1, 2]);
    expect(prompt.answerTokens).toBe(512);
    expect(prompt.promptTokens).toBe(await wordCounter.countPromptTokens(prompt.messages));
  });

  it('keeps only the most recent history messages and truncates long ones', async () => {
    const history = Array.from({ length: 10 }, (_, index) => ({ role: index % 2 ? ('assistant' as const) : ('user' as const), content: `turn${index} ${'x'.repeat(index === 9 ? HISTORY_MESSAGE_MAX_CHARS + 50 : 1)}` }));
    const prompt = await buildChatPrompt({ question: 'q', hits: [hit(0)], history }, { contextTokens: 4096, maxTokens: 100, historyMessages: 3 }, wordCounter);
    const kept = prompt.messages.slice(1, -1);
    expect(kept.map((message) => message.content.split(' ')[0])).toEqual(['turn7', 'turn8', 'turn9']);
    expect(kept.at(-1)!.content.length).toBeLessThanOrEqual(HISTORY_MESSAGE_MAX_CHARS + 1);
  });

  it('drops the lowest-ranked chunks first, then the oldest history, to fit the window less the answer', async () => {
    const history = [{ role: 'user' as const, content: 'old question words here' }, { role: 'assistant' as const, content: 'old answer words here' }];
    const hits = Array.from({ length: 6 }, (_, rank) => hit(rank, 20));
    const budget = { contextTokens: 160, maxTokens: 60, historyMessages: 6 };
    const prompt = await buildChatPrompt({ question: 'what now', hits, history }, budget, wordCounter);
    expect(prompt.promptTokens).toBeLessThanOrEqual(budget.contextTokens - budget.maxTokens);
    expect(prompt.sources.map((source) => source.chunkIndex)).toEqual(hits.slice(0, prompt.sources.length).map((source) => source.chunkIndex));
    expect(prompt.droppedChunks).toBeGreaterThan(0);
    expect(prompt.droppedHistory).toBe(0);

    const tight = await buildChatPrompt({ question: 'what now', hits, history }, { ...budget, contextTokens: 124 }, wordCounter);
    expect(tight.sources).toHaveLength(1);
    expect(tight.droppedHistory).toBeGreaterThan(0);
    expect(tight.promptTokens).toBeLessThanOrEqual(124 - 60);
  });

  it('cuts the best chunk short when it alone does not fit', async () => {
    const budget = { contextTokens: 256, maxTokens: 64, historyMessages: 6 };
    const prompt = await buildChatPrompt({ question: 'what now', hits: [hit(0, 400), hit(1, 400)] }, budget, wordCounter);
    expect(prompt.truncatedChunk).toBe(true);
    expect(prompt.sources.map((source) => source.n)).toEqual([1]);
    expect(prompt.promptTokens).toBeLessThanOrEqual(256 - 64);
    expect(prompt.messages[0]!.content).toContain('[1] (guide.md#0) r0w0 r0w1');
  });

  it('refuses with message_too_long when the question leaves no room for one chunk', async () => {
    await expect(
      buildChatPrompt({ question: 'word '.repeat(200), hits: [hit(0)] }, { contextTokens: 256, maxTokens: 64, historyMessages: 6 }, wordCounter),
    ).rejects.toMatchObject({ code: 'message_too_long', status: 400 });
  });

  it('keeps half the window for the prompt when LLM_MAX_TOKENS is as large as the window', async () => {
    const prompt = await buildChatPrompt({ question: 'q', hits: [hit(0)] }, { contextTokens: 512, maxTokens: 4096, historyMessages: 0 }, wordCounter);
    expect(prompt.answerTokens).toBe(256);
  });
});
