// The Deno runtime: `Deno.serve` with hono/deno's WebSockets. See runtime.ts for the shape.
// Type-checked by `deno check` against Deno's own types (npm run typecheck), not by tsc.
import type { Context, Hono } from 'hono';
import { getConnInfo, upgradeWebSocket } from 'hono/deno';
import type { UpgradeWebSocket, WSEvents } from 'hono/ws';
import { STOP_SIGNALS, type ListenOptions, type Runtime, type RunningServer } from './runtime.ts';

const MILLISECONDS_PER_SECOND = 1000;

/** Deno's WebSocket upgrade helper, for apps composed with `createApp`. */
export const denoUpgradeWebSocket = upgradeWebSocket as unknown as UpgradeWebSocket;

/**
 * Deno finds the offered subprotocols by splitting the header at ", " exactly and throws when
 * the chosen one is not among them (a 500). Browsers separate with ", "; some clients send ","
 * alone: those get no subprotocol in the answer instead of an error.
 */
function denoNegotiable(offered: string | undefined, chosen: string | undefined): string | undefined {
  return chosen !== undefined && (offered ?? '').split(', ').includes(chosen) ? chosen : undefined;
}

/**
 * Deno's upgrade with the two things its own lacks here: keep-alive (Deno pings by itself;
 * `idleTimeout`, in seconds, closes a socket whose pong does not come back in time, so the ping
 * interval becomes every upgrade's `idleTimeout`) and a subprotocol answer it will not throw on.
 */
function createDenoUpgradeWebSocket(options: Pick<ListenOptions, 'pingIntervalMs'>): UpgradeWebSocket {
  const idleTimeout = options.pingIntervalMs ? Math.ceil(options.pingIntervalMs / MILLISECONDS_PER_SECOND) : undefined;
  return ((createEvents: (context: Context) => WSEvents | Promise<WSEvents>, upgradeOptions: { protocol?: string } = {}) =>
    (context: Context, next: () => Promise<void>) =>
      denoUpgradeWebSocket(createEvents, {
        ...upgradeOptions,
        ...(idleTimeout === undefined ? {} : { idleTimeout }),
        protocol: denoNegotiable(context.req.header('sec-websocket-protocol'), upgradeOptions.protocol),
      })(context, next)) as UpgradeWebSocket;
}

/**
 * Serves a Hono app with `Deno.serve`. Deno's WebSocket has no frame-size option: every
 * frame reaches the chat session, whose own `WS_MAX_FRAME_BYTES` check answers
 * `frame_too_large`; pings come from each socket's `idleTimeout` (createDenoUpgradeWebSocket).
 */
export function listenDeno(app: Hono<any, any, any>, options: ListenOptions): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({ port: options.port, hostname: options.host, onListen: (address) => resolve({ port: address.port, close: () => server.shutdown() }) }, (request, info) =>
        app.fetch(request, info),
      );
    } catch (error) {
      reject(error);
    }
  });
}

/** The Deno runtime for `main` (functions/serve.deno.ts). */
export const denoRuntime: Runtime = {
  name: 'deno',
  environment: () => Deno.env.toObject(),
  listen: listenDeno,
  createUpgradeWebSocket: createDenoUpgradeWebSocket,
  clientAddress: (context) => getConnInfo(context).remote.address,
  onStopSignal(handler) {
    for (const signal of STOP_SIGNALS) Deno.addSignalListener(signal, () => handler(signal));
  },
  exit: (code) => Deno.exit(code),
};
