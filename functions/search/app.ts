import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { type AccessKeys, requireKey } from '../../lib/http/access-keys.ts';
import { limitBody, requireJson } from '../../lib/http/guards.ts';
import { rateLimit, type RateLimiter } from '../../lib/http/rate-limit.ts';
import { openApiApp } from '../../lib/http/openapi-app.ts';
import { searchSimilarChunks, type KnowledgeDependencies } from '../../lib/knowledge/knowledge-base.ts';
import type { HybridSettings } from '../../lib/contracts.ts';
import { listDocumentsRoute, searchRoute } from './route.ts';

export interface SearchAppDependencies {
  /** Resolves the store and embedder; throws a 503 AppError until the service is ready. */
  knowledge(): Pick<KnowledgeDependencies, 'store' | 'embedder'>;
  defaultTopK: number;
  /** Fusion settings of hybrid mode (RAG_HYBRID_*); the store's defaults when absent. */
  hybrid?: Partial<HybridSettings>;
  keys: AccessKeys;
  /** Largest search body (MAX_REQUEST_BYTES). */
  maxRequestBytes: number;
  /** Per-client limit on search. */
  rateLimit: { limiter: RateLimiter; clientId: (context: Context) => Promise<string> };
}

/** `POST /api/v1/knowledge/search` and `GET /api/v1/knowledge/documents`. */
export function createSearchApp(dependencies: SearchAppDependencies): OpenAPIHono {
  const app = openApiApp();
  const reader = requireKey({ keys: dependencies.keys, access: 'read' });
  const tooLarge = `request body is larger than MAX_REQUEST_BYTES (${dependencies.maxRequestBytes} bytes)`;
  app.use(searchRoute.getRoutingPath(), reader, rateLimit(dependencies.rateLimit), requireJson(), limitBody({ maxBytes: dependencies.maxRequestBytes, message: tooLarge }));
  app.use(listDocumentsRoute.getRoutingPath(), reader);

  app.openapi(searchRoute, async (context) => {
    const body = context.req.valid('json');
    const hits = await searchSimilarChunks(dependencies.knowledge(), body.query, {
      topK: body.top_k ?? dependencies.defaultTopK,
      minScore: body.min_score,
      sources: body.sources,
      metadata: body.metadata,
      mode: body.mode ?? 'hybrid',
      hybrid: dependencies.hybrid,
    });
    return context.json(
      {
        results: hits.map((hit) => ({
          document_id: hit.documentId,
          source: hit.source,
          chunk_index: hit.chunkIndex,
          content: hit.content,
          score: hit.score,
          metadata: hit.metadata,
          vector_rank: hit.vectorRank ?? null,
          text_rank: hit.textRank ?? null,
          text_score: hit.textScore ?? null,
          fused_score: hit.fusedScore ?? null,
        })),
      },
      200,
    );
  });

  app.openapi(listDocumentsRoute, async (context) => {
    const documents = await dependencies.knowledge().store.listDocuments();
    return context.json(
      {
        documents: documents.map((document) => ({
          document_id: document.id,
          source: document.source,
          chunks: document.chunkCount,
          content_sha256: document.contentSha256,
          metadata: document.metadata,
          created_at: document.createdAt,
          updated_at: document.updatedAt,
        })),
      },
      200,
    );
  });
  return app;
}
