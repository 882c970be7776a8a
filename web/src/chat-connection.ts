import { reconnectDelay } from './conversation.ts';
import { parseServerFrame } from './protocol.ts';
import type { CancelFrame, ChatFrame, ServerFrame } from './protocol.ts';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'key-needed';

export interface ConnectionEvents {
  /** `retryInMs` is set while waiting to reconnect. */
  onState(state: ConnectionState, retryInMs?: number): void;
  onFrame(frame: ServerFrame): void;
  /** An open socket closed (server restart, proxy timeout, network change). */
  onDrop(): void;
  /**
   * A socket closed before it opened. Resolves true to retry with backoff as usual, false to
   * wait (the page calls `connect` itself, e.g. once the user has given a key).
   */
  onRefused?(): Promise<boolean>;
}

export interface ConnectionOptions {
  /** The subprotocols to offer, asked on every attempt (the key may have changed). */
  protocols?: () => string[];
}

/**
 * One WebSocket to `/ws/llm` that reconnects by itself with backoff. The page never holds a
 * socket object: a dropped one is replaced, and frames go through `send`.
 */
export class ChatConnection {
  readonly #url: string;
  readonly #events: ConnectionEvents;
  readonly #protocols: () => string[];
  #socket: WebSocket | undefined;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(url: string, events: ConnectionEvents, options: ConnectionOptions = {}) {
    this.#url = url;
    this.#events = events;
    this.#protocols = options.protocols ?? (() => []);
  }

  get isOpen(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  connect(): void {
    clearTimeout(this.#retryTimer);
    this.#events.onState(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    const socket = new WebSocket(this.#url, this.#protocols());
    this.#socket = socket;
    let opened = false;
    socket.addEventListener('open', () => {
      opened = true;
      this.#attempt = 0;
      this.#events.onState('open');
    });
    socket.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      const frame = parseServerFrame(event.data);
      if (frame) this.#events.onFrame(frame);
    });
    // Browsers always follow an error with close, so close alone drives the retry.
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (opened) this.#events.onDrop();
      if (opened || !this.#events.onRefused) return this.#scheduleReconnect();
      void this.#events.onRefused().then((retry) => {
        if (retry && this.#socket === undefined) this.#scheduleReconnect();
      });
    });
  }

  /** False when there is no open socket to send on. */
  send(frame: ChatFrame | CancelFrame): boolean {
    if (!this.#socket || this.#socket.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  #scheduleReconnect(): void {
    const delay = reconnectDelay(this.#attempt);
    this.#attempt += 1;
    this.#events.onState('reconnecting', delay);
    this.#retryTimer = setTimeout(() => this.connect(), delay);
  }
}
