// What the topology test takes from docker-compose.prod.yml: each service's command and
// environment after Compose's interpolation with .env.prod, so the local processes run
// exactly what the containers would, with only addresses swapped for local ones.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseEnvFile } from '../../scripts/check-compose/env-file.ts';
import { interpolateTree } from '../../scripts/check-compose/interpolate.ts';
import { asNode, environment, services, words, type Node } from '../../scripts/check-compose/model.ts';

export const COMPOSE_FILE = 'docker-compose.prod.yml';
export const ENV_FILE = '.env.prod';

export interface ComposeService {
  name: string;
  /** `command` as words, e.g. `['npm', 'start']`. */
  command: string[];
  environment: Map<string, string>;
}

export interface ComposeTopology {
  service(name: string): ComposeService;
  /** The env file's variables (what Compose interpolates with). */
  variables: ReadonlyMap<string, string>;
}

/**
 * Reads the compose file as `docker compose --env-file .env.prod config` would see it
 * (merge keys, `${VAR:-default}`), from the env file alone: the caller's shell does not leak in.
 */
export function readComposeTopology(projectRoot: string): ComposeTopology {
  const env = parseEnvFile(readFileSync(path.join(projectRoot, ENV_FILE), 'utf8'));
  if (env.problems.length) throw new Error(`${ENV_FILE}: ${env.problems.join('; ')}`);
  const raw = parse(readFileSync(path.join(projectRoot, COMPOSE_FILE), 'utf8'), { merge: true, maxAliasCount: -1 });
  const found = { unset: new Set<string>(), errors: [] as string[] };
  const model = asNode(interpolateTree(raw, env.variables, found));
  if (found.errors.length) throw new Error(`${COMPOSE_FILE}: ${found.errors.join('; ')}`);
  const all = services(model);
  return {
    variables: env.variables,
    service(name) {
      const service: Node | undefined = all.get(name);
      if (!service) throw new Error(`${COMPOSE_FILE} has no service ${name}`);
      return { name, command: words(service.command), environment: environment(service) };
    },
  };
}

/** The value of `--flag value` in a command, e.g. llama_server's `--ctx-size`. */
export function commandOption(command: readonly string[], flag: string): string | undefined {
  const index = command.indexOf(flag);
  return index >= 0 ? command[index + 1] : undefined;
}
