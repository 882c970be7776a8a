import { ConfigError, loadConfig, type Environment } from '../lib/config.ts';
import { ModelFileError } from '../lib/llm/embedded/gguf-file.ts';
import { createLog } from '../lib/log.ts';
import { startService, type RuntimeAdapter } from './start-service.ts';

/**
 * The process entry shared by the Node and Deno runtimes: validate the environment, start,
 * stop cleanly on SIGINT/SIGTERM, and exit with a clear message when start-up cannot succeed.
 */
/** What a runtime adapter needs from the configuration to listen. */
export interface ListenSettings {
  port: number;
  host: string;
  maxFrameBytes: number;
  /** WS_PING_INTERVAL_MS: how often sockets are pinged (0 = never). */
  pingIntervalMs: number;
}

export async function main(environment: Environment, createRuntime: (settings: ListenSettings) => RuntimeAdapter, exit: (code: number) => never): Promise<void> {
  let config;
  try {
    config = loadConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`local-rag: ${error.message}`);
      exit(2);
    }
    throw error;
  }
  const log = createLog(config.logLevel);
  const service = await startService(config, createRuntime({ port: config.port, host: config.host, maxFrameBytes: config.chat.maxFrameBytes, pingIntervalMs: config.chat.pingIntervalMs }), log);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', 'stopping', { signal });
    await service.stop();
    exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  service.chatStarted.catch(async (error: Error) => {
    // Like a bad variable: the operator named a model file that cannot be used.
    log('error', 'start-up failed', { error: error.message });
    console.error(`local-rag: ${error.message}`);
    await service.stop().catch(() => {});
    exit(error instanceof ModelFileError ? 2 : 1);
  });
  service.ready.then(
    () => log('info', 'ready', { port: service.port }),
    async (error: Error) => {
      log('error', 'start-up failed', { error: error.message });
      console.error(`local-rag: ${error.message}`);
      await service.stop().catch(() => {});
      exit(1);
    },
  );
}
