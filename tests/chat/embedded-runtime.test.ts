// /ws/llm on the EMBEDDED runtime (node-llama-cpp in this process) with the real stories260K
// fixture: what a user of `npm start` without LLM_BASE_URL gets. The model writes children's
// stories: these tests assert protocol, frame order, freed sequences and the loading status,
// never the wording of an answer nor its speed (bench/embedded-chat.ts measures that).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectChatSocket, type ChatSocketClient } from '../../scripts/eval/chat-socket-client.ts';
import { serveWsChatForTest } from '../support/ws-chat-server.ts';
import { loadConfig } from '../../lib/config.ts';
import { createEmbeddedChatModel, type EmbeddedChatModel } from '../../lib/llm/embedded/embedded-chat-model.ts';
import type { ChatMessage, ChatStreamEvent } from '../../lib/llm/types.ts';
import { fixtureChatModel } from '../support/chat-model-fixture.ts';
import { frameOutline as outline, frameTypes as types, gardenDocuments as documents, gardenQuestion as question } from '../support/garden-chat.ts';

/** The answer budget of a "long" answer: surely still decoding when the test acts on it. */
const LONG_ANSWER_TOKENS = '1000';
/** A freed sequence starts the next answer at once; a stuck one never would. */
const NEXT_ANSWER_DEADLINE_MS = 1_000;

const sockets: ChatSocketClient[] = [];
const models: EmbeddedChatModel[] = [];
afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.close()));
  await Promise.all(models.map((model) => model.close()));
});

function settingsFor(environment: Record<string, string>) {
  const config = loadConfig({ LLM_MODEL_FILE: fixtureChatModel(), LLM_MAX_TOKENS: '64', LLM_TEMPERATURE: '0', ...environment });
  return { config, settings: { ...config.llm, ...config.llm.embedded } };
}

async function embeddedModel(environment: Record<string, string> = {}, options: { load?: boolean } = {}) {
  const { settings } = settingsFor(environment);
  const model = createEmbeddedChatModel(settings);
  models.push(model);
  if (options.load !== false) await model.load(fixtureChatModel());
  return model;
}

async function serve(model: EmbeddedChatModel, environment: Record<string, string> = {}) {
  return serveWsChatForTest({ documents, environment: { LLM_MODEL_FILE: fixtureChatModel(), LLM_MAX_TOKENS: '64', ...environment }, chatModel: model });
}

async function connect(url: string) {
  const socket = await connectChatSocket(url);
  sockets.push(socket);
  return socket;
}


async function collect(events: AsyncIterable<ChatStreamEvent>) {
  const tokens: string[] = [];
  for await (const event of events) {
    if (event.type === 'token') tokens.push(event.content);
    else return { tokens, done: event };
  }
  throw new Error('the stream ended without done');
}

describe('the embedded chat model (node-llama-cpp, stories260K)', () => {
  let model: EmbeddedChatModel;
  beforeAll(async () => {
    model = await embeddedModel({ LLM_PARALLEL: '2' });
  });

  it('reports the context it created as the window: the training context caps it', async () => {
    expect(await model.contextWindow()).toBe(2048);
    const bounded = await embeddedModel({ LLM_CONTEXT_TOKENS: '1024', LLM_PARALLEL: '1' });
    expect(await bounded.contextWindow()).toBe(1024);
  });

  it('counts a prompt exactly as the sequence evaluates it (the GGUF tokenizer and chat template)', async () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You answer from the context. Context: [1] The garden has beans.' },
      { role: 'user', content: question },
    ];
    // Twice: the second prompt shares the sequence's cached prefix, and must still count whole.
    for (const prompt of [messages, [...messages, { role: 'assistant' as const, content: 'Beans.' }, { role: 'user' as const, content: 'And what else?' }]]) {
      const counted = await model.countPromptTokens(prompt);
      const { done } = await collect(model.stream(prompt, { maxTokens: 8 }));
      expect(done.usage?.promptTokens).toBe(counted);
      expect(done.usage?.completionTokens).toBeGreaterThan(0);
    }
    expect(await model.countTokensEach(['The garden has beans.', '花园里有豆子。'])).toEqual([await model.countTokens('The garden has beans.'), await model.countTokens('花园里有豆子。')]);
  });
});

