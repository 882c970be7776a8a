import { getLlama, LlamaChat, LlamaLogLevel, resolveChatWrapper, type ChatHistoryItem, type ChatWrapper, type Llama, type LlamaContext, type LlamaModel } from 'node-llama-cpp';
import type { Log } from '../../log.ts';
import { LlmError } from '../errors.ts';
import type { ChatMessage, ChatModel, ChatModelHealth, ChatStreamEvent, ChatStreamOptions } from '../types.ts';
import { createEventQueue } from './event-queue.ts';
import { createSequencePool, type SequenceLease } from './sequence-pool.ts';
import { defaultThreadCount } from './thread-count.ts';

/** What the embedded runtime needs; the service passes `config.llm` parts (see `open-chat-model.ts`). */
export interface EmbeddedChatSettings {
  temperature: number;
  maxTokens: number;
  /** Each sequence's window (default 4096); the model's training context caps it. */
  contextTokens?: number;
  threads: number;
  parallel: number;
  queueLimit: number;
}

/** A {@link ChatModel} that also loads and unloads its model. */
export interface EmbeddedChatModel extends ChatModel {
  /**
   * Loads `modelPath` (resolved by the caller: a local file or a finished download). Until it
   * resolves, `health()` says `loading` and the other calls fail with `llm_loading`.
   */
  load(modelPath: string): Promise<void>;
  /** Marks chat unavailable for good (no model could be had), with the reason `health()` gives. */
  fail(reason: string): void;
  /** What `health()` says while the model is not loaded yet (e.g. the download's progress). */
  setLoadingDetail(detail: string): void;
  /** The threads each evaluation uses (after the default rule). */
  readonly threads: number;
  close(): Promise<void>;
}

interface LoadedModel {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  chatWrapper: ChatWrapper;
  pool: ReturnType<typeof createSequencePool<LlamaChat>>;
}

/**
 * Each sequence's window when LLM_CONTEXT_TOKENS is unset: a RAG prompt of a few chunks and
 * an answer fit, and the KV cache stays moderate (Qwen2.5 1.5B, f16: 28 KB a token, ~235 MB for 2 × 4096;
 * its full 32768-token training context would take ~940 MB a sequence).
 */
const DEFAULT_CONTEXT_TOKENS = 4096;

/** node-llama-cpp's stop reasons in the OpenAI words the protocol uses. */
const FINISH_REASONS: Record<string, string> = { eogToken: 'stop', stopGenerationTrigger: 'stop', customStopTrigger: 'stop', maxTokens: 'length', abort: 'cancelled' };

/**
 * The chat model run in-process by llama.cpp through node-llama-cpp: one model and one
 * context per process, `parallel` sequences evaluated together in one batch, callers beyond
 * them queued (bounded). Token counts use the GGUF's own tokenizer and chat template
 * (node-llama-cpp's wrapper for it), the same text the sequence then evaluates.
 *
 * Evaluation runs on llama.cpp's threads, not on the event loop; only the callbacks that
 * hand over each text chunk run on it.
 */
