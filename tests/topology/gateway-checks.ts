// The seed's verification, as a user sees it: HTTP and WebSocket calls through the gateway only.
import { connectChatSocket, type TimedFrame } from '../../scripts/eval/chat-socket-client.ts';

/** Thrown by a failed expectation; the message says what the user would have seen. */
export class CheckFailure extends Error {}

export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message);
}

export interface HttpResult {
  status: number;
  contentType: string;
  body: unknown;
  text: string;
}

/** One JSON request; the body is parsed when it is JSON, kept as text either way. */
export async function requestJson(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON; the check that needs JSON says so.
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body, text };
}

function describeResult(result: HttpResult): string {
  return `HTTP ${result.status} (${result.contentType}) ${result.text.slice(0, 400)}`;
}

interface Gateway {
  origin: string;
  /** `Authorization: Bearer <API_KEY>` on every route (search and chat included), as the compose env sets API_KEY. */
  apiKey?: string;
}

function authorization(gateway: Gateway): Record<string, string> {
  return gateway.apiKey ? { Authorization: `Bearer ${gateway.apiKey}` } : {};
}

/** POST add-document; expects 201 `created` with at least one chunk. */
export async function addDocument(gateway: Gateway, source: string, content: string): Promise<string> {
  const result = await requestJson(`${gateway.origin}/api/v1/knowledge/add-document`, {
    body: { source, content },
    headers: authorization(gateway),
  });
  const body = result.body as { status?: string; chunks?: number; source?: string } | undefined;
  expect(result.status === 201, `add-document ${source}: expected 201, got ${describeResult(result)}`);
  expect(body?.status === 'created' && body.source === source && (body.chunks ?? 0) >= 1, `add-document ${source}: unexpected body ${result.text}`);
  return `201 created, ${body.chunks} chunk(s)`;
}

/** POST search; expects 200 with a result from `source` whose content contains `phrase`. */
export async function searchFinds(gateway: Gateway, query: string, source: string, phrase: string): Promise<string> {
  const result = await requestJson(`${gateway.origin}/api/v1/knowledge/search`, { body: { query, top_k: 5 }, headers: authorization(gateway) });
  expect(result.status === 200, `search "${query}": expected 200, got ${describeResult(result)}`);
  const results = (result.body as { results?: { source: string; content: string; score: number }[] }).results ?? [];
  const hit = results.find((entry) => entry.source === source && entry.content.includes(phrase));
  expect(hit, `search "${query}": no result from ${source} containing "${phrase}"; got ${JSON.stringify(results.map((entry) => [entry.source, entry.score]))}`);
  return `200, ${results.length} result(s), ${source} at score ${hit.score.toFixed(3)}`;
}

/** Expects the gateway's own JSON error for a route whose function is down. */
export async function expectUpstreamUnavailable(gateway: Gateway, path: string, body?: unknown): Promise<string> {
  const result = await requestJson(`${gateway.origin}${path}`, { body });
  expect(result.status === 502 || result.status === 503, `${path} with its function stopped: expected 502/503, got ${describeResult(result)}`);
  expect(result.contentType.startsWith('application/json'), `${path}: the error is not JSON: ${describeResult(result)}`);
  const code = (result.body as { error?: { code?: string } } | undefined)?.error?.code;
  expect(code === 'upstream_unavailable', `${path}: expected error.code upstream_unavailable, got ${describeResult(result)}`);
  return `${result.status} ${code}`;
}

async function askOverGateway(gateway: Gateway, message: string): Promise<TimedFrame[]> {
  const url = `${gateway.origin.replace(/^http/, 'ws')}/ws/llm`;
  const socket = await connectChatSocket(url, { headers: authorization(gateway) });
  try {
    return await socket.ask({ type: 'chat', message }, 60_000);
  } finally {
    await socket.close();
  }
}

/** The frames in a line a person can read: token frames folded into one entry with their text's start. */
function summarise(frames: TimedFrame[]): string {
  const tokens = frames.filter((frame) => frame.type === 'token');
  const text = tokens.map((frame) => frame.content).join('');
  const firstToken = frames.findIndex((frame) => frame.type === 'token');
  const shown = frames.flatMap(({ receivedAtMs: _receivedAtMs, ...frame }, index) => {
    if (frame.type === 'token') return index === firstToken ? [`token×${tokens.length} ${JSON.stringify(text.slice(0, 60))}…`] : [];
    if (frame.type === 'sources') return [`sources ${JSON.stringify(frame.sources.map((source) => [source.source, Number(source.score.toFixed(3))]))}`];
    return [JSON.stringify(frame)];
  });
  return shown.join(' → ');
}

/** A related question: `sources` (naming `source`), then ≥ 1 `token`, then `done`; no error. */
export async function chatAnswers(gateway: Gateway, question: string, source: string): Promise<string> {
  const started = performance.now();
  const frames = await askOverGateway(gateway, question);
  const types = frames.map((frame) => frame.type).filter((type) => type !== 'status');
  const sources = frames.find((frame) => frame.type === 'sources');
  const tokens = frames.filter((frame) => frame.type === 'token');
  const done = frames.at(-1);
  expect(!frames.some((frame) => frame.type === 'error' || frame.type === 'insufficient'), `chat "${question}": expected an answer, got ${summarise(frames)}`);
  expect(types[0] === 'sources' && sources?.type === 'sources', `chat "${question}": the first frame is not sources: ${summarise(frames)}`);
  expect(sources.sources.some((entry) => entry.source === source), `chat "${question}": sources do not include ${source}: ${summarise(frames)}`);
  expect(tokens.length >= 1, `chat "${question}": no token frame: ${summarise(frames)}`);
  expect(types.slice(1, -1).every((type) => type === 'token'), `chat "${question}": frames out of order: ${types.join(',')}`);
  expect(done?.type === 'done' && (done.finish_reason === 'stop' || done.finish_reason === 'length'), `chat "${question}": last frame is not done(stop|length): ${summarise(frames)}`);
  const firstTokenMs = tokens[0]!.receivedAtMs - started;
  return `sources(${sources.sources.length}) + ${tokens.length} token(s) + done(${done.finish_reason}); first token ${firstTokenMs.toFixed(0)} ms`;
}

/** An unrelated question: `insufficient` with 资料不足, then `done(insufficient)`, no model call. */
export async function chatRefuses(gateway: Gateway, question: string): Promise<string> {
  const frames = await askOverGateway(gateway, question);
  const insufficient = frames.find((frame) => frame.type === 'insufficient');
  const done = frames.at(-1);
  expect(
    insufficient?.type === 'insufficient' && insufficient.message === '资料不足',
    `chat "${question}": expected insufficient 资料不足, got ${summarise(frames)}`,
  );
  expect(!frames.some((frame) => frame.type === 'token' || frame.type === 'sources'), `chat "${question}": the model was asked anyway: ${summarise(frames)}`);
  expect(done?.type === 'done' && done.finish_reason === 'insufficient', `chat "${question}": last frame is not done(insufficient): ${summarise(frames)}`);
  return `insufficient 资料不足 (${insufficient.reason}, best score ${insufficient.best_score?.toFixed(3) ?? 'none'})`;
}
