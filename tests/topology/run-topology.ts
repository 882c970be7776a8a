// `npm run test:topology` (through scripts/topology-test.sh, which picks the ports and the
// run directory and is the outer trap): the compose topology as real local processes, then
// the seed's verification through the gateway. Prints PASS/FAIL with timings; exit 1 on FAIL.
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readComposeTopology } from './compose-topology.ts';
import { addDocument, chatAnswers, chatRefuses, expectUpstreamUnavailable, searchFinds } from './gateway-checks.ts';
import {
  FUNCTION_SERVICES,
  functionEnvironment,
  llamaEnvironment,
  postgresEnvironment,
  runMigrate,
  runScript,
  startFunction,
  startGateway,
  waitForOk,
  type FunctionService,
  type RunningFunction,
  type TopologySettings,
} from './local-topology.ts';
import type { ProcessGroup } from '../support/process-group.ts';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const READY_TIMEOUT_MS = 180_000;

const README = {
  source: 'README',
  content:
    'local-rag answers questions from your own documents. It stores every document in PostgreSQL with the pgvector extension, ' +
    'splits it into chunks and embeds each chunk. The chat page streams answers from a llama.cpp server over a WebSocket.',
};
const RELATED_QUESTION = 'Where does local-rag store documents?';
// No word in common with anything stored: the refusal must come from retrieval, not the model.
const UNRELATED_QUESTION = 'Which volcano buried Pompeii?';
const OPERATIONS = { source: 'OPERATIONS', content: 'Backups of the PostgreSQL database run every night at two o’clock.' };

