import type { PendingQuery, Row, Sql, TransactionSql } from 'postgres';
import type { HybridSettings, SearchHit, SearchMode, SearchOptions } from '../contracts.ts';
import { DEFAULT_HNSW_EF_SEARCH, DEFAULT_HYBRID_SETTINGS } from '../config.ts';
import { toTsqueryTerms } from '../text-search/terms.ts';
import { toVectorLiteral } from './vector.ts';

/** The reciprocal-rank-fusion constant: a rank r contributes weight / (60 + r). */
export const RRF_K = 60;

/** Chunks a term may occur in and still select candidates for full-text ranking (see textTerms). */
export const COMMON_TERM_CHUNKS = 100;

interface HitRow {
  document_id: string;
  source: string;
  chunk_index: number;
  content: string;
  score: number;
  metadata: Record<string, unknown>;
  vector_rank: number | null;
  text_rank: number | null;
  text_score: number | null;
  fused_score: number | null;
}

type Client = Sql | TransactionSql;
type Fragment = PendingQuery<Row[]>;

/**
 * The best chunks for a query, in ONE SQL statement whatever the mode:
 * - `vector`: nearest by cosine distance over the HNSW index;
 * - `text`: full-text matches over the GIN index, ranked by `text_score` (the query terms'
 *   summed rarity weights plus `ts_rank`; see textTerms);
 * - `hybrid` (default): both rankings' top `candidates`, fused with reciprocal rank fusion
 *   (`Σ weight / (60 + rank)`), each hit carrying both component ranks.
 * Filters (sources, metadata `@>`) apply inside each ranking, and the HNSW index is walked
 * iteratively (pgvector 0.8 `hnsw.iterative_scan`) when filtered, so a filtered query still
 * returns `topK` rows when they exist. `score` is always the cosine similarity.
 */
export async function searchChunks(
  sql: Sql,
  query: { embedding: number[]; text: string },
  options: SearchOptions,
  sessionEfSearch = DEFAULT_HNSW_EF_SEARCH,
): Promise<SearchHit[]> {
  const mode: SearchMode = options.mode ?? 'hybrid';
  const hybrid = hybridSettings(options.hybrid);
  const candidates = mode === 'hybrid' ? Math.max(options.topK, hybrid.candidates) : options.topK;
  const filtered = Boolean(options.sources?.length || options.metadata);
  const run = async (client: Client) => (await client<HitRow[]>`${buildStatement(client, query, options, mode, hybrid, candidates)}`).map((row) => toHit(row, mode));

  // The session's ef_search (set when connecting) serves plain searches; the transaction only
  // exists to scope a larger one or the iterative scan, so plain searches skip its round trips.
  const walksIndex = mode !== 'text';
  if (!walksIndex || (!filtered && candidates <= sessionEfSearch)) return run(sql);
  return sql.begin(async (transaction) => {
    await transaction`SELECT set_config('hnsw.ef_search', ${String(Math.max(sessionEfSearch, candidates * 2))}, true)`;
    if (filtered) await transaction`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)`;
    return run(transaction);
  }) as Promise<SearchHit[]>;
}

/** The configured fusion settings over the defaults; undefined fields are ignored. */
export function hybridSettings(overrides: Partial<HybridSettings> = {}): HybridSettings {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return { ...DEFAULT_HYBRID_SETTINGS, ...defined };
}

function buildStatement(
  client: Client,
  query: { embedding: number[]; text: string },
  options: SearchOptions,
  mode: SearchMode,
  hybrid: HybridSettings,
  candidates: number,
): Fragment {
  const vector = toVectorLiteral(query.embedding);
  const filters = client`
    ${options.sources?.length ? client`AND c.source = ANY(${options.sources}::text[])` : client``}
    ${options.metadata ? client`AND d.metadata @> ${client.json(options.metadata as never)}` : client``}`;

  const vectorHits = client`
    vector_hits AS (
      SELECT id, (row_number() OVER (ORDER BY distance, id))::int AS vector_rank FROM (
        SELECT c.id, c.embedding <=> (SELECT embedding FROM query_vector) AS distance
        FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
        WHERE TRUE ${filters}
        ORDER BY c.embedding <=> (SELECT embedding FROM query_vector)
        LIMIT ${candidates}
      ) nearest
    )`;

  // Word segmentation only where the text ranking runs.
  const terms = mode === 'vector' ? [] : toTsqueryTerms(query.text);
  const textHits = terms.length
    ? client`
    ${textTerms(client, terms)},
    text_hits AS (
      SELECT id, text_score, (row_number() OVER (ORDER BY text_score DESC, id))::int AS text_rank FROM (
        SELECT c.id, (SELECT sum(t.weight) FROM text_terms t WHERE c.search_vector @@ t.query)
          + ts_rank(c.search_vector, (SELECT any_term FROM text_query)) AS text_score
        FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
        WHERE c.search_vector @@ (SELECT candidates FROM text_query) ${filters}
        ORDER BY text_score DESC, c.id
        LIMIT ${candidates}
      ) matched
    )`
    : // A query of stopwords only matches nothing; no need to ask the index.
      client`text_hits AS (SELECT NULL::bigint AS id, NULL::float8 AS text_score, NULL::int AS text_rank WHERE FALSE)`;

  let ranked: Fragment;
  if (mode === 'vector') {
    ranked = client`${vectorHits}, ranked AS (
      SELECT id, vector_rank, NULL::int AS text_rank, NULL::float8 AS text_score, NULL::float8 AS fused_score
      FROM vector_hits ORDER BY vector_rank LIMIT ${options.topK})`;
  } else if (mode === 'text') {
    ranked = client`${textHits}, ranked AS (
      SELECT id, NULL::int AS vector_rank, text_rank, text_score, NULL::float8 AS fused_score
      FROM text_hits ORDER BY text_rank LIMIT ${options.topK})`;
  } else {
    ranked = client`${vectorHits}, ${textHits}, ranked AS (
      SELECT coalesce(v.id, t.id) AS id, v.vector_rank, t.text_rank, t.text_score,
        coalesce(${hybrid.vectorWeight}::float8 / (${RRF_K} + v.vector_rank), 0)
          + coalesce(${hybrid.textWeight}::float8 / (${RRF_K} + t.text_rank), 0) AS fused_score
      FROM vector_hits v FULL JOIN text_hits t ON t.id = v.id
      ORDER BY fused_score DESC, v.vector_rank NULLS LAST, t.text_rank NULLS LAST
      LIMIT ${options.topK})`;
  }

  // The query vector is bound once: each `${vector}::vector` would be a parameter of its own,
  // sent and parsed again (a float literal's parse is costly in PGlite, see lib/db/vector.ts).
  return client`
    WITH query_vector AS MATERIALIZED (SELECT ${vector}::vector AS embedding), ${ranked}
    SELECT * FROM (
      SELECT c.document_id, c.source, c.chunk_index, c.content, 1 - (c.embedding <=> (SELECT embedding FROM query_vector)) AS score, d.metadata,
        r.vector_rank, r.text_rank, r.text_score, r.fused_score
      FROM ranked r JOIN knowledge_chunks c ON c.id = r.id JOIN knowledge_documents d ON d.id = c.document_id
    ) hits
    WHERE ${options.minScore ?? -2} <= score
    ORDER BY ${orderFor(client, mode)}`;
}

