import { pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import type { Config } from '../../lib/config.ts';
import { resolveModelLocation } from '../../lib/embeddings/model-location.ts';

type PipelineOptions = NonNullable<Parameters<typeof pipeline>[2]>;

/**
 * The raw transformers.js feature-extraction pipeline, created with the same model, dtype and
 * intra-op thread count as the service's embedder: the reference the service is compared to.
 * (The one place outside lib/embeddings that imports transformers.js, on purpose.)
 */
export async function loadRawPipeline(settings: Config['embedding']): Promise<FeatureExtractionPipeline> {
  const location = resolveModelLocation(settings.model, settings.dtype, settings.modelsDir ?? './models');
  const options: PipelineOptions = {
    dtype: settings.dtype as PipelineOptions['dtype'],
    local_files_only: location.local || settings.offline,
    cache_dir: location.modelsDir,
    session_options: settings.threads > 0 ? { intraOpNumThreads: settings.threads } : {},
  };
  const extractor = await pipeline('feature-extraction', location.loadId, options);
  await extractor(['warm up'], { pooling: 'mean', normalize: true });
  return extractor;
}

/** Embeds `texts` in batches of `batchSize` the plain way: pipeline call, mean pooling, normalized. */
export async function embedRaw(extractor: FeatureExtractionPipeline, texts: string[], batchSize: number): Promise<void> {
  for (let start = 0; start < texts.length; start += batchSize) {
    const output = await extractor(texts.slice(start, start + batchSize), { pooling: 'mean', normalize: true });
    output.dispose();
  }
}
