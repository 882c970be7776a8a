import { createApp } from '../../functions/app.ts';
import type { Database } from '../../lib/db/connect.ts';
import { openKnowledgeBase } from '../../lib/knowledge/open-knowledge-base.ts';
import { createLog } from '../../lib/log.ts';
import { openTestDatabase, testConfig } from './test-environment.ts';
import { startTcpProxy } from './tcp-proxy.ts';

/** Connections to a real test server; the embedded database serves exactly one. */
const SERVER_POOL_SIZE = 4;

/**
 * The knowledge functions (add-document + search) in-process over a real database reached
 * through a TCP proxy (so a test can make the database go away) and the real embedder.
 */
export async function startKnowledgeApp(overrides: Record<string, string> = {}) {
  const config = testConfig({ FUNCTIONS: 'add-document,search', ...overrides });
  const owner = await openTestDatabase({ efSearch: config.retrieval.efSearch });
  const target = owner.kind === 'server' ? new URL(owner.url!) : undefined;
  const direct = target ? { host: target.hostname, port: Number(target.port) } : embeddedAddress(owner);
  const proxy = await startTcpProxy(direct);
  const credentials = target ? `${target.username}:${target.password}` : 'postgres:postgres';
  // pglite-socket serves one connection at a time: hand it over to the proxied client.
  if (!target) await owner.sql.end();
  // Migrated already (openTestDatabase): the knowledge base only checks, as a service with
  // MIGRATE_ON_START=false does.
  const database = {
    url: `postgres://${credentials}@127.0.0.1:${proxy.port}${target ? target.pathname : '/postgres'}`,
    dataDir: '',
    poolSize: target ? SERVER_POOL_SIZE : 1,
    migrateOnStart: false,
  };
  const knowledgeBase = await openKnowledgeBase({ ...config, database }, { log: createLog(config.logLevel) });
  const { store, embedder } = knowledgeBase;
  const app = createApp(
    {
      config,
      knowledge: () => knowledgeBase.dependencies,
      readiness: async () => ({ ready: true, checks: {} }),
    },
    { only: ['add-document', 'search'] },
  );
  return {
    app,
    config,
    store,
    embedder,
    proxy,
    /** For assertions on stored rows: straight to the server, or (embedded) the one connection. */
    admin: target ? owner.sql : knowledgeBase.database.sql,
    async close() {
      await knowledgeBase.close();
      await proxy.close();
      await owner.close();
    },
  };
}

function embeddedAddress(database: Database) {
  const options = database.sql.options as unknown as { host: string[]; port: number[] };
  return { host: options.host[0]!, port: options.port[0]! };
}

/** JSON request helper for `app.request`. */
export function jsonRequest(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method, headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) };
}
