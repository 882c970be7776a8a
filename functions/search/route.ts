import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../lib/http/error-response.ts';
import { MetadataSchema, nonBlankString, storableString } from '../../lib/http/text-schemas.ts';

export const MAX_TOP_K = 50;
/** `sources` filter: at most this many items, each at most as long as a stored source may be. */
export const MAX_SOURCE_FILTERS = 100;
export const MAX_SOURCE_CHARACTERS = 1024;
export const MAX_QUERY_CHARACTERS = 8192;

export const SearchBodySchema = z
  .object({
    query: nonBlankString()
      .refine((value) => value.length <= MAX_QUERY_CHARACTERS, `must be at most ${MAX_QUERY_CHARACTERS} characters`)
      .openapi({ example: 'What does local-rag answer from?' }),
    top_k: z.number().int().min(1).max(MAX_TOP_K).optional().openapi({ description: 'Results to return (default RAG_TOP_K)', example: 3 }),
    min_score: z.number().min(-1).max(1).optional().openapi({ description: 'Drop results with a lower cosine similarity' }),
    sources: z
      .array(storableString().min(1).max(MAX_SOURCE_CHARACTERS))
      .min(1)
      .max(MAX_SOURCE_FILTERS)
      .optional()
      .openapi({ description: `Only chunks of these sources (at most ${MAX_SOURCE_FILTERS}, each at most ${MAX_SOURCE_CHARACTERS} characters)` }),
    metadata: MetadataSchema.optional().openapi({ description: 'Only documents whose metadata contains this object' }),
    mode: z
      .enum(['vector', 'text', 'hybrid'])
      .optional()
      .openapi({
        description:
          'vector: cosine nearest neighbours; text: full-text match (identifiers, error codes, Chinese words); hybrid (default): both rankings fused with reciprocal rank fusion (k = 60)',
        example: 'hybrid',
      }),
  })
  .strict()
  .openapi('SearchRequest');

export const SearchResultSchema = z
  .object({
    document_id: z.string().uuid(),
    source: z.string(),
    chunk_index: z.number().int(),
    content: z.string(),
    score: z.number().openapi({ description: 'Cosine similarity to the query (1 = same direction), in every mode' }),
    metadata: z.record(z.string(), z.unknown()),
    vector_rank: z.number().int().nullable().openapi({ description: 'Position in the vector ranking (1 = nearest); null when not among its candidates or in text mode' }),
    text_rank: z.number().int().nullable().openapi({ description: 'Position in the full-text ranking (1 = best); null when the chunk did not match the text query or in vector mode' }),
    text_score: z.number().nullable().openapi({ description: 'Full-text score (summed inverse document frequencies of matched query terms + ts_rank); null when not matched or in vector mode' }),
    fused_score: z
      .number()
      .nullable()
      .openapi({ description: 'Hybrid mode: Σ weight / (60 + rank) over both rankings (RAG_HYBRID_VECTOR_WEIGHT, RAG_HYBRID_TEXT_WEIGHT); null in other modes' }),
  })
  .openapi('SearchResult');

export const SearchResponseSchema = z.object({ results: z.array(SearchResultSchema) }).openapi('SearchResponse');

export const searchRoute = createRoute({
  method: 'post',
  path: '/api/v1/knowledge/search',
  operationId: 'searchKnowledge',
  security: [{ bearer: [] }],
  tags: ['knowledge'],
  summary: 'Find the chunks that best match a query (hybrid by default)',
  request: { body: { required: true, content: { 'application/json': { schema: SearchBodySchema } } } },
  responses: {
    200: { description: 'Best first', content: { 'application/json': { schema: SearchResponseSchema } } },
    ...errorResponses(400, 401, 413, 415, 421, 429, 503),
  },
});

export const DocumentSchema = z
  .object({
    document_id: z.string().uuid(),
    source: z.string(),
    chunks: z.number().int(),
    content_sha256: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string().datetime(),
    updated_at: z.string().datetime(),
  })
  .openapi('Document');

export const listDocumentsRoute = createRoute({
  method: 'get',
  path: '/api/v1/knowledge/documents',
  operationId: 'listDocuments',
  security: [{ bearer: [] }],
  tags: ['knowledge'],
  summary: 'List the stored documents',
  responses: {
    200: { description: 'Sorted by source', content: { 'application/json': { schema: z.object({ documents: z.array(DocumentSchema) }).openapi('DocumentList') } } },
    ...errorResponses(401, 421, 503),
  },
});
