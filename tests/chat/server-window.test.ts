// The prompt window comes from the server: a REAL llama-server with the 2048-token fixture
// under `--ctx-size 8192 --parallel 2` and `--parallel 4` (llama-server caps each slot at the
// training context, 2048), LLM_CONTEXT_TOKENS unset, long related questions over a corpus of
// real READMEs. The seed assumed 4096 and half such questions ended in llm_context_exceeded.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectChatSocket, type ChatSocketClient } from '../../scripts/eval/chat-socket-client.ts';
import { serveWsChatForTest } from '../support/ws-chat-server.ts';
import { loadConfig } from '../../lib/config.ts';
import { createChatModel } from '../../lib/llm/chat-model.ts';
import { startLlamaServer, type RunningLlamaServer } from '../support/llama-server.ts';
import { PROJECT_ROOT } from '../support/test-environment.ts';

// The first run compiles llama.cpp (about 7 minutes on 2 cores); later runs start in < 1 s.
const firstBuildTimeoutMs = 20 * 60_000;
const TRAINING_CONTEXT = 2048;
const READMES = path.join(PROJECT_ROOT, 'bench/eval/sets/reference/docs');

/** Long questions about those READMEs: with 10 chunks each, the candidate context overflows 2048 tokens. */
const QUESTIONS = [
  'How do I configure the postgres.js connection pool: what is the default maximum number of connections, how are idle connections closed after a timeout, and what happens to queries while every connection is busy?',
  'When I stream a chat completion with the openai Node library, how do I iterate over the chunks, how do I cancel the request part-way through with an abort signal, and how are retries and timeouts configured on the client?',
  'Explain how the ws library handles a WebSocket server without its own HTTP server: how does noServer mode work with the upgrade event, how do I detect and close broken connections with ping and pong, and how is permessage-deflate configured?',
  'How does the debug module decide which namespaces print, using the DEBUG environment variable with wildcards and exclusions, and how can I change the output format or send the output somewhere other than stderr?',
];

async function readmes() {
  const files = (await readdir(READMES)).filter((file) => file.endsWith('.md'));
  return Promise.all(files.map(async (file) => ({ source: file, content: await readFile(path.join(READMES, file), 'utf8') })));
}

const sockets: ChatSocketClient[] = [];
afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.close()));
});

/** Counts llama-server's `/tokenize` calls that carry a whole candidate context (`with_pieces`). */
function countingFetch() {
  const calls = { contextTokenize: 0 };
  const fetchImplementation: typeof fetch = async (input, init) => {
    if (String(input).endsWith('/tokenize') && typeof init?.body === 'string' && init.body.includes('"with_pieces":true')) calls.contextTokenize++;
    return fetch(input, init);
  };
  return { calls, fetchImplementation };
}

describe.each([2, 4])('GET /ws/llm with llama-server --ctx-size 8192 --parallel %i and LLM_CONTEXT_TOKENS unset', (parallel) => {
  let llama: RunningLlamaServer;
  afterAll(async () => {
    await llama?.stop();
  });

  it(
    'reads the real per-slot window and never sends a prompt the server refuses: lowest-ranked chunks are dropped',
    async () => {
      llama = await startLlamaServer({ parallel, ctxSize: 8192 });
      const environment = { LLM_BASE_URL: llama.baseURL, LLM_API_KEY: llama.apiKey, LLM_MAX_TOKENS: '64', LLM_TIMEOUT_MS: '60000', RAG_TOP_K: '10' };
      const counting = countingFetch();
      const chatModel = createChatModel(loadConfig(environment).llm, { fetch: counting.fetchImplementation });
      expect(await chatModel.contextWindow()).toBe(TRAINING_CONTEXT);

      const served = await serveWsChatForTest({ documents: await readmes(), environment, chatModel, minScore: 0.05 });
      try {
        const socket = await connectChatSocket(served.url);
        sockets.push(socket);
        let overflowing = 0;
        for (const question of QUESTIONS) {
          const before = counting.calls.contextTokenize;
          const frames = await socket.ask({ type: 'chat', message: question, top_k: 10 }, 120_000);
          const summary = JSON.stringify(frames.filter((frame) => frame.type !== 'token' && frame.type !== 'sources'));
          expect(frames.find((frame) => frame.type === 'error'), summary).toBeUndefined();
          const done = frames.at(-1)!;
          expect(done, summary).toMatchObject({ type: 'done', finish_reason: expect.stringMatching(/^(stop|length)$/) });
          if (done.type !== 'done' || !done.usage) throw new Error(`no usage: ${summary}`);
          expect(done.usage.prompt_tokens + done.usage.completion_tokens).toBeLessThanOrEqual(TRAINING_CONTEXT);

          // The chunks kept are the best-ranked ones, in rank order: what was dropped was the tail.
          const sources = frames[0]!;
          if (sources.type !== 'sources') throw new Error(`first frame is not sources: ${summary}`);
          const ranking = (await served.retrieve(question, 10)).filter((hit) => hit.score >= 0.05).sort((a, b) => b.score - a.score);
          expect(sources.sources.map((hit) => `${hit.source}#${hit.chunk_index}`)).toEqual(ranking.slice(0, sources.sources.length).map((hit) => `${hit.source}#${hit.chunkIndex}`));

          const answered = served.logs.filter((entry) => entry.message === 'chat answered').at(-1);
          expect(answered?.fields).toMatchObject({ droppedChunks: ranking.length - sources.sources.length });
          if (sources.sources.length < ranking.length) {
            overflowing++;
            // Sized with one /tokenize call over the whole candidate context, not one per chunk.
            expect(counting.calls.contextTokenize - before).toBe(1);
          }
        }
        // The corpus and questions are meant to overflow; a run where none did would test nothing.
        expect(overflowing).toBeGreaterThan(0);
      } finally {
        await served.close();
      }
    },
    firstBuildTimeoutMs,
  );
});

describe('the window after llama-server restarts', () => {
  it('is read again: a restart with another --ctx-size / --parallel changes the prompt budget', async () => {
    const small = await startLlamaServer({ parallel: 1, ctxSize: 1024 });
    const port = Number(new URL(small.origin).port);
    const chatModel = createChatModel(loadConfig({ LLM_BASE_URL: small.baseURL, LLM_API_KEY: small.apiKey, LLM_TIMEOUT_MS: '10000' }).llm);
    let restarted: RunningLlamaServer | undefined;
    try {
      expect(await chatModel.contextWindow()).toBe(1024);
      await small.stop();
      expect((await chatModel.health()).status).toBe('unavailable');
      restarted = await startLlamaServer({ port, parallel: 2, ctxSize: 8192, apiKey: small.apiKey });
      expect((await chatModel.health()).status).toBe('ready');
      expect(await chatModel.contextWindow()).toBe(TRAINING_CONTEXT);
    } finally {
      await small.stop();
      await restarted?.stop();
    }
  }, firstBuildTimeoutMs);
});
