import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fault-injecting stand-in for llama-server's OpenAI-compatible API on 127.0.0.1, used
 * beside (never instead of) the real server: it produces the failures a real one rarely
 * shows on demand. Speaks `/v1/chat/completions` (SSE, `stream_options.include_usage`),
 * `/health`, `/tokenize` and `/apply-template` (chatml). Its tokenizer counts one token per
 * whitespace-separated word, so tests can reason about budgets exactly.
 */
export type FakeMode =
  /** Streams `tokens`, then a finish reason, usage and `[DONE]`. */
  | 'normal'
  /** 500 with an OpenAI-style error body. */
  | 'error-500'
  /** 401 `Invalid API Key`, like llama-server with another `--api-key`. */
  | 'unauthorized'
  /** Sends headers and the first token, then nothing, forever. */
  | 'stall'
  /** Accepts the request and never answers (no headers). */
  | 'stall-before-headers'
  /** Sends the first two tokens, then destroys the socket. */
  | 'disconnect'
  /** Sends tokens, then ends the body cleanly without a finish reason or `[DONE]`. */
  | 'truncated'
  /** 503 `Loading model` on every endpoint but `/health` (which is 503 too) until `ready()`. */
  | 'loading';

export interface FakeLlmServer {
  url: string;
  /** The base URL a client should use (`…/v1`). */
  baseURL: string;
  mode: FakeMode;
  /** Tokens of a normal answer, in order. */
  tokens: string[];
  /** Delay before each token, ms. */
  tokenDelayMs: number;
  /** Prompts with at least this many tokens get llama-server's 400 `exceed_context_size_error`. */
  contextTokens: number;
  /** Expected bearer token; `undefined` accepts any. */
  apiKey: string | undefined;
  /** Whether `/tokenize` and `/apply-template` exist (404 otherwise). */
  extensions: boolean;
  /** Bodies of the chat completion requests received, in order. */
  readonly completionRequests: Array<{ messages: Array<{ role: string; content: string }>; max_tokens?: number; temperature?: number; model?: string }>;
  /** `Authorization` header of every request, in order (`''` when absent). */
  readonly authorizations: string[];
  /** Completion requests still open (headers sent or not). */
  readonly openStreams: number;
  /** Completion requests the client closed before the answer ended. */
  readonly abortedStreams: number;
  /** Leaves `loading` mode: `/health` becomes 200 and requests are served normally. */
  ready(): void;
  /** Resolves once `openStreams` is 0 (or rejects after `timeoutMs`). */
  waitForNoOpenStreams(timeoutMs?: number): Promise<number>;
  reset(): void;
  close(): Promise<void>;
}

export function countFakeTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

export function renderChatml(messages: Array<{ role: string; content: string }>): string {
  return messages.map((message) => `<|im_start|>${message.role}\n${message.content}<|im_end|>\n`).join('') + '<|im_start|>assistant\n';
}

const DEFAULT_TOKENS = ['Once', ' upon', ' a', ' time', ' [1]', '.'];