/**
 * The text query's terms with their weights, and the queries built from them.
 * A term's weight is an inverse document frequency, `ln(1 + C / df)`, its document frequency
 * capped at C + 1 chunks (C = {@link COMMON_TERM_CHUNKS}). Terms found in more than C chunks
 * are "common" (like "default", "option"): they still add their small weight to a chunk's
 * score, but only rare terms, or all terms together (AND), select the chunks to score. That
 * keeps the scored set, and the time, small on a large knowledge base; a query of common
 * words only still finds the chunks that contain all of them.
 *
 * df comes from `knowledge_lexemes` (sql/00003), one primary-key lookup per lexeme, not from
 * the GIN index (a bitmap scan builds a term's whole posting list, however small the LIMIT).
 * A term matches `english` OR `simple` parse of it, and a term of several lexemes
 * (`--zstd-window-log`) is a phrase of them: so df = the larger over the two configurations
 * of the smallest count among that configuration's lexemes — exact for one-lexeme terms, an
 * upper bound of the phrase's chunks otherwise.
 */
function textTerms(client: Client, terms: string[]): Fragment {
  return client`
    text_terms AS MATERIALIZED (
      SELECT term.source, term_query.query, stats.chunks,
        ln(1 + ${COMMON_TERM_CHUNKS}::float8 / greatest(stats.chunks, 1)) AS weight
      FROM unnest(${terms}::text[]) AS term(source)
      CROSS JOIN LATERAL (SELECT to_tsquery('english', term.source) || to_tsquery('simple', term.source) AS query) term_query
      CROSS JOIN LATERAL (
        SELECT least(coalesce(max(phrase.chunks), 0), ${COMMON_TERM_CHUNKS + 1})::int AS chunks FROM (
          SELECT min(greatest(coalesce(l.chunks, 0), 0)) AS chunks
          FROM (VALUES ('english'::regconfig), ('simple'::regconfig)) AS configuration(name)
          CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(configuration.name, term.source))) AS term_lexeme(lexeme)
          LEFT JOIN knowledge_lexemes l ON l.lexeme = term_lexeme.lexeme
          GROUP BY configuration.name
        ) phrase
      ) stats
    ),
    text_query AS (
      SELECT
        to_tsquery('english', rare) || to_tsquery('simple', rare) || to_tsquery('english', every_term) || to_tsquery('simple', every_term) AS candidates,
        to_tsquery('english', any_term) || to_tsquery('simple', any_term) AS any_term
      FROM (
        SELECT coalesce(string_agg(source, ' | ') FILTER (WHERE chunks <= ${COMMON_TERM_CHUNKS}), '') AS rare,
          string_agg(source, ' & ') AS every_term, string_agg(source, ' | ') AS any_term
        FROM text_terms
      ) sources
    )`;
}

function orderFor(client: Client, mode: SearchMode): Fragment {
  if (mode === 'vector') return client`vector_rank`;
  if (mode === 'text') return client`text_rank`;
  return client`fused_score DESC, vector_rank NULLS LAST, text_rank NULLS LAST`;
}

function toHit(row: HitRow, mode: SearchMode): SearchHit {
  const hit: SearchHit = {
    documentId: row.document_id,
    source: row.source,
    chunkIndex: row.chunk_index,
    content: row.content,
    score: Number(row.score),
    metadata: row.metadata ?? {},
  };
  // A ranking the mode did not run is absent rather than null: null means "ran, not found".
  if (mode !== 'text') hit.vectorRank = row.vector_rank;
  if (mode !== 'vector') {
    hit.textRank = row.text_rank;
    hit.textScore = row.text_score === null ? null : Number(row.text_score);
  }
  if (mode === 'hybrid') hit.fusedScore = row.fused_score === null ? null : Number(row.fused_score);
  return hit;
}
