// /ws/llm against a REAL llama-server with the stories260K fixture. The model writes
// children's stories: these tests assert protocol, frame order, slot state and deadlines
// (a freed slot, a timeout), never the wording of an answer nor its speed (bench/chat.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectChatSocket, type ChatSocketClient } from '../../scripts/eval/chat-socket-client.ts';
import { serveWsChatForTest } from '../support/ws-chat-server.ts';
import { retryingStaleConnections } from '../../lib/llm/stale-connection-retry.ts';
import { unusedPort } from '../support/fake-llm-server.ts';
import { startLlamaServer, type RunningLlamaServer } from '../support/llama-server.ts';
import { frameOutline as outline, frameTypes as types, gardenDocuments as documents, gardenQuestion as question } from '../support/garden-chat.ts';

// The first run compiles llama.cpp (about 7 minutes on 2 cores); later runs start in < 1 s.
const firstBuildTimeoutMs = 20 * 60_000;


let llama: RunningLlamaServer;
const sockets: ChatSocketClient[] = [];

beforeAll(async () => {
  // 2 slots of 2048 tokens (the fixture's training context caps a slot at 2048 anyway).
  llama = await startLlamaServer({ parallel: 2, ctxSize: 4096 });
}, firstBuildTimeoutMs);
afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.close()));
  await llama?.stop();
});

function environmentFor(server: RunningLlamaServer, overrides: Record<string, string> = {}) {
  return { LLM_BASE_URL: server.baseURL, LLM_API_KEY: server.apiKey, LLM_CONTEXT_TOKENS: '2048', LLM_MAX_TOKENS: '64', LLM_TIMEOUT_MS: '30000', ...overrides };
}

async function connect(url: string) {
  const socket = await connectChatSocket(url);
  sockets.push(socket);
  return socket;
}

// llama-server may close a kept-alive connection right after a stream; see stale-connection-retry.ts.
const retryingFetch = retryingStaleConnections(fetch);

