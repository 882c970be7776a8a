// `npm run test:docker` (through scripts/docker-test.sh, which installs and starts the engine,
// builds the stand-in images and is the outer trap): the seed's flow under a real Docker
// engine, as a user runs it, with every check made through ports published on 127.0.0.1.
//   dev:   llm_init twice, `up -d --build`, the gateway checks, a stopped function, a restart
//          with the named volumes, container hygiene.
//   prod:  only the gateway publishes, search scaled to 3, a rolling restart under searches.
//   swarm: `docker stack deploy` of the prod file's stack with secrets and rolling updates.
// Prints PASS/FAIL with timings; exit 1 on FAIL.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compose, docker, type ComposeProject } from './docker-cli.ts';
import { runDevelopmentFlow } from './dev-flow.ts';
import { runProductionFlow } from './prod-flow.ts';
import { GATEWAY_BRIDGE, runSwarmFlow } from './swarm-flow.ts';
import { startStandInHub, type StandInHub } from './stand-in-hub.ts';
import { createStepRunner } from './steps.ts';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = path.resolve(projectRoot, '../shared/fixtures/models');
/** What the stand-in images replace, as scripts/docker-test.sh exported them. */
const IMAGE_VARIABLES = ['NODE_IMAGE', 'PYTHON_IMAGE', 'POSTGRES_IMAGE', 'NGINX_IMAGE', 'LLAMA_SERVER_IMAGE'] as const;
/** Explicit subnets for the networks this test creates (one per project, none shared). */
const SUBNETS = { dev: '172.31.250.0/24', prod: '172.31.251.0/24', swarm: '10.231.0.0/24' };

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through bash scripts/docker-test.sh`);
  return value;
}

export interface DockerTestSettings {
  projectRoot: string;
  runDirectory: string;
  appImage: string;
  caBundle: string;
  images: Record<(typeof IMAGE_VARIABLES)[number], string>;
  subnets: typeof SUBNETS;
}

const version = (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
const settings: DockerTestSettings = {
  projectRoot,
  runDirectory: required('DOCKER_TEST_RUN_DIR'),
  appImage: `local-rag:${version}`,
  caBundle: required('CA_BUNDLE'),
  images: Object.fromEntries(IMAGE_VARIABLES.map((name) => [name, required(name)])) as DockerTestSettings['images'],
  subnets: SUBNETS,
};
mkdirSync(settings.runDirectory, { recursive: true });

const runner = createStepRunner();
const projects: ComposeProject[] = [];
let hub: StandInHub | undefined;
let swarmStarted = false;

/** A compose project over `files` with the test's env file and variables; removed at the end. */
export function testProject(options: { name: string; files: string[]; envFile: string; subnet: string; variables?: Record<string, string> }): ComposeProject {
  const project: ComposeProject = {
    name: options.name,
    projectDirectory: projectRoot,
    files: [...options.files, 'tests/docker/compose.test.yml'],
    envFiles: [options.envFile, 'tests/docker/test.env'],
    environment: {
      ...process.env,
      ...settings.images,
      APP_IMAGE: settings.appImage,
      CA_BUNDLE: settings.caBundle,
      HF_ENDPOINT: hub?.endpoint ?? '',
      TEST_SUBNET: options.subnet,
      ...options.variables,
    },
  };
  projects.push(project);
  return project;
}

let cleaning: Promise<void> | undefined;
/** Removes every container, network and volume the run made (images stay as the cache). */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    const started = performance.now();
    const problems: string[] = [];
    if (swarmStarted) {
      await docker(['swarm', 'leave', '--force'], { timeoutMs: 60_000 }).catch((error: Error) => problems.push(error.message));
      await docker(['network', 'rm', GATEWAY_BRIDGE.name]).catch((error: Error) => problems.push(error.message));
    }
    for (const project of projects.reverse()) {
      await compose(project, ['down', '--volumes', '--remove-orphans', '--timeout', '10'], { timeoutMs: 180_000 }).catch((error: Error) => problems.push(error.message));
    }
    await hub?.close();
    runner.record({ name: 'remove containers, networks, volumes', ms: performance.now() - started, ok: problems.length === 0, detail: problems.join('; ') || `${projects.length} compose project(s) down -v${swarmStarted ? ', swarm left' : ''}` });
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    runner.record({ name: `interrupted by ${signal}`, ms: 0, ok: false, detail: '' });
    void cleanUp().then(() => {
      runner.printSummary('docker test (interrupted)');
      process.exit(130);
    });
  });
}

async function run(): Promise<void> {
  await runner.step('stand-in images', async () => IMAGE_VARIABLES.map((name) => `${name}=${settings.images[name]}`).join(', '), { fatal: true });
  await runner.step('stand-in hub on 127.0.0.1 (HF_ENDPOINT)', async () => {
    hub = await startStandInHub([
      { id: 'local-rag-fixtures/stories260K', folder: fixtures, files: ['stories260K.gguf'] },
      { id: 'local-rag-fixtures/glove-static-384d', folder: path.join(fixtures, 'glove-static-384d') },
    ]);
    return hub.endpoint;
  }, { fatal: true });
  const lanes = (process.env.DOCKER_TEST_FLOWS ?? 'dev prod swarm').split(/\s+/);
  if (lanes.includes('dev')) await runDevelopmentFlow({ settings, runner, hub: hub!, project: (options) => testProject(options) });
  if (lanes.includes('prod')) await runProductionFlow({ settings, runner, hub: hub!, project: (options) => testProject(options) });
  if (lanes.includes('swarm')) {
    await runSwarmFlow({ settings, runner, hub: hub!, onSwarmStarted: () => (swarmStarted = true) });
  }
}

try {
  await run();
} catch (error) {
  if (!runner.failed()) runner.record({ name: 'run', ms: 0, ok: false, detail: (error as Error).stack ?? String(error) });
}
await cleanUp();
runner.printSummary('docker test (real engine, stand-in images, checks through 127.0.0.1)');
process.exit(runner.failed() ? 1 : 0);
