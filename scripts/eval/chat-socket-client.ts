import WebSocket from 'ws';
import type { ClientFrame, ServerFrame } from '../../functions/ws-chat/protocol.ts';

/** A frame as received, with the `performance.now()` at which it arrived. */
export type TimedFrame = ServerFrame & { receivedAtMs: number };

/**
 * A small `/ws/llm` client for tests and benchmarks: records every frame with its arrival
 * time and waits for the ones asked for. Node only (uses `ws`).
 */
export interface ChatSocketClient {
  readonly frames: TimedFrame[];
  readonly socket: WebSocket;
  send(frame: ClientFrame | string): void;
  /** Resolves with the first frame from index `from` that matches, waiting up to `timeoutMs`. */
  waitFor(predicate: (frame: TimedFrame) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<TimedFrame>;
  /** Sends a chat and resolves with the frames up to and including its `done`. */
  ask(frame: ClientFrame | string, timeoutMs?: number): Promise<TimedFrame[]>;
  /** Resolves with the close code once the server closes the socket. */
  closed: Promise<number>;
  close(): Promise<void>;
}

/** A server that never answers the upgrade fails the connect instead of hanging it. */
const HANDSHAKE_TIMEOUT_MS = 15_000;

export async function connectChatSocket(url: string, options: { origin?: string; headers?: Record<string, string>; protocols?: string[] } = {}): Promise<ChatSocketClient> {
  const socket = new WebSocket(url, options.protocols ?? [], {
    headers: { ...options.headers, ...(options.origin ? { Origin: options.origin } : {}) },
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  const frames: TimedFrame[] = [];
  const listeners = new Set<() => void>();
  socket.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString();
    frames.push({ ...(JSON.parse(text) as ServerFrame), receivedAtMs: performance.now() });
    for (const listener of listeners) listener();
  });
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  closed.then(() => {
    for (const listener of listeners) listener();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: HTTP ${response.statusCode}`)));
  });

  const waitFor: ChatSocketClient['waitFor'] = (predicate, waitOptions = {}) => {
    const { from = 0, timeoutMs = 10_000 } = waitOptions;
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = frames.slice(from).find(predicate);
        if (found) return finish(() => resolve(found));
        if (socket.readyState === WebSocket.CLOSED) finish(() => reject(new Error(`socket closed before the frame arrived; frames: ${JSON.stringify(frames)}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no matching frame within ${timeoutMs} ms; frames: ${JSON.stringify(frames.slice(from))}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });
  };

  const send = (frame: ClientFrame | string) => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  return {
    frames,
    socket,
    send,
    waitFor,
    async ask(frame, timeoutMs = 10_000) {
      const from = frames.length;
      send(frame);
      await waitFor((received) => received.type === 'done', { from, timeoutMs });
      const end = frames.findIndex((received, index) => index >= from && received.type === 'done');
      return frames.slice(from, end + 1);
    },
    closed,
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
  };
}
