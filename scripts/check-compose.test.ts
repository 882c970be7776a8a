import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkComposeText, checkDeployment, PROJECT_ROOT, VARIANTS } from './check-compose.ts';
import { checkDockerfile } from './check-compose/dockerfile.ts';
import { checkNginxConfig } from './check-compose/nginx.ts';
import { COMPOSE_SCHEMA_PATH, loadComposeValidator } from './check-compose/schema.ts';
import { describeWhenPresent } from '../tests/support/requirements.ts';

const validate = loadComposeValidator(path.resolve(PROJECT_ROOT, COMPOSE_SCHEMA_PATH));
const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
const compose = { dev: read(VARIANTS.dev.compose), prod: read(VARIANTS.prod.compose) };
const env = { dev: read(VARIANTS.dev.env), prod: read(VARIANTS.prod.env) };
const nginxInstalled = !spawnSync('nginx', ['-v']).error;

/** Replaces `from` with `to` once, failing loudly if the text moved, so no test goes vacuous. */
function edit(text: string, from: string | RegExp, to: string): string {
  const changed = text.replace(from, to);
  expect(changed, `edit did not apply: ${String(from)}`).not.toBe(text);
  return changed;
}

describe('npm run check:compose', () => {
  it('passes on the committed deployment files', () => {
    const report = checkDeployment();
    expect(report.failures).toEqual([]);
    expect(report.notes).toContain('docker-compose.prod.yml + .env.prod: schema and requirements hold');
    expect(report.notes).toContain('docker-compose.dev.yml + .env.dev: schema and requirements hold');
  });

  it('runs as a script: exit 0 and a summary line', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-compose.ts'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(result.stdout).toContain('check:compose: all deployment checks pass');
    expect(result.status).toBe(0);
  });
});

