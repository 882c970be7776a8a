import postgres, { type Sql } from 'postgres';
import type { Config } from '../config.ts';
import type { Log } from '../log.ts';
import { startEmbeddedPostgres } from './embedded.ts';
import { createVacuumScheduler, type StoreMaintenance } from './embedded-vacuum.ts';
import { DEFAULT_HNSW_EF_SEARCH } from '../config.ts';

/** Session settings of every connection. */
export interface SessionSettings {
  /** pgvector's `hnsw.ef_search` (config.retrieval.efSearch); searches needing more raise it per transaction. */
  efSearch?: number;
  /** Where the embedded database's maintenance reports (see createVacuumScheduler). */
  log?: Log;
}

/** An open database: a postgres.js client, whichever server sits behind it. */
export interface Database {
  sql: Sql;
  kind: 'server' | 'embedded';
  /** The `hnsw.ef_search` every connection starts with; give it to `createPostgresStore`. */
  efSearch: number;
  /** A description safe to log (no password). */
  description: string;
  /** Housekeeping the server does not do itself (the embedded database's VACUUM); give it to the store. */
  maintenance?: StoreMaintenance;
  close(): Promise<void>;
}

/**
 * Connects to `DATABASE_URL` when set, otherwise starts the embedded PGlite in `DATA_DIR`.
 * Every setting is passed explicitly: postgres.js would otherwise read PG* variables.
 */
export async function openDatabase(settings: Config['database'], session: SessionSettings = {}): Promise<Database> {
  const efSearch = session.efSearch ?? DEFAULT_HNSW_EF_SEARCH;
  const common = {
    onnotice: () => {},
    // Our own short statements only; a failover or restart must not leave clients
    // waiting on a dead socket for minutes.
    connect_timeout: 5,
    idle_timeout: 60,
    // A startup parameter costs no round trip and survives every reconnect of the pool.
    connection: { application_name: 'local-rag', 'hnsw.ef_search': String(efSearch) },
  } as const;
  if (settings.url) {
    const url = new URL(settings.url);
    const sql = postgres(settings.url, { ...common, max: settings.poolSize, host: url.hostname, port: Number(url.port || 5432), database: decodeURIComponent(url.pathname.slice(1)) || 'postgres', username: decodeURIComponent(url.username) || 'postgres', password: decodeURIComponent(url.password) });
    return { sql, kind: 'server', efSearch, description: `postgres://${url.hostname}:${url.port || 5432}${url.pathname}`, close: () => sql.end({ timeout: 5 }) };
  }
  const embedded = await startEmbeddedPostgres(settings.dataDir);
  // One connection only: see startEmbeddedPostgres.
  const sql = postgres({ ...common, host: embedded.host, port: embedded.port, max: 1, username: 'postgres', password: 'postgres', database: 'postgres' });
  // PGlite ignores startup parameters, but it is one backend whose session outlives every
  // socket client: one SET now holds for each later connection, proxied ones included.
  try {
    await sql`SELECT set_config('hnsw.ef_search', ${String(efSearch)}, false)`;
  } catch (error) {
    await sql.end({ timeout: 5 }).catch(() => {});
    await embedded.stop();
    throw error;
  }
  const maintenance = createVacuumScheduler(sql, { log: session.log });
  return {
    sql,
    kind: 'embedded',
    efSearch,
    description: `embedded PGlite in ${settings.dataDir}`,
    maintenance,
    async close() {
      await maintenance.close();
      await sql.end({ timeout: 5 });
      await embedded.stop();
    },
  };
}
