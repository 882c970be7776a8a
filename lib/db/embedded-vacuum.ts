import type { Sql } from 'postgres';
import type { Log } from '../log.ts';

/** Told by the store how many chunk rows its writes left behind as dead. */
export interface StoreMaintenance {
  chunksRemoved(count: number): void;
  /** Waits for a VACUUM that is running; schedules no new one. */
  close(): Promise<void>;
}

export interface VacuumSettings {
  /** Dead chunks before a VACUUM is considered at all (autovacuum's base threshold is 50). */
  minimumDeadChunks?: number;
  /** ... and the share of the live chunks they must reach (autovacuum's scale factor is 0.2). */
  deadFraction?: number;
  log?: Log;
}

/**
 * Autovacuum for the embedded database. PGlite runs PostgreSQL as a single backend without the
 * autovacuum launcher, and its statistics never count dead rows, so nothing would ever reclaim
 * a replaced or deleted document's chunks: the table and its indexes would only grow, HNSW
 * searches would keep walking deleted graph elements, and pgvector would even fold a re-added
 * identical vector into a dead element. This runs `VACUUM (ANALYZE)` on the knowledge tables
 * once the chunks removed since the last one reach autovacuum's rule of thumb (20 % of the
 * live chunks, at least `minimumDeadChunks`). It runs between queries on the one connection,
 * after the write that crossed the line has committed, one at a time.
 */
export function createVacuumScheduler(sql: Sql, settings: VacuumSettings = {}): StoreMaintenance {
  const minimum = settings.minimumDeadChunks ?? 1000;
  const fraction = settings.deadFraction ?? 0.2;
  let dead = 0;
  let running: Promise<void> | undefined;
  let closed = false;

  async function vacuumIfDue(): Promise<void> {
    // reltuples: the live rows the last VACUUM/ANALYZE counted (-1 before the first).
    const [table] = await sql<{ live: number }[]>`SELECT greatest(reltuples, 0)::float8 AS live FROM pg_class WHERE oid = 'knowledge_chunks'::regclass`;
    if (dead < Math.max(minimum, fraction * (table?.live ?? 0))) return;
    const removed = dead;
    const started = performance.now();
    await sql`VACUUM (ANALYZE) knowledge_chunks, knowledge_lexemes, knowledge_documents`;
    dead -= removed;
    settings.log?.('info', 'embedded database vacuumed', { dead_chunks: removed, ms: Math.round(performance.now() - started) });
  }

  return {
    chunksRemoved(count) {
      dead += count;
      if (closed || running || dead < minimum) return;
      running = vacuumIfDue()
        .catch((error: Error) => settings.log?.('warn', 'embedded database vacuum failed', { error: error.message }))
        .finally(() => {
          running = undefined;
        });
    },
    async close() {
      closed = true;
      await running;
    },
  };
}
