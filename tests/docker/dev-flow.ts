// Steps 1-5 of issue 12 on docker-compose.dev.yml with .env.dev, plus container hygiene.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { launchBrowser } from '../browser/support/browser.ts';
import { addDocument, chatAnswers, chatRefuses, expect, expectUpstreamUnavailable, requestJson, searchFinds } from '../topology/gateway-checks.ts';
import { compose, docker, listContainers, publishedPort, waitHealthy, type ComposeProject } from './docker-cli.ts';
import { checkImageHygiene, checkGracefulStops, checkNonRoot } from './hygiene.ts';
import type { DockerTestSettings } from './run-docker.ts';
import type { StandInHub } from './stand-in-hub.ts';
import type { StepRunner } from './steps.ts';

export const LONG_RUNNING_SERVICES = ['postgres', 'llama_server', 'add-document', 'search', 'ws-chat', 'gateway'];
export const FUNCTION_SERVICES = ['add-document', 'search', 'ws-chat'];
const LLM_INIT_TIMEOUT_MS = 10 * 60_000;
const BUILD_TIMEOUT_MS = 25 * 60_000;
const HEALTHY_TIMEOUT_MS = 6 * 60_000;
const PAGE_ANSWER_TIMEOUT_MS = 90_000;

export const README = {
  source: 'README',
  content:
    'local-rag answers questions from your own documents. It stores every document in PostgreSQL with the pgvector extension, ' +
    'splits it into chunks and embeds each chunk. The chat page streams answers from a llama.cpp server over a WebSocket.',
};
export const RELATED_QUESTION = 'Where does local-rag store documents?';
// No word in common with anything stored: the refusal must come from retrieval, not the model.
const UNRELATED_QUESTION = 'Which volcano buried Pompeii?';
const OPERATIONS = { source: 'OPERATIONS', content: 'Backups of the PostgreSQL database run every night at two o’clock.' };

export interface FlowContext {
  settings: DockerTestSettings;
  runner: StepRunner;
  hub: StandInHub;
  project: (options: { name: string; files: string[]; envFile: string; subnet: string; variables?: Record<string, string> }) => ComposeProject;
}

function totalDownloads(hub: StandInHub): number {
  return [...hub.downloads.values()].reduce((sum, count) => sum + count, 0);
}

/** `docker compose run --rm llm_init`, checked against what the hub served. */
export async function runLlmInit(project: ComposeProject, hub: StandInHub, expectDownload: boolean): Promise<string> {
  const before = totalDownloads(hub);
  // The hub serves every project of the run: count what this run fetched.
  const earlier = new Map(hub.downloads);
  const { stdout, stderr, ms } = await compose(project, ['run', '--rm', 'llm_init'], { timeoutMs: LLM_INIT_TIMEOUT_MS });
  const output = `${stdout}\n${stderr}`;
  const fetched = totalDownloads(hub) - before;
  if (expectDownload) {
    expect(/llm_init: done/.test(output), `llm_init did not finish: ${output.slice(-1500)}`);
    for (const file of ['local-rag-fixtures/stories260K/stories260K.gguf', 'local-rag-fixtures/glove-static-384d/onnx/model.onnx', 'local-rag-fixtures/glove-static-384d/tokenizer.json']) {
      const served = (hub.downloads.get(file) ?? 0) - (earlier.get(file) ?? 0);
      expect(served === 1, `the hub served ${file} ${served} time(s) to this llm_init, not once (requests: ${hub.requests.join(', ')})`);
    }
    return `huggingface_hub fetched ${fetched} file(s) from the stand-in hub in ${(ms / 1000).toFixed(0)} s`;
  }
  expect(/nothing to do/.test(output), `the second llm_init did not find the files: ${output.slice(-1500)}`);
  expect(fetched === 0, `the second llm_init downloaded ${fetched} file(s) again`);
  return `nothing downloaded (${(ms / 1000).toFixed(1)} s)`;
}

