import type { FeatureExtractionPipeline } from '@huggingface/transformers';
import { chunkText } from '../../lib/chunking/chunk-text.ts';
import type { Config } from '../../lib/config.ts';
import { documentFingerprint } from '../../lib/knowledge/knowledge-base.ts';
import type { CorpusDocument } from './corpus.ts';
import { jsonRequest, type BenchKnowledge } from './knowledge-setup.ts';
import { elapsedMs } from './stats.ts';

export interface StageTimes {
  /** Stage name → milliseconds summed over all documents. */
  milliseconds: Record<string, number>;
  /** The end-to-end pass the stages are shares of. */
  total: number;
  notes: string[];
}

/**
 * Times each step of add-document on its own, over the same documents: the lookup, chunking,
 * the embedder (and inside it the tokenizer, the rest of the pipeline, `tolist()` and the
 * window check), the SQL transaction, and what is left for HTTP, validation and JSON. The
 * steps call the same lib functions the handler calls, in the same order.
 */
export async function measureStages(knowledge: BenchKnowledge, extractor: FeatureExtractionPipeline, documents: CorpusDocument[], config: Config): Promise<StageTimes> {
  const { embedder, store } = knowledge;
  const budget = Math.min(config.chunking.maxTokens, embedder.maxTokens) - 2;
  const batchSize = config.embedding.batchSize;
  const sums = { lookup: 0, chunking: 0, embedder: 0, tokenizer: 0, pipeline: 0, tolist: 0, windowCheck: 0, sql: 0, http: 0 };

  for (const document of documents) {
    const source = `stages/${document.source}`;
    let start = performance.now();
    const fingerprint = documentFingerprint(document.content, {});
    await store.findDocument(source);
    sums.lookup += elapsedMs(start);

    start = performance.now();
    const chunks = chunkText(document.content, { tokenCounter: embedder, maxTokens: budget, overlapSentences: config.chunking.overlapSentences });
    sums.chunking += elapsedMs(start);
    const texts = chunks.map((chunk) => chunk.content);

    start = performance.now();
    const embeddings = await embedder.embed(texts);
    sums.embedder += elapsedMs(start);

    // The embedder's parts, replayed on the same texts and batches.
    for (let offset = 0; offset < texts.length; offset += batchSize) {
      const batch = texts.slice(offset, offset + batchSize);
      start = performance.now();
      for (const text of batch) embedder.countTokens(text);
      sums.windowCheck += elapsedMs(start);
      start = performance.now();
      extractor.tokenizer(batch, { padding: true, truncation: true });
      sums.tokenizer += elapsedMs(start);
      start = performance.now();
      const output = await extractor(batch, { pooling: 'mean', normalize: true });
      sums.pipeline += elapsedMs(start);
      start = performance.now();
      output.tolist();
      sums.tolist += elapsedMs(start);
      output.dispose();
    }

    start = performance.now();
    await store.replaceDocument({
      source,
      contentSha256: fingerprint,
      metadata: {},
      chunks: chunks.map((chunk, index) => ({ content: chunk.content, tokenCount: chunk.tokenCount, embedding: embeddings[index]! })),
    });
    sums.sql += elapsedMs(start);
    await store.deleteDocument(source);
  }

  for (const document of documents) {
    const source = `stages-http/${document.source}`;
    const start = performance.now();
    const response = await knowledge.app.request('/api/v1/knowledge/add-document', jsonRequest('POST', { source, content: document.content }));
    await response.arrayBuffer();
    sums.http += elapsedMs(start);
    if (response.status !== 201) throw new Error(`add-document ${source}: ${response.status}`);
    await store.deleteDocument(source);
  }

  // The pipeline call includes its own tokenizer run; the rest of it is ONNX + pooling.
  const modelAndPooling = Math.max(0, sums.pipeline - sums.tokenizer);
  const embedderOther = Math.max(0, sums.embedder - sums.pipeline - sums.tolist - sums.windowCheck);
  const accounted = sums.lookup + sums.chunking + sums.embedder + sums.sql;
  return {
    milliseconds: {
      'lookup (fingerprint + SELECT document)': sums.lookup,
      'chunking (Intl.Segmenter + token counts)': sums.chunking,
      'embedding: tokenizer (inside the pipeline)': sums.tokenizer,
      'embedding: ONNX model + mean pooling': modelAndPooling,
      'embedding: tolist() to number[][]': sums.tolist,
      'embedding: window check (countTokens per chunk)': sums.windowCheck,
      'embedding: other (queue, batching)': embedderOther,
      'SQL transaction (upsert, DELETE, INSERT + HNSW)': sums.sql,
      'HTTP, zod validation, JSON (remainder)': Math.max(0, sums.http - accounted),
      'end-to-end (POST add-document)': sums.http,
    },
    total: sums.http,
    notes: [
      `The raw side of the ratio is "tokenizer" + "ONNX model + mean pooling" (${Math.round(sums.pipeline)} ms here); everything else is what the service adds.`,
      `Measured separately, so the stage sum (${Math.round(accounted)} ms) and the end-to-end pass differ by noise as well as by the HTTP layer.`,
    ],
  };
}
