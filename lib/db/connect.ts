import postgres, { type Sql } from 'postgres';
import type { Config } from '../config.ts';
import { startEmbeddedPostgres } from './embedded.ts';

/** An open database: a postgres.js client, whichever server sits behind it. */
export interface Database {
  sql: Sql;
  kind: 'server' | 'embedded';
  /** A description safe to log (no password). */
  description: string;
  close(): Promise<void>;
}

/**
 * Connects to `DATABASE_URL` when set, otherwise starts the embedded PGlite in `DATA_DIR`.
 * Every setting is passed explicitly: postgres.js would otherwise read PG* variables.
 */
export async function openDatabase(settings: Config['database']): Promise<Database> {
  const common = {
    onnotice: () => {},
    connect_timeout: 5,
    idle_timeout: 60,
    // Our own short statements only; a failover or restart must not leave clients
    // waiting on a dead socket for minutes.
    connection: { application_name: 'local-rag' },
  } as const;
  if (settings.url) {
    const url = new URL(settings.url);
    const sql = postgres(settings.url, { ...common, max: settings.poolSize, host: url.hostname, port: Number(url.port || 5432), database: decodeURIComponent(url.pathname.slice(1)) || 'postgres', username: decodeURIComponent(url.username) || 'postgres', password: decodeURIComponent(url.password) });
    return { sql, kind: 'server', description: `postgres://${url.hostname}:${url.port || 5432}${url.pathname}`, close: () => sql.end({ timeout: 5 }) };
  }
  const embedded = await startEmbeddedPostgres(settings.dataDir);
  // One connection only: see startEmbeddedPostgres.
  const sql = postgres({ ...common, host: embedded.host, port: embedded.port, max: 1, username: 'postgres', password: 'postgres', database: 'postgres' });
  return {
    sql,
    kind: 'embedded',
    description: `embedded PGlite in ${settings.dataDir}`,
    async close() {
      await sql.end({ timeout: 5 });
      await embedded.stop();
    },
  };
}
