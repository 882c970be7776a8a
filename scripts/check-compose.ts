/**
 * `npm run check:compose`: proves the deployment files right without a Docker engine.
 * For dev and prod: interpolate the compose file with its env file as Compose does, validate
 * it against the Compose Specification schema, then check the seed's requirements. Also the
 * Dockerfile's essentials and the gateway's nginx config (`nginx -t`, when nginx is installed).
 * Prints every failure and exits 1 when there is any.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { checkDockerfile, checkDockerignore } from './check-compose/dockerfile.ts';
import { parseEnvFile } from './check-compose/env-file.ts';
import { interpolateTree } from './check-compose/interpolate.ts';
import { asNode } from './check-compose/model.ts';
import { checkNginxConfig } from './check-compose/nginx.ts';
import { checkRequirements, type Variant } from './check-compose/requirements.ts';
import { COMPOSE_SCHEMA_PATH, loadComposeValidator, schemaErrors } from './check-compose/schema.ts';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const VARIANTS: Record<Variant, { compose: string; env: string }> = {
  dev: { compose: 'docker-compose.dev.yml', env: '.env.dev' },
  prod: { compose: 'docker-compose.prod.yml', env: '.env.prod' },
};

/**
 * Checks one compose file's text against its env file's text; returns one line per failure.
 * Exported so tests can feed it broken variants.
 */
export function checkComposeText(composeText: string, envText: string, variant: Variant, validate: ValidateFunction): string[] {
  const env = parseEnvFile(envText);
  const failures = env.problems.map((problem) => `env file: ${problem}`);
  for (const name of new Set(env.unset)) failures.push(`env file: ${name} is used before it is defined`);
  let raw: unknown;
  try {
    // merge: true for `<<: *anchor`, which Compose supports.
    raw = parse(composeText, { merge: true, maxAliasCount: -1 });
  } catch (error) {
    return [...failures, `YAML: ${(error as Error).message}`];
  }
  const found = { unset: new Set<string>(), errors: [] as string[] };
  let model: unknown;
  try {
    model = interpolateTree(raw, env.variables, found);
  } catch (error) {
    return [...failures, `interpolation: ${(error as Error).message}`];
  }
  for (const name of found.unset) failures.push(`${name} is referenced but neither defined in the env file nor given a default`);
  failures.push(...found.errors.map((message) => `required variable: ${message}`));
  failures.push(...schemaErrors(validate, model));
  failures.push(...checkRequirements(asNode(model), asNode(raw), variant, env.variables));
  return failures;
}

export interface DeploymentReport {
  failures: string[];
  notes: string[];
}

/** Every deployment check over the files in `root`. */
export function checkDeployment(root: string = PROJECT_ROOT): DeploymentReport {
  const failures: string[] = [];
  const notes: string[] = [];
  const read = (file: string): string | undefined => {
    const full = path.join(root, file);
    if (existsSync(full)) return readFileSync(full, 'utf8');
    failures.push(`${file} is missing`);
    return undefined;
  };
  let validate: ValidateFunction;
  try {
    validate = loadComposeValidator(path.resolve(root, COMPOSE_SCHEMA_PATH));
  } catch (error) {
    return { failures: [(error as Error).message], notes };
  }
  for (const [variant, files] of Object.entries(VARIANTS) as [Variant, (typeof VARIANTS)[Variant]][]) {
    const compose = read(files.compose);
    const env = read(files.env);
    if (compose === undefined || env === undefined) continue;
    const found = checkComposeText(compose, env, variant, validate);
    failures.push(...found.map((failure) => `${files.compose}: ${failure}`));
    if (found.length === 0) notes.push(`${files.compose} + ${files.env}: schema and requirements hold`);
  }
  const dockerfile = read('infra/Dockerfile');
  if (dockerfile !== undefined) failures.push(...checkDockerfile(dockerfile));
  const dockerignore = read('.dockerignore');
  if (dockerignore !== undefined) failures.push(...checkDockerignore(dockerignore));
  const nginx = checkNginxConfig(root);
  failures.push(...nginx.failures);
  if (nginx.note) notes.push(nginx.note);
  return { failures, notes };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = checkDeployment();
  for (const note of report.notes) console.log(`ok   ${note}`);
  for (const failure of report.failures) console.error(`FAIL ${failure}`);
  console.log(report.failures.length === 0 ? 'check:compose: all deployment checks pass' : `check:compose: ${report.failures.length} failure(s)`);
  process.exit(report.failures.length === 0 ? 0 : 1);
}
