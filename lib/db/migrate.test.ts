import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIRECTORY, readMigrations } from './migrate.ts';

const folders: string[] = [];
async function folderWith(files: Record<string, string>) {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'migrations-'));
  folders.push(folder);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(folder, name), text);
  return folder;
}
afterEach(async () => {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

describe('readMigrations', () => {
  it("reads the project's own migrations in order, numbered from 1 without gaps", async () => {
    const migrations = await readMigrations(MIGRATIONS_DIRECTORY);
    expect(migrations[0]).toMatchObject({ id: 1, name: 'init' });
    expect(migrations.map((migration) => migration.id)).toEqual(migrations.map((_, index) => index + 1));
  });

  it('refuses a gap in the numbering', async () => {
    const folder = await folderWith({ '00001_a.sql': 'SELECT 1;', '00003_c.sql': 'SELECT 1;' });
    await expect(readMigrations(folder)).rejects.toThrow(/without gaps: expected 00002, found 00003_c.sql/);
  });

  it('refuses a badly named file', async () => {
    const folder = await folderWith({ '00001_a.sql': 'SELECT 1;', '2_b.sql': 'SELECT 1;' });
    await expect(readMigrations(folder)).rejects.toThrow(/must be named NNNNN_name.sql/);
  });
});
