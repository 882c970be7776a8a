import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../lib/errors.ts';
import { type AccessKeys, requireKey } from '../../lib/http/access-keys.ts';
import { limitBody, requireJson } from '../../lib/http/guards.ts';
import { rateLimit, type RateLimiter } from '../../lib/http/rate-limit.ts';
import { addDocumentToKnowledgeBase, type KnowledgeDependencies } from '../../lib/knowledge/knowledge-base.ts';
import type { KnowledgeStore } from '../../lib/contracts.ts';
import { openApiApp } from '../../lib/http/openapi-app.ts';
import { addDocumentRoute, deleteDocumentBySourceRoute, deleteDocumentRoute } from './route.ts';

export interface AddDocumentAppDependencies {
  /** Resolves the store and embedder; throws a 503 AppError until the service is ready. */
  knowledge(): KnowledgeDependencies;
  keys: AccessKeys;
  maxDocumentBytes: number;
  /** Per-client limit on add-document (deletes are not limited: they cost one statement). */
  rateLimit: { limiter: RateLimiter; clientId: (context: Context) => Promise<string> };
}

// JSON escaping can grow text up to 6x (\uXXXX); past this the body cannot hold a valid document.
const JSON_ESCAPE_GROWTH = 6;
const ENVELOPE_BYTES = 64 * 1024;

/** `POST /api/v1/knowledge/add-document` and `DELETE /api/v1/knowledge/documents/{source}`. */
export function createAddDocumentApp(dependencies: AddDocumentAppDependencies): OpenAPIHono {
  const app = openApiApp();
  const tooLarge = `content is larger than MAX_DOCUMENT_BYTES (${dependencies.maxDocumentBytes} bytes)`;
  const writer = requireKey({ keys: dependencies.keys, access: 'write' });
  app.use(addDocumentRoute.getRoutingPath(), writer, rateLimit(dependencies.rateLimit), requireJson(), limitBody({ maxBytes: dependencies.maxDocumentBytes * JSON_ESCAPE_GROWTH + ENVELOPE_BYTES, message: tooLarge }));
  app.use(deleteDocumentRoute.getRoutingPath(), writer);
  // This path also lists documents (GET, the search function): only its DELETE needs the write key.
  app.on('DELETE', deleteDocumentBySourceRoute.getRoutingPath(), writer);

  app.openapi(addDocumentRoute, async (context) => {
    const body = context.req.valid('json');
    if (Buffer.byteLength(body.content, 'utf8') > dependencies.maxDocumentBytes) throw new AppError(413, 'payload_too_large', tooLarge);
    const result = await addDocumentToKnowledgeBase(dependencies.knowledge(), { source: body.source, content: body.content, metadata: body.metadata });
    const response = { document_id: result.document.id, source: result.document.source, chunks: result.document.chunkCount, status: result.status };
    return result.status === 'created' ? context.json(response, 201) : context.json(response, 200);
  });

  const deleteSource = async (source: string) => {
    const store: KnowledgeStore = dependencies.knowledge().store;
    if (!(await store.deleteDocument(source))) throw new AppError(404, 'document_not_found', `no document with source ${JSON.stringify(source)}`);
  };
  app.openapi(deleteDocumentRoute, async (context) => {
    await deleteSource(context.req.valid('param').source);
    return context.body(null, 204);
  });
  app.openapi(deleteDocumentBySourceRoute, async (context) => {
    await deleteSource(context.req.valid('query').source);
    return context.body(null, 204);
  });
  return app;
}
