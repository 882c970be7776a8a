// Regression tests for issue 10's chat-socket findings (rows 1 and 7) on real sockets: the
// composed app with ws-chat over the real database and embedder, served by listenNode, with
// the fault-injecting LLM stand-in (these tests are about the socket, not the answer).
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app.ts';
import { listenNode, nodeClientAddress, nodeUpgradeWebSocket } from '../../functions/runtime/node.ts';
import type { RunningServer } from '../../functions/runtime/runtime.ts';
import { connectChatSocket, type ChatSocketClient } from '../../scripts/eval/chat-socket-client.ts';
import { keySubprotocol, CHAT_SUBPROTOCOL } from '../../lib/http/websocket-subprotocol.ts';
import { PERMISSIVE_THRESHOLDS } from '../../lib/knowledge/sufficiency.ts';
import { createChatModel } from '../../lib/llm/chat-model.ts';
import { startFakeLlmServer, type FakeLlmServer } from '../support/fake-llm-server.ts';
import { jsonRequest, startKnowledgeApp } from '../support/knowledge-app.ts';
import { databaseLane, testConfig } from '../support/test-environment.ts';

type Harness = Awaited<ReturnType<typeof startKnowledgeApp>>;
let harness: Harness;
let fake: FakeLlmServer;
const servers: RunningServer[] = [];
const sockets: ChatSocketClient[] = [];

const PRIVATE_DOCUMENT = { source: 'private/plans.md', content: 'The secret launch plan of the company is stored in the private folder.' };
const QUESTION = 'What is the secret launch plan of the company?';
const WRITE_KEY = 'chat-write-key';
const READ_KEY = 'chat-read-key';

