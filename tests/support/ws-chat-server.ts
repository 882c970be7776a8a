import { PERMISSIVE_THRESHOLDS, type SufficiencyThresholds } from '../../lib/knowledge/sufficiency.ts';
import { createHashEmbedder } from './hash-embedder.ts';
import { type Environment, loadConfig } from '../../lib/config.ts';
import { searchSimilarChunks } from '../../lib/knowledge/knowledge-base.ts';
import { createMemoryStore } from './memory-store.ts';
import type { SearchHit, SearchOptions } from '../../lib/contracts.ts';
import { createChatModel } from '../../lib/llm/chat-model.ts';
import type { ChatModel } from '../../lib/llm/types.ts';
import { listenNode, nodeUpgradeWebSocket } from '../../functions/runtime/node.ts';
import { createWsChatApp } from '../../functions/ws-chat/app.ts';

export interface TestDocument {
  source: string;
  /** Paragraphs (blank-line separated) become chunks 0, 1, … */
  content: string;
}

export interface LogEntry {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

/**
 * Serves the ws-chat app on 127.0.0.1 with `listenNode`, an in-memory knowledge base
 * (hash embedder: scores follow shared words) and a chat model for `LLM_*` from
 * `environment`, for the unit and integration suites.
 */
export async function serveWsChatForTest(options: {
  environment?: Environment;
  documents?: TestDocument[];
  minScore?: number;
  /** Refusal thresholds over the permissive ones (with `minScore` as `minBestScore`). */
  thresholds?: Partial<SufficiencyThresholds>;
  chatModel?: ChatModel;
  retrieve?: (query: string, searchOptions: SearchOptions) => Promise<SearchHit[]>;
}) {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', ...options.environment });
  const embedder = createHashEmbedder();
  const store = createMemoryStore();
  for (const document of options.documents ?? []) {
    const paragraphs = document.content.split(/\n\s*\n/).map((text) => text.trim()).filter(Boolean);
    const embeddings = await embedder.embed(paragraphs);
    await store.replaceDocument({
      source: document.source,
      contentSha256: document.source,
      metadata: {},
      chunks: paragraphs.map((content, index) => ({ content, tokenCount: embedder.countTokens(content), embedding: embeddings[index]! })),
    });
  }
  const retrievals: string[] = [];
  const retrieve =
    options.retrieve ??
    (async (query: string, searchOptions: SearchOptions) => {
      retrievals.push(query);
      return searchSimilarChunks({ store, embedder }, query, searchOptions);
    });
  const chatModel = options.chatModel ?? createChatModel(config.llm);
  const logs: LogEntry[] = [];
  const app = createWsChatApp({
    config,
    retrieve,
    chatModel,
    thresholds: { ...PERMISSIVE_THRESHOLDS, minBestScore: options.minScore ?? 0.3, ...options.thresholds },
    upgradeWebSocket: nodeUpgradeWebSocket,
    log: (level, message, fields) => logs.push({ level, message, fields }),
  });
  const server = await listenNode(app, { port: 0, host: '127.0.0.1', maxFrameBytes: config.chat.maxFrameBytes });
  return {
    config,
    app,
    chatModel,
    logs,
    retrievals,
    /** The knowledge base as the app searches it. */
    retrieve: (query: string, topK = config.retrieval.topK) => retrieve(query, { topK }),
    httpURL: `http://127.0.0.1:${server.port}/ws/llm`,
    url: `ws://127.0.0.1:${server.port}/ws/llm`,
    close: () => server.close(),
  };
}
