import { OpenAPIHono } from '@hono/zod-openapi';
import type { UpgradeWebSocket } from 'hono/ws';
import type { Config, FunctionName } from '../lib/config.ts';
import { AppError } from '../lib/errors.ts';
import { createApiDocsRoutes } from '../lib/http/api-docs.ts';
import { createChatPageRoutes } from '../lib/http/chat-page.ts';
import { type ClientAddress, clientIdentity } from '../lib/http/client-identity.ts';
import { renderError } from '../lib/http/error-response.ts';
import { hostGuard } from '../lib/http/host-guard.ts';
import { createRateLimiter } from '../lib/http/rate-limit.ts';
import { requestLog } from '../lib/http/request-log.ts';
import { securityHeaders } from '../lib/http/security-headers.ts';
import { searchSimilarChunks, type KnowledgeDependencies } from '../lib/knowledge/knowledge-base.ts';
import type { SufficiencyThresholds } from '../lib/knowledge/sufficiency.ts';
import type { ChatModel } from '../lib/llm/types.ts';
import type { Log } from '../lib/log.ts';
import { createAddDocumentApp } from './add-document/app.ts';
import { createSearchApp } from './search/app.ts';
import { healthRoute, readinessRoute, type ReadinessReport } from './health-routes.ts';
import { createWsChatApp } from './ws-chat/app.ts';

export type { ReadinessReport };

/** Everything the composed app needs, handed in by the runtime entry (or a test). */
export interface AppDependencies {
  config: Config;
  /** Store, embedder and chunking settings; throws a 503 AppError until start-up is done. */
  knowledge(): KnowledgeDependencies;
  readiness(): Promise<ReadinessReport>;
  /** Needed when serving ws-chat. */
  chat?: { chatModel: ChatModel; thresholds: SufficiencyThresholds; upgradeWebSocket: UpgradeWebSocket };
  /** The peer's address from the runtime's connection info (per-client rate limits). */
  clientAddress?: ClientAddress;
  log?: Log;
}

const DOCUMENT_CONFIG = {
  openapi: '3.1.0',
  info: {
    title: 'local-rag',
    version: '0.1.0',
    license: { name: 'MIT', identifier: 'MIT' },
    description:
      'Self-hosted retrieval-augmented chat. Add documents to the knowledge base, search it, and chat over the WebSocket at /ws/llm (protocol in the ws-chat route description).',
  },
  servers: [{ url: '/', description: 'This server' }],
  tags: [
    { name: 'knowledge', description: 'Documents and search' },
    { name: 'chat', description: 'RAG chat over WebSocket' },
    { name: 'operations', description: 'Health and readiness probes' },
  ],
};

/**
 * The bundled runtime: every function in `only` (default `config.functions`) mounted at its
 * own paths on one app, plus the routes every function serves (health, readiness, the
 * OpenAPI document, docs and the chat page). Serving a subset is the same code with a
 * different `only`, which is how each function runs as its own container.
 */
export function createApp(dependencies: AppDependencies, options: { only?: FunctionName[] } = {}): OpenAPIHono {
  const only = new Set(options.only ?? dependencies.config.functions);
  const app = new OpenAPIHono();
  const { config, log } = dependencies;
  // First the log (so every answer, refusals included, gets its line and request id), then the
  // headers every response carries, then the Host check.
  app.use('*', requestLog({ log }), securityHeaders(), hostGuard({ allowedHosts: config.allowedHosts }));
  app.onError((error, context) => renderError(error, context, (message, cause) => log?.('error', message, { error: describe(cause) })));
  app.notFound((context) => renderError(new AppError(404, 'not_found', `no route for ${context.req.method} ${context.req.path}`), context));

  app.openapi(healthRoute, (context) => context.json({ status: 'ok' as const }, 200));
  app.openapi(readinessRoute, async (context) => {
    const report = await dependencies.readiness();
    if (report.ready) return context.json({ status: 'ready' as const, checks: report.checks }, 200);
    throw new AppError(503, 'not_ready', report.reason ?? 'not ready', { details: report.checks, headers: { 'Retry-After': '2' } });
  });

  const clientId = clientIdentity({ keysRequired: config.apiKey !== undefined, clientAddress: dependencies.clientAddress, trustProxyHeaders: config.trustProxyHeaders });
  if (only.has('add-document')) {
    app.route(
      '/',
      createAddDocumentApp({ knowledge: dependencies.knowledge, keys: config, maxDocumentBytes: config.maxDocumentBytes, rateLimit: { limiter: createRateLimiter(config.rateLimit), clientId } }),
    );
  }
  if (only.has('search')) {
    app.route(
      '/',
      createSearchApp({
        knowledge: dependencies.knowledge,
        defaultTopK: config.retrieval.topK,
        hybrid: config.retrieval.hybrid,
        keys: config,
        maxRequestBytes: config.maxRequestBytes,
        rateLimit: { limiter: createRateLimiter(config.rateLimit), clientId },
      }),
    );
  }
  if (only.has('ws-chat')) {
    if (!dependencies.chat) throw new Error('ws-chat needs chat dependencies (chat model, WebSocket upgrade)');
    app.route(
      '/',
      createWsChatApp({
        config: dependencies.config,
        retrieve: (query, searchOptions) => searchSimilarChunks(dependencies.knowledge(), query, { hybrid: dependencies.config.retrieval.hybrid, ...searchOptions }),
        chatModel: dependencies.chat.chatModel,
        thresholds: dependencies.chat.thresholds,
        upgradeWebSocket: dependencies.chat.upgradeWebSocket,
        clientAddress: dependencies.clientAddress,
        log,
      }),
    );
  }

  registerSecuritySchemes(app);
  app.doc31('/openapi.json', DOCUMENT_CONFIG);
  app.route('/', createApiDocsRoutes());
  app.route('/', createChatPageRoutes());
  return app;
}

/**
 * How a key is presented. When API_KEY is set every /api/v1 route and /ws/llm need one; the
 * read routes (search, document list, chat) accept READ_API_KEY too.
 */
function registerSecuritySchemes(app: OpenAPIHono) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'API_KEY (every route), or READ_API_KEY (search, document list, chat). Only enforced when API_KEY is set.',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'websocketSubprotocol', {
    type: 'apiKey',
    in: 'header',
    name: 'Sec-WebSocket-Protocol',
    description:
      'For browsers on /ws/llm (they cannot set Authorization on a WebSocket): offer the subprotocols `local-rag.v1, local-rag.bearer.<base64url(key)>`; the server answers `local-rag.v1`. Keeps the key out of URLs and access logs.',
  });
}

/** The OpenAPI 3.1 document of every function, built without a server. */
export function buildOpenApiDocument(app: OpenAPIHono) {
  return app.getOpenAPI31Document(DOCUMENT_CONFIG);
}

function describe(error: unknown) {
  return error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error);
}
