import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlmServer, unusedPort, type FakeLlmServer } from '../../tests/support/fake-llm-server.ts';
import { loadConfig } from '../config.ts';
import { createChatModel } from './chat-model.ts';
import { LlmError } from './errors.ts';
import { estimateTokens } from './token-estimate.ts';
import type { ChatModel, ChatStreamEvent } from './types.ts';

let fake: FakeLlmServer;
beforeAll(async () => {
  fake = await startFakeLlmServer();
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

function model(environment: Record<string, string> = {}): ChatModel {
  return createChatModel(loadConfig({ LLM_BASE_URL: fake.baseURL, LLM_TIMEOUT_MS: '1000', ...environment }).llm);
}

async function collect(events: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const collected: ChatStreamEvent[] = [];
  for await (const event of events) collected.push(event);
  return collected;
}

async function failure(events: AsyncIterable<ChatStreamEvent>): Promise<LlmError> {
  try {
    await collect(events);
  } catch (error) {
    if (error instanceof LlmError) return error;
    throw error;
  }
  throw new Error('the stream did not fail');
}

const question = [{ role: 'user' as const, content: 'hello' }];

describe('createChatModel().stream', () => {
  it('yields the tokens in order, then done with the finish reason and usage', async () => {
    const events = await collect(model({ LLM_MODEL: 'fixture.gguf', LLM_MAX_TOKENS: '42' }).stream(question));
    expect(events.filter((event) => event.type === 'token').map((event) => (event.type === 'token' ? event.content : ''))).toEqual(fake.tokens);
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'stop', usage: { promptTokens: expect.any(Number), completionTokens: fake.tokens.length, totalTokens: expect.any(Number) } });
    expect(fake.completionRequests[0]).toMatchObject({ model: 'fixture.gguf', max_tokens: 42, stream: true, stream_options: { include_usage: true } });
  });

  it('sends LLM_API_KEY, or a placeholder when unset, and never OPENAI_API_KEY', async () => {
    const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL };
    process.env.OPENAI_API_KEY = 'from-the-environment';
    process.env.OPENAI_BASE_URL = `http://127.0.0.1:${await unusedPort()}/v1`;
    try {
      await collect(model({ LLM_API_KEY: 'configured-key' }).stream(question));
      await collect(model().stream(question));
    } finally {
      process.env.OPENAI_API_KEY = saved.key;
      process.env.OPENAI_BASE_URL = saved.url;
      if (saved.key === undefined) delete process.env.OPENAI_API_KEY;
      if (saved.url === undefined) delete process.env.OPENAI_BASE_URL;
    }
    expect(fake.completionRequests).toHaveLength(2);
    expect(fake.authorizations).toEqual(['Bearer configured-key', 'Bearer no-key']);
  });

  it('ends with done cancelled and closes the request when the signal aborts', async () => {
    fake.tokens = Array.from({ length: 100 }, () => ' x');
    fake.tokenDelayMs = 10;
    const controller = new AbortController();
    const events: ChatStreamEvent[] = [];
    for await (const event of model().stream(question, { signal: controller.signal })) {
      events.push(event);
      if (events.length === 3) controller.abort();
    }
    expect(events.at(-1)).toMatchObject({ type: 'done', finishReason: 'cancelled' });
    expect(events.length).toBeLessThan(10);
    await fake.waitForNoOpenStreams(500);
    expect(fake.abortedStreams).toBe(1);
  });

  it('closes the request when the consumer stops reading', async () => {
    fake.tokens = Array.from({ length: 100 }, () => ' x');
    fake.tokenDelayMs = 10;
    for await (const event of model().stream(question)) if (event.type === 'token') break;
    await fake.waitForNoOpenStreams(500);
    expect(fake.abortedStreams).toBe(1);
  });

  it.each([
    ['unauthorized', 'llm_unauthorized'],
    ['error-500', 'llm_error'],
    ['loading', 'llm_loading'],
    ['disconnect', 'llm_stream_interrupted'],
    ['truncated', 'llm_stream_interrupted'],
    ['stall', 'llm_timeout'],
    ['stall-before-headers', 'llm_timeout'],
  ] as const)('maps %s to %s', async (mode, code) => {
    fake.mode = mode;
    expect((await failure(model({ LLM_TIMEOUT_MS: '300' }).stream(question))).code).toBe(code);
  });

  it('maps a prompt over the context to llm_context_exceeded', async () => {
    fake.contextTokens = 3;
    expect((await failure(model().stream(question))).code).toBe('llm_context_exceeded');
  });

  it('maps a refused connection to llm_unavailable', async () => {
    expect((await failure(model({ LLM_BASE_URL: `http://127.0.0.1:${await unusedPort()}/v1` }).stream(question))).code).toBe('llm_unavailable');
  });
});

describe('createChatModel().health', () => {
  it('reports ready, loading (503) and unavailable', async () => {
    expect((await model().health()).status).toBe('ready');
    fake.mode = 'loading';
    expect(await model().health()).toEqual({ status: 'loading', detail: 'model loading' });
    const down = await model({ LLM_BASE_URL: `http://127.0.0.1:${await unusedPort()}/v1` }).health();
    expect(down.status).toBe('unavailable');
    expect(down.detail).toContain('ECONNREFUSED');
  });
});

describe('createChatModel().countTokens', () => {
  it("uses the server's /tokenize and /apply-template", async () => {
    const chatModel = model();
    expect(await chatModel.countTokens('one two three')).toBe(3);
    // `<|im_start|>user\none two three<|im_end|>\n<|im_start|>assistant\n`: five words for the fake's tokenizer.
    expect(await chatModel.countPromptTokens([{ role: 'user', content: 'one two three' }])).toBe(5);
  });

  it('falls back to an upper-bound estimate where the server has no /tokenize', async () => {
    fake.extensions = false;
    const chatModel = model();
    const text = 'pgvector 向量检索 works';
    expect(await chatModel.countTokens(text)).toBe(estimateTokens(text));
    expect(await chatModel.countPromptTokens([{ role: 'user', content: text }])).toBeGreaterThan(estimateTokens(text));
  });

  it('refuses to count with a wrong API key rather than guessing', async () => {
    fake.apiKey = 'right';
    await expect(model({ LLM_API_KEY: 'wrong' }).countTokens('x')).rejects.toMatchObject({ code: 'llm_unauthorized' });
  });
});
