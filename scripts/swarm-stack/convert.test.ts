import { describe, expect, it } from 'vitest';
import { composeToStack, STACK_SECRETS } from './convert.ts';

// The shape `docker compose config --format json` prints for docker-compose.prod.yml.
const resolvedProd = {
  name: 'local-rag',
  services: {
    postgres: {
      image: 'pgvector/pgvector:pg16',
      restart: 'unless-stopped',
      environment: { POSTGRES_USER: 'rag', POSTGRES_PASSWORD: 'pg-secret', POSTGRES_DB: 'rag' },
      volumes: [{ type: 'volume', source: 'postgres_data', target: '/var/lib/postgresql/data' }],
      networks: { dbNetWork: null },
      deploy: { resources: { limits: { cpus: 2 } }, placement: {} },
    },
    llm_init: {
      image: 'python:3.11-slim',
      restart: 'no',
      command: ['python', '/llm-init/download_models.py'],
      volumes: [{ type: 'volume', source: 'models_data', target: '/models' }, { type: 'bind', source: '/project/infra/llm-init', target: '/llm-init', read_only: true }],
      networks: { dbNetWork: null },
    },
    llama_server: {
      image: 'ghcr.io/ggml-org/llama.cpp:server',
      command: ['--model', '/models/m.gguf', '--port', '8080', '--api-key', 'llm-secret'],
      depends_on: { llm_init: { condition: 'service_completed_successfully' } },
      networks: { dbNetWork: null },
    },
    search: {
      image: 'local-rag:0.1.0',
      build: { context: '/project' },
      init: true,
      entrypoint: null,
      environment: { API_KEY: 'write-secret', LLM_API_KEY: 'llm-secret', DATABASE_URL: 'postgres://rag:pg-secret@postgres:5432/rag', FUNCTIONS: 'search' },
      deploy: { replicas: 2, placement: {} },
      networks: { dbNetWork: null },
    },
    gateway: {
      image: 'nginx:1.28-alpine',
      ports: [{ mode: 'ingress', target: 80, published: '80', protocol: 'tcp', host_ip: '127.0.0.1' }],
      volumes: [{ type: 'bind', source: '/project/infra/nginx/gateway.conf.template', target: '/etc/nginx/templates/default.conf.template', read_only: true }],
      networks: { dbNetWork: null },
    },
    app: { image: 'local-rag:0.1.0', profiles: ['bundled'] },
  },
  networks: { dbNetWork: { name: 'local-rag_dbNetWork' } },
  volumes: { models_data: {}, postgres_data: {} },
};

const stack = composeToStack(resolvedProd, {
  subnet: '10.231.0.0/24',
  gatewayPort: 8080,
  listFolder: (path) => (path.endsWith('/llm-init') ? ['download_models.py'] : undefined),
});
const services = stack.services as Record<string, Record<string, unknown>>;
const text = JSON.stringify(stack);

describe('composeToStack', () => {
  it('keeps no key or password anywhere in the stack', () => {
    for (const secret of ['pg-secret', 'llm-secret', 'write-secret']) expect(text).not.toContain(secret);
  });

  it('hands the secrets over as files the services read', () => {
    expect(services.search!.environment).toMatchObject({
      API_KEY_FILE: `/run/secrets/${STACK_SECRETS.apiKey}`,
      LLM_API_KEY_FILE: `/run/secrets/${STACK_SECRETS.llmApiKey}`,
      DATABASE_PASSWORD_FILE: `/run/secrets/${STACK_SECRETS.postgresPassword}`,
      DATABASE_URL: 'postgres://rag@postgres:5432/rag',
    });
    expect(services.postgres!.environment).toMatchObject({ POSTGRES_PASSWORD_FILE: '/run/secrets/postgres_password' });
    expect(services.llama_server!.command).toEqual(['--model', '/models/m.gguf', '--port', '8080', '--api-key-file', '/run/secrets/llm_api_key']);
    expect(stack.secrets).toEqual({ api_key: { external: true }, llm_api_key: { external: true }, postgres_password: { external: true } });
  });

  it('rolls replicated services one task at a time, new before old, and runs the one-shots as jobs', () => {
    expect(services.search!.deploy).toMatchObject({ replicas: 2, update_config: { parallelism: 1, order: 'start-first', failure_action: 'rollback' }, restart_policy: { condition: 'any' } });
    expect(services.llm_init!.deploy).toMatchObject({ mode: 'replicated-job', restart_policy: { condition: 'on-failure' } });
    for (const service of Object.values(services)) {
      for (const key of ['build', 'depends_on', 'restart', 'profiles', 'entrypoint']) expect(service).not.toHaveProperty(key);
    }
    expect(services).not.toHaveProperty('app');
  });

  it('turns bind-mounted files into configs and the network into an overlay with its subnet', () => {
    expect(services.gateway!.configs).toEqual([{ source: 'gateway_etc_nginx_templates_default_conf_template', target: '/etc/nginx/templates/default.conf.template', mode: 0o444 }]);
    expect(services.llm_init!.configs).toEqual([{ source: 'llm_init_llm_init_download_models_py', target: '/llm-init/download_models.py', mode: 0o444 }]);
    expect(services.gateway!.volumes).toEqual([]);
    expect(services.gateway!.ports).toEqual([{ target: 80, published: 8080, protocol: 'tcp', mode: 'ingress' }]);
    expect(stack.networks).toEqual({ dbNetWork: { driver: 'overlay', attachable: true, ipam: { config: [{ subnet: '10.231.0.0/24' }] } } });
  });
});
