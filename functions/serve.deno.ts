// Deno entry: `deno task start`. The only file that knows it runs on Deno.
import { upgradeWebSocket } from 'hono/deno';
import type { UpgradeWebSocket } from 'hono/ws';
import { main } from './main.ts';

declare const Deno: {
  env: { toObject(): Record<string, string> };
  exit(code: number): never;
  serve(options: { port: number; hostname: string; onListen?: (address: { port: number }) => void }, handler: (request: Request, info: unknown) => Response | Promise<Response>): { shutdown(): Promise<void>; finished: Promise<void> };
};

await main(
  Deno.env.toObject(),
  (_maxFrameBytes, port, host) => ({
    upgradeWebSocket: upgradeWebSocket as unknown as UpgradeWebSocket,
    listen: (app) =>
      new Promise((resolve) => {
        const server = Deno.serve({ port, hostname: host, onListen: (address) => resolve({ port: address.port, close: () => server.shutdown() }) }, (request, info) => app.fetch(request, info));
      }),
  }),
  (code) => Deno.exit(code),
);
