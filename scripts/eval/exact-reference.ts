import { addDocumentToKnowledgeBase, searchSimilarChunks, type KnowledgeDependencies } from '../../lib/knowledge/knowledge-base.ts';
import { createExactScanStore } from './exact-scan-store.ts';
import { inputText, type Embedder, type SearchHit } from '../../lib/contracts.ts';
import type { EvalDocument } from './eval-set.ts';

/** Exact nearest neighbours of a question: the reference an approximate (HNSW) search is measured against. */
export type ExactSearch = (question: string, topK: number) => Promise<SearchHit[]>;

/**
 * An embedder that remembers every vector it produced, so indexing the same documents twice
 * (once in the database, once in the exact reference) embeds them once.
 */
export function createCachingEmbedder(embedder: Embedder): Embedder {
  const cache = new Map<string, number[]>();
  return {
    // Everything but `embed` is the wrapped embedder's (all embedders are plain objects).
    ...embedder,
    async embed(inputs) {
      const missing = [...new Map(inputs.filter((input) => !cache.has(inputText(input))).map((input) => [inputText(input), input])).values()];
      if (missing.length) {
        const vectors = await embedder.embed(missing);
        missing.forEach((input, index) => cache.set(inputText(input), vectors[index]!));
      }
      return inputs.map((input) => cache.get(inputText(input))!);
    },
  };
}

/**
 * Builds an exact-scan reference without any SQL: the same documents, chunked and embedded the
 * same way, in the exact-scan store, whose search is a linear cosine scan. Chunks are
 * identified by `source#chunkIndex`, equal in both stores because the chunker is deterministic.
 * (Float rounding differs: pgvector stores float4; near-ties may swap, costing a little recall.)
 */
export async function createExactReference(
  documents: readonly EvalDocument[],
  dependencies: Pick<KnowledgeDependencies, 'embedder' | 'chunking'>,
): Promise<ExactSearch> {
  const knowledge: KnowledgeDependencies = { ...dependencies, store: createExactScanStore() };
  for (const document of documents) await addDocumentToKnowledgeBase(knowledge, document);
  return (question, topK) => searchSimilarChunks(knowledge, question, { topK, mode: 'vector' });
}

/** The identity of a chunk across stores. */
export function chunkKey(hit: Pick<SearchHit, 'source' | 'chunkIndex'>): string {
  return `${hit.source}#${hit.chunkIndex}`;
}
