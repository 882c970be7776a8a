import { CONFIG_VARIABLES } from '../../lib/config.ts';
import { asNode, dependencies, environment, mounts, networkNames, profiles, publishes, services, words, type Node } from './model.ts';

export type Variant = 'dev' | 'prod';

const SPLIT_FUNCTIONS = ['add-document', 'search', 'ws-chat'] as const;
const ONE_SHOT = new Set(['llm_init', 'migrate']);
/** Variables the seed passes to the app, plus the ones that make a container work offline. */
const PASSED_THROUGH = ['DATABASE_URL', 'EMBEDDING_MODEL', 'RAG_TOP_K', 'LLM_BASE_URL', 'LLM_API_KEY', 'LLM_MODEL', 'MODELS_DIR'];
const FIXED_FUNCTION_ENVIRONMENT: Record<string, string> = { HOST: '0.0.0.0', HF_HUB_OFFLINE: '1', MIGRATE_ON_START: 'false' };

/**
 * The seed's deployment requirements (issue 3), checked on an interpolated compose document.
 * `raw` is the same document before interpolation, for the lines the seed spells out.
 * Returns one message per broken requirement; empty when all hold.
 */
export function checkRequirements(model: Node, raw: Node, variant: Variant, variables: ReadonlyMap<string, string>): string[] {
  const failures: string[] = [];
  const fail = (message: string) => failures.push(message);
  const all = services(model);
  const service = (name: string): Node | undefined => {
    const found = all.get(name);
    if (!found) fail(`service ${name} is missing`);
    return found;
  };
  const needs = (name: string, on: string, condition: string) => {
    const actual = dependencies(all.get(name) ?? {}).get(on);
    if (actual !== condition) fail(`${name} must depend on ${on} with condition ${condition} (has ${actual ?? 'none'})`);
  };

  if (!('dbNetWork' in asNode(model.networks))) fail('network dbNetWork is not declared');
  for (const [name, definition] of all) {
    if (!networkNames(definition).includes('dbNetWork')) fail(`${name} is not on network dbNetWork`);
  }
  const volumes = asNode(model.volumes);
  if (!('models_data' in volumes)) fail('volume models_data is not declared');

  const postgres = service('postgres');
  if (postgres) {
    if (postgres.image !== 'pgvector/pgvector:pg16') fail(`postgres must use image pgvector/pgvector:pg16 (has ${String(postgres.image)})`);
    if (!words(asNode(postgres.healthcheck).test).join(' ').includes('pg_isready')) fail('postgres healthcheck must run pg_isready');
    const data = mounts(postgres).find((mount) => mount.target === '/var/lib/postgresql/data');
    if (!data || data.bind || !(data.source in volumes)) fail('postgres must keep /var/lib/postgresql/data on a declared named volume');
  }

  const init = service('llm_init');
  if (init) {
    if (init.restart !== 'no') fail('llm_init must have restart: "no"');
    for (const name of ['HF_TOKEN', 'HF_REPO_ID', 'HF_FILENAME', 'HF_REVISION', 'EMBEDDING_MODEL']) {
      if (!environment(init).has(name)) fail(`llm_init does not receive ${name}`);
    }
    if (!mounts(init).some((mount) => mount.source === 'models_data' && mount.target === '/models' && !mount.readOnly)) fail('llm_init must write models_data at /models');
  }

  const llama = service('llama_server');
  const apiKey = variables.get('LLM_API_KEY') ?? '';
  if (llama) {
    needs('llama_server', 'llm_init', 'service_completed_successfully');
    const expected = ['--model', `/models/${variables.get('HF_FILENAME') ?? ''}`, '--port', '8080', '--host', '0.0.0.0', '--ctx-size', '8192', '--parallel', '2', '--api-key', apiKey];
    if (words(llama.command).join(' ') !== expected.join(' ')) fail(`llama_server arguments must be the seed's: ${expected.join(' ')} (has ${words(llama.command).join(' ')})`);
    const test = words(asNode(llama.healthcheck).test).join(' ');
    if (!test.includes('curl') || !test.includes('/health')) fail('llama_server healthcheck must curl /health (the image has curl, not wget)');
    if (!mounts(llama).some((mount) => mount.source === 'models_data' && mount.readOnly)) fail('llama_server must mount models_data read-only');
  }

  const migrate = service('migrate');
  if (migrate) {
    needs('migrate', 'postgres', 'service_healthy');
    if (migrate.restart !== 'no') fail('migrate is a one-shot job: restart: "no"');
    if (!words(migrate.command).includes('migrate')) fail('migrate must run `npm run migrate`');
  }

  const image = all.get('migrate')?.image;
  const functionServices = [...SPLIT_FUNCTIONS, 'app'];
  for (const name of functionServices) {
    const definition = service(name);
    if (!definition) continue;
    const values = environment(definition);
    const expectedFunctions = name === 'app' ? 'all' : name;
    if (values.get('FUNCTIONS') !== expectedFunctions) fail(`${name} must set FUNCTIONS=${expectedFunctions}`);
    if (definition.image !== image) fail(`${name} must run the same image as migrate (${String(image)})`);
    needs(name, 'migrate', 'service_completed_successfully');
    if (name === 'ws-chat' || name === 'app') needs(name, 'llama_server', 'service_healthy');
    for (const variable of PASSED_THROUGH) if (!values.has(variable)) fail(`${name} does not receive ${variable}`);
    for (const [variable, value] of Object.entries(FIXED_FUNCTION_ENVIRONMENT)) {
      if (values.get(variable) !== value) fail(`${name} must set ${variable}=${value}`);
    }
    for (const variable of values.keys()) {
      if (!CONFIG_VARIABLES.includes(variable)) fail(`${name} sets ${variable}, which lib/config.ts does not read`);
    }
    if (environment(asNode(asNode(raw.services)[name])).get('RAG_TOP_K') !== '${RAG_TOP_K:-3}') fail(`${name} must pass RAG_TOP_K=\${RAG_TOP_K:-3} as the seed does`);
    if (values.get('LLM_API_KEY') !== apiKey) fail(`${name} must send llama_server's --api-key as LLM_API_KEY`);
    const llmHost = safeHost(values.get('LLM_BASE_URL'));
    if (llmHost !== undefined && !all.has(llmHost)) fail(`${name}: LLM_BASE_URL host ${llmHost} is no service of this file`);
    if (!mounts(definition).some((mount) => mount.source === 'models_data' && mount.target === '/models' && mount.readOnly)) fail(`${name} must mount models_data read-only at /models`);
    if (!values.get('MODELS_DIR')?.startsWith('/models')) fail(`${name}: MODELS_DIR must point into the /models volume`);
  }
  for (const name of SPLIT_FUNCTIONS) if (profiles(all.get(name) ?? {}).length > 0) fail(`${name} must run without a profile (plain \`up\`)`);
  if (!profiles(all.get('app') ?? {}).includes('bundled')) fail('app must be in the bundled profile');

  const gateways = [...all].filter(([, definition]) => String(definition.image ?? '').startsWith('nginx'));
  if (!all.has('gateway')) fail('service gateway is missing');
  if (!gateways.some(([name]) => profiles(all.get(name) ?? {}).includes('bundled'))) fail('no gateway in the bundled profile routes to app');
  for (const [name, definition] of gateways) {
    if (!publishes(definition)) fail(`${name} must publish a port`);
    if (!mounts(definition).some((mount) => mount.target.startsWith('/etc/nginx/templates/') && mount.source.includes('infra/nginx/'))) fail(`${name} must mount the template from infra/nginx/`);
    for (const [variable, address] of environment(definition)) {
      if (!variable.endsWith('_UPSTREAM')) continue;
      const host = address.split(':')[0] ?? '';
      if (!all.has(host)) fail(`${name}: ${variable}=${address} names no service`);
      else if (profiles(all.get(host) ?? {}).some((profile) => !profiles(definition).includes(profile))) fail(`${name}: ${variable} points at ${host}, which is in another profile`);
    }
  }

  if (variant === 'prod') checkProduction(all, fail);
  else checkDevelopment(all, fail);
  return failures;
}

