// Starts a command as the leader of its own process group and stops exactly that group.
// `npm start` is npm → sh → tsx → node: signalling only npm's PID can leave the node server
// behind, so the group (whose id is the PID we started) is what gets the signal.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface ProcessGroupOptions {
  cwd: string;
  env: Record<string, string>;
  /** Where stdout and stderr go (appended), so a failure can show the tail of the log. */
  logFile: string;
  /** Called with the PID once spawned, e.g. to write it where an outer trap finds it. */
  onSpawn?: (pid: number) => void;
}

export interface ProcessGroup {
  /** PID of the leader, which is also the process group id. */
  pid: number;
  /** Resolves with the exit code (or the signal's name) when the leader exits. */
  exited: Promise<number | string>;
  isRunning(): boolean;
  /** SIGTERM (or `signal`) to the group, SIGKILL after `timeoutMs`; safe to call twice. */
  stop(options?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<void>;
}

function groupIsAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** Spawns `command args` detached (a new process group), output to `logFile`. */
export async function startProcessGroup(command: string, args: readonly string[], options: ProcessGroupOptions): Promise<ProcessGroup> {
  const output = openSync(options.logFile, 'a');
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', output, output] });
  closeSync(output);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid!;
  options.onSpawn?.(pid);
  let leaderRunning = true;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      leaderRunning = false;
      resolve(code ?? signal ?? 'unknown');
    }),
  );

  // A driver that exits without calling stop() must not leave the group behind.
  const killOnExit = () => signalGroup(pid, 'SIGKILL');
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop: ProcessGroup['stop'] = ({ signal = 'SIGTERM', timeoutMs = 10_000 } = {}) => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      signalGroup(pid, signal);
      const deadline = Date.now() + timeoutMs;
      // The leader may exit before its children (npm does): wait for the whole group.
      while (groupIsAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      if (groupIsAlive(pid)) signalGroup(pid, 'SIGKILL');
      while (groupIsAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
      if (leaderRunning) await exited;
    })();
    return stopping;
  };

  return { pid, exited, isRunning: () => leaderRunning || groupIsAlive(pid), stop };
}