export async function startFakeLlmServer(): Promise<FakeLlmServer> {
  const sockets = new Set<Socket>();
  let openStreams = 0;
  let abortedStreams = 0;
  const completionRequests: FakeLlmServer['completionRequests'] = [];
  const authorizations: string[] = [];

  const server = createServer((request, response) => {
    void handle(request, response).catch(() => response.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const fake: FakeLlmServer = {
    url: '',
    baseURL: '',
    mode: 'normal',
    tokens: [...DEFAULT_TOKENS],
    tokenDelayMs: 0,
    contextTokens: 1_000_000,
    apiKey: undefined,
    extensions: true,
    completionRequests,
    authorizations,
    get openStreams() {
      return openStreams;
    },
    get abortedStreams() {
      return abortedStreams;
    },
    ready() {
      if (fake.mode === 'loading') fake.mode = 'normal';
    },
    async waitForNoOpenStreams(timeoutMs = 2_000) {
      const started = Date.now();
      while (openStreams > 0) {
        if (Date.now() - started > timeoutMs) throw new Error(`${openStreams} completion request(s) still open after ${timeoutMs} ms`);
        await sleep(5);
      }
      return Date.now() - started;
    },
    reset() {
      Object.assign(fake, { mode: 'normal', tokens: [...DEFAULT_TOKENS], tokenDelayMs: 0, contextTokens: 1_000_000, apiKey: undefined, extensions: true });
      completionRequests.length = 0;
      authorizations.length = 0;
      abortedStreams = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const body = await readBody(request);
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    authorizations.push(request.headers.authorization ?? '');
    if (path === '/health') {
      return fake.mode === 'loading' ? sendError(response, 503, 'unavailable_error', 'Loading model') : sendJson(response, 200, { status: 'ok' });
    }
    if (fake.apiKey !== undefined && request.headers.authorization !== `Bearer ${fake.apiKey}`) {
      return sendError(response, 401, 'authentication_error', 'Invalid API Key');
    }
    if (fake.mode === 'loading') return sendError(response, 503, 'unavailable_error', 'Loading model');
    const json = body ? (JSON.parse(body) as Record<string, any>) : {};
    if (path === '/tokenize' && fake.extensions) {
      return sendJson(response, 200, { tokens: Array.from({ length: countFakeTokens(String(json.content ?? '')) }, (_, index) => index) });
    }
    if (path === '/apply-template' && fake.extensions) return sendJson(response, 200, { prompt: renderChatml(json.messages ?? []) });
    if (path === '/v1/chat/completions') return streamCompletion(request, response, json);
    return sendError(response, 404, 'not_found_error', 'File Not Found');
  }

  async function streamCompletion(request: IncomingMessage, response: ServerResponse, json: Record<string, any>) {
    completionRequests.push(json as FakeLlmServer['completionRequests'][number]);
    const promptTokens = countFakeTokens(renderChatml(json.messages ?? []));
    if (promptTokens >= fake.contextTokens) {
      return sendError(response, 400, 'exceed_context_size_error', `request (${promptTokens} tokens) exceeds the available context size (${fake.contextTokens} tokens), try increasing it`);
    }
    if (fake.mode === 'error-500') return sendError(response, 500, 'server_error', 'boom');
    if (fake.mode === 'unauthorized') return sendError(response, 401, 'authentication_error', 'Invalid API Key');

    openStreams++;
    let finished = false;
    response.on('close', () => {
      openStreams--;
      if (!finished) abortedStreams++;
    });
    if (fake.mode === 'stall-before-headers') return;
    response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    const tokens = fake.tokens;
    const limit = fake.mode === 'stall' ? 1 : fake.mode === 'disconnect' ? 2 : tokens.length;
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
      id: 'chatcmpl-fake',
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: json.model ?? 'fake',
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });
    const write = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
    write(chunk({ role: 'assistant', content: null }));
    for (let index = 0; index < Math.min(limit, tokens.length); index++) {
      if (fake.tokenDelayMs > 0) await sleep(fake.tokenDelayMs);
      if (response.destroyed) return;
      write(chunk({ content: tokens[index] }));
    }
    if (fake.mode === 'stall') return;
    if (fake.mode === 'disconnect') {
      await sleep(5);
      request.socket.destroy();
      return;
    }
    if (fake.mode === 'truncated') {
      finished = true;
      response.end();
      return;
    }
    write(chunk({}, 'stop'));
    write({ ...chunk({}), choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length } });
    response.write('data: [DONE]\n\n');
    finished = true;
    response.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  fake.baseURL = `${fake.url}/v1`;
  return fake;
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released), for "server down" tests. */
export async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (part: string) => (body += part));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, value: unknown) {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(value));
}

function sendError(response: ServerResponse, status: number, type: string, message: string) {
  sendJson(response, status, { error: { code: status, message, type } });
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
