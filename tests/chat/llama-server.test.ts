// Smoke test of the llama-server test helper against the real binary and the fixture model.
// It asserts protocol and process behaviour only: the tiny model's text carries no meaning.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlamaServer, type RunningLlamaServer } from '../support/llama-server.ts';

// The first run compiles llama.cpp (about 7 minutes on 2 cores); later runs start in < 1 s.
const firstBuildTimeoutMs = 20 * 60_000;

interface SlotState {
  id: number;
  is_processing: boolean;
}

async function busySlotCount(server: RunningLlamaServer): Promise<number> {
  const response = await fetch(`${server.origin}/slots`, {
    headers: { Authorization: `Bearer ${server.apiKey}` },
  });
  expect(response.status).toBe(200);
  const slots = (await response.json()) as SlotState[];
  return slots.filter((slot) => slot.is_processing).length;
}

/** A streaming completion that keeps its slot generating until the client hangs up. */
function startEndlessStream(server: RunningLlamaServer, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.apiKey}`, 'Content-Type': 'application/json' },
    // ignore_eos and a large budget keep the slot generating until we hang up.
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 1900, ignore_eos: true, stream: true }),
    signal,
  });
}

describe('startLlamaServer', () => {
  let server: RunningLlamaServer;

  beforeAll(async () => {
    server = await startLlamaServer({ parallel: 2, ctxSize: 4096 });
  }, firstBuildTimeoutMs);

  afterAll(async () => {
    await server?.stop();
  });

  it('streams a chat completion to the openai client, ending with finish_reason and usage', async () => {
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'any',
      messages: [{ role: 'user', content: 'Tell me a story.' }],
      max_tokens: 24,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishReasons: string[] = [];
    let completionTokens = 0;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? '';
        if (choice.finish_reason) finishReasons.push(choice.finish_reason);
      }
      if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finishReasons).toHaveLength(1);
    expect(['length', 'stop']).toContain(finishReasons[0]);
    expect(completionTokens).toBeGreaterThan(0);
    expect(completionTokens).toBeLessThanOrEqual(24);
  });

  it('answers 401 with an authentication_error to a wrong API key', async () => {
    const response = await fetch(`${server.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { Authorization: 'Bearer wrong-key', 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { type: 'authentication_error' } });
  });

  it('frees the slot within a second when a streaming client disconnects', async () => {
    const controller = new AbortController();
    const response = await startEndlessStream(server, controller.signal);
    const reader = response.body!.getReader();
    await reader.read();
    expect(await busySlotCount(server)).toBe(1);

    controller.abort();
    const abortedAt = Date.now();
    while ((await busySlotCount(server)) > 0 && Date.now() - abortedAt < 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await busySlotCount(server)).toBe(0);
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
  });
});

describe('RunningLlamaServer.stop', () => {
  it('ends the process within 3 s even while a response is still streaming', async () => {
    const server = await startLlamaServer({ parallel: 1, ctxSize: 2048 });
    const response = await startEndlessStream(server);
    const reader = response.body!.getReader();
    await reader.read();

    const stopStartedAt = Date.now();
    await server.stop();
    await server.stop(); // a second call is harmless
    expect(Date.now() - stopStartedAt).toBeLessThan(3_000);
    expect(() => process.kill(server.pid, 0)).toThrow();
    await expect(fetch(`${server.origin}/health`)).rejects.toThrow();
    await reader.cancel().catch(() => {});
  }, firstBuildTimeoutMs);
});