function checkProduction(all: Map<string, Node>, fail: (message: string) => void): void {
  for (const [name, definition] of all) {
    const isGateway = String(definition.image ?? '').startsWith('nginx');
    if (publishes(definition) && !isGateway) fail(`prod: only the gateway may publish ports (${name} does)`);
    if (ONE_SHOT.has(name)) continue;
    if (!['always', 'unless-stopped', 'on-failure'].includes(String(definition.restart)) && !String(definition.restart).startsWith('on-failure')) {
      fail(`prod: ${name} needs a restart policy`);
    }
    if (Object.keys(asNode(asNode(asNode(definition.deploy).resources).limits)).length === 0) fail(`prod: ${name} needs resource limits`);
  }
  for (const name of SPLIT_FUNCTIONS) {
    const replicas = Number(asNode(all.get(name)?.deploy).replicas);
    if (!Number.isInteger(replicas) || replicas < 1) fail(`prod: ${name} needs deploy.replicas (a whole number)`);
    if (all.get(name)?.container_name !== undefined) fail(`prod: ${name} cannot have container_name and replicas`);
  }
}

function checkDevelopment(all: Map<string, Node>, fail: (message: string) => void): void {
  for (const name of [...SPLIT_FUNCTIONS, 'postgres', 'llama_server', 'gateway']) {
    if (!publishes(all.get(name) ?? {})) fail(`dev: ${name} should publish its port`);
  }
  for (const name of SPLIT_FUNCTIONS) {
    const definition = all.get(name) ?? {};
    if (!mounts(definition).some((mount) => mount.bind && /\.\/(functions|lib)$/.test(mount.source))) fail(`dev: ${name} should mount the source (./functions, ./lib)`);
    const watch = asNode(definition.develop).watch;
    if (!Array.isArray(watch) || watch.length === 0) fail(`dev: ${name} should have develop.watch`);
  }
}

function safeHost(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).hostname : undefined;
  } catch {
    return undefined;
  }
}
