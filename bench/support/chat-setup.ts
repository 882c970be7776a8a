import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { listenNode, nodeUpgradeWebSocket } from '../../functions/runtime/node.ts';
import { createWsChatApp } from '../../functions/ws-chat/app.ts';
import type { Config } from '../../lib/config.ts';
import { addDocumentToKnowledgeBase, searchSimilarChunks } from '../../lib/knowledge/knowledge-base.ts';
import { thresholdsForModel, type SufficiencyThresholds } from '../../lib/knowledge/sufficiency.ts';
import type { SearchHit, SearchOptions } from '../../lib/contracts.ts';
import { createChatModel } from '../../lib/llm/chat-model.ts';
import type { ChatMessage, ChatModel, ChatStreamOptions } from '../../lib/llm/types.ts';
import { startLlamaServer, type RunningLlamaServer } from '../../tests/support/llama-server.ts';
import { PROJECT_ROOT } from './bench-environment.ts';
import { openBenchKnowledge, type BenchKnowledge } from './knowledge-setup.ts';

/** The reference documents the chat answers from (relative to the project root). */
export const CHAT_DOCUMENTS = ['ws.md', 'retry.md', 'proper-lockfile.md', 'semver.md'].map((name) => `bench/eval/sets/reference/docs/${name}`);

/** When each step of the latest answer happened (`performance.now()`), seen from inside the app. */
export interface AnswerProbe {
  retrieveStarted?: number;
  retrieveEnded?: number;
  /** Every `countPromptTokens` / `countTokens` call: one `/apply-template` + `/tokenize` pair, or one `/tokenize`. */
  counts: Array<{ kind: 'prompt' | 'text'; started: number; ended: number }>;
  streamCalled?: number;
  /** What ws-chat asked the model for: the exact prompt and settings to replay directly. */
  messages?: ChatMessage[];
  streamOptions?: ChatStreamOptions;
}

export interface ChatBench {
  config: Config;
  llama: RunningLlamaServer;
  knowledge: BenchKnowledge;
  thresholds: SufficiencyThresholds;
  url: string;
  chunkCount: number;
  /** The retrieval ws-chat runs (`searchSimilarChunks` on the store and embedder), uninstrumented. */
  retrieve(query: string, options: SearchOptions): Promise<SearchHit[]>;
  /** The chat model ws-chat uses, uninstrumented (for timing the prompt count on its own). */
  chatModel: ChatModel;
  /** Every prompt-count call of every answer since the last {@link clearCountLog}, for the concurrency run. */
  countLog: Array<{ kind: 'prompt' | 'text'; started: number; ended: number }>;
  clearCountLog(): void;
  /** Starts a fresh probe; the app fills it during the next answer. */
  probe(): AnswerProbe;
  close(): Promise<void>;
}

/**
 * llama-server (stories260K, 2 slots) + embedded PGlite with a few real documents embedded by
 * the fixture model + the ws-chat app on 127.0.0.1, composed as `functions/app.ts` does. The
 * retrieval and the chat model are wrapped only to note timestamps (no per-token wrapper, so
 * the token path is the app's own).
 */
export async function openChatBench(config: Config, options: { parallel: number; ctxSize: number; minTermCoverage: number }): Promise<ChatBench> {
  const llama = await startLlamaServer({ parallel: options.parallel, ctxSize: options.ctxSize });
  let knowledge: BenchKnowledge | undefined;
  try {
    const llmConfig: Config = { ...config, llm: { ...config.llm, baseURL: llama.baseURL, apiKey: llama.apiKey } };
    knowledge = await openBenchKnowledge(llmConfig, 'embedded');
    const dependencies = { store: knowledge.store, embedder: knowledge.embedder, chunking: llmConfig.chunking };
    let chunkCount = 0;
    for (const file of CHAT_DOCUMENTS) {
      const content = await readFile(path.join(PROJECT_ROOT, file), 'utf8');
      const { document } = await addDocumentToKnowledgeBase(dependencies, { source: path.basename(file), content });
      chunkCount += document.chunkCount;
    }
    const retrieve = (query: string, searchOptions: SearchOptions) => searchSimilarChunks(dependencies, query, { hybrid: llmConfig.retrieval.hybrid, ...searchOptions });
    const chatModel = createChatModel(llmConfig.llm);
    let current: AnswerProbe = { counts: [] };
    const countLog: ChatBench['countLog'] = [];
    const timed = async <T>(kind: 'prompt' | 'text', operation: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      try {
        return await operation();
      } finally {
        const call = { kind, started, ended: performance.now() };
        current.counts.push(call);
        countLog.push(call);
      }
    };
    const probedModel: ChatModel = {
      health: () => chatModel.health(),
      countTokens: (text) => timed('text', () => chatModel.countTokens(text)),
      countTokensEach: (texts) => timed('text', () => chatModel.countTokensEach(texts)),
      contextWindow: () => chatModel.contextWindow(),
      countPromptTokens: (messages) => timed('prompt', () => chatModel.countPromptTokens(messages)),
      stream: (messages, streamOptions) => {
        current.streamCalled = performance.now();
        current.messages = messages;
        current.streamOptions = { maxTokens: streamOptions?.maxTokens, temperature: streamOptions?.temperature };
        return chatModel.stream(messages, streamOptions);
      },
    };
    // The glove fixture's calibrated thresholds never refuse a non-empty result, so the
    // insufficient path needs a term-coverage floor; the answered question clears it.
    const thresholds = { ...thresholdsForModel(knowledge.embedder.modelId), minTermCoverage: options.minTermCoverage };
    const app = createWsChatApp({
      config: llmConfig,
      retrieve: async (query, searchOptions) => {
        current.retrieveStarted = performance.now();
        try {
          return await retrieve(query, searchOptions);
        } finally {
          current.retrieveEnded = performance.now();
        }
      },
      chatModel: probedModel,
      thresholds,
      upgradeWebSocket: nodeUpgradeWebSocket,
    });
    const server = await listenNode(app, { port: 0, host: '127.0.0.1', maxFrameBytes: llmConfig.chat.maxFrameBytes });
    const opened = knowledge;
    return {
      config: llmConfig,
      llama,
      knowledge: opened,
      thresholds,
      url: `ws://127.0.0.1:${server.port}/ws/llm`,
      chunkCount,
      retrieve,
      chatModel,
      countLog,
      clearCountLog: () => void countLog.splice(0),
      probe: () => (current = { counts: [] }),
      async close() {
        await server.close();
        await opened.close();
        await llama.stop();
      },
    };
  } catch (error) {
    await knowledge?.close();
    await llama.stop();
    throw error;
  }
}
