import { describe, expect, it } from 'vitest';
import { unusedPort } from '../support/fake-llm-server.ts';

import { relatedQuestion, useFakeLlmHarness } from '../support/fake-llm-harness.ts';

const harness = useFakeLlmHarness();
const { serve, connect } = harness;

const types = (frames: Array<{ type: string }>) => frames.map((frame) => frame.type);

describe('GET /ws/llm when the language model fails', () => {
  it.each([
    ['error-500', 'llm_error'],
    ['unauthorized', 'llm_unauthorized'],
  ] as const)('turns a %s into an %s error frame before any token', async (mode, code) => {
    harness.fake().mode = mode;
    const { url } = await serve();
    const socket = await connect(url);
    const frames = await socket.ask({ type: 'chat', message: relatedQuestion });
    expect(types(frames)).toEqual(['sources', 'error', 'done']);
    expect(frames[1]).toMatchObject({ code });
    expect(frames[2]).toMatchObject({ finish_reason: 'error' });
  });

  it.each([
    ['disconnect', 'llm_stream_interrupted'],
    ['truncated', 'llm_stream_interrupted'],
    ['stall', 'llm_timeout'],
  ] as const)('turns a mid-stream %s into an %s error frame after the tokens so far', async (mode, code) => {
    harness.fake().mode = mode;
    const { url } = await serve({ LLM_TIMEOUT_MS: '300' });
    const socket = await connect(url);
    const frames = await socket.ask({ type: 'chat', message: relatedQuestion });
    expect(types(frames)[0]).toBe('sources');
    expect(types(frames)).toContain('token');
    expect(types(frames).slice(-2)).toEqual(['error', 'done']);
    expect(frames.at(-2)).toMatchObject({ code });
    await harness.fake().waitForNoOpenStreams(1_000);
  });

  it('times out a server that never answers after LLM_TIMEOUT_MS', async () => {
    harness.fake().mode = 'stall-before-headers';
    const { url } = await serve({ LLM_TIMEOUT_MS: '300' });
    const socket = await connect(url);
    const started = performance.now();
    const frames = await socket.ask({ type: 'chat', message: relatedQuestion });
    expect(frames.at(-2)).toMatchObject({ type: 'error', code: 'llm_timeout' });
    expect(performance.now() - started).toBeLessThan(1_500);
    await harness.fake().waitForNoOpenStreams(1_000);
  });

  it('answers llm_unavailable at once when nothing listens at LLM_BASE_URL', async () => {
    const { url } = await serve({ LLM_BASE_URL: `http://127.0.0.1:${await unusedPort()}/v1` });
    const socket = await connect(url);
    const started = performance.now();
    const frames = await socket.ask({ type: 'chat', message: relatedQuestion });
    expect(types(frames)).toEqual(['error', 'done']);
    expect(frames[0]).toMatchObject({ code: 'llm_unavailable' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('GET /ws/llm and the context window', () => {
  it('keeps the prompt inside the context window by dropping the lowest-ranked chunks', async () => {
    harness.fake().contextTokens = 256;
    const manyChunks = [{ source: 'long.md', content: Array.from({ length: 8 }, (_, index) => `pgvector search embeddings PostgreSQL chunk ${index} ${Array.from({ length: 30 }, (_, word) => `filler${index}x${word}`).join(' ')}`).join('\n\n') }];
    const { url } = await serve({ LLM_CONTEXT_TOKENS: '256', LLM_MAX_TOKENS: '100', RAG_TOP_K: '8' }, { documents: manyChunks, minScore: 0.1 });
    const socket = await connect(url);
    const frames = await socket.ask({ type: 'chat', message: relatedQuestion });
    expect(types(frames).at(-1)).toBe('done');
    expect(frames.at(-1)).toMatchObject({ finish_reason: 'stop' });
    const sources = frames[0]!;
    if (sources.type !== 'sources') throw new Error('first frame is not sources');
    expect(sources.sources.length).toBeGreaterThan(0);
    expect(sources.sources.length).toBeLessThan(8);
    expect(harness.fake().completionRequests[0]!.max_tokens).toBe(100);
    const done = frames.at(-1)!;
    if (done.type !== 'done') throw new Error('last frame is not done');
    expect(done.usage!.prompt_tokens + 100).toBeLessThanOrEqual(256);
  });

  it('refuses a question that cannot fit the context window with message_too_long, without calling the model', async () => {
    const { url } = await serve({ LLM_CONTEXT_TOKENS: '256', LLM_MAX_TOKENS: '64' });
    const socket = await connect(url);
    const frames = await socket.ask({ type: 'chat', message: `${relatedQuestion} ${'pgvector '.repeat(300)}` });
    expect(types(frames)).toEqual(['error', 'done']);
    expect(frames[0]).toMatchObject({ code: 'message_too_long' });
    expect(harness.fake().completionRequests).toHaveLength(0);
  });
});
