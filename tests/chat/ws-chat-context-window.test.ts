// The context budget against a REAL llama-server with a small window (512 tokens a slot):
// the prompt ws-chat sends must never be one the server refuses for length.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectChatSocket, type ChatSocketClient } from '../../scripts/eval/chat-socket-client.ts';
import { serveWsChatForTest } from '../support/ws-chat-server.ts';
import { loadConfig } from '../../lib/config.ts';
import { createChatModel } from '../../lib/llm/chat-model.ts';
import { buildChatPrompt } from '../../lib/llm/prompt.ts';
import { estimateTokens } from '../../lib/llm/token-estimate.ts';
import { startLlamaServer, type RunningLlamaServer } from '../support/llama-server.ts';
import { frameOutline as outline, frameTypes as types, gardenQuestion as question } from '../support/garden-chat.ts';

// The first run compiles llama.cpp (about 7 minutes on 2 cores); later runs start in < 1 s.
const firstBuildTimeoutMs = 20 * 60_000;
const sockets: ChatSocketClient[] = [];

afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.close()));
});

function environmentFor(server: RunningLlamaServer, overrides: Record<string, string> = {}) {
  return { LLM_BASE_URL: server.baseURL, LLM_API_KEY: server.apiKey, LLM_TIMEOUT_MS: '30000', ...overrides };
}

async function connect(url: string) {
  const socket = await connectChatSocket(url);
  sockets.push(socket);
  return socket;
}


describe('GET /ws/llm with a small llama-server context (512 tokens a slot)', () => {
  let small: RunningLlamaServer;
  beforeAll(async () => {
    small = await startLlamaServer({ parallel: 1, ctxSize: 512 });
  }, firstBuildTimeoutMs);
  afterAll(async () => {
    await small?.stop();
  });

  const longDocuments = [
    {
      source: 'long-garden.md',
      content: Array.from(
        { length: 12 },
        (_, index) => `The little garden grows in summer: chunk ${index}. ${Array.from({ length: 8 }, (_, word) => `leaf${index}x${word}`).join(' ')}`,
      ).join('\n\n'),
    },
  ];
  const history = Array.from({ length: 6 }, (_, index) => ({ role: index % 2 ? ('assistant' as const) : ('user' as const), content: `Earlier turn ${index}: ${'once upon a time '.repeat(20)}` }));
  const smallEnvironment = () => environmentFor(small, { LLM_CONTEXT_TOKENS: '512', LLM_MAX_TOKENS: '128', RAG_TOP_K: '10' });

  it('never sends a prompt the server rejects for length: drops chunks and history instead', async () => {
    const environment = smallEnvironment();
    const chatModel = createChatModel(loadConfig(environment).llm);
    const served = await serveWsChatForTest({ documents: longDocuments, environment, chatModel, minScore: 0.05 });
    try {
      const socket = await connect(served.url);
      const frames = await socket.ask({ type: 'chat', message: question, history }, 30_000);
      expect(frames.at(-1), outline(frames)).toMatchObject({ type: 'done', finish_reason: expect.stringMatching(/^(stop|length)$/) });
      const done = frames.at(-1)!;
      if (done.type !== 'done' || !done.usage) throw new Error('no usage in done');
      expect(done.usage.prompt_tokens).toBeLessThanOrEqual(512 - 128);
      const sources = frames[0]!;
      if (sources.type !== 'sources') throw new Error('first frame is not sources');
      expect(sources.sources.length).toBeGreaterThan(0);
      expect(sources.sources.length).toBeLessThan(10);

      // Control: the same material without the budget is what the server refuses.
      const unbounded = await buildChatPrompt(
        { question, hits: (await served.retrieve(question)).slice(0, 10), history },
        { contextTokens: 1_000_000, maxTokens: 128, historyMessages: 6 },
        chatModel,
      );
      const client = new OpenAI({ baseURL: small.baseURL, apiKey: small.apiKey, maxRetries: 0 });
      await expect(client.chat.completions.create({ model: 'any', messages: unbounded.messages, max_tokens: 128 })).rejects.toMatchObject({ status: 400 });
    } finally {
      await served.close();
    }
  });

  it('refuses a question too long for the window with message_too_long, before the model', async () => {
    const served = await serveWsChatForTest({ documents: longDocuments, environment: smallEnvironment(), minScore: 0.05 });
    try {
      const socket = await connect(served.url);
      const frames = await socket.ask({ type: 'chat', message: `${question} ${'garden '.repeat(400)}` }, 30_000);
      expect(types(frames)).toEqual(['error', 'done']);
      expect(frames[0]).toMatchObject({ code: 'message_too_long' });
    } finally {
      await served.close();
    }
  });

  it('estimates no fewer tokens than the real tokenizer counts', async () => {
    const chatModel = createChatModel(loadConfig(smallEnvironment()).llm);
    const samples = ['Once upon a time there was a little garden.', '向量检索与资料不足的回答。', 'const x = await fetch(`${origin}/health`); // ✓ 🌻', ' \n\t spaced  out \n'];
    for (const sample of samples) expect(estimateTokens(sample)).toBeGreaterThanOrEqual(await chatModel.countTokens(sample));
  });
});