describe('the compose checker catches mistakes', () => {
  it.each(['dev', 'prod'] as const)('%s: a service taken off dbNetWork fails', (variant) => {
    // `search` takes its networks from the function anchor; its own empty list overrides it.
    const withOwnNetworks = edit(compose[variant], '      FUNCTIONS: search\n', '      FUNCTIONS: search\n    networks: []\n');
    expect(checkComposeText(withOwnNetworks, env[variant], variant, validate)).toContain('search is not on network dbNetWork');
  });

  it('a key the Compose schema does not know fails schema validation', () => {
    const broken = edit(compose.prod, '  llm_init:\n', '  llm_init:\n    restart_policy: never\n');
    expect(checkComposeText(broken, env.prod, 'prod', validate).join('\n')).toMatch(/schema: \/services\/llm_init must NOT have additional properties \(restart_policy\)/);
  });

  it('a variable missing from the env file fails, naming it', () => {
    const broken = edit(env.prod, /^HF_REPO_ID=.*$/m, '');
    expect(checkComposeText(compose.prod, broken, 'prod', validate)).toContain('HF_REPO_ID is referenced but neither defined in the env file nor given a default');
  });

  it('an empty required secret fails with the compose file\'s own message', () => {
    const broken = edit(env.prod, /^LLM_API_KEY=.*$/m, 'LLM_API_KEY=');
    expect(checkComposeText(compose.prod, broken, 'prod', validate).join('\n')).toContain('LLM_API_KEY: LLM_API_KEY must be set (see .env.prod)');
  });

  it('prod: a function publishing a port fails', () => {
    const broken = edit(compose.prod, '      FUNCTIONS: search\n', '      FUNCTIONS: search\n    ports: ["8092:8080"]\n');
    expect(checkComposeText(broken, env.prod, 'prod', validate)).toContain('prod: only the gateway may publish ports (search does)');
  });

  it("the seed's wget healthcheck on llama_server fails", () => {
    const broken = edit(compose.prod, '["CMD", "curl", "-f", "http://localhost:8080/health"]', '["CMD", "wget", "-qO-", "http://localhost:8080/v1/models"]');
    expect(checkComposeText(broken, env.prod, 'prod', validate)).toContain('llama_server healthcheck must curl /health (the image has curl, not wget)');
  });

  it('ws-chat not waiting for a healthy llama_server fails', () => {
    const broken = edit(compose.prod, /(FUNCTIONS: ws-chat\n(?:.*\n)*?)      llama_server:\n        condition: service_healthy\n/, '$1');
    expect(checkComposeText(broken, env.prod, 'prod', validate)).toContain('ws-chat must depend on llama_server with condition service_healthy (has none)');
  });

  it('llm_init without restart: "no" and a changed seed argument fail', () => {
    const broken = edit(edit(compose.dev, '    restart: "no"\n    environment:\n      HF_TOKEN', '    environment:\n      HF_TOKEN'), '"--parallel", "2"', '"--parallel", "4"');
    const failures = checkComposeText(broken, env.dev, 'dev', validate);
    expect(failures).toContain('llm_init must have restart: "no"');
    expect(failures.join('\n')).toMatch(/llama_server arguments must be the seed's/);
  });

  it('a misspelt variable passed to the functions fails', () => {
    const broken = edit(compose.prod, '  RAG_MIN_SCORE: ${RAG_MIN_SCORE:-}\n', '  RAG_MIN_SCORES: ${RAG_MIN_SCORE:-}\n');
    expect(checkComposeText(broken, env.prod, 'prod', validate)).toContain('search sets RAG_MIN_SCORES, which lib/config.ts does not read');
  });

  it('dev: functions without develop.watch fail', () => {
    const broken = edit(compose.dev, /  develop:\n    watch:\n(?:      - .*\n)+/, '');
    expect(checkComposeText(broken, env.dev, 'dev', validate)).toContain('dev: add-document should have develop.watch');
  });
});

describe('the Dockerfile checker', () => {
  const dockerfile = read('infra/Dockerfile');

  it('passes infra/Dockerfile', () => {
    expect(checkDockerfile(dockerfile)).toEqual([]);
  });

  it('catches a root image, dev dependencies, curl in the healthcheck and a baked secret', () => {
    let broken = edit(dockerfile, /^USER node$/m, '');
    broken = edit(broken, 'npm ci --omit=dev', 'npm ci');
    broken = edit(broken, /^HEALTHCHECK .*\\\n.*$/m, 'HEALTHCHECK CMD curl -f http://127.0.0.1:8080/healthz');
    broken = edit(broken, 'ENV NODE_ENV=production', 'ENV LLM_API_KEY=sk-real NODE_ENV=production');
    const failures = checkDockerfile(broken);
    expect(failures).toContain('Dockerfile: the final stage must switch to a non-root USER');
    expect(failures).toContain('Dockerfile: production dependencies must come from `npm ci --omit=dev`');
    expect(failures).toContain('Dockerfile: HEALTHCHECK cannot use curl or wget (not in the slim image)');
    expect(failures.join('\n')).toMatch(/a secret is baked into the image: ENV LLM_API_KEY=sk-real/);
  });

  it('catches a single-stage build', () => {
    const single = 'FROM node:20-bookworm-slim\nENV HOST=0.0.0.0\nRUN npm ci --omit=dev\nUSER node\nCMD ["npm", "start"]\n';
    expect(checkDockerfile(single)).toContain('Dockerfile: must be multi-stage (found 1 FROM)');
  });
});

describeWhenPresent({ present: nginxInstalled, missing: 'nginx is not installed (bash infra/scripts/nginx.sh install)' }, 'the gateway config under a real nginx (nginx -t)', () => {
  it('rejects a broken template', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'gateway-root-'));
    try {
      mkdirSync(path.join(root, 'infra/nginx'), { recursive: true });
      cpSync(path.join(PROJECT_ROOT, 'infra/scripts'), path.join(root, 'infra/scripts'), { recursive: true });
      const template = read('infra/nginx/gateway.conf.template');
      writeFileSync(path.join(root, 'infra/nginx/gateway.conf.template'), edit(template, 'proxy_read_timeout 3600s;', 'proxy_read_timeout 3600s'));
      const result = checkNginxConfig(root);
      expect(result.ran).toBe(true);
      expect(result.failures.join('\n')).toMatch(/nginx -t rejected the rendered gateway config/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
