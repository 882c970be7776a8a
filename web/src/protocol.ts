/**
 * The `/ws/llm` frames, typed by the server's own zod schemas (a type-only import: nothing of
 * the server reaches the bundle). The page still checks each frame it receives for the fields
 * it uses, so a newer or misbehaving server cannot break the conversation.
 */
import type { ChatFrame, ServerFrame } from '../../functions/ws-chat/protocol.ts';

export type { ChatFrame, ServerFrame };
export type HistoryMessage = NonNullable<ChatFrame['history']>[number];
export type Source = Extract<ServerFrame, { type: 'sources' }>['sources'][number];
export interface CancelFrame {
  type: 'cancel';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isSource = (value: unknown): value is Source =>
  isRecord(value) && typeof value.n === 'number' && typeof value.source === 'string' && typeof value.chunk_index === 'number' && typeof value.score === 'number' && typeof value.content === 'string';

/** What each frame type must carry for the page to use it. */
const CHECKS: Record<ServerFrame['type'], (frame: Record<string, unknown>) => boolean> = {
  sources: (frame) => Array.isArray(frame.sources) && frame.sources.every(isSource),
  token: (frame) => typeof frame.content === 'string',
  done: () => true,
  insufficient: (frame) => typeof frame.message === 'string',
  status: (frame) => typeof frame.message === 'string',
  error: (frame) => typeof frame.code === 'string' && typeof frame.message === 'string',
};

/** Parses one text frame from the server; undefined for anything the page cannot use. */
export function parseServerFrame(data: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || typeof value.type !== 'string' || !Object.hasOwn(CHECKS, value.type)) return undefined;
  return CHECKS[value.type as ServerFrame['type']](value) ? (value as ServerFrame) : undefined;
}
