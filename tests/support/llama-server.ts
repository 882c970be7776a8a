// Starts a real llama.cpp `llama-server` for a test suite and stops exactly that process.
// The binary and the model come from scripts/llama-server.sh, so tests and the shell script
// share one build cache and one rule for finding the model.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const scriptPath = fileURLToPath(new URL('../../scripts/llama-server.sh', import.meta.url));
const healthTimeoutMs = 60_000;
// llama-server's SIGTERM handler hangs while a response is still streaming; after this long
// it is killed instead (a test server holds nothing worth a graceful shutdown).
const gracefulStopMs = 1_000;
const keptLogCharacters = 4_000;

export interface LlamaServerOptions {
  /** Port on 127.0.0.1; a free one is picked when absent. */
  port?: number;
  /** Key clients must send as `Authorization: Bearer <key>`; default `test-key`. */
  apiKey?: string;
  /** Number of slots, i.e. requests decoded at once; default 2. */
  parallel?: number;
  /** Total context in tokens, split evenly between slots; default 8192. */
  ctxSize?: number;
  /** GGUF file; default the script's choice (LLAMA_MODEL, else the stories260K fixture). */
  model?: string;
}

export interface RunningLlamaServer {
  /** OpenAI-compatible base URL for the `openai` client, ending with `/v1`. */
  baseURL: string;
  /** `http://127.0.0.1:<port>`, for llama.cpp's own endpoints (`/health`, `/slots`, ...). */
  origin: string;
  apiKey: string;
  pid: number;
  /** Stops this server; safe to call more than once. */
  stop(): Promise<void>;
}

/** Runs the shell script and returns its stdout; its progress goes to this process's stderr. */
function runScript(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [scriptPath, command], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(output.trim());
      else reject(new Error(`bash scripts/llama-server.sh ${command} exited with ${code}`));
    });
  });
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the probe port'));
      });
    });
  });
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** Resolves true once the child has exited, or false after timeoutMs (never, when absent). */
function waitForExit(child: ChildProcess, timeoutMs?: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function waitForHealth(origin: string, child: ChildProcess, recentLog: () => string) {
  const deadline = Date.now() + healthTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`llama-server exited during start-up:\n${recentLog()}`);
    }
    try {
      // /health is public: it answers 503 while the model loads and 200 once ready.
      const response = await fetch(`${origin}/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`llama-server not healthy after ${healthTimeoutMs} ms:\n${recentLog()}`);
}

async function startOnPort(binary: string, model: string, port: number, apiKey: string,
  options: LlamaServerOptions): Promise<RunningLlamaServer> {
  // The fixture model is tiny: one thread per request beats two threads passing work around,
  // and leaves a core for the test process on a 2-core machine.
  const threads = process.env.LLAMA_THREADS ?? '1';
  const child = spawn(binary, [
    '--host', '127.0.0.1', '--port', String(port),
    '--model', model,
    '--ctx-size', String(options.ctxSize ?? 8192),
    '--parallel', String(options.parallel ?? 2),
    '--api-key', apiKey,
    '--chat-template', 'chatml',
    // Without an alias the model id in every response is the file's absolute path.
    '--alias', basename(model, '.gguf'),
    '--threads', threads, '--threads-batch', threads,
    '--no-webui', '--metrics', '--slots',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });

  // Keep the tail of the log for error messages; draining the pipes also keeps the server
  // from blocking on a full pipe.
  let log = '';
  const keep = (text: string) => {
    log = (log + text).slice(-keptLogCharacters);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  await spawned;

  // A test runner that dies without calling stop() must not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, gracefulStopMs))) {
        child.kill('SIGKILL');
        await waitForExit(child);
      }
    })();
    return stopping;
  };

  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(origin, child, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseURL: `${origin}/v1`, origin, apiKey, pid: child.pid!, stop };
}

/**
 * Builds llama-server if needed (minutes the first time, cached after), starts it on
 * 127.0.0.1 with the tiny fixture model and resolves once `GET /health` returns 200.
 */
export async function startLlamaServer(options: LlamaServerOptions = {}): Promise<RunningLlamaServer> {
  const binary = await runScript('build');
  const model = options.model ?? (await runScript('model'));
  const apiKey = options.apiKey ?? 'test-key';
  if (options.port !== undefined) return startOnPort(binary, model, options.port, apiKey, options);
  // Another process can take a probed port before llama-server binds it; try again then.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnPort(binary, model, await findFreePort(), apiKey, options);
    } catch (error) {
      const lostPort = error instanceof Error && error.message.includes("couldn't bind");
      if (!lostPort || attempt === 3) throw error;
    }
  }
}
