/**
 * Turns the prod compose file, as `docker compose config --format json` resolves it, into a
 * Docker Swarm stack for `docker stack deploy`: the same services, images, healthchecks and
 * replicas, with what Swarm needs instead of Compose's single-host features:
 * - keys and the database password as Docker secrets, read by the services from `*_FILE`
 *   variables (lib/config.ts, PostgreSQL's POSTGRES_PASSWORD_FILE, llama-server's
 *   --api-key-file), never in the stack's environment;
 * - rolling updates (one task at a time, the new one healthy before the old one stops,
 *   rollback on failure) instead of `restart:`;
 * - the one-shot jobs (llm_init, migrate) as swarm jobs;
 * - files the containers read (gateway template, llm_init script) as configs, not bind mounts,
 *   so any node can run them; `network_mode: host` as the predefined `host` network;
 * - an attachable overlay network with an explicit subnet.
 */

type Json = Record<string, unknown>;

export interface StackOptions {
  /** The overlay network's subnet, e.g. 10.231.0.0/24. */
  subnet: string;
  /** The gateway's published port. */
  gatewayPort: number;
  /** `ingress`: on every node through Swarm's routing mesh (default); `host`: on the node that runs the task. */
  publishMode?: 'ingress' | 'host';
  /** The files in a bind-mounted folder (names relative to it), or undefined when the path is a file. */
  listFolder: (path: string) => string[] | undefined;
}

/** The secrets the stack declares: created beforehand with `docker secret create NAME -`. */
export const STACK_SECRETS = { apiKey: 'api_key', readApiKey: 'read_api_key', llmApiKey: 'llm_api_key', postgresPassword: 'postgres_password' } as const;
const SECRETS_DIRECTORY = '/run/secrets';
const ONE_SHOT_JOBS = new Set(['llm_init', 'migrate']);
const HOST_NETWORK = 'host_network';
/** Compose-only keys with no meaning (or another one) in a stack. */
const COMPOSE_ONLY_KEYS = ['build', 'depends_on', 'restart', 'container_name', 'develop', 'profiles', 'pull_policy'];
const UPDATE_CONFIG = { parallelism: 1, order: 'start-first', failure_action: 'rollback', delay: '5s', monitor: '30s' };
const ROLLBACK_CONFIG = { parallelism: 1, order: 'start-first' };
const JOB_RETRIES = 3;

const secretPath = (name: string) => `${SECRETS_DIRECTORY}/${name}`;

function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

