import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { loadConfig, type Config } from '../../lib/config.ts';
import { openDatabase, type Database, type SessionSettings } from '../../lib/db/connect.ts';
import { runMigrations } from '../../lib/db/migrate.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE_MODEL = path.resolve(PROJECT_ROOT, '../shared/fixtures/models/glove-static-384d');

/**
 * The embedding model tests use: the small real fixture model when `../shared` is there,
 * else the production default from the hub (same code path either way).
 */
export function testEmbeddingModel(): string {
  return process.env.EMBEDDING_MODEL ?? (existsSync(FIXTURE_MODEL) ? FIXTURE_MODEL : 'sentence-transformers/all-MiniLM-L6-v2');
}

/** Which database lane this run uses: a real server when TEST_DATABASE_URL is set. */
export function databaseLane(): 'server' | 'embedded' {
  return process.env.TEST_DATABASE_URL ? 'server' : 'embedded';
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ EMBEDDING_MODEL: testEmbeddingModel(), LOG_LEVEL: 'silent', ...overrides });
}

/**
 * A migrated, empty database for one test file: a fresh schema on the test server
 * (TEST_DATABASE_URL) or a fresh embedded PGlite in a temporary folder.
 */
export async function openTestDatabase(session: SessionSettings = {}): Promise<Database & { url?: string }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe('DROP TABLE IF EXISTS knowledge_chunks, knowledge_documents, knowledge_lexemes, schema_migrations CASCADE');
    await admin.end();
    const database = await openDatabase({ url: serverUrl, dataDir: '', poolSize: 4, migrateOnStart: true }, session);
    await runMigrations(database.sql);
    return { ...database, url: serverUrl };
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'local-rag-test-'));
  const database = await openDatabase({ dataDir, poolSize: 1, migrateOnStart: true }, session);
  await runMigrations(database.sql);
  return {
    ...database,
    async close() {
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
