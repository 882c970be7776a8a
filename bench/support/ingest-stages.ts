import type { FeatureExtractionPipeline } from '@huggingface/transformers';
import type { Config } from '../../lib/config.ts';
import { chunkDocument, documentFingerprint, embeddingInput } from '../../lib/knowledge/knowledge-base.ts';
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
 * Times each step of add-document on its own, over the same documents — the lookup, chunking
 * (which tokenizes), the embedder, the SQL transaction, and what is left for HTTP, validation
 * and JSON — calling the same lib functions the handler calls, in the same order. Beside them,
 * the raw pipeline's own parts on the same chunk texts: its tokenizer, the ONNX model, and
 * transformers.js' mean pooling + normalization.
 */
export async function measureStages(knowledge: BenchKnowledge, extractor: FeatureExtractionPipeline, documents: CorpusDocument[], config: Config): Promise<StageTimes> {
  const { embedder, store } = knowledge;
  const batchSize = config.embedding.batchSize;
  const emptySums = () => ({ lookup: 0, chunking: 0, embedder: 0, sql: 0, http: 0, rawTokenizer: 0, rawModel: 0, rawPipeline: 0 });
  const sums = emptySums();

  const stepByStep = async (document: CorpusDocument, source: string, into: typeof sums) => {
    let start = performance.now();
    const fingerprint = documentFingerprint(document.content, {});
    await store.findDocument(source);
    into.lookup += elapsedMs(start);

    start = performance.now();
    const chunks = chunkDocument({ embedder, chunking: config.chunking }, document.content);
    into.chunking += elapsedMs(start);

    start = performance.now();
    const embeddings = await embedder.embed(chunks.map(embeddingInput));
    into.embedder += elapsedMs(start);

    start = performance.now();
    await store.replaceDocument({
      source,
      contentSha256: fingerprint,
      metadata: {},
      chunks: chunks.map((chunk, index) => ({ content: chunk.content, tokenCount: chunk.tokenCount, embedding: embeddings[index]! })),
    });
    into.sql += elapsedMs(start);

    // The raw side on the same texts and batches: the pipeline whole, then its first two parts.
    const texts = chunks.map((chunk) => chunk.content);
    for (let offset = 0; offset < texts.length; offset += batchSize) {
      const batch = texts.slice(offset, offset + batchSize);
      start = performance.now();
      (await extractor(batch, { pooling: 'mean', normalize: true })).dispose();
      into.rawPipeline += elapsedMs(start);
      start = performance.now();
      const inputs = extractor.tokenizer(batch, { padding: true, truncation: true });
      into.rawTokenizer += elapsedMs(start);
      start = performance.now();
      const outputs = (await extractor.model(inputs)) as Record<string, { dispose(): void }>;
      into.rawModel += elapsedMs(start);
      for (const output of Object.values(outputs)) output.dispose();
    }
  };
  const endToEnd = async (document: CorpusDocument, source: string) => {
    const start = performance.now();
    const response = await knowledge.app.request('/api/v1/knowledge/add-document', jsonRequest('POST', { source, content: document.content }));
    await response.arrayBuffer();
    sums.http += elapsedMs(start);
    if (response.status !== 201) throw new Error(`add-document ${source}: ${response.status}`);
  };
  // Documents stay until the pass ends, so the HNSW graph grows as in a round; then the
  // table is emptied and vacuumed (see bench/ingest.ts) for the next pass.
  const reset = async (prefixes: string[]) => {
    for (const prefix of prefixes) for (const document of documents) await store.deleteDocument(`${prefix}/${document.source}`);
    await knowledge.database.sql`VACUUM knowledge_chunks, knowledge_documents, knowledge_lexemes`;
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
  await reset(['stages', 'stages-http']);

  // What the SQL costs without maintaining the HNSW graph (this is a throwaway database):
  // the same transactions with the index dropped, then the index restored.
  const [index] = await knowledge.database.sql<{ definition: string }[]>`SELECT indexdef AS definition FROM pg_indexes WHERE indexname = 'knowledge_chunks_embedding_hnsw'`;
  await knowledge.database.sql`DROP INDEX knowledge_chunks_embedding_hnsw`;
  const withoutIndex = emptySums();
  for (const document of documents) await stepByStep(document, `stages-no-index/${document.source}`, withoutIndex);
  await reset(['stages-no-index']);
  await knowledge.database.sql.unsafe(index!.definition);

  const accounted = sums.lookup + sums.chunking + sums.embedder + sums.sql;
  return {
    milliseconds: {
      'lookup (fingerprint + SELECT document)': sums.lookup,
      'chunking (Intl.Segmenter + the model\'s tokenizer)': sums.chunking,
      'embedding (model inputs from the chunker\'s ids, ONNX, pooling)': sums.embedder,
      'SQL transaction (upsert, DELETE, INSERT + HNSW, lexeme counts)': sums.sql,
      '(for comparison: the same SQL without the HNSW index)': withoutIndex.sql,
      'HTTP, zod validation, JSON (remainder)': Math.max(0, sums.http - accounted),
      'end-to-end (POST add-document)': sums.http,
      'raw pipeline, for comparison: whole': sums.rawPipeline,
      'raw pipeline: tokenizer': sums.rawTokenizer,
      'raw pipeline: ONNX model': sums.rawModel,
      'raw pipeline: transformers.js mean pooling + normalize (the rest)': Math.max(0, sums.rawPipeline - sums.rawTokenizer - sums.rawModel),
    },
    total: sums.http,
    notes: [
      'Shares are of the end-to-end pass. The service embeds from the ids the chunker computed and pools in one pass over the real tokens (lib/embeddings/sentence-encoder.ts); the raw pipeline tokenizes again and pools with transformers.js\' `mean_pooling`.',
      `Measured separately, so the stage sum (${Math.round(accounted)} ms) and the end-to-end pass differ by noise as well as by the HTTP layer.`,
    ],
  };
}
