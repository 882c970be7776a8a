import type { Hono } from 'hono';
import type { UpgradeWebSocket } from 'hono/ws';
import type { Config } from '../lib/config.ts';
import type { ClientAddress } from '../lib/http/client-identity.ts';
import { openDatabase, type Database } from '../lib/db/connect.ts';
import { DataDirectoryLockedError } from '../lib/db/embedded.ts';
import type { KnowledgeDependencies } from '../lib/knowledge/knowledge-base.ts';
import { openKnowledgeBase, type OpenedKnowledgeBase } from '../lib/knowledge/open-knowledge-base.ts';
import { openChatModel } from '../lib/llm/open-chat-model.ts';
import { createLog, type Log } from '../lib/log.ts';
import { createServiceState } from '../lib/service-state.ts';
import { createApp, type ReadinessReport } from './app.ts';
import type { RunningServer } from './runtime/runtime.ts';
import { thresholdsForModel } from '../lib/knowledge/sufficiency.ts';

/** What the service needs from the runtime, bound to its port and host (main.ts builds it from a Runtime). */
export interface ServiceRuntime {
  upgradeWebSocket: UpgradeWebSocket;
  /** The peer's address of a request (the runtime's connection info). */
  clientAddress?: ClientAddress;
  listen(app: Hono<any, any, any>): Promise<RunningServer>;
}

export interface StartServiceOptions {
  config: Config;
  runtime: ServiceRuntime;
  /** Default: JSON lines at `config.logLevel`. */
  log?: Log;
}

export interface RunningService {
  port: number;
  /** Resolves when start-up is complete (or rejects when it failed for good). */
  ready: Promise<void>;
  /**
   * The chat model's start-up (embedded: locate, download, load). Rejects only with a
   * `ModelFileError` (bad LLM_MODEL_FILE); other failures leave chat unavailable, with the
   * reason in the log and `/readyz`, while the knowledge base is served.
   */
  chatStarted: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the service: the HTTP server listens at once (`/healthz` answers, `/readyz` says
 * 503 and why), then the database is opened, migrations applied, the embedding model
 * loaded and warmed. A database that is not reachable yet is retried with backoff; a
 * locked data directory, a missing model or a schema mismatch is fatal.
 */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const { config, runtime } = options;
  const log = options.log ?? createLog(config.logLevel);
  const state = createServiceState<KnowledgeDependencies>('starting');
  const chat = config.functions.includes('ws-chat') ? openChatModel(config.llm, { log }) : undefined;
  const chatModel = chat?.chatModel;
  if (chat) log('info', 'chat model', chat.runtime === 'server' ? { runtime: 'server', base_url: config.llm.baseURL } : { runtime: 'embedded' });
  let database: Database | undefined;
  let knowledgeBase: OpenedKnowledgeBase | undefined;
  let stopped = false;

  const readiness = async (): Promise<ReadinessReport> => {
    const checks: ReadinessReport['checks'] = {};
    if (!state.isReady()) {
      checks.startup = { ok: false, detail: state.reason() };
    } else {
      const dependencies = state.get();
      checks.database = await dependencies.store.ping().then(
        () => ({ ok: true }),
        (error: Error) => ({ ok: false, detail: error.message }),
      );
      checks.embedding_model = { ok: true, detail: dependencies.embedder.modelId };
    }
    if (chatModel) {
      const health = await chatModel.health();
      checks.llm = { ok: health.status === 'ready', detail: health.status === 'ready' ? undefined : `${health.status}: ${health.detail ?? ''}`.trim() };
    }
    const failing = Object.entries(checks).find(([, check]) => !check.ok);
    return { ready: !failing, reason: failing ? `${failing[0]}: ${failing[1].detail ?? 'failing'}` : undefined, checks };
  };

  const app = createApp({
    config,
    knowledge: () => state.get(),
    readiness,
    chat: chatModel ? { chatModel, thresholds: thresholdsForModel(config.embedding.model, { minBestScore: config.retrieval.minScore }), upgradeWebSocket: runtime.upgradeWebSocket } : undefined,
    clientAddress: runtime.clientAddress,
    log,
  });
  const server = await runtime.listen(app);
  log('info', 'listening', { port: server.port, host: config.host, functions: config.functions });

  const initialise = async () => {
    for (let attempt = 1; !stopped; attempt++) {
      try {
        state.setReason(`connecting to the database (attempt ${attempt})`);
        database = await openDatabase(config.database, { efSearch: config.retrieval.efSearch, log });
        await database.sql`SELECT 1`;
        break;
      } catch (error) {
        await database?.close().catch(() => {});
        database = undefined;
        // A retry cannot fix another process holding the data folder.
        if (error instanceof DataDirectoryLockedError) throw error;
        const delay = Math.min(10_000, 500 * 2 ** Math.min(attempt, 5));
        log('warn', 'database not reachable yet', { attempt, retry_in_ms: delay, error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    if (stopped || !database) return;
    log('info', 'database connected', { database: database.description });
    const opened = await openKnowledgeBase(config, { log, database, onStep: (step) => state.setReason(step) });
    knowledgeBase = opened;
    // stop() may have run while the model loaded: it could not close what was not there yet.
    if (stopped) return opened.close().catch(() => {});
    state.setReady(opened.dependencies);
  };

  const ready = initialise().catch((error: Error) => {
    state.setReason(`start-up failed: ${error.message}`);
    throw error;
  });

  return {
    port: server.port,
    ready,
    chatStarted: chat?.started ?? Promise.resolve(),
    async stop() {
      stopped = true;
      await server.close();
      await chat?.close().catch(() => {});
      // Once opened, the knowledge base owns the database and closes it with the embedder.
      await (knowledgeBase ?? database)?.close().catch(() => {});
    },
  };
}

