// `npx tsx scripts/swarm-stack.ts`: the Docker Swarm stack made from docker-compose.prod.yml
// (see scripts/swarm-stack/convert.ts for what changes and why). Prints the stack as JSON,
// which `docker stack deploy` reads like YAML:
//
//   npx tsx scripts/swarm-stack.ts --env-file .env.prod --env-file .env.local > stack.json
//   docker stack deploy -c stack.json local-rag
//
// Options: --file F (repeatable; default docker-compose.prod.yml), --env-file E (repeatable;
// default .env.prod), --subnet CIDR (10.231.0.0/24), --gateway-port N (GATEWAY_PORT or 80),
// --publish-mode ingress|host (ingress). Needs `docker compose` (it resolves the files).
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { composeToStack } from './swarm-stack/convert.ts';

const DEFAULT_SUBNET = '10.231.0.0/24';
const DEFAULT_GATEWAY_PORT = 80;
const OUTPUT_BYTES = 64 * 1024 * 1024;

const { values } = parseArgs({
  options: {
    file: { type: 'string', multiple: true, default: ['docker-compose.prod.yml'] },
    'env-file': { type: 'string', multiple: true, default: ['.env.prod'] },
    subnet: { type: 'string', default: DEFAULT_SUBNET },
    'gateway-port': { type: 'string' },
    'publish-mode': { type: 'string', default: 'ingress' },
  },
});
const publishMode = values['publish-mode'];
if (publishMode !== 'ingress' && publishMode !== 'host') {
  console.error(`swarm-stack: --publish-mode must be ingress or host, not ${publishMode}`);
  process.exit(2);
}
const gatewayPort = Number(values['gateway-port'] ?? (process.env.GATEWAY_PORT || DEFAULT_GATEWAY_PORT));
if (!Number.isInteger(gatewayPort) || gatewayPort < 1) {
  console.error('swarm-stack: the gateway port must be a port number (Swarm publishes on every address)');
  process.exit(2);
}

const composeArguments = ['compose', ...values.file.flatMap((file) => ['--file', file]), ...values['env-file'].flatMap((file) => ['--env-file', file]), 'config', '--format', 'json'];
let resolved: string;
try {
  resolved = execFileSync('docker', composeArguments, { encoding: 'utf8', maxBuffer: OUTPUT_BYTES, stdio: ['ignore', 'pipe', 'inherit'] });
} catch {
  console.error(`swarm-stack: docker ${composeArguments.join(' ')} failed`);
  process.exit(1);
}
const stack = composeToStack(JSON.parse(resolved) as Record<string, unknown>, {
  subnet: values.subnet,
  gatewayPort,
  publishMode,
  listFolder: (path) => (statSync(path).isDirectory() ? readdirSync(path).filter((name) => statSync(`${path}/${name}`).isFile()) : undefined),
});
process.stdout.write(`${JSON.stringify(stack, null, 2)}\n`);
