// `npm run ingest -- <files or folders> [--url http://host:port] [--api-key KEY]`
// Adds .md/.txt files to the knowledge base (source = path relative to the argument).
// Without --url it writes to the configured database directly (DATABASE_URL, or the
// embedded one in DATA_DIR, which must not be in use by a running server); with --url it
// goes through a running service's API. Unchanged files cost no embedding work either way.
import { loadConfig } from '../lib/config.ts';
import type { Log } from '../lib/log.ts';
import { collectFiles, ingestFiles, type IngestTarget } from './ingest/ingest-files.ts';

const args = process.argv.slice(2);
/** Opening steps (migrations applied, model loaded) as plain lines on stderr; debug left out. */
const progressLog: Log = (level, message, fields) => {
  if (level !== 'debug') console.error(`ingest: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
};
const option = (name: string) => {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const [, value] = args.splice(index, 2);
  if (!value) throw new Error(`${name} needs a value`);
  return value;
};

try {
  const url = option('--url');
  const apiKey = option('--api-key') ?? process.env.API_KEY;
  if (args.length === 0 || args.some((arg) => arg.startsWith('--'))) {
    console.error('usage: npm run ingest -- <files or folders> [--url http://127.0.0.1:8080] [--api-key KEY]');
    process.exit(2);
  }
  const files = await collectFiles(args);
  if (files.length === 0) {
    console.error('ingest: no .md or .txt files found');
    process.exit(1);
  }
  let target: IngestTarget;
  let close = async () => {};
  if (url) {
    const { httpTarget } = await import('./ingest/http-target.ts');
    target = httpTarget(url, apiKey);
  } else {
    const config = loadConfig(process.env);
    const { openDirectTarget } = await import('./ingest/direct-target.ts');
    const direct = await openDirectTarget(config, { log: progressLog });
    target = direct.target;
    close = direct.close;
  }
  try {
    const summary = await ingestFiles(files, target, process.stderr);
    console.log(`ingest: ${summary.created} added, ${summary.replaced} replaced, ${summary.unchanged} unchanged, ${summary.skipped} skipped, ${summary.failed} failed; ${summary.chunks} chunks in ${(summary.milliseconds / 1000).toFixed(1)} s`);
    if (summary.failed > 0) process.exitCode = 1;
  } finally {
    await close();
  }
} catch (error) {
  console.error(`ingest: ${(error as Error).message}`);
  process.exit(1);
}