describe('GET /ws/llm on the embedded runtime', () => {
  it('streams sources, then tokens, then done with usage', async () => {
    const model = await embeddedModel();
    const served = await serve(model);
    try {
      const socket = await connect(served.url);
      const frames = await socket.ask({ type: 'chat', message: question }, 30_000);
      expect(frames[0]!.type, outline(frames)).toBe('sources');
      expect(types(frames).slice(1, -1).every((type) => type === 'token')).toBe(true);
      expect(frames.filter((frame) => frame.type === 'token').length).toBeGreaterThan(0);
      expect(frames.at(-1)).toMatchObject({ type: 'done', finish_reason: expect.stringMatching(/^(stop|length)$/), usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) } });
    } finally {
      await served.close();
    }
  });

  it('sends a "model loading" status while the model loads, then answers', async () => {
    const model = await embeddedModel({}, { load: false });
    const served = await serve(model, { LLM_READY_WAIT_MS: '60000' });
    try {
      const socket = await connect(served.url);
      const from = socket.frames.length;
      socket.send({ type: 'chat', message: question });
      await socket.waitFor((frame) => frame.type === 'status', { from, timeoutMs: 10_000 });
      expect((await model.health()).status).toBe('loading');
      await model.load(fixtureChatModel());
      const done = await socket.waitFor((frame) => frame.type === 'done', { from, timeoutMs: 30_000 });
      const frames = socket.frames.slice(from);
      expect(types(frames).slice(0, 2), outline(frames)).toEqual(['status', 'sources']);
      expect(frames[0]).toMatchObject({ type: 'status', message: 'model loading' });
      expect(done).toMatchObject({ type: 'done', finish_reason: expect.stringMatching(/^(stop|length)$/) });
      expect(await model.health()).toEqual({ status: 'ready', detail: 'model loaded' });
    } finally {
      await served.close();
    }
  });

  it('frees the sequence on cancel: the next chat on the same socket streams within a second', async () => {
    // One sequence and no queue: a sequence left busy would turn the next chat into `busy`.
    const model = await embeddedModel({ LLM_PARALLEL: '1', LLM_QUEUE_LIMIT: '0' });
    const served = await serve(model, { LLM_MAX_TOKENS: LONG_ANSWER_TOKENS });
    try {
      const socket = await connect(served.url);
      let from = socket.frames.length;
      socket.send({ type: 'chat', message: question });
      await socket.waitFor((frame) => frame.type === 'token', { from, timeoutMs: 30_000 });
      socket.send({ type: 'cancel' });
      const cancelled = await socket.waitFor((frame) => frame.type === 'done', { from, timeoutMs: 5_000 });
      expect(cancelled).toMatchObject({ type: 'done', finish_reason: 'cancelled' });

      from = socket.frames.length;
      socket.send({ type: 'chat', message: question });
      await socket.waitFor((frame) => frame.type === 'token', { from, timeoutMs: NEXT_ANSWER_DEADLINE_MS });
      socket.send({ type: 'cancel' });
      await socket.waitFor((frame) => frame.type === 'done', { from, timeoutMs: 5_000 });

      // A closed socket frees it too: another socket then gets an answer, not `busy`.
      const closing = await connect(served.url);
      closing.send({ type: 'chat', message: question });
      await closing.waitFor((frame) => frame.type === 'token', { timeoutMs: 10_000 });
      await closing.close();
      const next = await connect(served.url);
      const frames = await next.ask({ type: 'chat', message: question, top_k: 1 }, 60_000);
      expect(frames.some((frame) => frame.type === 'error'), outline(frames)).toBe(false);
      expect(frames.some((frame) => frame.type === 'token')).toBe(true);
    } finally {
      await served.close();
    }
  });

  it('answers two sockets at once on two sequences', async () => {
    const model = await embeddedModel({ LLM_PARALLEL: '2' });
    const served = await serve(model, { LLM_MAX_TOKENS: '400' });
    try {
      const [first, second] = await Promise.all([connect(served.url), connect(served.url)]);
      const answers = await Promise.all([first!.ask({ type: 'chat', message: question }, 60_000), second!.ask({ type: 'chat', message: question }, 60_000)]);
      for (const frames of answers) {
        expect(frames.at(-1), outline(frames)).toMatchObject({ type: 'done', finish_reason: expect.stringMatching(/^(stop|length)$/) });
        expect(frames.filter((frame) => frame.type === 'token').length).toBeGreaterThan(0);
      }
      // Evaluated side by side, not one after the other: each started before the other ended.
      const [a, b] = answers.map((frames) => ({ firstToken: frames.find((frame) => frame.type === 'token')!.receivedAtMs, done: frames.at(-1)!.receivedAtMs }));
      expect(a!.firstToken).toBeLessThan(b!.done);
      expect(b!.firstToken).toBeLessThan(a!.done);
    } finally {
      await served.close();
    }
  });

  it('answers busy when every sequence is answering and the queue is full', async () => {
    const model = await embeddedModel({ LLM_PARALLEL: '1', LLM_QUEUE_LIMIT: '0' });
    const served = await serve(model, { LLM_MAX_TOKENS: LONG_ANSWER_TOKENS });
    try {
      const [first, second] = await Promise.all([connect(served.url), connect(served.url)]);
      first!.send({ type: 'chat', message: question });
      await first!.waitFor((frame) => frame.type === 'token', { timeoutMs: 30_000 });
      const frames = await second!.ask({ type: 'chat', message: question }, 30_000);
      expect(frames.find((frame) => frame.type === 'error'), outline(frames)).toMatchObject({ type: 'error', code: 'busy' });
      expect(frames.at(-1)).toMatchObject({ type: 'done', finish_reason: 'error' });
      first!.send({ type: 'cancel' });
      await first!.waitFor((frame) => frame.type === 'done', { timeoutMs: 5_000 });
    } finally {
      await served.close();
    }
  });

  it('queues a chat beyond the sequences and answers it when one frees', async () => {
    const model = await embeddedModel({ LLM_PARALLEL: '1', LLM_QUEUE_LIMIT: '1' });
    const served = await serve(model, { LLM_MAX_TOKENS: '200' });
    try {
      const [first, second] = await Promise.all([connect(served.url), connect(served.url)]);
      const answers = await Promise.all([first!.ask({ type: 'chat', message: question }, 60_000), second!.ask({ type: 'chat', message: question }, 60_000)]);
      for (const frames of answers) expect(frames.at(-1), outline(frames)).toMatchObject({ type: 'done', finish_reason: expect.stringMatching(/^(stop|length)$/) });
    } finally {
      await served.close();
    }
  });
});
