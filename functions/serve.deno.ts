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

/**
 * Deno finds the offered subprotocols by splitting the header at ", " exactly and throws when
 * the chosen one is not among them (a 500). Browsers separate with ", "; some clients send ","
 * alone: those get no subprotocol in the answer instead of an error.
 */
function denoNegotiable(offered: string | undefined, chosen: string | undefined): string | undefined {
  return chosen !== undefined && (offered ?? '').split(', ').includes(chosen) ? chosen : undefined;
}

await main(
  Deno.env.toObject(),
  (settings) => ({
    // Deno pings by itself: `idleTimeout` (seconds) closes a socket whose pong does not come back in time.
    upgradeWebSocket: ((createEvents: (context: Context) => WSEvents | Promise<WSEvents>, options: { protocol?: string } = {}) =>
      (context: Context, next: () => Promise<void>) =>
        denoUpgradeWebSocket(createEvents, {
          ...options,
          idleTimeout: Math.ceil(settings.pingIntervalMs / MILLISECONDS_PER_SECOND),
          protocol: denoNegotiable(context.req.header('sec-websocket-protocol'), options.protocol),
        })(context, next)) as UpgradeWebSocket,
    clientAddress: (context) => getConnInfo(context).remote.address,
    listen: (app) =>
      new Promise((resolve) => {
        const server = Deno.serve({ port: settings.port, hostname: settings.host, onListen: (address) => resolve({ port: address.port, close: () => server.shutdown() }) }, (request, info) => app.fetch(request, info));
      }),
  }),
  (code) => Deno.exit(code),
);
