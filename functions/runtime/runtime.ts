import type { Hono } from 'hono';
import type { UpgradeWebSocket } from 'hono/ws';
import type { Environment } from '../../lib/config.ts';
import type { ClientAddress } from '../../lib/http/client-identity.ts';

/** The signals on which the service stops cleanly (closes sockets, the database, the model). */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/**
 * How many times `WS_MAX_FRAME_BYTES` a frame may be before the transport itself refuses it.
 * Up to that size a frame still reaches the chat session, which answers `frame_too_large`
 * and keeps the socket usable (a pasted page is a mistake worth explaining); beyond it the
 * transport closes the socket with 1009 without buffering the frame, so one socket never
 * holds more than four times the limit (64 KiB with the default 16 KiB).
 */
export const TRANSPORT_FRAME_HEADROOM = 4;

export interface ListenOptions {
  port: number;
  host: string;
  /** `WS_MAX_FRAME_BYTES`, the session's limit; the transport allows {@link TRANSPORT_FRAME_HEADROOM} times it. */
  maxFrameBytes: number;
  /** `WS_PING_INTERVAL_MS`: ping every socket this often; one that has not answered the previous ping is dropped. 0 or absent = never. */
  pingIntervalMs?: number;
}

export interface RunningServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * What a runtime hands the shared entry (`functions/main.ts`). Node (`node.ts`) and Deno
 * (`deno.ts`) each give one object of this shape; nothing else in functions/ or lib/ knows
 * which runtime it runs on.
 */
export interface Runtime {
  readonly name: 'node' | 'deno';
  /** The process environment, read once by `loadConfig`. */
  environment(): Environment;
  /** Serves `app` with WebSocket support. */
  listen(app: Hono<any, any, any>, options: ListenOptions): Promise<RunningServer>;
  /** The runtime's WebSocket upgrade helper for Hono routes, keeping sockets alive as `options` say. */
  createUpgradeWebSocket(options: Pick<ListenOptions, 'pingIntervalMs'>): UpgradeWebSocket;
  /** The peer's address of a request (the per-client rate limit's key when no key is required). */
  clientAddress: ClientAddress;
  /** Calls `handler` on each of {@link STOP_SIGNALS} (the caller acts on the first). */
  onStopSignal(handler: (signal: StopSignal) => void): void;
  exit(code: number): never;
}
