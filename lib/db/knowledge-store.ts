import type { Sql } from 'postgres';
import type { ChunkRecord, KnowledgeStore, StoredDocument } from '../knowledge/types.ts';
import { withDatabaseErrors } from './errors.ts';
import { searchChunks } from './search-query.ts';
import { toSearchText } from '../text-search/terms.ts';
import { toVectorLiteral } from './vector.ts';

interface DocumentRow {
  id: string;
  source: string;
  content_sha256: string;
  metadata: Record<string, unknown>;
  chunk_count: number;
  created_at: Date;
  updated_at: Date;
}

// Rows per INSERT: 7 parameters each, well under PostgreSQL's 65,535-parameter limit.
const INSERT_BATCH = 500;

/** The PostgreSQL + pgvector {@link KnowledgeStore}. All SQL of the knowledge base lives in lib/db. */
export function createPostgresStore(sql: Sql): KnowledgeStore {
  return {
    findDocument: (source) =>
      withDatabaseErrors(async () => {
        const [row] = await sql<DocumentRow[]>`SELECT * FROM knowledge_documents WHERE source = ${source}`;
        return row ? toDocument(row) : null;
      }),

    replaceDocument: ({ source, contentSha256, metadata, chunks }) =>
      withDatabaseErrors(() =>
        sql.begin(async (transaction) => {
          // The upsert locks the document row, so concurrent writers of one source queue up
          // and readers keep seeing the previous chunks until COMMIT.
          const [row] = await transaction<DocumentRow[]>`
            INSERT INTO knowledge_documents (source, content_sha256, metadata, chunk_count)
            VALUES (${source}, ${contentSha256}, ${transaction.json(metadata as never)}, ${chunks.length})
            ON CONFLICT (source) DO UPDATE SET content_sha256 = EXCLUDED.content_sha256, metadata = EXCLUDED.metadata,
              chunk_count = EXCLUDED.chunk_count, updated_at = now()
            RETURNING *`;
          await transaction`DELETE FROM knowledge_chunks WHERE document_id = ${row!.id}`;
          for (let start = 0; start < chunks.length; start += INSERT_BATCH) {
            const rows = chunks.slice(start, start + INSERT_BATCH).map((chunk: ChunkRecord, offset) => ({
              document_id: row!.id,
              source,
              chunk_index: start + offset,
              content: chunk.content,
              // What full-text search indexes (Chinese segmented into words); see sql/00002.
              search_text: toSearchText(chunk.content),
              token_count: chunk.tokenCount,
              embedding: toVectorLiteral(chunk.embedding),
            }));
            await transaction`INSERT INTO knowledge_chunks ${transaction(rows, 'document_id', 'source', 'chunk_index', 'content', 'search_text', 'token_count', 'embedding')}`;
          }
          return toDocument(row!);
        }) as Promise<StoredDocument>,
      ),

    listDocuments: () =>
      withDatabaseErrors(async () => (await sql<DocumentRow[]>`SELECT * FROM knowledge_documents ORDER BY source`).map(toDocument)),

    deleteDocument: (source) =>
      withDatabaseErrors(async () => (await sql`DELETE FROM knowledge_documents WHERE source = ${source}`).count > 0),

    search: (query, options) => withDatabaseErrors(() => searchChunks(sql, query, options)),

    ping: () =>
      withDatabaseErrors(async () => {
        await sql`SELECT 1`;
      }),

    close: async () => {},
  };
}

function toDocument(row: DocumentRow): StoredDocument {
  return {
    id: row.id,
    source: row.source,
    contentSha256: row.content_sha256,
    metadata: row.metadata ?? {},
    chunkCount: row.chunk_count,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