function requiredEnvironment(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through bash scripts/topology-test.sh`);
  return value;
}

function readSettings(): TopologySettings {
  const port = (name: string) => Number(requiredEnvironment(name));
  return {
    projectRoot,
    runDirectory: requiredEnvironment('TOPOLOGY_RUN_DIR'),
    postgresCacheDirectory: requiredEnvironment('TOPOLOGY_PG_CACHE_DIR'),
    ports: {
      gateway: port('TOPOLOGY_GATEWAY_PORT'),
      addDocument: port('TOPOLOGY_ADD_DOCUMENT_PORT'),
      search: port('TOPOLOGY_SEARCH_PORT'),
      wsChat: port('TOPOLOGY_WS_CHAT_PORT'),
      llama: port('TOPOLOGY_LLAMA_PORT'),
      postgres: port('TOPOLOGY_POSTGRES_PORT'),
    },
    compose: readComposeTopology(projectRoot),
  };
}

interface StepResult {
  name: string;
  ms: number;
  ok: boolean;
  detail: string;
}

const results: StepResult[] = [];
const runStarted = performance.now();

/** Runs and times one step; a failed setup step stops the run, a failed check does not. */
async function step(name: string, action: () => Promise<string | void>, { fatal }: { fatal: boolean }): Promise<boolean> {
  const started = performance.now();
  try {
    const detail = (await action()) ?? '';
    results.push({ name, ms: performance.now() - started, ok: true, detail });
    return true;
  } catch (error) {
    results.push({ name, ms: performance.now() - started, ok: false, detail: (error as Error).message });
    if (fatal) throw error;
    return false;
  }
}

const settings = readSettings();
const logFile = (name: string) => path.join(settings.runDirectory, `${name}.log`);
const pidFile = path.join(settings.runDirectory, 'pids');
writeFileSync(pidFile, '');
// scripts/topology-test.sh stops whatever is still listed here if this process dies.
const recordPid = (pid: number) => appendFileSync(pidFile, `${pid}\n`);

const running = new Map<FunctionService, RunningFunction>();
let gateway: { group: ProcessGroup; origin: string } | undefined;
let llamaStarted = false;
let postgresStarted = false;
let local = { databaseUrl: '', llmBaseUrl: '' };

async function startAndWait(service: FunctionService): Promise<string> {
  const started = await startFunction(settings, service, functionEnvironment(settings, service, local), recordPid);
  running.set(service, started);
  await waitForOk(`${started.origin}/readyz`, started.group, started.logFile, READY_TIMEOUT_MS);
  // What readiness covered: ws-chat's includes the LLM (compose waits for it the same way).
  const report = (await (await fetch(`${started.origin}/readyz`)).json()) as { checks?: Record<string, { ok: boolean }> };
  const checks = Object.entries(report.checks ?? {}).map(([name, entry]) => `${name} ${entry.ok ? 'ok' : 'failing'}`);
  return `pid ${started.group.pid}, 127.0.0.1:${started.port}, ready (${checks.join(', ')})`;
}

async function stopFunction(service: FunctionService): Promise<void> {
  await running.get(service)?.group.stop();
  running.delete(service);
}

let cleaning: Promise<void> | undefined;
/** Stops everything this run started, newest first, each by its PID; never throws. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    const started = performance.now();
    const problems: string[] = [];
    const timings: string[] = [];
    const attempt = async (what: string, action: () => Promise<unknown>) => {
      const begun = performance.now();
      await action().catch((error: Error) => problems.push(`${what}: ${error.message}`));
      timings.push(`${what} ${((performance.now() - begun) / 1000).toFixed(1)} s`);
    };
    await attempt('nginx', async () => gateway?.group.stop({ signal: 'SIGQUIT' }));
    await attempt('functions', () => Promise.all([...running.keys()].map((service) => stopFunction(service))));
    if (llamaStarted) await attempt('llama-server', () => runScript(settings, 'scripts/llama-server.sh', ['stop'], llamaEnvironment(settings), logFile('llama-server')));
    if (postgresStarted) await attempt('postgres', () => runScript(settings, 'scripts/pg-server.sh', ['stop'], postgresEnvironment(settings), logFile('postgres')));
    writeFileSync(pidFile, '');
    results.push({ name: 'stop everything', ms: performance.now() - started, ok: problems.length === 0, detail: problems.join('; ') || `all stopped by PID (${timings.join(', ')})` });
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    results.push({ name: `interrupted by ${signal}`, ms: 0, ok: false, detail: '' });
    void cleanUp().then(() => {
      printSummary();
      process.exit(130);
    });
  });
}

async function run(): Promise<void> {
  const fatal = { fatal: true };
  const check = { fatal: false };
  await step('install: PostgreSQL 15 + pgvector', () => runScript(settings, 'scripts/pg-server.sh', ['install'], postgresEnvironment(settings), logFile('postgres')), fatal);
  await step('install: nginx', () => runScript(settings, 'infra/scripts/nginx.sh', ['install'], {}, logFile('nginx')), fatal);
  await step('build: llama-server (cached)', () => runScript(settings, 'scripts/llama-server.sh', ['build'], {}, logFile('llama-server')).then(() => 'binary ready'), fatal);

  await step('postgres: start + reset-db', async () => {
    postgresStarted = true;
    local.databaseUrl = await runScript(settings, 'scripts/pg-server.sh', ['start'], postgresEnvironment(settings), logFile('postgres'));
    await runScript(settings, 'scripts/pg-server.sh', ['reset-db'], postgresEnvironment(settings), logFile('postgres'));
    return `127.0.0.1:${settings.ports.postgres}`;
  }, fatal);
  await step('migrate: npm run migrate (compose `migrate`)', () => runMigrate(settings, local.databaseUrl), fatal);
  await step('llama-server: start with the fixture model + API key', async () => {
    llamaStarted = true;
    const origin = await runScript(settings, 'scripts/llama-server.sh', ['start'], llamaEnvironment(settings), logFile('llama-server'));
    local.llmBaseUrl = `${origin}/v1`;
    return origin;
  }, fatal);
  // In parallel, as compose starts them once migrate has completed.
  const starts = FUNCTION_SERVICES.map(({ service }) => step(`${service}: npm start, FUNCTIONS=${service}, /readyz`, () => startAndWait(service), check));
  if (!(await Promise.all(starts)).every(Boolean)) throw new Error('a function did not become ready');
  await step('gateway: nginx.sh render + nginx (daemon off)', async () => {
    gateway = await startGateway(settings, recordPid);
    return `pid ${gateway.group.pid}, ${gateway.origin}`;
  }, fatal);

  const apiKey = settings.compose.service('add-document').environment.get('API_KEY') || undefined;
  const through = { origin: gateway!.origin, apiKey };
  await step('gateway → add-document README', () => addDocument(through, README.source, README.content), check);
  await step('gateway → search finds README', () => searchFinds(through, RELATED_QUESTION, README.source, 'PostgreSQL'), check);
  await step('gateway → /ws/llm related question streams an answer', () => chatAnswers(through, RELATED_QUESTION, README.source), check);
  await step('gateway → /ws/llm unrelated question gets 资料不足', () => chatRefuses(through, UNRELATED_QUESTION), check);

  await step('stop the search function (by PID)', () => stopFunction('search').then(() => 'stopped'), fatal);
  await step('gateway → search while down: JSON 502/503 upstream_unavailable', () => expectUpstreamUnavailable(through, '/api/v1/knowledge/search', { query: RELATED_QUESTION }), check);
  await step('gateway → document list while search is down: same error', () => expectUpstreamUnavailable(through, '/api/v1/knowledge/documents'), check);
  await step('gateway → add-document still works', () => addDocument(through, OPERATIONS.source, OPERATIONS.content), check);
  await step('gateway → chat still works', () => chatAnswers(through, RELATED_QUESTION, README.source), check);

  await step('restart the search function', () => startAndWait('search'), fatal);
  await step('gateway → search recovered (finds the document added meanwhile)', () => searchFinds(through, 'When do backups of the database run?', OPERATIONS.source, 'Backups'), check);
}

function printSummary(): void {
  const failed = results.filter((result) => !result.ok);
  // Wall clock: the three functions start in parallel, so the steps' sum would overstate it.
  const total = performance.now() - runStarted;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1).padStart(6)} s`;
  console.log('\ntopology test (docker-compose.prod.yml as local processes, checks through the gateway)');
  for (const result of results) {
    console.log(`  ${result.ok ? 'ok  ' : 'FAIL'} ${seconds(result.ms)}  ${result.name}${result.detail && result.ok ? ` — ${result.detail}` : ''}`);
    if (!result.ok && result.detail) console.log(result.detail.replace(/^/gm, '         '));
  }
  console.log(`\n${failed.length === 0 ? 'PASS' : `FAIL (${failed.length} of ${results.length} steps)`} in ${seconds(total).trim()}`);
}

let exitCode = 0;
try {
  await run();
} catch (error) {
  if (!results.some((result) => !result.ok)) results.push({ name: 'run', ms: 0, ok: false, detail: (error as Error).stack ?? String(error) });
}
await cleanUp();
printSummary();
if (results.some((result) => !result.ok)) exitCode = 1;
process.exit(exitCode);
