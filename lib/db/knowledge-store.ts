import type { Sql, TransactionSql } from 'postgres';
import type { ChunkRecord, DocumentWrite, KnowledgeStore, StoredDocument } from '../contracts.ts';
import type { Database } from './connect.ts';
import type { StoreMaintenance } from './embedded-vacuum.ts';
import { mapInSlices } from '../event-loop.ts';
import { withDatabaseErrors } from './errors.ts';
import { DEFAULT_HNSW_EF_SEARCH } from '../config.ts';
import { searchChunks } from './search-query.ts';
import { toSearchText } from '../text-search/terms.ts';
import { toScaledIntegers } from './vector.ts';

interface DocumentRow {
  id: string;
  source: string;
  content_sha256: string;
  metadata: Record<string, unknown>;
  chunk_count: number;
  created_at: Date;
  updated_at: Date;
}

// Rows per INSERT: bounds one message's size (a chunk with its vector is a few KiB).
const INSERT_BATCH = 500;

export interface StoreOptions {
  /** The `hnsw.ef_search` the connections start with (`Database.efSearch`). */
  efSearch?: number;
  /** Told how many chunks each write removed (`Database.maintenance`: the embedded database's VACUUM). */
  maintenance?: StoreMaintenance;
}

/** The store over an open database, with the database's own settings and housekeeping. */
export function openKnowledgeStore(database: Database): KnowledgeStore {
  return createPostgresStore(database.sql, { efSearch: database.efSearch, maintenance: database.maintenance });
}

/**
 * The PostgreSQL + pgvector {@link KnowledgeStore}. All SQL of the knowledge base lives in lib/db.
 */
