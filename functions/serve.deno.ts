// Deno entry: `deno task start`. The only file that knows it runs on Deno.
import { getConnInfo, upgradeWebSocket } from 'hono/deno';
import type { Context } from 'hono';
import type { UpgradeWebSocket, WSEvents } from 'hono/ws';
import { main } from './main.ts';

declare const Deno: {
  env: { toObject(): Record<string, string> };
  exit(code: number): never;
  serve(options: { port: number; hostname: string; onListen?: (address: { port: number }) => void }, handler: (request: Request, info: unknown) => Response | Promise<Response>): { shutdown(): Promise<void>; finished: Promise<void> };
};

const MILLISECONDS_PER_SECOND = 1000;
const denoUpgradeWebSocket = upgradeWebSocket as unknown as UpgradeWebSocket;

await main(
  Deno.env.toObject(),
  (settings) => ({
    // Deno pings by itself: `idleTimeout` (seconds) closes a socket whose pong does not come back in time.
    upgradeWebSocket: ((createEvents: (context: Context) => WSEvents | Promise<WSEvents>, options?: Record<string, unknown>) =>
      denoUpgradeWebSocket(createEvents, { idleTimeout: Math.ceil(settings.pingIntervalMs / MILLISECONDS_PER_SECOND), ...options })) as UpgradeWebSocket,
    clientAddress: (context) => getConnInfo(context).remote.address,
    listen: (app) =>
      new Promise((resolve) => {
        const server = Deno.serve({ port: settings.port, hostname: settings.host, onListen: (address) => resolve({ port: address.port, close: () => server.shutdown() }) }, (request, info) => app.fetch(request, info));
      }),
  }),
  (code) => Deno.exit(code),
);
