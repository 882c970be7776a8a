// Container hygiene as a user (or an operator) would notice it: who runs the service, what
// PID 1 is, what the image holds, how big it is, and how long a stop takes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from '../topology/gateway-checks.ts';
import { compose, docker, listContainers, type ComposeProject } from './docker-cli.ts';
import type { DockerTestSettings } from './run-docker.ts';

const GRACEFUL_STOP_LIMIT_MS = 10_000;
/** What `docker stop` sends after its grace period: a container that needed it was killed. */
const KILLED_EXIT_CODE = 137;
const APP_IMAGE_LIMIT_MB = 400;
const BYTES_PER_MB = 1e6;
/** Every package the lock file marks dev-only (`"dev": true`): none may reach the app image. */
function devOnlyPackages(projectRoot: string): string[] {
  const lock = JSON.parse(readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([location, entry]) => entry.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(location))
    .map(([location]) => location.slice('node_modules/'.length));
}

const megabytes = (bytes: number) => Math.round(bytes / BYTES_PER_MB);

async function imageSize(image: string): Promise<number> {
  const { stdout } = await docker(['image', 'inspect', '--format', '{{.Size}}', image]);
  return Number(stdout.trim());
}

export async function checkNonRoot(project: ComposeProject, services: readonly string[]): Promise<string> {
  const seen: string[] = [];
  for (const service of services) {
    const { stdout: user } = await compose(project, ['exec', '-T', service, 'id', '-un']);
    expect(user.trim() !== 'root', `${service} runs as root`);
    const { stdout: init } = await compose(project, ['exec', '-T', service, 'cat', '/proc/1/cmdline']);
    const pidOne = init.split('\0')[0] ?? '';
    expect(/init|tini/.test(pidOne), `${service}: PID 1 is ${pidOne}, not an init`);
    seen.push(`${service}: user ${user.trim()}, PID 1 ${pidOne}`);
  }
  return seen.join('; ');
}

export async function checkImageHygiene(settings: DockerTestSettings): Promise<string> {
  const app = await imageSize(settings.appImage);
  const base = await imageSize(settings.images.NODE_IMAGE);
  const { stdout } = await docker([
    'run', '--rm', '--entrypoint', 'sh', settings.appImage, '-c',
    'ls /app; echo ---; find /app -path /app/node_modules -prune -o -type f \\( -name "*.test.ts" -o -name "test-*.ts" -o -path "*/tests/*" \\) -print; echo ---; ' +
      'for name in "$@"; do [ -e "/app/node_modules/$name" ] && echo "$name"; done; true', 'sh', ...devOnlyPackages(settings.projectRoot),
  ]);
  const [listing = '', testFiles = '', devPackages = ''] = stdout.split('---\n');
  expect(!/^(tests|bench|docs)$/m.test(listing), `the app image holds test or bench folders: ${listing.replace(/\n/g, ' ')}`);
  expect(testFiles.trim() === '', `the app image holds test files: ${testFiles.trim().replace(/\n/g, ', ')}`);
  expect(devPackages.trim() === '', `the app image holds dev dependencies: ${devPackages.trim().replace(/\n/g, ', ')}`);
  const sizes: string[] = [];
  for (const [name, image] of Object.entries(settings.images)) sizes.push(`${name} ${megabytes(await imageSize(image))} MB`);
  const detail = `${settings.appImage} ${megabytes(app)} MB (${megabytes(app - base)} MB over its ${megabytes(base)} MB node base); stand-ins: ${sizes.join(', ')}`;
  expect(megabytes(app) < APP_IMAGE_LIMIT_MB, `${detail}: over ${APP_IMAGE_LIMIT_MB} MB`);
  return detail;
}

/** `docker stop` of each running container, one at a time; each must exit by itself within 10 s. */
export async function checkGracefulStops(project: ComposeProject, services: readonly string[]): Promise<string> {
  const containers = (await listContainers(project)).filter((container) => services.includes(container.Service) && container.State === 'running');
  const timings: string[] = [];
  const problems: string[] = [];
  // The gateway first and the database last, as a user's `down` would stop them.
  const order = [...containers].sort((left, right) => services.indexOf(right.Service) - services.indexOf(left.Service));
  for (const container of order) {
    const { ms } = await docker(['stop', '--time', String(GRACEFUL_STOP_LIMIT_MS / 1000), container.Name], { timeoutMs: 60_000 });
    const { stdout } = await docker(['inspect', '--format', '{{.State.ExitCode}}', container.Name]);
    const exitCode = Number(stdout.trim());
    timings.push(`${container.Service} ${(ms / 1000).toFixed(1)} s (exit ${exitCode})`);
    if (exitCode === KILLED_EXIT_CODE || ms >= GRACEFUL_STOP_LIMIT_MS) problems.push(`${container.Service} did not stop by itself: ${(ms / 1000).toFixed(1)} s, exit ${exitCode}`);
  }
  expect(problems.length === 0, `${problems.join('; ')} (all: ${timings.join(', ')})`);
  return timings.join(', ');
}
