import type { Sql } from 'postgres';
import type { Embedder } from '../../lib/contracts.ts';
import { vectorText } from './raw-search.ts';
import { elapsedMs, seededRandom } from './stats.ts';

/** Chunk texts and their embeddings, shared by the embedded and the server phase. */
export interface SeedMaterial {
  texts: string[];
  embeddings: Float32Array[];
  /** How many of them were embedded by the model (the rest are mixtures). */
  embeddedByModel: number;
}

/**
 * Chunk-like texts of 2-4 consecutive real sentences, embedded by the real embedder. Cheap
 * enough for 10k on the fixture model; a larger set reuses these, see {@link extendMaterial}.
 */
export async function embedMaterial(embedder: Embedder, sentences: string[], count: number, seed = 1): Promise<SeedMaterial> {
  const random = seededRandom(seed);
  const texts: string[] = [];
  for (let index = 0; index < count; index++) {
    const start = Math.floor(random() * sentences.length);
    texts.push(sentences.slice(start, start + 2 + Math.floor(random() * 3)).join(' '));
  }
  const embeddings = (await embedder.embed(texts)).map((vector) => Float32Array.from(vector));
  return { texts, embeddings, embeddedByModel: count };
}

/**
 * Grows `material` to `count` rows without running the model again: each new row mixes two
 * real chunks (0.75 / 0.25 of their embeddings plus a little Gaussian noise, renormalised;
 * text = the first chunk plus the second's first sentence). The vectors stay on the manifold
 * the model produces — clustered like real text — instead of uniform noise, which would make
 * HNSW recall look better than it is.
 */
export function extendMaterial(material: SeedMaterial, count: number, seed = 2): SeedMaterial {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const texts = material.texts.slice(0, count);
  const embeddings = material.embeddings.slice(0, count);
  const real = material.embeddedByModel;
  const dimensions = material.embeddings[0]!.length;
  const noise = 0.08 / Math.sqrt(dimensions);
  while (texts.length < count) {
    const first = Math.floor(random() * real);
    const second = Math.floor(random() * real);
    const vector = new Float32Array(dimensions);
    let norm = 0;
    for (let index = 0; index < dimensions; index++) {
      vector[index] = 0.75 * material.embeddings[first]![index]! + 0.25 * material.embeddings[second]![index]! + noise * gaussian();
      norm += vector[index]! * vector[index]!;
    }
    norm = Math.sqrt(norm);
    for (let index = 0; index < dimensions; index++) vector[index]! /= norm;
    embeddings.push(vector);
    texts.push(`${material.texts[first]} ${material.texts[second]!.split('. ')[0]}`);
  }
  return { texts, embeddings, embeddedByModel: Math.min(real, count) };
}

export interface SeedTimings {
  insertMs: number;
  /** Building the indexes dropped for the load (HNSW, and GIN when present), plus ANALYZE. */
  indexMs: number;
  indexes: string[];
}

const CHUNKS_PER_DOCUMENT = 100;
const ROWS_PER_INSERT = 1000;

/**
 * Loads `material` as documents of 100 chunks with multi-row INSERTs (postgres.js helpers,
 * no COPY), the HNSW index dropped during the load and rebuilt after with the migration's
 * definition (one build is much faster than 100k incremental inserts into the graph).
 */
export async function seedChunks(sql: Sql, material: SeedMaterial): Promise<SeedTimings> {
  // The HNSW index and (since the full-text migration) the GIN index: both are cheaper to
  // build once over the loaded table than to maintain row by row.
  const indexes = await sql<{ name: string; definition: string }[]>`
    SELECT indexname AS name, indexdef AS definition FROM pg_indexes
    WHERE tablename = 'knowledge_chunks' AND indexname IN ('knowledge_chunks_embedding_hnsw', 'knowledge_chunks_search_vector')`;
  if (!indexes.some((index) => index.name === 'knowledge_chunks_embedding_hnsw')) throw new Error('index knowledge_chunks_embedding_hnsw not found: is the database migrated?');
  for (const index of indexes) await sql`DROP INDEX ${sql(index.name)}`;

  const start = performance.now();
  const documentCount = Math.ceil(material.texts.length / CHUNKS_PER_DOCUMENT);
  const documentIds: string[] = [];
  for (let offset = 0; offset < documentCount; offset += ROWS_PER_INSERT) {
    const rows = Array.from({ length: Math.min(ROWS_PER_INSERT, documentCount - offset) }, (_, position) => {
      const number = offset + position;
      const chunks = Math.min(CHUNKS_PER_DOCUMENT, material.texts.length - number * CHUNKS_PER_DOCUMENT);
      return { source: `bench/doc-${String(number).padStart(5, '0')}.md`, content_sha256: `seed-${number}`, chunk_count: chunks };
    });
    const inserted = await sql`INSERT INTO knowledge_documents ${sql(rows, 'source', 'content_sha256', 'chunk_count')} RETURNING id`;
    documentIds.push(...inserted.map((row) => String(row.id)));
  }
  for (let offset = 0; offset < material.texts.length; offset += ROWS_PER_INSERT) {
    const rows = [];
    for (let number = offset; number < Math.min(offset + ROWS_PER_INSERT, material.texts.length); number++) {
      const documentNumber = Math.floor(number / CHUNKS_PER_DOCUMENT);
      rows.push({
        document_id: documentIds[documentNumber]!,
        source: `bench/doc-${String(documentNumber).padStart(5, '0')}.md`,
        chunk_index: number % CHUNKS_PER_DOCUMENT,
        content: material.texts[number]!,
        token_count: material.texts[number]!.split(' ').length,
        embedding: vectorText(material.embeddings[number]!),
      });
    }
    await sql`INSERT INTO knowledge_chunks ${sql(rows, 'document_id', 'source', 'chunk_index', 'content', 'token_count', 'embedding')}`;
  }
  const insertMs = elapsedMs(start);

  const indexStart = performance.now();
  await sql.begin(async (transaction) => {
    // The graph must fit in maintenance_work_mem or the build slows down a lot.
    await transaction`SET LOCAL maintenance_work_mem = '1GB'`;
    for (const index of indexes) await transaction.unsafe(index.definition);
  });
  await sql`ANALYZE knowledge_chunks`;
  await sql`ANALYZE knowledge_documents`;
  return { insertMs, indexMs: elapsedMs(indexStart), indexes: indexes.map((index) => index.name) };
}
