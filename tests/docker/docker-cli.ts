// The docker and `docker compose` commands the docker lane runs, each bounded in time, with
// what went wrong in the error when one fails.
import { execFile } from 'node:child_process';

const DEFAULT_TIMEOUT_MS = 120_000;
const POLL_INTERVAL_MS = 2_000;
const OUTPUT_BYTES = 64 * 1024 * 1024;
const ERROR_TAIL_CHARACTERS = 3_000;

export interface CommandResult {
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `docker ARGS`; rejects with the command and its stderr when it exits non-zero. */
export function docker(args: readonly string[], options: { timeoutMs?: number; environment?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = execFile(
      'docker',
      args,
      { timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBuffer: OUTPUT_BYTES, env: options.environment ?? process.env, killSignal: 'SIGTERM' },
      (error, stdout, stderr) => {
        const ms = performance.now() - started;
        if (error) {
          const reason = error.killed ? `timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` : `exit ${String(error.code)}`;
          reject(new Error(`docker ${args.join(' ')}: ${reason}\n${(stderr || stdout).slice(-ERROR_TAIL_CHARACTERS)}`));
        } else resolve({ stdout, stderr, ms });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** One compose project: its files, env files, name and the variables that win over the env files. */
export interface ComposeProject {
  name: string;
  files: readonly string[];
  envFiles: readonly string[];
  environment: NodeJS.ProcessEnv;
  projectDirectory: string;
}

export function compose(project: ComposeProject, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<CommandResult> {
  const prefix = ['compose', '--project-name', project.name, '--project-directory', project.projectDirectory];
  for (const file of project.files) prefix.push('--file', file);
  for (const file of project.envFiles) prefix.push('--env-file', file);
  return docker([...prefix, ...args], { timeoutMs: options.timeoutMs, environment: project.environment });
}

/** A container of the project as `docker compose ps --format json` lists it. */
export interface ServiceContainer {
  Name: string;
  Service: string;
  State: string;
  Health: string;
  ExitCode: number;
  Publishers: { URL: string; TargetPort: number; PublishedPort: number; Protocol: string }[] | null;
}

export async function listContainers(project: ComposeProject): Promise<ServiceContainer[]> {
  const { stdout } = await compose(project, ['ps', '--all', '--format', 'json']);
  const text = stdout.trim();
  if (!text) return [];
  // Compose 2.21+ prints one object per line; older releases one array.
  return text.startsWith('[') ? (JSON.parse(text) as ServiceContainer[]) : text.split('\n').map((line) => JSON.parse(line) as ServiceContainer);
}

/** Waits until every named service has all its containers running and healthy (bounded). */
export async function waitHealthy(project: ComposeProject, services: readonly string[], timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const started = Date.now();
  let last = '';
  while (Date.now() < deadline) {
    const containers = await listContainers(project);
    const states = services.map((service) => {
      const mine = containers.filter((container) => container.Service === service);
      const healthy = mine.length > 0 && mine.every((container) => container.State === 'running' && container.Health === 'healthy');
      return { service, healthy, text: `${service}: ${mine.map((container) => `${container.State}/${container.Health || 'no healthcheck'}`).join(',') || 'no container'}` };
    });
    last = states.map((state) => state.text).join('; ');
    const broken = containers.find((container) => services.includes(container.Service) && container.State === 'exited');
    if (broken) throw new Error(`${broken.Name} exited (code ${broken.ExitCode}) while waiting for health: ${last}`);
    if (states.every((state) => state.healthy)) return `healthy after ${((Date.now() - started) / 1000).toFixed(0)} s`;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(`not healthy within ${timeoutMs / 1000} s: ${last}`);
}

/** The 127.0.0.1 port that `docker compose port SERVICE TARGET` reports. */
export async function publishedPort(project: ComposeProject, service: string, target: number): Promise<number> {
  const { stdout } = await compose(project, ['port', service, String(target)]);
  const match = /^(?<host>[\d.]+):(?<port>\d+)$/m.exec(stdout.trim());
  if (!match?.groups) throw new Error(`${service}:${target} is not published (${stdout.trim()})`);
  if (match.groups.host !== '127.0.0.1') throw new Error(`${service}:${target} is published on ${match.groups.host}, not 127.0.0.1 only`);
  return Number(match.groups.port);
}