async function slots(server: RunningLlamaServer): Promise<Array<{ id: number; is_processing: boolean }>> {
  const response = await retryingFetch(`${server.origin}/slots`, { headers: { Authorization: `Bearer ${server.apiKey}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Array<{ id: number; is_processing: boolean }>;
}

const busySlots = async (server: RunningLlamaServer) => (await slots(server)).filter((slot) => slot.is_processing).length;

describe('GET /ws/llm with a real llama-server', () => {
  it('streams sources, then tokens, then done with usage', async () => {
    const served = await serveWsChatForTest({ documents, environment: environmentFor(llama) });
    try {
      const socket = await connect(served.url);
      const frames = await socket.ask({ type: 'chat', message: question }, 30_000);
      expect(frames[0]!.type).toBe('sources');
      expect(types(frames).slice(1, -1).every((type) => type === 'token')).toBe(true);
      expect(frames.filter((frame) => frame.type === 'token').length).toBeGreaterThan(0);
      const done = frames.at(-1)!;
      expect(done).toMatchObject({ type: 'done', finish_reason: expect.stringMatching(/^(stop|length)$/), usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) } });
      expect(await busySlots(llama)).toBe(0);
    } finally {
      await served.close();
    }
  });

  it('frees the llama-server slot at once on cancel', async () => {
    // A long answer (1024 tokens) so the slot is surely still decoding when cancel arrives.
    const served = await serveWsChatForTest({ documents, environment: environmentFor(llama, { LLM_MAX_TOKENS: '1024', LLM_TEMPERATURE: '1' }) });
    try {
      const socket = await connect(served.url);
      socket.send({ type: 'chat', message: question });
      await socket.waitFor((frame) => frame.type === 'token', { timeoutMs: 30_000 });
      expect(await busySlots(llama)).toBe(1);
      const cancelledAt = performance.now();
      socket.send({ type: 'cancel' });
      const done = await socket.waitFor((frame) => frame.type === 'done');
      expect(done).toMatchObject({ finish_reason: 'cancelled' });
      while ((await busySlots(llama)) > 0) {
        expect(performance.now() - cancelledAt).toBeLessThan(1_000);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const idleMs = performance.now() - cancelledAt;
      console.info(`[ws-chat] cancel -> slot idle: ${idleMs.toFixed(1)} ms`);
      // The same socket answers again afterwards.
      expect(types(await socket.ask({ type: 'chat', message: question }, 30_000))[0]).toBe('sources');
    } finally {
      await served.close();
    }
  });

  it('frees the slot when the socket closes mid-answer', async () => {
    const served = await serveWsChatForTest({ documents, environment: environmentFor(llama, { LLM_MAX_TOKENS: '1024', LLM_TEMPERATURE: '1' }) });
    try {
      const socket = await connectChatSocket(served.url);
      socket.send({ type: 'chat', message: question });
      await socket.waitFor((frame) => frame.type === 'token', { timeoutMs: 30_000 });
      const closedAt = performance.now();
      await socket.close();
      while ((await busySlots(llama)) > 0) {
        expect(performance.now() - closedAt).toBeLessThan(1_000);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      await served.close();
    }
  });

  it('answers a wrong LLM_API_KEY with an llm_unauthorized error frame', async () => {
    const served = await serveWsChatForTest({ documents, environment: environmentFor(llama, { LLM_API_KEY: 'not-the-key' }) });
    try {
      const socket = await connect(served.url);
      const frames = await socket.ask({ type: 'chat', message: question }, 30_000);
      expect(types(frames).slice(-2)).toEqual(['error', 'done']);
      expect(frames.at(-2)).toMatchObject({ code: 'llm_unauthorized', message: expect.stringContaining('LLM_API_KEY') });
    } finally {
      await served.close();
    }
  });

  it('answers with an llm_unavailable error frame when llama-server is down, and stays usable', async () => {
    const served = await serveWsChatForTest({ documents, environment: environmentFor(llama, { LLM_BASE_URL: `http://127.0.0.1:${await unusedPort()}/v1` }) });
    try {
      const socket = await connect(served.url);
      for (let attempt = 0; attempt < 2; attempt++) {
        const frames = await socket.ask({ type: 'chat', message: question });
        expect(types(frames)).toEqual(['error', 'done']);
        expect(frames[0]).toMatchObject({ code: 'llm_unavailable' });
      }
    } finally {
      await served.close();
    }
  });

  it('answers with an error frame when llama-server dies in the middle of an answer', async () => {
    const doomed = await startLlamaServer({ parallel: 1, ctxSize: 2048 });
    const served = await serveWsChatForTest({ documents, environment: environmentFor(doomed, { LLM_MAX_TOKENS: '1024', LLM_TEMPERATURE: '1' }) });
    try {
      const socket = await connect(served.url);
      socket.send({ type: 'chat', message: question });
      await socket.waitFor((frame) => frame.type === 'token', { timeoutMs: 30_000 });
      await doomed.stop();
      const end = await socket.waitFor((frame) => frame.type === 'error' || frame.type === 'done');
      // A server that stops gracefully may still end the answer; one that dies cuts it.
      if (end.type === 'error') expect(end.code).toMatch(/^llm_(stream_interrupted|error|unavailable)$/);
      const done = await socket.waitFor((frame) => frame.type === 'done');
      expect(['stop', 'length', 'error']).toContain(done.type === 'done' ? done.finish_reason : '');
      expect(socket.socket.readyState).toBe(socket.socket.OPEN);
    } finally {
      await served.close();
      await doomed.stop();
    }
  });

  it('answers 20 concurrent sockets, queued on 2 slots', async () => {
    const served = await serveWsChatForTest({ documents, environment: environmentFor(llama) });
    try {
      const clients = await Promise.all(Array.from({ length: 20 }, () => connect(served.url)));
      let maxBusy = 0;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          maxBusy = Math.max(maxBusy, await busySlots(llama));
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      const started = performance.now();
      const answers = await Promise.all(clients.map((client) => client.ask({ type: 'chat', message: question }, 60_000)));
      const wallMs = performance.now() - started;
      polling = false;
      await poller;
      for (const frames of answers) {
        expect(frames[0]!.type).toBe('sources');
        expect(frames.at(-1)).toMatchObject({ type: 'done', finish_reason: expect.stringMatching(/^(stop|length)$/) });
      }
      expect(maxBusy).toBeLessThanOrEqual(2);
      console.info(`[ws-chat] 20 concurrent sockets answered in ${wallMs.toFixed(0)} ms (max busy slots ${maxBusy})`);
    } finally {
      await served.close();
    }
  });

  it('forwards the answer token by token as llama-server streams it, not gathered into a few frames', async () => {
    // How fast (TTFT, tokens/s against the direct stream) is bench/chat.ts's to measure, not a test's.
    const served = await serveWsChatForTest({ documents, environment: environmentFor(llama, { LLM_TEMPERATURE: '0', LLM_MAX_TOKENS: '256' }) });
    try {
      const socket = await connect(served.url);
      const frames = await socket.ask({ type: 'chat', message: question }, 30_000);
      const tokens = frames.filter((frame) => frame.type === 'token');
      const done = frames.at(-1) as { type: string; usage?: { completion_tokens: number } };
      expect(done.type, outline(frames)).toBe('done');
      const generated = done.usage!.completion_tokens;
      expect(generated).toBeGreaterThan(10);
      // One frame per streamed delta; a delta may hold less than a token (split UTF-8), never many.
      expect(tokens.length).toBeGreaterThanOrEqual(Math.floor(generated / 2));
    } finally {
      await served.close();
    }
  });
});
