import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from 'postgres';

/** The project's `sql/` folder, next to `lib/`. */
export const MIGRATIONS_DIRECTORY = fileURLToPath(new URL('../../sql/', import.meta.url));

export interface Migration {
  id: number;
  name: string;
  file: string;
}

const FILE_PATTERN = /^(\d{5})_([a-z0-9][a-z0-9_-]*)\.sql$/;
// Any constant: serialises migrators of several containers starting at once.
const ADVISORY_LOCK_KEY = 7_415_923_001;

/** Reads `sql/NNNNN_name.sql` files in order, refusing gaps, duplicates and stray names. */
export async function readMigrations(directory = MIGRATIONS_DIRECTORY): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((file) => file.endsWith('.sql')).sort();
  const migrations = files.map((file) => {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new Error(`migration file ${file} must be named NNNNN_name.sql (five digits, lowercase name)`);
    return { id: Number(match[1]), name: match[2]!, file: path.join(directory, file) };
  });
  migrations.forEach((migration, index) => {
    if (migration.id !== index + 1) throw new Error(`migrations must be numbered 1..n without gaps: expected ${String(index + 1).padStart(5, '0')}, found ${path.basename(migration.file)}`);
  });
  return migrations;
}

async function ensureTable(sql: Sql) {
  await sql`CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
}

/** Migrations in `directory` that the database has not recorded yet. */
export async function pendingMigrations(sql: Sql, directory = MIGRATIONS_DIRECTORY): Promise<Migration[]> {
  const migrations = await readMigrations(directory);
  const [exists] = await sql<{ present: boolean }[]>`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`;
  if (!exists?.present) return migrations;
  const applied = new Set((await sql<{ id: number }[]>`SELECT id FROM schema_migrations`).map((row) => row.id));
  return migrations.filter((migration) => !applied.has(migration.id));
}

/**
 * Applies every pending migration in ONE transaction (all or nothing) and records each in
 * `schema_migrations`. Forward-only: a database that knows a migration this code does
 * not have is refused rather than guessed at.
 */
export async function runMigrations(sql: Sql, directory = MIGRATIONS_DIRECTORY): Promise<Migration[]> {
  const migrations = await readMigrations(directory);
  await ensureTable(sql);
  return sql.begin(async (transaction) => {
    await transaction`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_KEY})`;
    const applied = new Set((await transaction<{ id: number }[]>`SELECT id FROM schema_migrations`).map((row) => row.id));
    const unknown = [...applied].filter((id) => !migrations.some((migration) => migration.id === id));
    if (unknown.length > 0) throw new Error(`database has migrations this code does not know (${unknown.join(', ')}); deploy a newer version`);
    const pending = migrations.filter((migration) => !applied.has(migration.id));
    for (const migration of pending) {
      await transaction.unsafe(await readFile(migration.file, 'utf8'));
      await transaction`INSERT INTO schema_migrations (id, name) VALUES (${migration.id}, ${migration.name})`;
    }
    return pending;
  });
}
