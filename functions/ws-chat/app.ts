import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { UpgradeWebSocket, WSContext } from 'hono/ws';
import { AppError } from '../../lib/errors.ts';
import { renderError } from '../../lib/http/error-response.ts';
import { openApiApp } from '../../lib/http/openapi-app.ts';
import { type ChatSessionDependencies, createChatSession } from './chat-session.ts';
import type { ServerFrame } from './protocol.ts';
import { wsChatRoute } from './route.ts';

export interface WsChatDependencies extends ChatSessionDependencies {
  /** The runtime's helper: `@hono/node-server`'s on Node, `hono/deno`'s on Deno. */
  upgradeWebSocket: UpgradeWebSocket;
}

/**
 * The ws-chat function: `GET /ws/llm` upgrades to the RAG chat WebSocket described in
 * `protocol.ts`. Runtime-free: the caller hands in `upgradeWebSocket`.
 */
export function createWsChatApp(dependencies: WsChatDependencies): OpenAPIHono {
  const app = openApiApp();
  const upgrade = dependencies.upgradeWebSocket(() => {
    let session: ReturnType<typeof createChatSession> | undefined;
    const sessionFor = (socket: WSContext) => (session ??= createChatSession(dependencies, (frame) => sendFrame(socket, frame)));
    return {
      onOpen: (_event, socket) => void sessionFor(socket),
      onMessage: (event, socket) => sessionFor(socket).receive(event.data),
      onClose: () => session?.close(),
      onError: () => session?.close(),
    };
  });
  app.openapi({ ...wsChatRoute, middleware: [originGuard(dependencies.config.chat.allowedOrigins), upgrade] as const }, (context) => {
    // Only reached when the upgrade helper passed the request on: it was not an upgrade.
    // Rendered here, not thrown: the ws-chat app also runs on its own, without createApp's onError.
    return renderError(new AppError(426, 'upgrade_required', 'GET /ws/llm is a WebSocket endpoint; connect with Upgrade: websocket', { headers: { Upgrade: 'websocket' } }), context);
  });
  return app;
}

/**
 * Refuses a browser connecting from a page outside the allow-list (cross-site WebSocket
 * hijacking). An empty list allows every origin; a request without `Origin` is not from a
 * browser page and passes.
 */
function originGuard(allowedOrigins: string[]): MiddlewareHandler {
  const allowed = new Set(allowedOrigins.map(normalizeOrigin));
  return async (context, next) => {
    const origin = context.req.header('origin');
    if (allowed.size > 0 && !allowed.has('*') && origin !== undefined && !allowed.has(normalizeOrigin(origin))) {
      return renderError(new AppError(403, 'origin_not_allowed', 'this Origin may not open the chat socket (see ALLOWED_ORIGINS)'), context);
    }
    await next();
  };
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}

function sendFrame(socket: WSContext, frame: ServerFrame): void {
  // 1 = OPEN; a frame for a socket that is closing has nobody to read it.
  if (socket.readyState !== 1) return;
  try {
    socket.send(JSON.stringify(frame));
  } catch {
    // The peer went away between the check and the send; onClose cancels the answer.
  }
}
