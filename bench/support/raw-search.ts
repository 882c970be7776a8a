import type { Sql, TransactionSql } from 'postgres';

/** A hit of the raw path: the row's id beside what the API returns. */
export interface RawHit {
  id: string;
  source: string;
  chunk_index: number;
  score: number;
}

/** pgvector's text form with 6 decimals: plenty for float4, and half the bytes of `toSql`. */
export function vectorText(embedding: ArrayLike<number>): string {
  let text = '[';
  for (let index = 0; index < embedding.length; index++) text += (index ? ',' : '') + embedding[index]!.toFixed(6);
  return `${text}]`;
}

/**
 * The nearest chunks by cosine distance with their row ids — the core of the service's vector
 * search (lib/db/search-query.ts: ORDER BY embedding <=> q LIMIT k over the same join) — for
 * counting recall of the HNSW index against an exact scan of the same query.
 */
export function rawVectorSearch(client: Sql | TransactionSql, vector: string, topK: number) {
  return client<RawHit[]>`
    SELECT id, document_id, source, chunk_index, content, score, metadata FROM (
      SELECT c.id, c.document_id, c.source, c.chunk_index, c.content, 1 - (c.embedding <=> ${vector}::vector) AS score, d.metadata
      FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
      ORDER BY c.embedding <=> ${vector}::vector
      LIMIT ${topK}
    ) nearest
    WHERE ${-2} <= score
    ORDER BY score DESC`;
}

/**
 * The same query answered exactly: index scans off inside a transaction, so PostgreSQL
 * computes every distance and sorts (the ground truth for recall).
 */
export function exactVectorSearch(sql: Sql, vector: string, topK: number): Promise<RawHit[]> {
  return sql.begin(async (transaction) => {
    await transaction`SET LOCAL enable_indexscan = off`;
    await transaction`SET LOCAL enable_bitmapscan = off`;
    return rawVectorSearch(transaction, vector, topK);
  }) as Promise<RawHit[]>;
}

/** The HNSW answer with a given `hnsw.ef_search` (the service's sessions use RAG_HNSW_EF_SEARCH, default 300). */
export function indexedVectorSearch(sql: Sql, vector: string, topK: number, efSearch: number): Promise<RawHit[]> {
  return sql.begin(async (transaction) => {
    await transaction`SELECT set_config('hnsw.ef_search', ${String(efSearch)}, true)`;
    return rawVectorSearch(transaction, vector, topK);
  }) as Promise<RawHit[]>;
}

/** The plan of the raw query, to prove which path (HNSW index or exact scan) answered. */
export async function explainPlan(sql: Sql, vector: string, topK: number, exact: boolean): Promise<string> {
  const rows = (await sql.begin(async (transaction) => {
    if (exact) {
      await transaction`SET LOCAL enable_indexscan = off`;
      await transaction`SET LOCAL enable_bitmapscan = off`;
    }
    return transaction.unsafe(
      `EXPLAIN SELECT c.id FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id ORDER BY c.embedding <=> $1::vector LIMIT ${Number(topK)}`,
      [vector],
    );
  })) as unknown as { 'QUERY PLAN': string }[];
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}
