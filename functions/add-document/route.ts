import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../lib/http/error-response.ts';
import { MetadataSchema, nonBlankString } from '../../lib/http/text-schemas.ts';

/** Longest source name, in UTF-16 code units. */
export const MAX_SOURCE_LENGTH = 1024;

// C0 controls, DEL and C1 controls: invisible in logs and lists, and a newline forges lines.
const CONTROL_CHARACTER = /\p{Cc}/u;

export const AddDocumentBodySchema = z
  .object({
    source: nonBlankString()
      .refine((value) => value.length <= MAX_SOURCE_LENGTH, `must be at most ${MAX_SOURCE_LENGTH} characters`)
      // A URL path segment `.` or `..` is removed by every client: such a source could never be deleted by path.
      .refine((value) => value !== '.' && value !== '..', 'must not be "." or ".."')
      .refine((value) => !CONTROL_CHARACTER.test(value), 'must not contain control characters (U+0000–U+001F, U+007F–U+009F)')
      .openapi({ description: 'Stable name of the document (file path, URL, title). Adding the same source again replaces it. Not `.` or `..`, no control characters.', example: 'README' }),
    content: nonBlankString().openapi({ description: 'Plain text or Markdown.', example: 'local-rag answers questions from your own documents.' }),
    metadata: MetadataSchema.optional().openapi({ description: 'Any JSON object; search can filter on it (jsonb containment).' }),
  })
  .strict()
  .openapi('AddDocumentRequest');

export const AddDocumentResponseSchema = z
  .object({
    document_id: z.string().uuid(),
    source: z.string(),
    chunks: z.number().int().openapi({ description: 'Number of chunks stored' }),
    status: z.enum(['created', 'replaced', 'unchanged']),
  })
  .openapi('AddDocumentResponse');

export const addDocumentRoute = createRoute({
  method: 'post',
  path: '/api/v1/knowledge/add-document',
  operationId: 'addDocument',
  tags: ['knowledge'],
  summary: 'Add or replace a document',
  description:
    'Splits the content into sentence-aware chunks that fit the embedding model, embeds and stores them. The same source with the same content again changes nothing (200); new content replaces the old chunks in one transaction.',
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: AddDocumentBodySchema } } } },
  responses: {
    201: { description: 'Stored as a new document', content: { 'application/json': { schema: AddDocumentResponseSchema } } },
    200: { description: 'Replaced, or unchanged (same content)', content: { 'application/json': { schema: AddDocumentResponseSchema } } },
    ...errorResponses(400, 401, 403, 413, 415, 421, 429, 503),
  },
});

export const deleteDocumentRoute = createRoute({
  method: 'delete',
  path: '/api/v1/knowledge/documents/{source}',
  operationId: 'deleteDocument',
  tags: ['knowledge'],
  summary: 'Delete a document and its chunks',
  description: 'The source is one path segment: percent-encode `/` as `%2F`.',
  security: [{ bearer: [] }],
  request: { params: z.object({ source: z.string().min(1).openapi({ param: { name: 'source', in: 'path' }, example: 'docs%2Fguide.md' }) }) },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(401, 403, 404, 421, 503),
  },
});

export const deleteDocumentBySourceRoute = createRoute({
  method: 'delete',
  path: '/api/v1/knowledge/documents',
  operationId: 'deleteDocumentBySource',
  tags: ['knowledge'],
  summary: 'Delete a document and its chunks, named in the query',
  description:
    'The same as `DELETE /api/v1/knowledge/documents/{source}` for any stored source, including names a URL path cannot carry (`.`, `..`, sources stored before those were refused): a query string is never dot-segment normalised.',
  security: [{ bearer: [] }],
  request: { query: z.object({ source: z.string().min(1).openapi({ param: { name: 'source', in: 'query' }, example: 'docs/guide.md' }) }) },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(400, 401, 403, 404, 421, 503),
  },
});
