import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../lib/db/connect.ts';
import { runMigrations } from '../../lib/db/migrate.ts';
import { databaseLane, openTestDatabase, PROJECT_ROOT, testEmbeddingModel } from '../support/test-environment.ts';

// `npm run ingest` as a user runs it, writing straight to the database (no --url).
const TSX = path.join(PROJECT_ROOT, 'node_modules/.bin/tsx');
/** A dimension no fixture or default model has: the database was made for another model. */
const OTHER_MODEL_DIMENSIONS = 512;
const MODEL_DIMENSIONS = 384;

function runIngest(environment: Record<string, string>, folder: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(TSX, ['scripts/ingest.ts', folder], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', EMBEDDING_MODEL: testEmbeddingModel(), LOG_LEVEL: 'warn', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data) => (output += data));
  child.stderr.on('data', (data) => (output += data));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe(`npm run ingest into the database directly (${databaseLane()})`, () => {
  let workDir: string;
  let documentsDir: string;
  let environment: Record<string, string>;
  /** Opens the database the CLI writes to, for setting it up and reading it back. */
  let openTarget: () => Promise<Database>;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'local-rag-ingest-'));
    documentsDir = path.join(workDir, 'documents');
    await mkdir(documentsDir);
    await writeFile(path.join(documentsDir, 'pgvector.md'), 'pgvector stores embeddings in PostgreSQL.\n\nIts HNSW index makes vector search fast.\n');
    const serverUrl = process.env.TEST_DATABASE_URL;
    if (serverUrl) {
      // A fresh, migrated schema on the test server; the CLI reaches it through DATABASE_URL.
      await (await openTestDatabase()).close();
      environment = { DATABASE_URL: serverUrl };
      openTarget = () => openDatabase({ url: serverUrl, dataDir: '', poolSize: 1, migrateOnStart: true });
    } else {
      const dataDir = path.join(workDir, 'data');
      environment = { DATA_DIR: dataDir };
      openTarget = () => openDatabase({ dataDir, poolSize: 1, migrateOnStart: true });
    }
  });

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  const setEmbeddingColumn = async (dimensions: number) => {
    const database = await openTarget();
    try {
      await runMigrations(database.sql);
      await database.sql.unsafe(`ALTER TABLE knowledge_chunks ALTER COLUMN embedding TYPE vector(${dimensions})`);
    } finally {
      await database.close();
    }
  };

  it('stops with both dimensions named when the database was made for another model, and stores nothing', async () => {
    await setEmbeddingColumn(OTHER_MODEL_DIMENSIONS);
    const { code, output } = await runIngest(environment, documentsDir);
    expect(code).toBe(1);
    expect(output).toContain(`knowledge_chunks.embedding is vector(${OTHER_MODEL_DIMENSIONS}) but EMBEDDING_DIM is ${MODEL_DIMENSIONS}`);
    expect(output).not.toContain('internal error');
    expect(output).not.toMatch(/\d+ failed/);
    const database = await openTarget();
    try {
      const [row] = await database.sql<{ documents: number }[]>`SELECT count(*)::int AS documents FROM knowledge_documents`;
      expect(row!.documents).toBe(0);
    } finally {
      await database.close();
    }
  });

  it('adds the files once the column fits the model', async () => {
    await setEmbeddingColumn(MODEL_DIMENSIONS);
    const { code, output } = await runIngest(environment, documentsDir);
    expect(output).toContain('ingest: 1 added, 0 replaced, 0 unchanged, 0 skipped, 0 failed');
    expect(code).toBe(0);
  });
});
