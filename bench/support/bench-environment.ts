import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../lib/config.ts';

/** The project root, derived from this file so the benchmarks run from any working directory. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The fixture model, relative to the project root (written into results as-is). */
export const FIXTURE_MODEL = '../shared/fixtures/models/glove-static-384d';

/**
 * The service configuration a benchmark runs with: the embedding settings come from the same
 * variables the service reads (EMBEDDING_MODEL, EMBEDDING_DTYPE, EMBEDDING_THREADS,
 * EMBEDDING_BATCH_SIZE, MODELS_DIR, HF_HUB_OFFLINE, CHUNK_*), the model defaulting to the fixture.
 * A relative model path is taken relative to the project root.
 */
export function benchConfig(overrides: Record<string, string> = {}): Config {
  const names = ['EMBEDDING_MODEL', 'EMBEDDING_DIM', 'EMBEDDING_DTYPE', 'EMBEDDING_THREADS', 'EMBEDDING_BATCH_SIZE', 'MODELS_DIR', 'HF_HUB_OFFLINE', 'CHUNK_MAX_TOKENS', 'CHUNK_OVERLAP_SENTENCES'];
  const environment = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  // A benchmark is one client sending as fast as it can: the per-client rate limit (a policy
  // against floods, 600/min by default) would measure 429s, so it is off unless asked for.
  const config = loadConfig({ ...environment, EMBEDDING_MODEL: benchModelSetting(), LOG_LEVEL: 'silent', RATE_LIMIT_REQUESTS: '0', ...overrides });
  return { ...config, embedding: { ...config.embedding, model: resolveModel(config.embedding.model) } };
}

/** `EMBEDDING_MODEL` as the user gave it (or the fixture), for the results files. */
export function benchModelSetting(): string {
  return process.env.EMBEDDING_MODEL || FIXTURE_MODEL;
}

function resolveModel(model: string): string {
  return model.startsWith('.') ? path.resolve(PROJECT_ROOT, model) : model;
}

/** The embedding model row of a results table: model, dtype, threads and (optionally) batch size. */
export function modelDescription(config: Config, options: { batch?: boolean } = {}): string {
  const threads = config.embedding.threads > 0 ? String(config.embedding.threads) : 'runtime default (0)';
  return `${benchModelSetting()} (dtype ${config.embedding.dtype}, threads ${threads}${options.batch ? `, batch ${config.embedding.batchSize}` : ''})`;
}

/** The first rows of every results table: when the run started and on what machine. */
export function runRows(): [string, string][] {
  return [
    ['date', new Date().toISOString()],
    ['machine', machineDescription()],
  ];
}

/** One line describing the machine: cores, CPU, memory, Node. */
export function machineDescription(): string {
  const cpu = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const memory = Math.round(os.totalmem() / 2 ** 30);
  return `${os.availableParallelism()} cores (${cpu}), ${memory} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

/** `--name value` and `--flag` arguments. */
export function parseArguments(argv: string[]): Map<string, string | true> {
  const parsed = new Map<string, string | true>();
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (!argument.startsWith('--')) throw new Error(`unexpected argument ${argument}`);
    const [name, inline] = argument.slice(2).split('=', 2) as [string, string | undefined];
    const next = argv[index + 1];
    if (inline !== undefined) parsed.set(name, inline);
    else if (next !== undefined && !next.startsWith('--')) parsed.set(name, argv[++index]!);
    else parsed.set(name, true);
  }
  return parsed;
}

/** A positive integer argument, or `fallback`. */
export function integerArgument(parsed: Map<string, string | true>, name: string, fallback: number): number {
  const value = parsed.get(name);
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`--${name} must be a positive integer, got ${String(value)}`);
  return number;
}

/**
 * The real PostgreSQL server's URL: `BENCH_DATABASE_URL` when set, otherwise the project's
 * test server (`scripts/pg-server.sh start`) in its own database `local_rag_bench`, so a
 * benchmark never drops the tables an integration test run is using.
 */
export function serverDatabaseUrl(): string {
  if (process.env.BENCH_DATABASE_URL) return process.env.BENCH_DATABASE_URL;
  const output = execFileSync('bash', [path.join(PROJECT_ROOT, 'scripts/pg-server.sh'), 'start'], {
    env: { ...process.env, PG_TEST_DB: process.env.PG_TEST_DB ?? 'local_rag_bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  return output.trim().split('\n').at(-1)!;
}

/** `host:port/database` of a server URL (no credentials), for the results. */
export function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port}${parsed.pathname}`;
}

/**
 * Writes one section of `bench/results/<name>.md` (between `<!-- section: key -->` markers),
 * keeping the sections other runs wrote (e.g. the embedded run beside the `--server` run).
 */
export async function writeResults(name: string, section: string, title: string, markdown: string): Promise<string> {
  const file = path.join(PROJECT_ROOT, 'bench', 'results', `${name}.md`);
  await mkdir(path.dirname(file), { recursive: true });
  const existing = await readFile(file, 'utf8').catch(() => '');
  const sections = new Map<string, string>();
  for (const match of existing.matchAll(/<!-- section: ([\w-]+) -->\n([\s\S]*?)<!-- end: \1 -->/g)) sections.set(match[1]!, match[2]!);
  sections.set(section, `${markdown.trim()}\n`);
  const body = [...sections.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, text]) => `<!-- section: ${key} -->\n${text}<!-- end: ${key} -->`);
  await writeFile(file, `# ${title}\n\nWritten by \`bench/${name}.ts\`; each section is replaced by the run that wrote it.\n\n${body.join('\n\n')}\n`);
  return path.relative(PROJECT_ROOT, file);
}

/** The command line that reproduces this run, relative to the project root. */
export function commandLine(script: string, argv: string[]): string {
  const model = process.env.EMBEDDING_MODEL ? `EMBEDDING_MODEL=${process.env.EMBEDDING_MODEL} ` : '';
  const threads = process.env.EMBEDDING_THREADS ? `EMBEDDING_THREADS=${process.env.EMBEDDING_THREADS} ` : '';
  return `${model}${threads}npx tsx ${script}${argv.length ? ` ${argv.join(' ')}` : ''}`;
}
