import type { Sql, TransactionSql } from 'postgres';
import type { SearchHit, SearchOptions } from '../knowledge/types.ts';
import { toVectorLiteral } from './vector.ts';

interface HitRow {
  document_id: string;
  source: string;
  chunk_index: number;
  content: string;
  score: number;
  metadata: Record<string, unknown>;
}

/**
 * Nearest chunks by cosine distance over the HNSW index. With filters (sources, metadata)
 * the index is walked iteratively (pgvector 0.8 `hnsw.iterative_scan`) so a filtered query
 * still returns `topK` rows when they exist.
 */
export async function searchChunks(sql: Sql, query: { embedding: number[]; text: string }, options: SearchOptions): Promise<SearchHit[]> {
  const vector = toVectorLiteral(query.embedding);
  const filtered = Boolean(options.sources?.length || options.metadata);
  const run = async (client: Sql | TransactionSql) => {
    const rows = await client<HitRow[]>`
      SELECT document_id, source, chunk_index, content, score, metadata FROM (
        SELECT c.document_id, c.source, c.chunk_index, c.content, 1 - (c.embedding <=> ${vector}::vector) AS score, d.metadata
        FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
        WHERE TRUE
          ${options.sources?.length ? client`AND c.source = ANY(${options.sources}::text[])` : client``}
          ${options.metadata ? client`AND d.metadata @> ${client.json(options.metadata as never)}` : client``}
        ORDER BY c.embedding <=> ${vector}::vector
        LIMIT ${options.topK}
      ) nearest
      WHERE ${options.minScore ?? -2} <= score
      ORDER BY score DESC`;
    return rows.map(toHit);
  };
  if (!filtered && options.topK <= 40) return run(sql);
  return sql.begin(async (transaction) => {
    await transaction`SELECT set_config('hnsw.ef_search', ${String(Math.max(40, options.topK * 2))}, true)`;
    if (filtered) await transaction`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)`;
    return run(transaction);
  }) as Promise<SearchHit[]>;
}

function toHit(row: HitRow): SearchHit {
  return { documentId: row.document_id, source: row.source, chunkIndex: row.chunk_index, content: row.content, score: Number(row.score), metadata: row.metadata ?? {} };
}
