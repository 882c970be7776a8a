import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp } from '../../functions/app.ts';
import type { Config } from '../../lib/config.ts';
import type { Database } from '../../lib/db/connect.ts';
import { openKnowledgeBase } from '../../lib/knowledge/open-knowledge-base.ts';
import { createLog } from '../../lib/log.ts';
import type { Embedder, KnowledgeStore } from '../../lib/contracts.ts';
import { describeUrl, serverDatabaseUrl } from './bench-environment.ts';

/** The composed app (add-document + search) over a real, freshly migrated database. */
export interface BenchKnowledge {
  config: Config;
  database: Database;
  store: KnowledgeStore;
  embedder: Embedder;
  app: OpenAPIHono;
  /** "embedded PGlite" or "PostgreSQL 15.x at host:port/db", for the results. */
  databaseDescription: string;
  close(): Promise<void>;
}

/**
 * Opens an empty, migrated knowledge base — embedded PGlite in a temporary folder (deleted on
 * close), or the real server with its knowledge tables dropped first — loads the embedder and
 * composes the app exactly as the bundled runtime does (`createApp`), minus the HTTP listener.
 */
export async function openBenchKnowledge(config: Config, target: 'embedded' | 'server'): Promise<BenchKnowledge> {
  let databaseSettings: Config['database'];
  let description: string;
  let cleanup = async () => {};
  if (target === 'server') {
    const url = serverDatabaseUrl();
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe('DROP TABLE IF EXISTS knowledge_chunks, knowledge_documents, knowledge_lexemes, schema_migrations CASCADE');
    await admin.end();
    databaseSettings = { url, dataDir: '', poolSize: config.database.poolSize, migrateOnStart: true };
    description = `PostgreSQL server at ${describeUrl(url)}`;
  } else {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'local-rag-bench-'));
    databaseSettings = { dataDir, poolSize: 1, migrateOnStart: true };
    description = 'embedded PGlite (temporary data folder)';
    cleanup = () => rm(dataDir, { recursive: true, force: true });
  }
  // Warnings only: the benchmark's own lines are its output.
  const knowledgeBase = await openKnowledgeBase({ ...config, database: databaseSettings }, { log: createLog('warn') });
  const { database, store, embedder } = knowledgeBase;
  const [server] = await database.sql<{ version: string }[]>`SELECT current_setting('server_version') AS version`;
  const [vector] = await database.sql<{ extversion: string }[]>`SELECT extversion FROM pg_extension WHERE extname = 'vector'`;
  const app = createApp(
    { config, knowledge: () => knowledgeBase.dependencies, readiness: async () => ({ ready: true, checks: {} }) },
    { only: ['add-document', 'search'] },
  );
  return {
    config,
    database,
    store,
    embedder,
    app,
    databaseDescription: `${description}, PostgreSQL ${server?.version ?? '?'}, pgvector ${vector?.extversion ?? '?'}`,
    async close() {
      await knowledgeBase.close();
      await cleanup();
    },
  };
}

/** JSON request for `app.request`. */
export function jsonRequest(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
