import type { AddressInfo } from 'node:net';
import { serve, upgradeWebSocket } from '@hono/node-server';
import type { Hono } from 'hono';
import type { UpgradeWebSocket } from 'hono/ws';
import { WebSocketServer } from 'ws';

/** Node's WebSocket upgrade helper, for apps composed with `createApp`. */
export const nodeUpgradeWebSocket = upgradeWebSocket as unknown as UpgradeWebSocket;

export interface RunningServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Serves a Hono app on Node with WebSocket support (`ws` in noServer mode, frames larger
 * than `maxFrameBytes` are refused by `ws` itself with close code 1009).
 */
export function listenNode(app: Hono<any, any, any>, options: { port: number; host: string; maxFrameBytes: number }): Promise<RunningServer> {
  const websocketServer = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes });
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port, hostname: options.host, websocket: { server: websocketServer } }, (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
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