beforeAll(async () => {
  harness = await startKnowledgeApp();
  fake = await startFakeLlmServer();
  expect((await harness.app.request('/api/v1/knowledge/add-document', jsonRequest('POST', PRIVATE_DOCUMENT))).status).toBe(201);
}, 120_000);
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((socket) => socket.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(async () => {
  await fake?.close();
  await harness?.close();
});

/** The whole service (every function) on 127.0.0.1 with `environment`, as `npm start` serves it. */
const logLines: Array<{ message: string; fields: Record<string, unknown> }> = [];

async function serve(environment: Record<string, string> = {}) {
  logLines.length = 0;
  const config = testConfig({ FUNCTIONS: 'all', LLM_BASE_URL: fake.baseURL, ...environment });
  const app = createApp({
    config,
    knowledge: () => ({ store: harness.store, embedder: harness.embedder, chunking: config.chunking }),
    readiness: async () => ({ ready: true, checks: {} }),
    chat: { chatModel: createChatModel(config.llm), thresholds: PERMISSIVE_THRESHOLDS, upgradeWebSocket: nodeUpgradeWebSocket },
    clientAddress: nodeClientAddress,
    log: (_level, message, fields = {}) => logLines.push({ message, fields }),
  });
  const server = await listenNode(app, { port: 0, host: '127.0.0.1', maxFrameBytes: config.chat.maxFrameBytes, pingIntervalMs: config.chat.pingIntervalMs });
  servers.push(server);
  return { url: `ws://127.0.0.1:${server.port}/ws/llm`, origin: `http://127.0.0.1:${server.port}` };
}

async function connect(url: string, options: Parameters<typeof connectChatSocket>[1] = {}) {
  const socket = await connectChatSocket(url, options);
  sockets.push(socket);
  return socket;
}

/** The source names a chat's `sources` frame revealed. */
async function askSources(socket: ChatSocketClient): Promise<string[]> {
  const frames = await socket.ask({ type: 'chat', message: QUESTION });
  return frames.flatMap((frame) => (frame.type === 'sources' ? frame.sources.map((source) => source.source) : []));
}

describe(`chat socket security on ${databaseLane()} PostgreSQL`, () => {
  describe('row 1: any web page could open /ws/llm and read private documents through the sources', () => {
    it('refuses a page of another origin (403) and serves the page\'s own origin', async () => {
      const { url, origin } = await serve();
      await expect(connectChatSocket(url, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
      await expect(connectChatSocket(url, { origin: 'null' })).rejects.toThrow(/403/);
      expect(await askSources(await connect(url, { origin }))).toContain(PRIVATE_DOCUMENT.source);
    });

    it('needs a key when API_KEY is set: refuses none (401), takes READ_API_KEY as a subprotocol entry or as Authorization', async () => {
      const { url, origin } = await serve({ API_KEY: WRITE_KEY, READ_API_KEY: READ_KEY });
      await expect(connectChatSocket(url, { origin })).rejects.toThrow(/401/);
      await expect(connectChatSocket(url, { origin, protocols: [CHAT_SUBPROTOCOL, keySubprotocol('wrong')] })).rejects.toThrow(/401/);
      const browserLike = await connect(url, { origin, protocols: [CHAT_SUBPROTOCOL, keySubprotocol(READ_KEY)] });
      // The server answers the chat subprotocol, never the entry that carries the key.
      expect(browserLike.socket.protocol).toBe(CHAT_SUBPROTOCOL);
      expect(await askSources(browserLike)).toContain(PRIVATE_DOCUMENT.source);
      const programmatic = await connect(url, { headers: { Authorization: `Bearer ${WRITE_KEY}` } });
      expect(await askSources(programmatic)).toContain(PRIVATE_DOCUMENT.source);
      // The access log shows each upgrade as the client saw it, and never the key.
      const upgrades = logLines.filter((line) => line.message === 'request' && line.fields.route === '/ws/llm').map((line) => line.fields.status);
      expect(upgrades).toEqual([401, 401, 101, 101]);
      expect(JSON.stringify(logLines)).not.toContain(READ_KEY);
    });
  });

  describe('row 7: no connection limit, idle timeout or heartbeat (2,000 idle sockets were kept)', () => {
    it('answers the upgrade over WS_MAX_CONNECTIONS with 503, and takes a new one once a socket closes', async () => {
      const { url } = await serve({ WS_MAX_CONNECTIONS: '3' });
      const open = await Promise.all([connect(url), connect(url), connect(url)]);
      await expect(connectChatSocket(url)).rejects.toThrow(/503/);
      await open[0]!.close();
      const next = await pollUntil(() => connectChatSocket(url));
      sockets.push(next);
      expect((await next.ask({ type: 'chat', message: QUESTION })).at(-1)?.type).toBe('done');
    });

    it('closes a socket that stays idle for WS_IDLE_TIMEOUT_MS', async () => {
      const { url } = await serve({ WS_IDLE_TIMEOUT_MS: '300' });
      const socket = await connect(url);
      const reason = new Promise<string>((resolve) => socket.socket.once('close', (_code, text) => resolve(text.toString())));
      expect(await socket.closed).toBe(1000);
      expect(await reason).toBe('idle timeout');
    });

    it('drops a peer that stops answering pings, and keeps one that answers', async () => {
      const { url } = await serve({ WS_PING_INTERVAL_MS: '100', WS_IDLE_TIMEOUT_MS: '0' });
      const silent = new WebSocket(url, { autoPong: false });
      const silentClosed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
      await new Promise((resolve, reject) => silent.once('open', resolve).once('error', reject));
      const healthy = await connect(url);
      // Terminated (no close frame: 1006) after one unanswered ping.
      expect(await silentClosed).toBe(1006);
      expect(healthy.socket.readyState).toBe(WebSocket.OPEN);
      expect((await healthy.ask({ type: 'chat', message: QUESTION })).at(-1)?.type).toBe('done');
    });
  });
});

/** Retries `attempt` until it succeeds (the server frees a slot when it sees the close), at most ~5 s. */
async function pollUntil<T>(attempt: () => Promise<T>): Promise<T> {
  const attempts = 50;
  let failure: unknown;
  for (let index = 0; index < attempts; index++) {
    try {
      return await attempt();
    } catch (error) {
      failure = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw failure;
}
