import type { Sql } from 'postgres';

/**
 * Fails when the `knowledge_chunks.embedding` column's dimension differs from the model's:
 * inserting would fail on every document otherwise.
 */
export async function checkEmbeddingColumn(sql: Sql, dimensions: number): Promise<void> {
  const [row] = await sql<{ dimensions: number }[]>`
    SELECT atttypmod AS dimensions FROM pg_attribute
    WHERE attrelid = 'knowledge_chunks'::regclass AND attname = 'embedding'`;
  if (row && row.dimensions > 0 && row.dimensions !== dimensions) {
    throw new Error(`knowledge_chunks.embedding is vector(${row.dimensions}) but EMBEDDING_DIM is ${dimensions}; use a model with ${row.dimensions} dimensions or a new database`);
  }
}
