// `npm run migrate`: applies pending sql/ migrations to DATABASE_URL (or the embedded
// database in DATA_DIR) and exits. The compose `migrate` job runs this once.
import { loadConfig } from '../lib/config.ts';
import { openDatabase } from '../lib/db/connect.ts';
import { runMigrations } from '../lib/db/migrate.ts';

try {
  const config = loadConfig(process.env);
  const database = await openDatabase(config.database);
  try {
    const applied = await runMigrations(database.sql);
    console.log(applied.length ? `applied ${applied.map((migration) => `${String(migration.id).padStart(5, '0')}_${migration.name}`).join(', ')} to ${database.description}` : `${database.description}: up to date`);
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(`migrate: ${(error as Error).message}`);
  process.exit(1);
}
