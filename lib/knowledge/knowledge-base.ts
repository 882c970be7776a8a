import { createHash } from 'node:crypto';
import { chunkText, iterateChunks, type ChunkTextOptions, type TextChunk } from '../chunking/chunk-text.ts';
import { collectInSlices } from '../event-loop.ts';
import { AppError } from '../errors.ts';
import { jsonDepth, MAX_JSON_DEPTH } from '../json-depth.ts';
import type { DocumentWrite, Embedder, EmbeddingInput, JsonObject, KnowledgeStore, SearchHit, SearchOptions, StoredDocument } from '../contracts.ts';

/** What the knowledge-base operations need; handed in, never imported. */
export interface KnowledgeDependencies {
  store: KnowledgeStore;
  embedder: Embedder;
  chunking: { maxTokens: number; overlapSentences: number };
}

export interface AddDocumentInput {
  source: string;
  content: string;
  metadata?: JsonObject;
}

/** What add-document did: see {@link DocumentWrite}. */
export type AddDocumentResult = DocumentWrite;

/** SHA-256 of the content and metadata: same input again means nothing to do. */
export function documentFingerprint(content: string, metadata: JsonObject): string {
  // stableJson recurses: a value nested past the limit would overflow the stack (a 500).
  if (jsonDepth(metadata, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw new AppError(400, 'invalid_request', `metadata: must nest at most ${MAX_JSON_DEPTH} levels deep`);
  return createHash('sha256').update(content).update('\u0000').update(stableJson(metadata)).digest('hex');
}

/** A document's chunks as add-document makes them: within the chunking settings and the model's window. */
export function chunkDocument(dependencies: Pick<KnowledgeDependencies, 'embedder' | 'chunking'>, content: string): TextChunk[] {
  return chunkText(content, documentChunkOptions(dependencies));
}

/**
 * {@link chunkDocument} in slices that give the event loop a turn, so other requests are
 * answered while a large document is chunked. Same chunks.
 */
export function chunkDocumentInSlices(dependencies: Pick<KnowledgeDependencies, 'embedder' | 'chunking'>, content: string): Promise<TextChunk[]> {
  return collectInSlices(iterateChunks(content, documentChunkOptions(dependencies)));
}

function documentChunkOptions(dependencies: Pick<KnowledgeDependencies, 'embedder' | 'chunking'>): ChunkTextOptions {
  return {
    tokenCounter: dependencies.embedder,
    // The window counts [CLS] and [SEP]; chunkText counts only the text's own pieces.
    maxTokens: Math.min(dependencies.chunking.maxTokens, dependencies.embedder.maxTokens) - 2,
    overlapSentences: dependencies.chunking.overlapSentences,
  };
}

/** What the embedder gets for a chunk: with the chunker's token ids, when it has them, so it need not tokenize again. */
export function embeddingInput(chunk: TextChunk): EmbeddingInput {
  return chunk.tokenIds ? { text: chunk.content, tokenIds: chunk.tokenIds } : chunk.content;
}

/**
 * Splits a document into sentence-aware chunks, embeds them and stores them, replacing the
 * previous version of the same source atomically. Same source and content again is a no-op.
 * (The seed's `add_document_to_knowledge_base`.)
 */
export async function addDocumentToKnowledgeBase(dependencies: KnowledgeDependencies, input: AddDocumentInput): Promise<AddDocumentResult> {
  const metadata = input.metadata ?? {};
  const contentSha256 = documentFingerprint(input.content, metadata);
  const existing = await dependencies.store.findDocument(input.source);
  if (existing && existing.contentSha256 === contentSha256) return { document: existing, status: 'unchanged' };

  const chunks = await chunkDocumentInSlices(dependencies, input.content);
  if (chunks.length === 0) throw new AppError(400, 'empty_content', 'content has no text to index');
  const embeddings = await dependencies.embedder.embed(chunks.map(embeddingInput));
  // The status comes from the store's transaction: another writer may have stored this
  // source (or this very content) since the check above.
  return dependencies.store.replaceDocument({
    source: input.source,
    contentSha256,
    metadata,
    chunks: chunks.map((chunk, index) => ({ content: chunk.content, tokenCount: chunk.tokenCount, embedding: embeddings[index]! })),
  });
}

/**
 * The chunks most similar to `query`, best first. (The seed's `search_similar_chunks`;
 * the chat's only retrieval path.)
 */
export async function searchSimilarChunks(dependencies: Pick<KnowledgeDependencies, 'store' | 'embedder'>, query: string, options: SearchOptions): Promise<SearchHit[]> {
  const [embedding] = await dependencies.embedder.embed([query]);
  return dependencies.store.search({ embedding: embedding!, text: query }, options);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${stableJson((value as JsonObject)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