export function createPostgresStore(sql: Sql, { efSearch = DEFAULT_HNSW_EF_SEARCH, maintenance }: StoreOptions = {}): KnowledgeStore {
  return {
    findDocument: (source) =>
      withDatabaseErrors(async () => {
        const [row] = await sql<DocumentRow[]>`SELECT * FROM knowledge_documents WHERE source = ${source}`;
        return row ? toDocument(row) : null;
      }),

    replaceDocument: ({ source, contentSha256, metadata, chunks }) =>
      withDatabaseErrors(async () => {
        // Prepared before the transaction and in slices: a large document's word segmentation
        // neither holds the row lock nor blocks the event loop.
        const searchTexts = await mapInSlices(chunks, (chunk) => toSearchText(chunk.content));
        const vectors = await mapInSlices(chunks, (chunk) => toScaledIntegers(chunk.embedding));
        const { write, removedChunks } = (await sql.begin(async (transaction) => {
          // The upsert locks the document row, so concurrent writers of one source queue up
          // and readers keep seeing the previous chunks until COMMIT. It updates only when the
          // fingerprint differs; `xmax = 0` marks a row this statement inserted.
          const [row] = await transaction<(DocumentRow & { inserted: boolean })[]>`
            INSERT INTO knowledge_documents (source, content_sha256, metadata, chunk_count)
            VALUES (${source}, ${contentSha256}, ${transaction.json(metadata as never)}, ${chunks.length})
            ON CONFLICT (source) DO UPDATE SET content_sha256 = EXCLUDED.content_sha256, metadata = EXCLUDED.metadata,
              chunk_count = EXCLUDED.chunk_count, updated_at = now()
              WHERE knowledge_documents.content_sha256 <> EXCLUDED.content_sha256
            RETURNING *, (xmax = 0) AS inserted`;
          if (!row) {
            // Same content already stored (by an earlier or a concurrent writer); the row is locked by the upsert.
            const [stored] = await transaction<DocumentRow[]>`SELECT * FROM knowledge_documents WHERE source = ${source}`;
            return { write: { document: toDocument(stored!), status: 'unchanged' }, removedChunks: 0 };
          }
          // The old chunks' lexeme counts leave with them; they are subtracted in the same
          // upsert that adds the new chunks' counts (see addLexemeCounts).
          const [removed] = await transaction<{ lexemes: string[] | null; chunks: number[] | null; rows: number }[]>`
            WITH removed AS (DELETE FROM knowledge_chunks WHERE document_id = ${row.id} RETURNING search_vector)
            SELECT array_agg(lexeme) AS lexemes, array_agg(chunks) AS chunks, (SELECT count(*)::int FROM removed) AS rows
            FROM (${lexemeCounts(transaction, transaction`removed`)}) counted`;
          for (let start = 0; start < chunks.length; start += INSERT_BATCH) {
            const batch = chunks.slice(start, start + INSERT_BATCH);
            // One array per column: seven parameters whatever the batch size, and vectors as
            // scaled integers (see toScaledIntegers).
            await transaction`
              INSERT INTO knowledge_chunks (document_id, source, chunk_index, content, search_text, token_count, embedding)
              SELECT ${row.id}, ${source}, c.chunk_index, c.content, c.search_text, c.token_count, l2_normalize(c.embedding::int4[]::vector)
              FROM unnest(
                ${batch.map((_, offset) => start + offset)}::int[],
                ${batch.map((chunk: ChunkRecord) => chunk.content)}::text[],
                -- What full-text search indexes (Chinese segmented into words); see sql/00002.
                ${searchTexts.slice(start, start + INSERT_BATCH)}::text[],
                ${batch.map((chunk: ChunkRecord) => chunk.tokenCount)}::int[],
                ${vectors.slice(start, start + INSERT_BATCH)}::text[]
              ) AS c(chunk_index, content, search_text, token_count, embedding)`;
          }
          await transaction`
            ${addLexemeCounts(transaction, transaction`
              SELECT lexeme, count(*)::int AS chunks FROM knowledge_chunks c CROSS JOIN LATERAL unnest(tsvector_to_array(c.search_vector)) AS lexeme
              WHERE c.document_id = ${row.id} GROUP BY lexeme
              UNION ALL
              SELECT lexeme, -chunks FROM unnest(${removed?.lexemes ?? []}::text[], ${removed?.chunks ?? []}::int[]) AS old(lexeme, chunks)`)}`;
          return { write: { document: toDocument(row), status: row.inserted ? 'created' : 'replaced' }, removedChunks: removed?.rows ?? 0 };
        })) as { write: DocumentWrite; removedChunks: number };
        if (removedChunks > 0) maintenance?.chunksRemoved(removedChunks);
        return write;
      }),

    listDocuments: () =>
      withDatabaseErrors(async () => (await sql<DocumentRow[]>`SELECT * FROM knowledge_documents ORDER BY source`).map(toDocument)),

    deleteDocument: (source) =>
      withDatabaseErrors(async () => {
        const removedChunks = (await sql.begin(async (transaction) => {
          // Locked first, so a concurrent replace of this source commits before the chunks
          // (and their lexeme counts) are read; deleting the chunks here, not by the
          // cascade, is what lets their counts be subtracted.
          const [document] = await transaction<{ id: string; chunk_count: number }[]>`SELECT id, chunk_count FROM knowledge_documents WHERE source = ${source} FOR UPDATE`;
          if (!document) return null;
          await transaction`
            WITH removed AS (DELETE FROM knowledge_chunks WHERE document_id = ${document.id} RETURNING search_vector)
            ${addLexemeCounts(transaction, transaction`SELECT lexeme, -chunks FROM (${lexemeCounts(transaction, transaction`removed`)}) counted`)}`;
          await transaction`DELETE FROM knowledge_documents WHERE id = ${document.id}`;
          return document.chunk_count;
        })) as number | null;
        if (removedChunks) maintenance?.chunksRemoved(removedChunks);
        return removedChunks !== null;
      }),

    search: (query, options) => withDatabaseErrors(() => searchChunks(sql, query, options, efSearch)),

    ping: () =>
      withDatabaseErrors(async () => {
        await sql`SELECT 1`;
      }),

    close: async () => {},
  };
}

type Client = Sql | TransactionSql;

/** `(lexeme, chunks)`: in how many rows of `rows` (which have a `search_vector`) each lexeme occurs. */
function lexemeCounts(client: Client, rows: ReturnType<Client>) {
  // tsvector_to_array lists each lexeme of a vector once, so count(*) counts chunks.
  return client`SELECT lexeme, count(*)::int AS chunks FROM ${rows} r CROSS JOIN LATERAL unnest(tsvector_to_array(r.search_vector)) AS lexeme GROUP BY lexeme`;
}

/**
 * Adds `(lexeme, chunks)` deltas (negative for removed chunks) to `knowledge_lexemes` in ONE
 * upsert. Rows are locked in lexeme order and each transaction takes them in one statement,
 * so two writers of different documents wait for each other but cannot deadlock.
 */
function addLexemeCounts(client: Client, deltas: ReturnType<Client>) {
  return client`
    INSERT INTO knowledge_lexemes (lexeme, chunks)
    SELECT lexeme, sum(chunks)::int FROM (${deltas}) deltas(lexeme, chunks)
    GROUP BY lexeme HAVING sum(chunks) <> 0
    ORDER BY lexeme
    ON CONFLICT (lexeme) DO UPDATE SET chunks = knowledge_lexemes.chunks + EXCLUDED.chunks`;
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
