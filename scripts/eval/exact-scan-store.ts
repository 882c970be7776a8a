import type { ChunkRecord, JsonObject, KnowledgeStore, SearchHit, SearchOptions, StoredDocument } from '../../lib/contracts.ts';

interface MemoryDocument extends StoredDocument {
  chunks: ChunkRecord[];
}

/**
 * A {@link KnowledgeStore} held in memory whose search is an exact linear cosine scan over
 * every chunk: the reference an approximate (HNSW) search is measured against, and the eval
 * CLI's `--store memory`. It has no full-text ranking (every mode ranks by cosine) and no
 * persistence. The tests' in-memory double (tests/support/memory-store.ts) wraps it.
 */
export function createExactScanStore(): KnowledgeStore {
  const documents = new Map<string, MemoryDocument>();
  let sequence = 0;
  const publicView = ({ chunks: _chunks, ...document }: MemoryDocument): StoredDocument => ({ ...document });

  return {
    async findDocument(source) {
      const document = documents.get(source);
      return document ? publicView(document) : null;
    },
    async replaceDocument({ source, contentSha256, metadata, chunks }) {
      const now = new Date().toISOString();
      const previous = documents.get(source);
      if (previous && previous.contentSha256 === contentSha256) return { document: publicView(previous), status: 'unchanged' };
      const document: MemoryDocument = {
        id: previous?.id ?? `00000000-0000-4000-8000-${String(++sequence).padStart(12, '0')}`,
        source,
        contentSha256,
        metadata,
        chunkCount: chunks.length,
        createdAt: previous?.createdAt ?? now,
        updatedAt: now,
        chunks,
      };
      documents.set(source, document);
      return { document: publicView(document), status: previous ? 'replaced' : 'created' };
    },
    async listDocuments() {
      return [...documents.values()].map(publicView).sort((a, b) => a.source.localeCompare(b.source));
    },
    async deleteDocument(source) {
      return documents.delete(source);
    },
    async search({ embedding }, options: SearchOptions) {
      const hits: SearchHit[] = [];
      for (const document of documents.values()) {
        if (options.sources && !options.sources.includes(document.source)) continue;
        if (options.metadata && !containsJson(document.metadata, options.metadata)) continue;
        document.chunks.forEach((chunk, chunkIndex) => {
          hits.push({ documentId: document.id, source: document.source, chunkIndex, content: chunk.content, score: dot(embedding, chunk.embedding), metadata: document.metadata });
        });
      }
      return hits
        .filter((hit) => options.minScore === undefined || hit.score >= options.minScore)
        .sort((a, b) => b.score - a.score)
        .slice(0, options.topK);
    },
    async ping() {},
    async close() {},
  };
}

function dot(a: number[], b: number[]): number {
  let sum = 0;
  for (let index = 0; index < a.length; index++) sum += a[index]! * b[index]!;
  return sum;
}

/** jsonb `@>` semantics for plain objects, arrays and scalars. */
export function containsJson(container: unknown, contained: unknown): boolean {
  if (Array.isArray(contained)) {
    return Array.isArray(container) && contained.every((item) => container.some((candidate) => containsJson(candidate, item)));
  }
  if (contained !== null && typeof contained === 'object') {
    if (container === null || typeof container !== 'object' || Array.isArray(container)) return false;
    return Object.entries(contained as JsonObject).every(([key, value]) => containsJson((container as JsonObject)[key], value));
  }
  return container === contained;
}
