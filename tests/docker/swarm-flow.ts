// Past one machine (issue 12): `docker swarm init` (one node), `docker stack deploy` of the
// stack made from docker-compose.prod.yml (scripts/swarm-stack.ts), with the keys and the
// database password as Docker secrets, an overlay network, replicas, and a rolling update
// under a loop of searches. `docker swarm leave --force` afterwards (the run's clean-up).
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { addDocument, expect, requestJson, searchFinds } from '../topology/gateway-checks.ts';
import { docker } from './docker-cli.ts';
import { README, RELATED_QUESTION } from './dev-flow.ts';
import { productionApiKey, searchLoop } from './prod-flow.ts';
import type { DockerTestSettings } from './run-docker.ts';
import type { StandInHub } from './stand-in-hub.ts';
import type { StepRunner } from './steps.ts';

const STACK = 'local-rag-docker';
const SECRET_BYTES = 24;
const CONVERGE_TIMEOUT_MS = 10 * 60_000;
const REMOVE_TIMEOUT_MS = 2 * 60_000;
const POLL_INTERVAL_MS = 3_000;
const SEARCH_REPLICAS = 2;
const ADDRESS_POOL = '10.232.0.0/16';
/** docker_gwbridge (each swarm node's bridge to its containers), made beforehand with an explicit subnet. */
export const GATEWAY_BRIDGE = { name: 'docker_gwbridge', subnet: '172.31.252.0/24' };
const ADDRESS_POOL_MASK = '24';
const run = promisify(execFile);

export interface SwarmContext {
  settings: DockerTestSettings;
  runner: StepRunner;
  hub: StandInHub;
  onSwarmStarted: () => void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface StackService {
  Name: string;
  Mode: string;
  Replicas: string;
}

async function stackServices(): Promise<StackService[]> {
  const { stdout } = await docker(['stack', 'services', STACK, '--format', '{{json .}}']);
  return stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as StackService);
}

