import { afterAll, afterEach, beforeAll } from 'vitest';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm-server.ts';
import { connectChatSocket, type ChatSocketClient } from '../../scripts/eval/chat-socket-client.ts';
import { serveWsChatForTest } from './ws-chat-server.ts';

/** One small document the related question is about. */
export const harnessDocuments = [
  {
    source: 'pgvector.md',
    content: [
      'pgvector stores embeddings in PostgreSQL and searches them by cosine distance with an HNSW index.',
      'The HNSW index of pgvector trades a little recall for much faster vector search.',
      'pgvector also supports exact search without an index for small tables.',
    ].join('\n\n'),
  },
];
export const relatedQuestion = 'How does pgvector search embeddings in PostgreSQL?';

/**
 * Registers vitest hooks for a suite that drives ws-chat against the fault-injecting
 * OpenAI-compatible stand-in: one fake LLM per file, servers and sockets closed after
 * each test.
 */
export function useFakeLlmHarness() {
  let fake: FakeLlmServer;
  const servers: Array<{ close(): Promise<void> }> = [];
  const sockets: ChatSocketClient[] = [];
  beforeAll(async () => {
    fake = await startFakeLlmServer();
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((socket) => socket.close()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
    fake.reset();
  });
  afterAll(async () => {
    await fake.close();
  });
  return {
    fake: () => fake,
    async serve(environment: Record<string, string> = {}, extra: Parameters<typeof serveWsChatForTest>[0] = {}) {
      const served = await serveWsChatForTest({ documents: harnessDocuments, environment: { LLM_BASE_URL: fake.baseURL, LLM_TIMEOUT_MS: '2000', ...environment }, ...extra });
      servers.push(served);
      return served;
    },
    async connect(url: string, options?: { origin?: string }) {
      const socket = await connectChatSocket(url, options);
      sockets.push(socket);
      return socket;
    },
  };
}
