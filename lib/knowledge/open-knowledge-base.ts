import type { Config } from '../config.ts';
import type { Embedder, KnowledgeStore } from '../contracts.ts';
import { openDatabase, type Database } from '../db/connect.ts';
import { openKnowledgeStore } from '../db/knowledge-store.ts';
import { pendingMigrations, runMigrations } from '../db/migrate.ts';
import { checkEmbeddingColumn } from '../db/schema-check.ts';
import { loadEmbedder } from '../embeddings/load-embedder.ts';
import type { Log } from '../log.ts';
import type { KnowledgeDependencies } from './knowledge-base.ts';

export interface OpenKnowledgeBaseOptions {
  log: Log;
  /**
   * A database already open (the service retries its first connection before it comes
   * here); it then belongs to the knowledge base, which closes it. Default: opens
   * `config.database`.
   */
  database?: Database;
  /** Told each step as it starts ("applying migrations", …), for `/readyz`. */
  onStep?: (step: string) => void;
}

/** An open knowledge base: what add-document, search and the chat are handed. */
export interface OpenedKnowledgeBase {
  database: Database;
  store: KnowledgeStore;
  embedder: Embedder;
  /** `{ store, embedder, chunking }` for the knowledge-base operations. */
  dependencies: KnowledgeDependencies;
  /** Closes the embedder, then the database. */
  close(): Promise<void>;
}

/**
 * Opens the knowledge base the one way the service, the CLIs, the benchmarks and the tests
 * all use: database → migrations (applied when `MIGRATE_ON_START`, otherwise pending ones
 * are refused) → the embedding column's dimension against `EMBEDDING_DIM` → the embedding
 * model, loaded and warmed → the store. On any failure what was opened is closed again and
 * the error names the cause (a database made for another model says both dimensions, never
 * "internal error" on every document later).
 */
export async function openKnowledgeBase(config: Config, options: OpenKnowledgeBaseOptions): Promise<OpenedKnowledgeBase> {
  const { log } = options;
  const step = options.onStep ?? (() => {});
  const database = options.database ?? (await openDatabase(config.database, { efSearch: config.retrieval.efSearch, log }));
  let embedder: Embedder | undefined;
  try {
    step('applying migrations');
    if (config.database.migrateOnStart) {
      const applied = await runMigrations(database.sql);
      if (applied.length > 0) log('info', 'migrations applied', { migrations: applied.map((migration) => migration.id) });
    } else {
      const pending = await pendingMigrations(database.sql);
      if (pending.length > 0) {
        throw new Error(`database has ${pending.length} pending migration(s) (${pending.map((migration) => migration.id).join(', ')}); run npm run migrate or set MIGRATE_ON_START=true`);
      }
    }
    await checkEmbeddingColumn(database.sql, config.embedding.dimensions);
    step(`loading embedding model ${config.embedding.model}`);
    const started = Date.now();
    embedder = await loadEmbedder(config.embedding, { log: (message) => log('info', message) });
    log('info', 'embedding model ready', { model: embedder.modelId, dimensions: embedder.dimensions, load_ms: Date.now() - started });
  } catch (error) {
    await embedder?.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
  const store = openKnowledgeStore(database);
  const loaded = embedder;
  return {
    database,
    store,
    embedder: loaded,
    dependencies: { store, embedder: loaded, chunking: config.chunking },
    async close() {
      await loaded.close().catch(() => {});
      await database.close();
    },
  };
}