async function gatewayOrigin(project: ComposeProject): Promise<string> {
  return `http://127.0.0.1:${await publishedPort(project, 'gateway', 80)}`;
}

async function appliedMigrations(project: ComposeProject): Promise<number> {
  const { stdout } = await compose(project, ['exec', '-T', 'postgres', 'psql', '-U', 'rag', '-d', 'rag', '-tAc', 'SELECT count(*) FROM schema_migrations']);
  return Number(stdout.trim());
}

async function chatPageScreenshot(origin: string, file: string): Promise<string> {
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${origin}/`);
    await page.locator('#question').fill(RELATED_QUESTION);
    await page.locator('#question').press('Enter');
    const turn = page.locator('.turn').last();
    await turn.locator('.answer-text').waitFor({ state: 'visible' });
    await page.waitForFunction(() => document.querySelector('.turn:last-of-type')?.getAttribute('data-state') === 'done' || [...document.querySelectorAll('.turn')].at(-1)?.getAttribute('data-state') === 'done', undefined, { timeout: PAGE_ANSWER_TIMEOUT_MS });
    const answer = (await turn.locator('.answer-text').textContent()) ?? '';
    expect(answer.trim().length > 0, 'the chat page showed no answer');
    await page.screenshot({ path: file, fullPage: true });
    return `answer of ${answer.length} characters shown; screenshot ${path.basename(file)}`;
  } finally {
    await browser.close();
  }
}

export async function runDevelopmentFlow(context: FlowContext): Promise<void> {
  const { settings, runner, hub } = context;
  const fatal = { fatal: true };
  const check = { fatal: false };
  const project = context.project({ name: 'local-rag-docker-dev', files: ['docker-compose.dev.yml'], envFile: '.env.dev', subnet: settings.subnets.dev });

  await runner.step('dev 1: docker compose run --rm llm_init (real huggingface_hub download)', () => runLlmInit(project, hub, true), fatal);
  await runner.step('dev 1: llm_init again: nothing downloaded', () => runLlmInit(project, hub, false), check);

  await runner.step('dev 2: docker compose up -d --build', async () => {
    const { ms } = await compose(project, ['up', '--detach', '--build', '--pull', 'never'], { timeoutMs: BUILD_TIMEOUT_MS });
    return `${(ms / 1000).toFixed(0)} s`;
  }, fatal);
  await runner.step('dev 2: every long-running service healthy', () => waitHealthy(project, LONG_RUNNING_SERVICES, HEALTHY_TIMEOUT_MS), fatal);
  await runner.step('dev 2: migrations ran once (the migrate job, not the functions)', async () => {
    const containers = await listContainers(project);
    const migrate = containers.filter((container) => container.Service === 'migrate');
    expect(migrate.length === 1 && migrate[0]!.State === 'exited' && migrate[0]!.ExitCode === 0, `migrate: ${JSON.stringify(migrate)}`);
    const { stdout } = await compose(project, ['logs', '--no-log-prefix', 'migrate']);
    expect(/applied /.test(stdout), `migrate applied nothing: ${stdout}`);
    const count = await appliedMigrations(project);
    expect(count >= 1, `schema_migrations has ${count} rows`);
    return `migrate exited 0 (${stdout.trim().split('\n').at(-1)}); schema_migrations has ${count} row(s)`;
  }, check);

  let origin = await gatewayOrigin(project);
  const through = () => ({ origin, apiKey: undefined });
  await runner.step(`dev 3: gateway → add-document (seed's curl)`, () => addDocument(through(), README.source, README.content), check);
  await runner.step('dev 3: gateway → search finds README', () => searchFinds(through(), RELATED_QUESTION, README.source, 'PostgreSQL'), check);
  await runner.step('dev 3: gateway → /ws/llm related: sources then tokens', () => chatAnswers(through(), RELATED_QUESTION, README.source), check);
  await runner.step('dev 3: gateway → /ws/llm unrelated: 资料不足', () => chatRefuses(through(), UNRELATED_QUESTION), check);
  await runner.step('dev 3: gateway → /docs and /openapi.json', async () => {
    const docs = await requestJson(`${origin}/docs`);
    expect(docs.status === 200 && docs.contentType.startsWith('text/html') && /swagger/i.test(docs.text), `/docs: ${docs.status} ${docs.text.slice(0, 200)}`);
    const openapi = await requestJson(`${origin}/openapi.json`);
    const document = openapi.body as { openapi?: string; paths?: object } | undefined;
    const paths = Object.keys(document?.paths ?? {});
    // The gateway sends /openapi.json to its default upstream (ws-chat), which describes its own routes.
    expect(openapi.status === 200 && document?.openapi?.startsWith('3.') && paths.length > 0, `/openapi.json: ${openapi.status} ${openapi.text.slice(0, 200)}`);
    return `/docs HTML, /openapi.json (OpenAPI ${document?.openapi}) with ${paths.join(', ')}`;
  }, check);
  await runner.step('dev 3: chat page in chromium through the gateway', () => chatPageScreenshot(origin, path.join(settings.runDirectory, 'chat-page.png')), check);

  await runner.step('dev 4: docker compose stop search', async () => {
    await compose(project, ['stop', 'search']);
  }, fatal);
  await runner.step('dev 4: gateway → search while stopped: JSON 503', () => expectUpstreamUnavailable(through(), '/api/v1/knowledge/search', { query: RELATED_QUESTION }), check);
  await runner.step('dev 4: gateway → add-document still works', () => addDocument(through(), OPERATIONS.source, OPERATIONS.content), check);
  await runner.step('dev 4: gateway → chat still works', () => chatAnswers(through(), RELATED_QUESTION, README.source), check);
  await runner.step('dev 4: docker compose start search → healthy', async () => {
    await compose(project, ['start', 'search']);
    return waitHealthy(project, ['search'], HEALTHY_TIMEOUT_MS);
  }, fatal);
  await runner.step('dev 4: gateway → search recovered (finds what was added meanwhile)', () => searchFinds(through(), 'When do backups of the database run?', OPERATIONS.source, 'Backups'), check);

  await runner.step('hygiene: non-root functions, init as PID 1', () => checkNonRoot(project, FUNCTION_SERVICES), check);
  await runner.step('hygiene: app image (size, no tests, no dev dependencies)', () => checkImageHygiene(settings), check);
  await runner.step('hygiene: every long-running service stops gracefully within 10 s', () => checkGracefulStops(project, LONG_RUNNING_SERVICES), check);

  await runner.step('dev 5: docker compose down, then up -d', async () => {
    await compose(project, ['down', '--timeout', '10'], { timeoutMs: 180_000 });
    const { stdout } = await docker(['volume', 'ls', '--quiet', '--filter', `label=com.docker.compose.project=${project.name}`]);
    expect(stdout.includes('postgres_data'), `the named volumes are gone after down: ${stdout}`);
    await compose(project, ['up', '--detach', '--pull', 'never'], { timeoutMs: BUILD_TIMEOUT_MS });
    return waitHealthy(project, LONG_RUNNING_SERVICES, HEALTHY_TIMEOUT_MS);
  }, fatal);
  origin = await gatewayOrigin(project);
  await runner.step('dev 5: the documents are still there (postgres_data volume)', async () => {
    const found = await searchFinds(through(), RELATED_QUESTION, README.source, 'PostgreSQL');
    const migrations = await appliedMigrations(project);
    const { stdout } = await compose(project, ['logs', '--no-log-prefix', 'migrate']);
    expect(/up to date/.test(stdout), `the second migrate run was not a no-op: ${stdout}`);
    return `${found}; migrate: up to date (${migrations} row(s))`;
  }, check);
  writeFileSync(path.join(settings.runDirectory, 'dev-containers.json'), JSON.stringify(await listContainers(project), null, 2));
  await runner.step('dev: docker compose down --volumes', async () => {
    await compose(project, ['down', '--volumes', '--timeout', '10'], { timeoutMs: 180_000 });
  }, check);
}