export function createEmbeddedChatModel(settings: EmbeddedChatSettings, options: { log?: Log } = {}): EmbeddedChatModel {
  const log = options.log;
  const threads = settings.threads > 0 ? settings.threads : defaultThreadCount();
  let loaded: LoadedModel | undefined;
  let state: { status: 'loading' | 'unavailable'; detail: string } | undefined = { status: 'loading', detail: 'model loading' };
  let closed = false;

  function ready(): LoadedModel {
    if (loaded) return loaded;
    if (state?.status === 'unavailable') throw new LlmError('llm_unavailable', { message: `The embedded chat model is unavailable: ${state.detail}` });
    throw new LlmError('llm_loading');
  }

  async function load(modelPath: string): Promise<void> {
    const started = performance.now();
    state = { status: 'loading', detail: 'model loading' };
    // build 'never': a missing prebuilt binary is an error here, never a compile at run time.
    const llama = await getLlama({
      gpu: false,
      build: 'never',
      usePrebuiltBinaries: true,
      skipDownload: true,
      progressLogs: false,
      maxThreads: threads,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => {
        const text = message.trim();
        if (text !== '' && (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)) log?.('warn', 'llama.cpp', { message: text });
      },
    });
    let lastLoggedTenth = -1;
    const model = await llama.loadModel({
      modelPath,
      gpuLayers: 0,
      onLoadProgress: (progress) => {
        state = { status: 'loading', detail: `model loading (${Math.round(progress * 100)} %)` };
        const tenth = Math.floor(progress * 10);
        if (tenth > lastLoggedTenth) {
          lastLoggedTenth = tenth;
          log?.('debug', 'chat model loading', { percent: tenth * 10 });
        }
      },
    });
    // llama.cpp does not cap a sequence at the training context by itself (llama-server does).
    const contextSize = Math.min(settings.contextTokens ?? DEFAULT_CONTEXT_TOKENS, model.trainContextSize);
    const context = await model.createContext({ contextSize, sequences: settings.parallel, threads });
    const chatWrapper = resolveChatWrapper(model);
    const chats = Array.from({ length: settings.parallel }, () => new LlamaChat({ contextSequence: context.getSequence(), chatWrapper }));
    if (closed) {
      await llama.dispose();
      return;
    }
    loaded = { llama, model, context, chatWrapper, pool: createSequencePool({ sequences: chats, queueLimit: settings.queueLimit }) };
    state = undefined;
    log?.('info', 'chat model ready', {
      model: modelPath,
      context_tokens: context.contextSize,
      train_context_tokens: model.trainContextSize,
      sequences: settings.parallel,
      threads,
      chat_template: chatWrapper.wrapperName,
      load_ms: Math.round(performance.now() - started),
    });
  }

  function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
    const history: ChatHistoryItem[] = messages.map((message) =>
      message.role === 'assistant' ? { type: 'model', response: [message.content] } : { type: message.role, text: message.content },
    );
    // An empty model turn at the end: the prompt ends with the assistant header, as llama-server renders it.
    history.push({ type: 'model', response: [] });
    return history;
  }

  async function countPromptTokens(messages: ChatMessage[]): Promise<number> {
    const { model, chatWrapper } = ready();
    return chatWrapper.generateContextState({ chatHistory: toHistory(messages) }).contextText.tokenize(model.tokenizer).length;
  }

  async function countTokensEach(texts: string[]): Promise<number[]> {
    const { model } = ready();
    // parse special tokens as in the prompt; in-process, so one call per text costs nothing.
    return texts.map((text) => model.tokenize(text, true).length);
  }

  async function health(): Promise<ChatModelHealth> {
    if (loaded) return { status: 'ready', detail: 'model loaded' };
    return state ?? { status: 'loading', detail: 'model loading' };
  }

  async function* stream(messages: ChatMessage[], streamOptions: ChatStreamOptions = {}): AsyncGenerator<ChatStreamEvent> {
    const callerSignal = streamOptions.signal;
    if (callerSignal?.aborted) {
      yield { type: 'done', finishReason: 'cancelled' };
      return;
    }
    const { pool } = ready();
    let lease: SequenceLease<LlamaChat>;
    try {
      lease = await pool.acquire(callerSignal);
    } catch (error) {
      if (callerSignal?.aborted) {
        yield { type: 'done', finishReason: 'cancelled' };
        return;
      }
      throw error;
    }
    // Aborted by the caller, or by this generator being closed early (a consumer that stops reading).
    const controller = new AbortController();
    const abort = () => controller.abort();
    callerSignal?.addEventListener('abort', abort, { once: true });
    const queue = createEventQueue<string>();
    let completionTokens = 0;
    let promptTokens: number | undefined;
    const chat = lease.sequence;
    const generation = chat
      .generateResponse(toHistory(messages), {
        maxTokens: streamOptions.maxTokens ?? settings.maxTokens,
        temperature: streamOptions.temperature ?? settings.temperature,
        signal: controller.signal,
        stopOnAbortSignal: true,
        onToken: (tokens) => {
          // The first answer token is sampled once the whole prompt is in the sequence, before it is evaluated itself.
          promptTokens ??= chat.sequence.contextTokens.length;
          completionTokens += tokens.length;
        },
        onTextChunk: (text) => queue.push(text),
      })
      .then(
        (response) => {
          queue.end();
          return response;
        },
        (error: unknown) => {
          queue.fail(error);
          return undefined;
        },
      );
    try {
      for await (const text of queue.drain()) yield { type: 'token', content: text };
    } catch (error) {
      if (!controller.signal.aborted) throw new LlmError('llm_error', { cause: error, message: 'The embedded chat model failed while answering.' });
    } finally {
      controller.abort();
      callerSignal?.removeEventListener('abort', abort);
      // The sequence is free only once llama.cpp has stopped evaluating on it.
      void generation.finally(() => lease.release());
    }
    const response = await generation;
    if (controller.signal.aborted && callerSignal?.aborted) {
      yield { type: 'done', finishReason: 'cancelled' };
      return;
    }
    const finishReason = FINISH_REASONS[response?.metadata.stopReason ?? 'abort'] ?? 'stop';
    // An answer that stopped before its first token: the prompt is all the sequence holds.
    const evaluatedPrompt = promptTokens ?? chat.sequence.contextTokens.length;
    yield { type: 'done', finishReason, usage: { promptTokens: evaluatedPrompt, completionTokens, totalTokens: evaluatedPrompt + completionTokens } };
  }

  return {
    stream,
    health,
    countTokens: async (text) => (await countTokensEach([text]))[0]!,
    countTokensEach,
    countPromptTokens,
    contextWindow: async () => ready().context.contextSize,
    load,
    fail(reason) {
      if (!loaded) state = { status: 'unavailable', detail: reason };
    },
    setLoadingDetail(detail) {
      if (!loaded && state?.status === 'loading') state = { status: 'loading', detail };
    },
    threads,
    async close() {
      closed = true;
      const current = loaded;
      loaded = undefined;
      state = { status: 'unavailable', detail: 'stopped' };
      await current?.llama.dispose();
    },
  };
}
