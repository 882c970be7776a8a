import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import type { Config } from '../config.ts';
import type { Embedder, EmbeddingInput } from '../contracts.ts';
import { createSentenceEncoder } from './sentence-encoder.ts';
import { isDirectory, readModelWindow, resolveModelLocation, type ModelLocation } from './model-location.ts';

/** A model that could not be found, loaded or does not fit the settings; names the model and its folder. */
export class EmbeddingModelError extends Error {
  readonly model: string;
  readonly folder: string;
  constructor(message: string, details: { model: string; folder: string; cause?: unknown }) {
    super(message, { cause: details.cause });
    this.name = 'EmbeddingModelError';
    this.model = details.model;
    this.folder = details.folder;
  }
}

export interface LoadEmbedderOptions {
  /** Receives one line when the model is ready (where from, dims, window, threads, time). */
  log?: (message: string) => void;
}

type PipelineOptions = NonNullable<Parameters<typeof pipeline>[2]>;

const WARM_UP_SENTENCE = 'The quick brown fox jumps over the lazy dog.';

/**
 * Loads a sentence-embedding model with transformers.js: feature extraction, mean pooling,
 * unit-length vectors. `settings.model` is a hub id (downloaded into `settings.modelsDir` on
 * first start, never when `settings.offline`) or a local model folder (never any download).
 * The model is warmed up before this resolves, so the first request is not slow.
 * @throws {EmbeddingModelError} when the model is missing, fails to load, or its vectors are
 * not `settings.dimensions` long.
 */
export async function loadEmbedder(settings: Config['embedding'], options: LoadEmbedderOptions = {}): Promise<Embedder> {
  const startedAt = performance.now();
  const location = resolveModelLocation(settings.model, settings.dtype, settings.modelsDir);
  const remote = !location.local && !settings.offline;
  assertFilesPresent(location, settings);

  const pipelineOptions: PipelineOptions = {
    dtype: settings.dtype as PipelineOptions['dtype'],
    local_files_only: !remote,
    // Downloads land in the models folder (laid out `<owner>/<name>/...`), not inside node_modules.
    cache_dir: location.modelsDir,
    // Without this ONNX Runtime sizes its pool to the host's cores, not the container's share.
    session_options: settings.threads > 0 ? { intraOpNumThreads: settings.threads } : {},
  };
  // transformers.js 4.3.2's pipeline() first lists the model's files with its global settings
  // only (it does not pass cache_dir or local_files_only on): a hub model's config.json is then
  // looked for in transformers.js' own cache and fetched from the hub, so an offline start
  // failed although the models folder held every file. Point the global settings the same way.
  if (location.modelsDir) env.cacheDir = location.modelsDir;
  env.allowRemoteModels = remote;
  let extractor: FeatureExtractionPipeline;
  try {
    extractor = await pipeline('feature-extraction', location.loadId, pipelineOptions);
  } catch (error) {
    const where = location.local ? `from folder ${location.folder}` : remote ? `(downloading into ${location.folder})` : `from ${location.folder}`;
    throw new EmbeddingModelError(`could not load embedding model "${settings.model}" ${where}: ${messageOf(error)}`, { model: settings.model, folder: location.folder, cause: error });
  }

  const tokenizer = extractor.tokenizer;
  const maxTokens = readModelWindow(location, tokenizer.model_max_length, (extractor.model.config as { max_position_embeddings?: unknown }).max_position_embeddings);
  // Anything that still runs the pipeline (the benchmarks' reference) truncates at
  // `model_max_length`: make that the model's real window (MiniLM's tokenizer says 512 but
  // the model was trained at 256).
  Object.defineProperty(tokenizer, 'model_max_length', { value: maxTokens, configurable: true });
  let embedder: Embedder;
  let producedDimensions: number;
  try {
    embedder = createPipelineEmbedder({ extractor, modelId: location.modelId, dimensions: settings.dimensions, maxTokens, batchSize: settings.batchSize });
    // The warm-up runs the request path once and tells the model's real output size.
    producedDimensions = (await embedder.embed([WARM_UP_SENTENCE]))[0]!.length;
  } catch (error) {
    await extractor.dispose();
    throw new EmbeddingModelError(`embedding model "${settings.model}" cannot embed sentences: ${messageOf(error)}`, { model: settings.model, folder: location.folder, cause: error });
  }
  if (producedDimensions !== settings.dimensions) {
    await embedder.close();
    throw new EmbeddingModelError(
      `embedding model "${settings.model}" produces ${producedDimensions}-dimensional vectors but ${settings.dimensions} are configured (EMBEDDING_DIM); ` +
        'set EMBEDDING_DIM to the model\'s size (and a matching vector column) or choose another model',
      { model: settings.model, folder: location.folder },
    );
  }
  const threads = settings.threads > 0 ? String(settings.threads) : 'runtime default';
  options.log?.(
    `embedding model ${location.modelId} ready from ${location.folder} in ${Math.round(performance.now() - startedAt)} ms ` +
      `(${settings.dimensions} dims, window ${maxTokens} tokens, dtype ${settings.dtype}, threads ${threads})`,
  );
  return embedder;
}

function assertFilesPresent(location: ModelLocation, settings: Config['embedding']): void {
  if (location.local && !isDirectory(location.folder)) {
    throw new EmbeddingModelError(`embedding model folder ${location.folder} does not exist (EMBEDDING_MODEL=${settings.model})`, { model: settings.model, folder: location.folder });
  }
  if (!location.local && settings.offline && !isDirectory(location.folder)) {
    throw new EmbeddingModelError(
      `embedding model "${settings.model}" is not in the models folder (expected ${location.folder}) and HF_HUB_OFFLINE is on: ` +
        'start once with hub access to download it, or copy the model folder there',
      { model: settings.model, folder: location.folder },
    );
  }
}

interface PipelineEmbedderParts {
  extractor: FeatureExtractionPipeline;
  modelId: string;
  dimensions: number;
  maxTokens: number;
  batchSize: number;
}

function createPipelineEmbedder(parts: PipelineEmbedderParts): Embedder {
  const { extractor, batchSize } = parts;
  const encoder = createSentenceEncoder(extractor, parts.maxTokens);
  let closed = false;
  // One batch at a time: concurrent runs would only fight over the same intra-op threads.
  let queue: Promise<unknown> = Promise.resolve();

  return {
    modelId: parts.modelId,
    dimensions: parts.dimensions,
    maxTokens: parts.maxTokens,
    countTokens: (text) => encoder.tokenize(text).length,
    tokenize: encoder.tokenize,
    splitsAtWhitespace: encoder.splitsAtWhitespace,
    async embed(inputs: readonly EmbeddingInput[]): Promise<number[][]> {
      if (closed) throw new Error(`embedding model ${parts.modelId} is closed`);
      if (inputs.length === 0) return [];
      const run = queue.then(async () => {
        const vectors: number[][] = [];
        for (let start = 0; start < inputs.length; start += batchSize) vectors.push(...(await encoder.encode(inputs.slice(start, start + batchSize))));
        return vectors;
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await queue;
      await extractor.dispose();
    },
  };
}

/** The error's message and its causes' ("fetch failed: getaddrinfo ENOTFOUND ..."). */
function messageOf(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error; current !== undefined && parts.length < 4; current = current instanceof Error ? current.cause : undefined) {
    parts.push(current instanceof Error ? current.message : String(current));
  }
  return parts.join(': ');
}
