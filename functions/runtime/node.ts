// The Node runtime: `@hono/node-server` with `ws` for WebSockets. See runtime.ts for the shape.
import type { AddressInfo } from 'node:net';
import { serve, upgradeWebSocket } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono } from 'hono';
import type { UpgradeWebSocket } from 'hono/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { selectSubprotocol } from '../../lib/http/websocket-subprotocol.ts';
import { STOP_SIGNALS, TRANSPORT_FRAME_HEADROOM, type ListenOptions, type Runtime, type RunningServer } from './runtime.ts';

/** Node's WebSocket upgrade helper, for apps composed with `createApp`. */
export const nodeUpgradeWebSocket = upgradeWebSocket as unknown as UpgradeWebSocket;

/** The peer's TCP address on Node (the per-client rate limit's key when no key is required). */
export function nodeClientAddress(context: Context): string | undefined {
  try {
    return getConnInfo(context).remote.address;
  } catch {
    // app.request() in tests: no socket.
    return undefined;
  }
}

/**
 * Serves a Hono app on Node with WebSocket support (`ws` in noServer mode; frames larger
 * than {@link TRANSPORT_FRAME_HEADROOM} × `maxFrameBytes` are refused by `ws` itself with
 * close code 1009). Answers only the
 * `local-rag.v1` subprotocol (never the entry that carries a key), and pings sockets so a
 * peer that vanished without a close (a laptop lid, a dropped network) frees its slot.
 */
export function listenNode(app: Hono<any, any, any>, options: ListenOptions): Promise<RunningServer> {
  const websocketServer = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes * TRANSPORT_FRAME_HEADROOM,
    handleProtocols: (protocols) => selectSubprotocol([...protocols].join(',')) ?? false,
  });
  const alive = new WeakSet<WebSocket>();
  websocketServer.on('connection', (socket) => {
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
  });
  const pingTimer = options.pingIntervalMs
    ? setInterval(() => {
        for (const socket of websocketServer.clients) {
          if (!alive.has(socket)) {
            socket.terminate();
            continue;
          }
          alive.delete(socket);
          socket.ping();
        }
      }, options.pingIntervalMs)
    : undefined;
  pingTimer?.unref();
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port, hostname: options.host, websocket: { server: websocketServer } }, (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            clearInterval(pingTimer);
            for (const client of websocketServer.clients) client.terminate();
            websocketServer.close();
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}

/** The Node runtime for `main` (functions/serve.node.ts). */
export const nodeRuntime: Runtime = {
  name: 'node',
  environment: () => process.env,
  listen: listenNode,
  // Node pings in listenNode (ws has no keep-alive of its own).
  createUpgradeWebSocket: () => nodeUpgradeWebSocket,
  clientAddress: nodeClientAddress,
  onStopSignal(handler) {
    for (const signal of STOP_SIGNALS) process.once(signal, () => handler(signal));
  },
  exit: (code) => process.exit(code),
};