/** Every replicated service n/n and every job completed, within the bound. */
async function waitConverged(): Promise<string> {
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  const started = Date.now();
  let last = '';
  while (Date.now() < deadline) {
    const services = await stackServices();
    last = services.map((service) => `${service.Name.replace(`${STACK}_`, '')} ${service.Replicas}`).join(', ');
    const done = services.length > 0 && services.every((service) => {
      if (service.Mode.includes('job')) return /\((\d+)\/\1 completed\)/.test(service.Replicas);
      const match = /^(\d+)\/(\d+)/.exec(service.Replicas);
      return match !== null && match[1] === match[2] && match[1] !== '0';
    });
    if (done) {
      const unhealthy = await unhealthyTasks();
      if (unhealthy.length === 0) return `converged in ${((Date.now() - started) / 1000).toFixed(0)} s: ${last}`;
      last += `; not yet healthy: ${unhealthy.join(', ')}`;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(`the stack did not converge within ${CONVERGE_TIMEOUT_MS / 1000} s: ${last}`);
}

async function unhealthyTasks(): Promise<string[]> {
  const { stdout } = await docker(['ps', '--filter', `label=com.docker.stack.namespace=${STACK}`, '--format', '{{.Names}} {{.Status}}']);
  return stdout.trim().split('\n').filter((line) => line && !line.includes('(healthy)')).map((line) => line.split(' ')[0]!);
}

export async function runSwarmFlow(context: SwarmContext): Promise<void> {
  const { settings, runner, hub } = context;
  const fatal = { fatal: true };
  const check = { fatal: false };
  const secrets = { api_key: randomBytes(SECRET_BYTES).toString('hex'), llm_api_key: randomBytes(SECRET_BYTES).toString('hex'), postgres_password: randomBytes(SECRET_BYTES).toString('hex') };
  const gatewayPort = await freePort();
  const stackFile = path.join(settings.runDirectory, 'stack.json');

  await runner.step('swarm: docker swarm init (one node, on 127.0.0.1)', async () => {
    const listenPort = await freePort();
    context.onSwarmStarted();
    // Docker's documented way to choose docker_gwbridge's subnet: create it before `swarm init`.
    await docker(['network', 'create', '--subnet', GATEWAY_BRIDGE.subnet, '--opt', 'com.docker.network.bridge.name=docker_gwbridge',
      '--opt', 'com.docker.network.bridge.enable_icc=false', '--opt', 'com.docker.network.bridge.enable_ip_masquerade=true', GATEWAY_BRIDGE.name]);
    await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${listenPort}`, '--default-addr-pool', ADDRESS_POOL, '--default-addr-pool-mask-length', ADDRESS_POOL_MASK], { timeoutMs: 60_000 });
    return `manager on 127.0.0.1:${listenPort}, address pool ${ADDRESS_POOL}`;
  }, fatal);
  await runner.step('swarm: keys and database password as Docker secrets', async () => {
    for (const [name, value] of Object.entries(secrets)) await docker(['secret', 'create', name, '-'], { input: value });
    return Object.keys(secrets).join(', ');
  }, fatal);
  await runner.step('swarm: stack made from docker-compose.prod.yml (scripts/swarm-stack.ts)', async () => {
    const environment = {
      ...process.env,
      ...settings.images,
      APP_IMAGE: settings.appImage,
      CA_BUNDLE: settings.caBundle,
      HF_ENDPOINT: hub.endpoint,
      TEST_SUBNET: settings.subnets.swarm,
      SEARCH_REPLICAS: String(SEARCH_REPLICAS),
      ADD_DOCUMENT_REPLICAS: '1',
      WS_CHAT_REPLICAS: '1',
    };
    const { stdout } = await run(
      'node_modules/.bin/tsx',
      ['scripts/swarm-stack.ts', '--file', 'docker-compose.prod.yml', '--file', 'tests/docker/compose.prod-test.yml', '--file', 'tests/docker/compose.test.yml',
        '--env-file', '.env.prod', '--env-file', 'tests/docker/test.env', '--subnet', settings.subnets.swarm, '--gateway-port', String(gatewayPort), '--publish-mode', 'host'],
      { cwd: settings.projectRoot, env: environment, maxBuffer: 16 * 1024 * 1024 },
    );
    writeFileSync(stackFile, stdout);
    for (const value of Object.values(secrets)) expect(!stdout.includes(value), 'a secret value is written into the stack file');
    expect(!stdout.includes('change-me'), 'the stack file holds .env.prod\'s placeholder keys');
    return `${Object.keys((JSON.parse(stdout) as { services: object }).services).length} services, secrets as *_FILE`;
  }, fatal);
  await runner.step('swarm: docker stack deploy → converged and healthy', async () => {
    await docker(['stack', 'deploy', '--compose-file', stackFile, STACK], { timeoutMs: 180_000 });
    return waitConverged();
  }, fatal);
  await runner.step('swarm: the network is an overlay with its explicit subnet', async () => {
    const { stdout } = await docker(['network', 'inspect', `${STACK}_dbNetWork`, '--format', '{{.Driver}} {{range .IPAM.Config}}{{.Subnet}}{{end}}']);
    expect(stdout.trim() === `overlay ${settings.subnets.swarm}`, `network: ${stdout.trim()}`);
    return stdout.trim();
  }, check);

  const origin = `http://127.0.0.1:${gatewayPort}`;
  await runner.step('swarm: add-document reads API_KEY from its secret file', async () => {
    const placeholder = productionApiKey(settings.projectRoot);
    const refused = await requestJson(`${origin}/api/v1/knowledge/add-document`, { body: README, headers: { Authorization: `Bearer ${placeholder}` } });
    expect(refused.status === 401, `.env.prod's key was accepted: ${refused.status}`);
    return `${await addDocument({ origin, apiKey: secrets.api_key }, README.source, README.content)}; .env.prod's key → 401`;
  }, check);
  await runner.step('swarm: search through the gateway (DATABASE_PASSWORD_FILE reached PostgreSQL)', () => searchFinds({ origin, apiKey: secrets.api_key }, RELATED_QUESTION, README.source, 'PostgreSQL'), check);
  await runner.step('swarm: rolling update of search (start-first) under a loop of searches: 0 failed', async () => {
    let updating = true;
    const loop = searchLoop({ origin, apiKey: secrets.api_key, query: RELATED_QUESTION, source: README.source, done: () => !updating });
    const started = performance.now();
    try {
      await docker(['service', 'update', '--force', '--detach=false', '--quiet', `${STACK}_search`], { timeoutMs: CONVERGE_TIMEOUT_MS });
    } finally {
      updating = false;
    }
    const result = await loop;
    const { stdout } = await docker(['service', 'inspect', `${STACK}_search`, '--format', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}']);
    expect(stdout.trim() === 'completed', `update state: ${stdout.trim()}`);
    expect(result.failed === 0, `${result.failed} of ${result.sent} searches failed during the update: ${[...new Set(result.failures)].slice(0, 5).join(' | ')}`);
    return `${SEARCH_REPLICAS} replicas updated in ${((performance.now() - started) / 1000).toFixed(0)} s; ${result.sent} searches, 0 failed`;
  }, check);

  await runner.step('swarm: docker stack rm, secrets and volumes removed', async () => {
    await docker(['stack', 'rm', STACK]);
    const deadline = Date.now() + REMOVE_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const { stdout } = await docker(['ps', '--all', '--quiet', '--filter', `label=com.docker.stack.namespace=${STACK}`]);
      if (stdout.trim() === '') break;
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    const { stdout: volumes } = await docker(['volume', 'ls', '--quiet', '--filter', `label=com.docker.stack.namespace=${STACK}`]);
    if (volumes.trim()) await docker(['volume', 'rm', ...volumes.trim().split('\n')]);
    await docker(['secret', 'rm', ...Object.keys(secrets)]);
  }, check);
}
