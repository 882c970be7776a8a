// The compose topology as local processes: each piece started the way its compose service
// is (same command, same environment) with only addresses made local, and stopped by PID.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startProcessGroup, type ProcessGroup } from '../support/process-group.ts';
import { commandOption, type ComposeTopology } from './compose-topology.ts';

export interface TopologyPorts {
  gateway: number;
  addDocument: number;
  search: number;
  wsChat: number;
  llama: number;
  postgres: number;
}

export interface TopologySettings {
  projectRoot: string;
  /** Logs, nginx's prefix and the PID list live here. */
  runDirectory: string;
  /** LOCAL_RAG_CACHE_DIR for scripts/pg-server.sh: a cluster of this test's own. */
  postgresCacheDirectory: string;
  ports: TopologyPorts;
  compose: ComposeTopology;
}

/** The functions as compose names them, with the port each gets here. */
export const FUNCTION_SERVICES = [
  { service: 'add-document', port: (ports: TopologyPorts) => ports.addDocument },
  { service: 'search', port: (ports: TopologyPorts) => ports.search },
  { service: 'ws-chat', port: (ports: TopologyPorts) => ports.wsChat },
] as const;

export type FunctionService = (typeof FUNCTION_SERVICES)[number]['service'];

/** What a container would have besides its compose environment: a PATH and a HOME. */
function baseEnvironment(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG'];
  return Object.fromEntries(keep.flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
}

export function tailOf(file: string, lines = 30): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Runs a project script (bash) to completion; resolves with its stdout (trimmed), its stderr
 * goes to `logFile`. Rejects with the log's tail when it fails.
 */
export function runScript(settings: TopologySettings, script: string, args: string[], environment: Record<string, string>, logFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    appendFileSync(logFile, `$ bash ${script} ${args.join(' ')}\n`);
    const child = spawn('bash', [script, ...args], { cwd: settings.projectRoot, env: { ...process.env, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => appendFileSync(logFile, text));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(output.trim());
      else reject(new Error(`bash ${script} ${args.join(' ')} exited with ${code}:\n${tailOf(logFile, 15)}`));
    });
  });
}

/** The environment scripts/pg-server.sh runs with: this test's own cluster and port. */
export function postgresEnvironment(settings: TopologySettings): Record<string, string> {
  return { LOCAL_RAG_CACHE_DIR: settings.postgresCacheDirectory, PG_TEST_PORT: String(settings.ports.postgres), PG_TEST_DB: 'local_rag_topology' };
}

/**
 * scripts/llama-server.sh's settings from the llama_server service's command: the same
 * context size, slots and API key; the model is the fixture instead of the GGUF download.
 */
export function llamaEnvironment(settings: TopologySettings): Record<string, string> {
  const command = settings.compose.service('llama_server').command;
  const apiKey = commandOption(command, '--api-key');
  if (!apiKey) throw new Error('llama_server has no --api-key in docker-compose.prod.yml');
  return {
    LLAMA_PORT: String(settings.ports.llama),
    LLM_API_KEY: apiKey,
    LLAMA_CTX_SIZE: commandOption(command, '--ctx-size') ?? '8192',
    LLAMA_PARALLEL: commandOption(command, '--parallel') ?? '2',
  };
}

/** Runs the `migrate` service's command with its environment, DATABASE_URL made local. */
export async function runMigrate(settings: TopologySettings, databaseUrl: string): Promise<void> {
  const service = settings.compose.service('migrate');
  const logFile = path.join(settings.runDirectory, 'migrate.log');
  const environment = { ...baseEnvironment(), ...Object.fromEntries(service.environment), DATABASE_URL: databaseUrl };
  const [command, ...args] = service.command;
  const group = await startProcessGroup(command!, args, { cwd: settings.projectRoot, env: environment, logFile });
  const code = await group.exited;
  await group.stop();
  if (code !== 0) throw new Error(`${service.command.join(' ')} exited with ${code}:\n${tailOf(logFile)}`);
}

export interface RunningFunction {
  service: FunctionService;
  port: number;
  origin: string;
  group: ProcessGroup;
  logFile: string;
}

