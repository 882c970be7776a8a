/**
 * The project's contracts: the interfaces the knowledge base is built from (token counter,
 * embedder, store) and the shapes they exchange. Handlers and the chat see these interfaces,
 * never a driver, so tests can hand in the in-memory doubles of tests/support. A leaf: it
 * imports nothing, so every folder of lib/ may depend on it without a cycle.
 */

/** Counts word pieces the way the embedding model's own tokenizer does. */
export interface TokenCounter {
  /** Tokens of `text` without the model's special tokens ([CLS]/[SEP]). */
  countTokens(text: string): number;
  /**
   * The token ids of `text` without special tokens (`countTokens(text)` is their number).
   * Optional: given it, the chunker keeps each chunk's ids so the embedder need not
   * tokenize the chunk again.
   */
  tokenize?(text: string): number[];
  /**
   * True when the tokenizer splits text into words at whitespace before anything else, so that
   * `tokenize(a + ' ' + b)` is always `tokenize(a)` followed by `tokenize(b)` (BERT's WordPiece
   * and WordLevel tokenizers). The chunker then joins its sentences' ids instead of
   * tokenizing each chunk's text again.
   */
  readonly splitsAtWhitespace?: boolean;
}

/** A text to embed, optionally with its ids from {@link TokenCounter.tokenize} (which must be that text's). */
export type EmbeddingInput = string | { text: string; tokenIds: readonly number[] };

/** The text of an {@link EmbeddingInput}. */
export function inputText(input: EmbeddingInput): string {
  return typeof input === 'string' ? input : input.text;
}

/** A sentence-embedding model: one per process, loaded and warmed at start. */
export interface Embedder extends TokenCounter {
  readonly modelId: string;
  readonly dimensions: number;
  /** The model's window in tokens, special tokens included (MiniLM: 256 in sentence-transformers). */
  readonly maxTokens: number;
  /** Unit-length embeddings, one per input, in order. Batches internally. */
  embed(inputs: readonly EmbeddingInput[]): Promise<number[][]>;
  close(): Promise<void>;
}

export type JsonObject = Record<string, unknown>;

/** A chunk ready to be stored. */
export interface ChunkRecord {
  content: string;
  tokenCount: number;
  embedding: number[];
}

export interface StoredDocument {
  id: string;
  source: string;
  contentSha256: string;
  metadata: JsonObject;
  chunkCount: number;
  createdAt: string;
  updatedAt: string;
}

/** What a {@link KnowledgeStore.replaceDocument} did. */
export interface DocumentWrite {
  document: StoredDocument;
  /** `created`: new source; `replaced`: new content for a known source; `unchanged`: same content again. */
  status: 'created' | 'replaced' | 'unchanged';
}

/** `vector`: cosine nearest neighbours; `text`: full-text match; `hybrid`: both, fused by rank. */
export type SearchMode = 'vector' | 'text' | 'hybrid';

/** How hybrid search fuses its two rankings (reciprocal rank fusion). */
export interface HybridSettings {
  /** Weight of the vector ranking's `1 / (k + rank)` term. Default 1. */
  vectorWeight: number;
  /** Weight of the full-text ranking's term. Default 2. */
  textWeight: number;
  /** Rows each ranking contributes before fusion (at least `topK`). Default 10. */
  candidates: number;
}

export interface SearchOptions {
  topK: number;
  /** Drop hits whose cosine similarity is below this. */
  minScore?: number;
  /** Only chunks of these sources. */
  sources?: string[];
  /** Only chunks whose document metadata contains this object (jsonb `@>`). */
  metadata?: JsonObject;
  /** Default `hybrid`. */
  mode?: SearchMode;
  /** Fusion settings for `hybrid` mode; missing fields take their defaults. */
  hybrid?: Partial<HybridSettings>;
}

export interface SearchHit {
  documentId: string;
  source: string;
  chunkIndex: number;
  content: string;
  /** Cosine similarity of the chunk to the query, 1 = identical direction (every mode). */
  score: number;
  metadata: JsonObject;
  /** Position in the vector ranking (1 = nearest); `null` when not among its candidates, absent in text mode. */
  vectorRank?: number | null;
  /** Position in the full-text ranking (1 = best); `null` when the chunk did not match the text query, absent in vector mode. */
  textRank?: number | null;
  /** Full-text score: summed inverse document frequencies of the query terms the chunk contains, plus `ts_rank`; `null` when it did not match, absent in vector mode. */
  textScore?: number | null;
  /** Reciprocal-rank-fusion score, the hybrid order; present in hybrid mode only. */
  fusedScore?: number | null;
}

/** Where documents and chunks live (PostgreSQL + pgvector, or memory in tests). */
export interface KnowledgeStore {
  findDocument(source: string): Promise<StoredDocument | null>;
  /**
   * Stores a document and its chunks, replacing any previous version of the same source
   * in one transaction: readers see the old version or the new one, never a mix. The status
   * is decided inside that transaction (concurrent writers of one source queue on its row):
   * `unchanged` (same fingerprint stored; nothing written), `replaced` or `created`.
   */
  replaceDocument(input: { source: string; contentSha256: string; metadata: JsonObject; chunks: ChunkRecord[] }): Promise<DocumentWrite>;
  listDocuments(): Promise<StoredDocument[]>;
  /** True when a document was deleted. */
  deleteDocument(source: string): Promise<boolean>;
  search(query: { embedding: number[]; text: string }, options: SearchOptions): Promise<SearchHit[]>;
  /** Throws when the store is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
