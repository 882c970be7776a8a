import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../lib/db/connect.ts';
import { createVacuumScheduler } from '../../lib/db/embedded-vacuum.ts';
import { createPostgresStore, openKnowledgeStore } from '../../lib/db/knowledge-store.ts';
import type { ChunkRecord, KnowledgeStore } from '../../lib/contracts.ts';
import { databaseLane, openTestDatabase } from '../support/test-environment.ts';

// PGlite runs no autovacuum; a server does its own (and is not ours to VACUUM in a test).
describe.runIf(databaseLane() === 'embedded')('the embedded database reclaims replaced chunks', () => {
  // One database per scenario, so that neither reuses the other's free space.
  let database: Database;
  let control: Database;
  beforeAll(async () => {
    [database, control] = await Promise.all([openTestDatabase(), openTestDatabase()]);
  }, 60_000);
  afterAll(async () => Promise.all([database?.close(), control?.close()]));

  let seed = 7;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
  const version = (round: number): ChunkRecord[] =>
    Array.from({ length: 60 }, (_, index) => {
      const vector = Array.from({ length: 384 }, random);
      const length = Math.hypot(...vector);
      return { content: `version ${round}, chunk ${index}: rivers and mountains`, tokenCount: 8, embedding: vector.map((value) => value / length) };
    });
  const tableBytes = async (on: Database) => {
    const [row] = await on.sql<{ bytes: number }[]>`SELECT pg_total_relation_size('knowledge_chunks')::float8 AS bytes`;
    return row!.bytes;
  };
  // Writes one 60-chunk document, then replaces it 12 times; returns the table's size (with its indexes) after the first and the last.
  const churn = async (on: Database, store: KnowledgeStore) => {
    await store.replaceDocument({ source: 'notes.md', contentSha256: 'v0', metadata: {}, chunks: version(0) });
    const first = await tableBytes(on);
    for (let round = 1; round <= 12; round++) await store.replaceDocument({ source: 'notes.md', contentSha256: `v${round}`, metadata: {}, chunks: version(round) });
    return { first, last: await tableBytes(on) };
  };

  it('vacuums through the store the service opens (openDatabase + openKnowledgeStore) once 1,000 chunks are dead', async () => {
    const vacuums: unknown[] = [];
    const serviceDatabase = await openTestDatabase({ log: (_level, message) => message === 'embedded database vacuumed' && vacuums.push(message) });
    try {
      const store = openKnowledgeStore(serviceDatabase);
      // 17 replacements of a 60-chunk document leave 1,020 dead chunks: just over the default.
      for (let round = 0; round <= 17; round++) {
        await store.replaceDocument({ source: 'notes.md', contentSha256: `v${round}`, metadata: {}, chunks: version(round) });
      }
      await serviceDatabase.maintenance!.close();
      expect(vacuums.length).toBeGreaterThanOrEqual(1);
    } finally {
      await serviceDatabase.close();
    }
  }, 180_000);

  it('grows without bound when nothing vacuums (the control), stays bounded with the scheduler, and keeps the latest version searchable', async () => {
    const unattended = await churn(control, createPostgresStore(control.sql));
    expect(unattended.last).toBeGreaterThan(unattended.first * 5);

    const vacuums: Array<Record<string, unknown> | undefined> = [];
    // Due after every replacement here (60 dead chunks); the default waits for 1,000.
    const maintenance = createVacuumScheduler(database.sql, { minimumDeadChunks: 60, log: (_level, _message, fields) => vacuums.push(fields) });
    const store = createPostgresStore(database.sql, { maintenance });
    const kept = await churn(database, store);
    await maintenance.close();
    expect(vacuums.length).toBeGreaterThanOrEqual(3);
    // Vacuumed space is reused: about two versions' worth of pages, not thirteen.
    expect(kept.last).toBeLessThan(kept.first * 3);

    const hits = await store.search({ embedding: Array.from({ length: 384 }, (_, index) => (index === 0 ? 1 : 0)), text: 'rivers' }, { topK: 60, mode: 'text' });
    expect(hits.length).toBe(60);
    expect(hits.every((hit) => hit.content.startsWith('version 12,'))).toBe(true);
  }, 120_000);
});
