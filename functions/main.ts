import { ConfigError, loadConfig, type Config } from '../lib/config.ts';
import { ModelFileError } from '../lib/llm/embedded/gguf-file.ts';
import { createLog } from '../lib/log.ts';
import type { Runtime, StopSignal } from './runtime/runtime.ts';
import { startService } from './start-service.ts';

/** How the process ends: scripts and orchestrators tell a bad configuration from a failed start. */
export const EXIT_CODES = { stopped: 0, startupFailed: 1, badConfiguration: 2 } as const;

/**
 * The process entry shared by the Node and Deno runtimes: validate the environment, start,
 * stop cleanly on SIGINT/SIGTERM, and exit with a clear message when start-up cannot succeed.
 * Everything runtime-specific comes in through `runtime` (functions/runtime/).
 */
export async function main(runtime: Runtime): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(runtime.environment());
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`local-rag: ${error.message}`);
      runtime.exit(EXIT_CODES.badConfiguration);
    }
    throw error;
  }
  const log = createLog(config.logLevel);
  const service = await startService({
    config,
    runtime: {
      upgradeWebSocket: runtime.createUpgradeWebSocket({ pingIntervalMs: config.chat.pingIntervalMs }),
      clientAddress: runtime.clientAddress,
      listen: (app) => runtime.listen(app, { port: config.port, host: config.host, maxFrameBytes: config.chat.maxFrameBytes, pingIntervalMs: config.chat.pingIntervalMs }),
    },
    log,
  });
  let stopping = false;
  runtime.onStopSignal(async (signal: StopSignal) => {
    if (stopping) return;
    stopping = true;
    log('info', 'stopping', { signal });
    await service.stop();
    runtime.exit(EXIT_CODES.stopped);
  });
  service.chatStarted.catch(async (error: Error) => {
    // Like a bad variable: the operator named a model file that cannot be used.
    log('error', 'start-up failed', { error: error.message });
    console.error(`local-rag: ${error.message}`);
    await service.stop().catch(() => {});
    runtime.exit(error instanceof ModelFileError ? EXIT_CODES.badConfiguration : EXIT_CODES.startupFailed);
  });
  service.ready.then(
    () => log('info', 'ready', { port: service.port }),
    async (error: Error) => {
      log('error', 'start-up failed', { error: error.message });
      console.error(`local-rag: ${error.message}`);
      await service.stop().catch(() => {});
      runtime.exit(EXIT_CODES.startupFailed);
    },
  );
}
