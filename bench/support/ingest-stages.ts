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
  const emptySums = () => ({ lookup: 0, chunking: 0, embedder: 0, tokenizer: 0, pipeline: 0, tolist: 0, windowCheck: 0, sql: 0, http: 0 });
  const sums = emptySums();

  const stepByStep = async (document: CorpusDocument, source: string, into: typeof sums) => {
    let start = performance.now();
    const fingerprint = documentFingerprint(document.content, {});
    await store.findDocument(source);
    into.lookup += elapsedMs(start);

    start = performance.now();
    const chunks = chunkText(document.content, { tokenCounter: embedder, maxTokens: budget, overlapSentences: config.chunking.overlapSentences });
    into.chunking += elapsedMs(start);
    const texts = chunks.map((chunk) => chunk.content);

    start = performance.now();
    const embeddings = await embedder.embed(texts);
    into.embedder += elapsedMs(start);

    // The embedder's parts, replayed on the same texts and batches.
    for (let offset = 0; offset < texts.length; offset += batchSize) {
      const batch = texts.slice(offset, offset + batchSize);
      start = performance.now();
      for (const text of batch) embedder.countTokens(text);
      into.windowCheck += elapsedMs(start);
      start = performance.now();
      extractor.tokenizer(batch, { padding: true, truncation: true });
      into.tokenizer += elapsedMs(start);
      start = performance.now();
      const output = await extractor(batch, { pooling: 'mean', normalize: true });
      into.pipeline += elapsedMs(start);
      start = performance.now();
      output.tolist();
      into.tolist += elapsedMs(start);
      output.dispose();
    }

    start = performance.now();
    await store.replaceDocument({
      source,
      contentSha256: fingerprint,
      metadata: {},
      chunks: chunks.map((chunk, index) => ({ content: chunk.content, tokenCount: chunk.tokenCount, embedding: embeddings[index]! })),
    });
    into.sql += elapsedMs(start);
    await store.deleteDocument(source);
  };
  const endToEnd = async (document: CorpusDocument, source: string) => {
    const start = performance.now();
    const response = await knowledge.app.request('/api/v1/knowledge/add-document', jsonRequest('POST', { source, content: document.content }));
    await response.arrayBuffer();
    sums.http += elapsedMs(start);
    if (response.status !== 201) throw new Error(`add-document ${source}: ${response.status}`);
    await store.deleteDocument(source);
  };

  // Step by step and end to end alternate per document, like the rounds, so load from other
  // processes falls on both.
  for (const [index, document] of documents.entries()) {
    if (index % 2 === 0) {
      await stepByStep(document, `stages/${document.source}`, sums);
      await endToEnd(document, `stages-http/${document.source}`);
    } else {
      await endToEnd(document, `stages-http/${document.source}`);
      await stepByStep(document, `stages/${document.source}`, sums);
    }
  }

  // What the SQL costs without maintaining the HNSW graph (this is a throwaway database):
  // the same transactions with the index dropped, then the index restored.
  const [index] = await knowledge.database.sql<{ definition: string }[]>`SELECT indexdef AS definition FROM pg_indexes WHERE indexname = 'knowledge_chunks_embedding_hnsw'`;
  await knowledge.database.sql`DROP INDEX knowledge_chunks_embedding_hnsw`;
  const withoutIndex = emptySums();
  for (const document of documents) await stepByStep(document, `stages-no-index/${document.source}`, withoutIndex);
  await knowledge.database.sql.unsafe(index!.definition);

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
      '(for comparison: the same SQL without the HNSW index)': withoutIndex.sql,
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
