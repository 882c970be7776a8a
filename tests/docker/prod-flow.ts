// Step 6 of issue 12: docker-compose.prod.yml with .env.prod — only the gateway publishes,
// search runs 3 replicas, and a rolling restart of search loses no search.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnvFile } from '../../scripts/check-compose/env-file.ts';
import { addDocument, expect, requestJson } from '../topology/gateway-checks.ts';
import { docker, listContainers, publishedPort, waitHealthy, compose, type ComposeProject } from './docker-cli.ts';
import { LONG_RUNNING_SERVICES, README, RELATED_QUESTION, runLlmInit, type FlowContext } from './dev-flow.ts';

const SEARCH_REPLICAS = 3;
const HEALTHY_TIMEOUT_MS = 6 * 60_000;
const REPLICA_HEALTHY_TIMEOUT_MS = 3 * 60_000;
const POLL_INTERVAL_MS = 1_000;
/** Upper bounds of the search loop that runs during the rolling restart. */
const MAX_SEARCHES = 20_000;
const SEARCH_TIMEOUT_MS = 30_000;

export interface SearchLoopResult {
  sent: number;
  failed: number;
  failures: string[];
}

/** Searches through the gateway, one after another, until `done()` or the bound; counts failures. */
export async function searchLoop(options: { origin: string; apiKey?: string; query: string; source: string; done: () => boolean }): Promise<SearchLoopResult> {
  const result: SearchLoopResult = { sent: 0, failed: 0, failures: [] };
  while (!options.done() && result.sent < MAX_SEARCHES) {
    result.sent += 1;
    try {
      const response = await fetch(`${options.origin}/api/v1/knowledge/search`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(options.apiKey ? { Authorization: `Bearer ${options.apiKey}` } : {}) },
        body: JSON.stringify({ query: options.query, top_k: 3 }),
        signal: AbortSignal.timeout(SEARCH_TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.status !== 200 || !text.includes(`"source":"${options.source}"`)) {
        result.failed += 1;
        result.failures.push(`HTTP ${response.status} ${text.slice(0, 160)}`);
      }
    } catch (error) {
      result.failed += 1;
      result.failures.push((error as Error).message);
    }
  }
  return result;
}

async function containerHealth(name: string): Promise<string> {
  const { stdout } = await docker(['inspect', '--format', '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}', name]);
  return stdout.trim();
}

async function waitContainerHealthy(name: string): Promise<void> {
  const deadline = Date.now() + REPLICA_HEALTHY_TIMEOUT_MS;
  let state = '';
  while (Date.now() < deadline) {
    state = await containerHealth(name);
    if (state === 'running/healthy') return;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(`${name} not healthy within ${REPLICA_HEALTHY_TIMEOUT_MS / 1000} s (${state})`);
}

export function productionApiKey(projectRoot: string): string | undefined {
  const env = parseEnvFile(readFileSync(path.join(projectRoot, '.env.prod'), 'utf8'));
  return env.variables.get('API_KEY') || undefined;
}

export async function runProductionFlow(context: FlowContext): Promise<void> {
  const { settings, runner, hub } = context;
  const fatal = { fatal: true };
  const check = { fatal: false };
  const project: ComposeProject = context.project({
    name: 'local-rag-docker-prod',
    files: ['docker-compose.prod.yml', 'tests/docker/compose.prod-test.yml'],
    envFile: '.env.prod',
    subnet: settings.subnets.prod,
    variables: { SEARCH_REPLICAS: String(SEARCH_REPLICAS), ADD_DOCUMENT_REPLICAS: '1', WS_CHAT_REPLICAS: '1' },
  });
  await runner.step('prod: llm_init', () => runLlmInit(project, hub, true), fatal);
  await runner.step(`prod: up -d (search × ${SEARCH_REPLICAS}) → healthy`, async () => {
    await compose(project, ['up', '--detach', '--pull', 'never'], { timeoutMs: 25 * 60_000 });
    return waitHealthy(project, LONG_RUNNING_SERVICES, HEALTHY_TIMEOUT_MS);
  }, fatal);
  await runner.step('prod: only the gateway publishes a port', async () => {
    const containers = await listContainers(project);
    const publishing = containers.filter((container) => (container.Publishers ?? []).some((publisher) => publisher.PublishedPort > 0));
    expect(publishing.length === 1 && publishing[0]!.Service === 'gateway', `publishing: ${publishing.map((container) => container.Service).join(', ')}`);
    const replicas = containers.filter((container) => container.Service === 'search' && container.State === 'running').length;
    expect(replicas === SEARCH_REPLICAS, `search runs ${replicas} containers, not ${SEARCH_REPLICAS}`);
    return `gateway only; search × ${replicas}`;
  }, check);
  const origin = `http://127.0.0.1:${await publishedPort(project, 'gateway', 80)}`;
  const apiKey = productionApiKey(settings.projectRoot);
  await runner.step('prod: gateway → add-document with the API key', () => addDocument({ origin, apiKey }, README.source, README.content), fatal);
  await runner.step('prod: rolling restart of search under a loop of searches: 0 failed', async () => {
    const warm = await requestJson(`${origin}/api/v1/knowledge/search`, { body: { query: RELATED_QUESTION }, headers: { Authorization: `Bearer ${apiKey}` } });
    expect(warm.status === 200, `search before the restart: ${warm.status} ${warm.text.slice(0, 200)}`);
    const replicas = (await listContainers(project)).filter((container) => container.Service === 'search').map((container) => container.Name).sort();
    let restarting = true;
    const loop = searchLoop({ origin, apiKey, query: RELATED_QUESTION, source: README.source, done: () => !restarting });
    const started = performance.now();
    try {
      for (const name of replicas) {
        await docker(['restart', '--time', '10', name], { timeoutMs: 60_000 });
        await waitContainerHealthy(name);
      }
    } finally {
      restarting = false;
    }
    const result = await loop;
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    expect(result.failed === 0, `${result.failed} of ${result.sent} searches failed during the restart: ${[...new Set(result.failures)].slice(0, 5).join(' | ')}`);
    return `${replicas.length} replicas restarted one by one in ${seconds} s; ${result.sent} searches, 0 failed`;
  }, check);
  await runner.step('prod: docker compose down --volumes', async () => {
    await compose(project, ['down', '--volumes', '--timeout', '10'], { timeoutMs: 180_000 });
  }, check);
}
