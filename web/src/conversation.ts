import type { ChatFrame, HistoryMessage } from './protocol.ts';

/** How many past messages (user and assistant, oldest dropped first) go with each question. */
export const HISTORY_MESSAGES = 6;

/**
 * The conversation so far, as the server's `history` field wants it. Only exchanges that
 * ended with an answer are kept: a question whose answer failed or was cut off by a dropped
 * socket would only mislead the model on the next turn.
 */
export class Conversation {
  readonly #messages: HistoryMessage[] = [];

  /** Records a finished exchange. Empty answers (stopped before the first token) are skipped. */
  addExchange(question: string, answer: string): void {
    if (answer.trim() === '') return;
    this.#messages.push({ role: 'user', content: question }, { role: 'assistant', content: answer });
  }

  /** The last `limit` messages, starting with a user message so the model sees whole exchanges. */
  history(limit = HISTORY_MESSAGES): HistoryMessage[] {
    const recent = this.#messages.slice(-limit);
    return recent[0]?.role === 'assistant' ? recent.slice(1) : recent;
  }
}

/**
 * Delay before reconnect attempt `attempt` (0-based): 0.5 s doubling to a 10 s cap, with up
 * to 20 % jitter so that many tabs do not hammer a restarting server in step.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(10_000, 500 * 2 ** Math.max(0, attempt));
  return Math.round(base * (1 + 0.2 * random()));
}

/** The server's default `WS_MAX_FRAME_BYTES`; a bigger frame would close the socket (1009). */
export const MAX_FRAME_BYTES = 16 * 1024;

const utf8 = new TextEncoder();

/**
 * The `chat` frame to send: with as much history as fits in `maxBytes` (oldest exchanges go
 * first), or undefined when the question alone is too long to send.
 */
export function chatFrameWithin(message: string, history: HistoryMessage[], maxBytes = MAX_FRAME_BYTES): ChatFrame | undefined {
  for (let start = 0; start <= history.length; start += 2) {
    const frame: ChatFrame = { type: 'chat', message, history: history.slice(start) };
    if (utf8.encode(JSON.stringify(frame)).length <= maxBytes) return frame;
  }
  return undefined;
}
