import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../lib/http/error-response.ts';
import { MetadataSchema, nonBlankString } from '../../lib/http/text-schemas.ts';

export const AddDocumentBodySchema = z
  .object({
    source: nonBlankString()
      .refine((value) => value.length <= 1024, 'must be at most 1024 characters')
      .openapi({ description: 'Stable name of the document (file path, URL, title). Adding the same source again replaces it.', example: 'README' }),
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