/** The stack for `docker stack deploy -c`, from the resolved prod compose document. */
export function composeToStack(config: Json, options: StackOptions): Json {
  const services = (config.services ?? {}) as Record<string, Json>;
  const stackServices: Record<string, Json> = {};
  const configs: Record<string, Json> = {};
  const usedSecrets = new Set<string>();
  let usesHostNetwork = false;

  for (const [name, source] of Object.entries(services)) {
    if (Array.isArray(source.profiles) && source.profiles.length > 0) continue;
    const service: Json = structuredClone(source);
    for (const key of COMPOSE_ONLY_KEYS) delete service[key];
    const environment = { ...((service.environment ?? {}) as Record<string, string | null>) };
    const secrets: Json[] = [];
    const useSecret = (secret: string) => {
      usedSecrets.add(secret);
      secrets.push({ source: secret, target: secret, mode: 0o444 });
      return secretPath(secret);
    };

    if (typeof environment.API_KEY === 'string' && environment.API_KEY !== '') {
      delete environment.API_KEY;
      environment.API_KEY_FILE = useSecret(STACK_SECRETS.apiKey);
    }
    if (typeof environment.READ_API_KEY === 'string' && environment.READ_API_KEY !== '') {
      delete environment.READ_API_KEY;
      environment.READ_API_KEY_FILE = useSecret(STACK_SECRETS.readApiKey);
    }
    if (typeof environment.LLM_API_KEY === 'string' && environment.LLM_API_KEY !== '') {
      delete environment.LLM_API_KEY;
      environment.LLM_API_KEY_FILE = useSecret(STACK_SECRETS.llmApiKey);
    }
    if (typeof environment.DATABASE_URL === 'string' && environment.DATABASE_URL !== '') {
      environment.DATABASE_URL = withoutPassword(environment.DATABASE_URL);
      environment.DATABASE_PASSWORD_FILE = useSecret(STACK_SECRETS.postgresPassword);
    }
    if (typeof environment.POSTGRES_PASSWORD === 'string') {
      delete environment.POSTGRES_PASSWORD;
      environment.POSTGRES_PASSWORD_FILE = useSecret(STACK_SECRETS.postgresPassword);
    }
    service.environment = environment;

    if (Array.isArray(service.command)) {
      const command = [...(service.command as string[])];
      const keyIndex = command.indexOf('--api-key');
      if (keyIndex >= 0) {
        command.splice(keyIndex, 2, '--api-key-file', useSecret(STACK_SECRETS.llmApiKey));
        service.command = command;
      }
    }

    // Bind mounts of the project's files become configs (one per file), so that any node can
    // run the service; named volumes stay.
    const volumes = ((service.volumes ?? []) as Json[]).filter((volume) => {
      if (volume.type !== 'bind') return true;
      const source = String(volume.source);
      const target = String(volume.target);
      const files = options.listFolder(source) ?? [''];
      for (const file of files) {
        const configName = `${name}${target}${file ? `/${file}` : ''}`.replace(/[^a-z0-9]+/gi, '_').toLowerCase();
        configs[configName] = { file: file ? `${source}/${file}` : source };
        ((service.configs ??= []) as Json[]).push({ source: configName, target: file ? `${target}/${file}` : target, mode: 0o444 });
      }
      return false;
    });
    // Compose's host networking is Swarm's predefined `host` network.
    if (service.network_mode === 'host') {
      delete service.network_mode;
      service.networks = { [HOST_NETWORK]: null };
      usesHostNetwork = true;
    }
    service.volumes = volumes;
    if (secrets.length > 0) service.secrets = [...new Map(secrets.map((secret) => [secret.source, secret])).values()];

    if (Array.isArray(service.ports)) {
      service.ports = (service.ports as Json[]).map((port) => ({ target: port.target, published: options.gatewayPort, protocol: port.protocol ?? 'tcp', mode: options.publishMode ?? 'ingress' }));
    }

    const deploy = { ...((service.deploy ?? {}) as Json) };
    delete deploy.placement;
    if (ONE_SHOT_JOBS.has(name)) {
      deploy.mode = 'replicated-job';
      delete deploy.replicas;
      deploy.restart_policy = { condition: 'on-failure', max_attempts: JOB_RETRIES };
    } else {
      deploy.restart_policy = { condition: 'any' };
      deploy.update_config = UPDATE_CONFIG;
      deploy.rollback_config = ROLLBACK_CONFIG;
    }
    service.deploy = deploy;
    for (const key of Object.keys(service)) if (service[key] === null) delete service[key];
    stackServices[name] = service;
  }

  const networks: Record<string, Json> = {};
  for (const name of Object.keys((config.networks ?? {}) as Json)) {
    networks[name] = { driver: 'overlay', attachable: true, ipam: { config: [{ subnet: options.subnet }] } };
  }
  if (usesHostNetwork) networks[HOST_NETWORK] = { external: true, name: 'host' };
  const stack: Json = {
    version: '3.9',
    services: stackServices,
    networks,
    volumes: Object.fromEntries(Object.keys((config.volumes ?? {}) as Json).map((name) => [name, {}])),
  };
  if (Object.keys(configs).length > 0) stack.configs = configs;
  if (usedSecrets.size > 0) stack.secrets = Object.fromEntries([...usedSecrets].map((secret) => [secret, { external: true }]));
  return stack;
}
