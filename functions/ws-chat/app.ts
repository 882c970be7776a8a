import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { UpgradeWebSocket, WSContext } from 'hono/ws';
import { AppError } from '../../lib/errors.ts';
import { requireKey } from '../../lib/http/access-keys.ts';
import { type ClientAddress, clientIdentity } from '../../lib/http/client-identity.ts';
import { createConnectionLimiter, type Reservation } from '../../lib/http/connection-limit.ts';
import { renderError } from '../../lib/http/error-response.ts';
import { openApiApp } from '../../lib/http/openapi-app.ts';
import { originGuard } from '../../lib/http/origin-guard.ts';
import { createRateLimiter } from '../../lib/http/rate-limit.ts';
import { selectSubprotocol } from '../../lib/http/websocket-subprotocol.ts';
import { type ChatSessionDependencies, createChatSession } from './chat-session.ts';
import type { ServerFrame } from './protocol.ts';
import { wsChatRoute } from './route.ts';

export interface WsChatDependencies extends ChatSessionDependencies {
  /** The runtime's helper: `@hono/node-server`'s on Node, `hono/deno`'s on Deno. */
  upgradeWebSocket: UpgradeWebSocket;
  /** The peer's address (the runtime's connection info), for the per-client rate limit. */
  clientAddress?: ClientAddress;
}

/** Close code and reason of a socket that sat idle past WS_IDLE_TIMEOUT_MS (1000: a normal close). */
const IDLE_CLOSE_CODE = 1000;
const IDLE_CLOSE_REASON = 'idle timeout';

/**
 * The ws-chat function: `GET /ws/llm` upgrades to the RAG chat WebSocket described in
 * `protocol.ts`. Before the upgrade, in order: the Origin check, the key (read access), the
 * connection limit (503) and the per-client rate limit (429); after it, each question also
 * counts against the client's rate limit, and an idle socket is closed. Runtime-free: the
 * caller hands in `upgradeWebSocket` (pings to drop dead peers are the runtime adapter's).
 */
export function createWsChatApp(dependencies: WsChatDependencies): OpenAPIHono {
  const { config } = dependencies;
  const app = openApiApp();
  const connections = createConnectionLimiter({ maxConnections: config.chat.maxConnections });
  const limiter = createRateLimiter(config.rateLimit);
  const identify = clientIdentity({ keysRequired: config.apiKey !== undefined, clientAddress: dependencies.clientAddress, trustProxyHeaders: config.trustProxyHeaders });

  const rateLimitUpgrade: MiddlewareHandler = async (context, next) => {
    const decision = limiter.take(await identify(context));
    if (!decision.allowed) throw new AppError(429, 'rate_limited', `too many chat connections; retry in ${decision.retryAfterSeconds} s`, { headers: { 'Retry-After': String(decision.retryAfterSeconds) } });
    await next();
  };

  const upgrade: MiddlewareHandler = async (context, next) => {
    const clientId = await identify(context);
    const reservation = context.get('socketReservation');
    const events = (_context: Context) => socketEvents({ dependencies, reservation, onClosed: () => reservation && connections.closed(reservation), admitQuestion: () => limiter.take(clientId), onOpened: () => reservation && connections.opened(reservation) });
    // Answer with `local-rag.v1` only, never with the entry that carries the key (Deno reads this; Node's ws uses handleProtocols).
    return dependencies.upgradeWebSocket(events, { protocol: selectSubprotocol(context.req.header('sec-websocket-protocol')) })(context, next);
  };

  // Errors are rendered here, not thrown to an onError: the ws-chat app also runs on its own.
  const rendered = (middleware: MiddlewareHandler): MiddlewareHandler => async (context, next) => {
    try {
      return await middleware(context, next);
    } catch (error) {
      if (error instanceof AppError) return renderError(error, context);
      throw error;
    }
  };

  app.openapi(
    {
      ...wsChatRoute,
      middleware: [
        rendered(originGuard({ allowedOrigins: config.chat.allowedOrigins })),
        rendered(requireKey({ keys: config, access: 'read' })),
        rendered(connections.guard()),
        rendered(rateLimitUpgrade),
        upgrade,
      ] as const,
    },
    (context) => {
      // Only reached when the upgrade helper passed the request on: it was not an upgrade.
      return renderError(new AppError(426, 'upgrade_required', 'GET /ws/llm is a WebSocket endpoint; connect with Upgrade: websocket', { headers: { Upgrade: 'websocket' } }), context);
    },
  );
  return app;
}

function socketEvents(options: {
  dependencies: WsChatDependencies;
  reservation: Reservation | undefined;
  onOpened(): void;
  onClosed(): void;
  admitQuestion: NonNullable<Parameters<typeof createChatSession>[2]>['admitQuestion'];
}) {
  const { dependencies } = options;
  const idleTimeoutMs = dependencies.config.chat.idleTimeoutMs;
  let session: ReturnType<typeof createChatSession> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const touch = (socket: WSContext) => {
    if (idleTimeoutMs === 0 || closed) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => socket.close(IDLE_CLOSE_CODE, IDLE_CLOSE_REASON), idleTimeoutMs);
  };
  const sessionFor = (socket: WSContext) =>
    (session ??= createChatSession(
      dependencies,
      (frame) => {
        touch(socket);
        sendFrame(socket, frame);
      },
      { admitQuestion: options.admitQuestion },
    ));
  const finish = () => {
    if (closed) return;
    closed = true;
    clearTimeout(idleTimer);
    session?.close();
    options.onClosed();
  };
  return {
    onOpen: (_event: Event, socket: WSContext) => {
      options.onOpened();
      touch(socket);
      sessionFor(socket);
    },
    onMessage: (event: MessageEvent, socket: WSContext) => {
      touch(socket);
      sessionFor(socket).receive(event.data);
    },
    onClose: finish,
    onError: finish,
  };
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
