import type { Sql } from 'postgres';
import { describe, expect, it } from 'vitest';
import { createVacuumScheduler } from './embedded-vacuum.ts';

/** A stand-in for postgres.js that answers the live-row query and records VACUUMs. */
function fakeSql(liveChunks: number) {
  const statements: string[] = [];
  let release: () => void = () => {};
  let vacuumGate: Promise<void> = Promise.resolve();
  const sql = (async (strings: TemplateStringsArray) => {
    const text = strings.join('?');
    statements.push(text.startsWith('VACUUM') ? 'VACUUM' : 'live');
    if (text.startsWith('VACUUM')) await vacuumGate;
    return text.startsWith('VACUUM') ? [] : [{ live: liveChunks }];
  }) as unknown as Sql;
  return {
    sql,
    vacuums: () => statements.filter((statement) => statement === 'VACUUM').length,
    holdVacuums() {
      vacuumGate = new Promise((resolve) => (release = resolve));
    },
    releaseVacuums: () => release(),
  };
}

describe('createVacuumScheduler', () => {
  it('waits for the minimum, then for 20 % of the live chunks', async () => {
    const database = fakeSql(10_000);
    const scheduler = createVacuumScheduler(database.sql, { minimumDeadChunks: 100 });
    scheduler.chunksRemoved(99);
    await scheduler.close();
    expect(database.vacuums()).toBe(0);

    const large = fakeSql(10_000);
    const due = createVacuumScheduler(large.sql, { minimumDeadChunks: 100 });
    due.chunksRemoved(1500); // over the minimum, under 20 % of 10,000
    await new Promise((resolve) => setTimeout(resolve, 0));
    due.chunksRemoved(600); // 2,100 dead: over 2,000
    await due.close();
    expect(large.vacuums()).toBe(1);
  });

  it('runs one VACUUM at a time and none after close', async () => {
    const database = fakeSql(0);
    database.holdVacuums();
    const scheduler = createVacuumScheduler(database.sql, { minimumDeadChunks: 10 });
    scheduler.chunksRemoved(50);
    await new Promise((resolve) => setTimeout(resolve, 0));
    scheduler.chunksRemoved(50);
    scheduler.chunksRemoved(50);
    database.releaseVacuums();
    await scheduler.close();
    scheduler.chunksRemoved(500);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(database.vacuums()).toBe(1);
  });
});