/**
 * The function service's environment from the compose file, with local addresses: its own
 * port on 127.0.0.1, the local database and llama-server, and the fixture embedding model
 * where the container would have the `models_data` volume.
 */
export function functionEnvironment(settings: TopologySettings, service: FunctionService, local: { databaseUrl: string; llmBaseUrl: string }): Record<string, string> {
  const fromCompose = Object.fromEntries(settings.compose.service(service).environment);
  const port = FUNCTION_SERVICES.find((entry) => entry.service === service)!.port(settings.ports);
  const modelsDirectory = path.resolve(settings.projectRoot, '../shared/fixtures/models');
  return {
    ...baseEnvironment(),
    ...fromCompose,
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: local.databaseUrl,
    LLM_BASE_URL: local.llmBaseUrl,
    EMBEDDING_MODEL: path.join(modelsDirectory, 'glove-static-384d'),
    MODELS_DIR: modelsDirectory,
  };
}

/** Starts one function with the service's command (`npm start`); does not wait for readiness. */
export async function startFunction(settings: TopologySettings, service: FunctionService, environment: Record<string, string>, onSpawn: (pid: number) => void): Promise<RunningFunction> {
  const [command, ...args] = settings.compose.service(service).command;
  const port = Number(environment.PORT);
  const logFile = path.join(settings.runDirectory, `${service}.log`);
  const group = await startProcessGroup(command!, args, { cwd: settings.projectRoot, env: environment, logFile, onSpawn });
  return { service, port, origin: `http://127.0.0.1:${port}`, group, logFile };
}

/** Polls `url` until it answers 200; fails at once when `group` exits, or after `timeoutMs`. */
export async function waitForOk(url: string, group: ProcessGroup | undefined, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (group && !group.isRunning()) throw new Error(`process ${group.pid} exited (${await group.exited}) before ${url} was ready:\n${tailOf(logFile)}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
      last = `${response.status} ${(await response.text()).slice(0, 300)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (last: ${last}):\n${tailOf(logFile)}`);
}

/**
 * The gateway's environment from the compose `gateway` service, with local upstreams and
 * listen address, rendered by infra/scripts/nginx.sh (the same template and envsubst filter).
 */
export function gatewayEnvironment(settings: TopologySettings): Record<string, string> {
  const fromCompose = Object.fromEntries(settings.compose.service('gateway').environment);
  const local = (port: number) => `127.0.0.1:${port}`;
  return {
    ...fromCompose,
    GATEWAY_LISTEN: local(settings.ports.gateway),
    // 127.0.0.11 is Docker's DNS; the local upstreams are addresses, so nothing is resolved.
    GATEWAY_RESOLVER: '127.0.0.1',
    GATEWAY_ADD_DOCUMENT_UPSTREAM: local(settings.ports.addDocument),
    GATEWAY_SEARCH_UPSTREAM: local(settings.ports.search),
    GATEWAY_WS_CHAT_UPSTREAM: local(settings.ports.wsChat),
    GATEWAY_DEFAULT_UPSTREAM: local(settings.ports.wsChat),
  };
}

/** Renders the gateway config and runs nginx in the foreground with its own prefix. */
export async function startGateway(settings: TopologySettings, onSpawn: (pid: number) => void): Promise<{ group: ProcessGroup; origin: string; logFile: string }> {
  const prefix = path.join(settings.runDirectory, 'nginx');
  const logFile = path.join(settings.runDirectory, 'nginx.log');
  const confFile = await runScript(settings, 'infra/scripts/nginx.sh', ['render', prefix], gatewayEnvironment(settings), logFile);
  const group = await startProcessGroup('nginx', ['-p', `${prefix}/`, '-c', confFile, '-g', 'daemon off;'], { cwd: prefix, env: baseEnvironment(), logFile, onSpawn });
  const origin = `http://127.0.0.1:${settings.ports.gateway}`;
  await waitForOk(`${origin}/gateway/healthz`, group, path.join(prefix, 'logs', 'error.log'), 10_000);
  return { group, origin, logFile };
}
