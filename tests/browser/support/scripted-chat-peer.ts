import type { Hono } from 'hono';
import type { WSContext } from 'hono/ws';
import type { WebSocket as NodeWebSocket } from 'ws';
import { nodeUpgradeWebSocket } from '../../../functions/runtime/node.ts';

/**
 * A scripted `/ws/llm` peer for the first browser lane: it speaks the ws-chat protocol with
 * answers the test controls, so the page's behaviour (streaming, stop, 资料不足, reconnect) is
 * checked frame by frame. The second lane runs the same page against the real service.
 *
 * What it answers depends on the question:
 * - contains "unrelated": `insufficient` then `done`
 * - contains "fail": an `error` frame, then `done` as the real server sends it
 * - contains "drop": two tokens, then the socket is cut without a close frame
 * - contains "long": `status` "model loading", sources, then a token every 80 ms until `cancel`
 * - anything else: sources, three tokens, then the rest once the test calls `release()`
 */
export interface ScriptedChatPeer {
  /** Every frame the page sent, parsed, in order. */
  readonly received: Array<Record<string, unknown>>;
  /** How many sockets have been opened so far (a reconnect makes it grow). */
  readonly connections: number;
  /** Paths the upgrades arrived on (after any proxy). */
  readonly upgradePaths: string[];
  /** Lets the held-back part of the current default answer go. */
  release(): void;
}

export const SCRIPTED_SOURCES = [
  { n: 1, source: 'guide.md', chunk_index: 0, score: 0.8312, content: 'pgvector adds a vector column type and similarity search to PostgreSQL.' },
  { n: 2, source: 'ops/indexes.md', chunk_index: 3, score: 0.7044, content: 'HNSW indexes trade build time for fast approximate nearest-neighbour queries.' },
];
export const FIRST_TOKENS = ['pgvector ', 'is ', 'a '];
export const REST_TOKENS = ['PostgreSQL ', 'extension ', '[1].'];

const delay = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

export function mountScriptedChatPeer(app: Hono): ScriptedChatPeer {
  const received: Array<Record<string, unknown>> = [];
  const upgradePaths: string[] = [];
  let connections = 0;
  let releaseCurrent: (() => void) | undefined;
  // The test may release as soon as it sees the third token, before the peer starts waiting.
  let releasedEarly = false;

  const send = (socket: WSContext, frame: Record<string, unknown>) => {
    if (socket.readyState === 1) socket.send(JSON.stringify(frame));
  };

  app.get(
    '/ws/llm',
    nodeUpgradeWebSocket((context) => {
      upgradePaths.push(new URL(context.req.url).pathname);
      let cancelled = false;
      return {
        onOpen() {
          connections += 1;
        },
        async onMessage(event, socket) {
          const frame = JSON.parse(String(event.data)) as Record<string, unknown>;
          received.push(frame);
          if (frame.type === 'cancel') {
            cancelled = true;
            return;
          }
          const message = String(frame.message ?? '');
          cancelled = false;
          if (message.includes('unrelated')) {
            send(socket, { type: 'insufficient', message: '资料不足', best_score: 0.12, reason: 'below_threshold' });
            send(socket, { type: 'done', finish_reason: 'insufficient' });
          } else if (message.includes('fail')) {
            send(socket, { type: 'error', code: 'llm_unavailable', message: 'The language model is unavailable; try again shortly.' });
            send(socket, { type: 'done', finish_reason: 'error' });
          } else if (message.includes('drop')) {
            send(socket, { type: 'sources', sources: SCRIPTED_SOURCES.slice(0, 1) });
            send(socket, { type: 'token', content: 'Once ' });
            send(socket, { type: 'token', content: 'upon ' });
            await delay(150);
            (socket.raw as NodeWebSocket | undefined)?.terminate();
          } else if (message.includes('long')) {
            send(socket, { type: 'status', message: 'model loading' });
            await delay(400);
            send(socket, { type: 'sources', sources: SCRIPTED_SOURCES });
            for (let index = 0; index < 500 && !cancelled; index += 1) {
              send(socket, { type: 'token', content: `word${index} ` });
              await delay(80);
            }
            send(socket, { type: 'done', finish_reason: cancelled ? 'cancelled' : 'length' });
          } else {
            send(socket, { type: 'sources', sources: SCRIPTED_SOURCES });
            for (const token of FIRST_TOKENS) {
              send(socket, { type: 'token', content: token });
              await delay(30);
            }
            if (releasedEarly) releasedEarly = false;
            else {
              await new Promise<void>((resolve) => {
                releaseCurrent = resolve;
              });
            }
            for (const token of REST_TOKENS) send(socket, { type: 'token', content: token });
            send(socket, { type: 'done', finish_reason: 'stop' });
          }
        },
      };
    }),
  );

  return {
    received,
    upgradePaths,
    get connections() {
      return connections;
    },
    release() {
      if (releaseCurrent) releaseCurrent();
      else releasedEarly = true;
      releaseCurrent = undefined;
    },
  };
}
