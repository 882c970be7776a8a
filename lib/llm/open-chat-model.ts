import type { Config } from '../config.ts';
import type { Log } from '../log.ts';
import { createChatModel } from './chat-model.ts';
import { createEmbeddedChatModel } from './embedded/embedded-chat-model.ts';
import { ModelFileError } from './embedded/gguf-file.ts';
import { locateChatModel } from './embedded/model-location.ts';
import type { ChatModel } from './types.ts';

/** The chat model a process uses, and its start-up. */
export interface OpenedChatModel {
  chatModel: ChatModel;
  /** `server` = llama-server at LLM_BASE_URL; `embedded` = node-llama-cpp in this process. */
  runtime: 'server' | 'embedded';
  /**
   * Settles when the model is ready or chat is known to be unavailable. Rejects only with a
   * `ModelFileError` (a bad LLM_MODEL_FILE), which should stop the process with exit code 2.
   */
  started: Promise<void>;
  close(): Promise<void>;
}

/**
 * The one place that chooses the chat model from the config: LLM_BASE_URL set = that
 * OpenAI-compatible server; unset = the embedded llama.cpp runtime, whose model is located
 * (and downloaded on first start) in the background while the service already serves the
 * knowledge base. When no model can be had, chat reports why in `/readyz` and error frames.
 */
export function openChatModel(settings: Config['llm'], options: { log?: Log; fetch?: typeof fetch } = {}): OpenedChatModel {
  if (settings.baseURL !== undefined) {
    return { chatModel: createChatModel(settings, { fetch: options.fetch }), runtime: 'server', started: Promise.resolve(), close: async () => {} };
  }
  const embedded = createEmbeddedChatModel(
    {
      temperature: settings.temperature,
      maxTokens: settings.maxTokens,
      contextTokens: settings.contextTokens,
      threads: settings.embedded.threads,
      parallel: settings.embedded.parallel,
      queueLimit: settings.embedded.queueLimit,
    },
    { log: options.log },
  );
  const started = (async () => {
    try {
      const modelPath = await locateChatModel(settings.embedded, { ...options, onPercent: (percent) => embedded.setLoadingDetail(`downloading ${settings.embedded.hub.filename} (${percent} %)`) });
      await embedded.load(modelPath);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      embedded.fail(reason);
      if (error instanceof ModelFileError || settings.embedded.modelFile) {
        throw error instanceof ModelFileError ? error : new ModelFileError(`LLM_MODEL_FILE=${settings.embedded.modelFile}: llama.cpp cannot load it (${reason})`, { cause: error });
      }
      options.log?.('error', 'chat unavailable: no chat model', { reason });
    }
  })();
  return { chatModel: embedded, runtime: 'embedded', started, close: () => embedded.close() };
}
