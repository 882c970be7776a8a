import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';

import { connectChatSocket } from '../../scripts/eval/chat-socket-client.ts';
import { relatedQuestion, useFakeLlmHarness } from '../support/fake-llm-harness.ts';
import { TRANSPORT_FRAME_HEADROOM } from '../../functions/runtime/runtime.ts';

const unrelatedQuestion = 'Which bird sings loudest at dawn?';
const harness = useFakeLlmHarness();
const { serve, connect } = harness;

/** A socket whose answer (200 slow tokens) is streaming: its first token has arrived. */
async function startLongAnswer() {
  harness.fake().tokens = Array.from({ length: 200 }, (_, index) => ` t${index}`);
  harness.fake().tokenDelayMs = 20;
  const { url } = await serve();
  const socket = await connect(url);
  socket.send({ type: 'chat', message: relatedQuestion });
  await socket.waitFor((frame) => frame.type === 'token');
  return socket;
}

/** An upgrade request whose refusal body can be read (fetch will not send `Upgrade`). */
function rawUpgrade(url: string, origin: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers: { Origin: origin, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (part: string) => (body += part));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('upgrade', () => reject(new Error('upgraded')));
    request.on('error', reject);
    request.end();
  });
}

const types = (frames: Array<{ type: string }>) => frames.map((frame) => frame.type);

describe('GET /ws/llm', () => {
  it('streams the sources first, then the tokens, then done with usage', async () => {
    const { url } = await serve();
    const socket = await connect(url);
    const frames = await socket.ask({ type: 'chat', message: relatedQuestion });
    expect(types(frames)).toEqual(['sources', ...harness.fake().tokens.map(() => 'token'), 'done']);
    const sources = frames[0]!;
    if (sources.type !== 'sources') throw new Error('first frame is not sources');
    expect(sources.sources.map((source) => source.n)).toEqual(sources.sources.map((_, index) => index + 1));
    expect(sources.sources[0]).toMatchObject({ source: 'pgvector.md', chunk_index: expect.any(Number), content: expect.stringContaining('pgvector') });
    expect(frames.filter((frame) => frame.type === 'token').map((frame) => (frame.type === 'token' ? frame.content : '')).join('')).toBe(harness.fake().tokens.join(''));
    expect(frames.at(-1)).toMatchObject({ type: 'done', finish_reason: 'stop', usage: { completion_tokens: harness.fake().tokens.length } });

    const sent = harness.fake().completionRequests[0]!;
    expect(sent.messages[0]!.role).toBe('system');
    expect(sent.messages[0]!.content).toContain('[1] (pgvector.md#');
    expect(sent.messages[0]!.content).toContain('资料不足');
    expect(sent.messages.at(-1)).toEqual({ role: 'user', content: relatedQuestion });
    expect(sent.temperature).toBe(0.1);
  });

  it('takes a plain-text frame as the question', async () => {
    const { url } = await serve();
    const socket = await connect(url);
    const frames = await socket.ask(relatedQuestion);
    expect(types(frames)[0]).toBe('sources');
    expect(harness.fake().completionRequests[0]!.messages.at(-1)!.content).toBe(relatedQuestion);
  });

  it('answers 资料不足 without calling the model when no chunk scores above the threshold', async () => {
    const { url } = await serve();
    const socket = await connect(url);
    const frames = await socket.ask({ type: 'chat', message: unrelatedQuestion });
    expect(types(frames)).toEqual(['insufficient', 'done']);
    expect(frames[0]).toMatchObject({ message: '资料不足', reason: 'below_threshold', best_score: expect.any(Number) });
    expect(frames[1]).toMatchObject({ finish_reason: 'insufficient' });
    expect(harness.fake().completionRequests).toHaveLength(0);
  });

  it('answers 资料不足 with best_score null when the knowledge base is empty', async () => {
    const { url } = await serve({}, { documents: [] });
    const socket = await connect(url);
    const frames = await socket.ask({ type: 'chat', message: relatedQuestion });
    expect(frames[0]).toEqual(expect.objectContaining({ type: 'insufficient', best_score: null, reason: 'no_results' }));
    expect(harness.fake().completionRequests).toHaveLength(0);
  });

  it('retrieves a short follow-up together with the previous question', async () => {
    const served = await serve();
    const socket = await connect(served.url);
    const frames = await socket.ask({ type: 'chat', message: 'and is it exact?', history: [{ role: 'user', content: relatedQuestion }, { role: 'assistant', content: 'By cosine distance [1].' }] });
    expect(types(frames)[0]).toBe('sources');
    expect(served.retrievals).toEqual(['and is it exact?', `${relatedQuestion}\nand is it exact?`]);
  });

  it('answers 资料不足 to a complete unrelated question even when the earlier turn would find documents', async () => {
    const served = await serve();
    const socket = await connect(served.url);
    const message = 'What is the capital city of Australia?';
    const frames = await socket.ask({ type: 'chat', message, history: [{ role: 'user', content: relatedQuestion }, { role: 'assistant', content: 'By cosine distance [1].' }] });
    expect(types(frames)).toEqual(['insufficient', 'done']);
    expect(served.retrievals).toEqual([message]);
    expect(harness.fake().completionRequests).toHaveLength(0);
  });

  it('answers 资料不足 to a follow-up whose own words are in no retrieved chunk', async () => {
    const served = await serve({}, { thresholds: { minTermCoverage: 0.5 } });
    const socket = await connect(served.url);
    const message = 'and what about the weather in Sydney?';
    const frames = await socket.ask({ type: 'chat', message, history: [{ role: 'user', content: relatedQuestion }] });
    expect(frames[0]).toMatchObject({ type: 'insufficient', message: '资料不足' });
    expect(served.retrievals).toEqual([message, `${relatedQuestion}\n${message}`]);
    expect(harness.fake().completionRequests).toHaveLength(0);
  });

  it('sends only the most recent CHAT_HISTORY_MESSAGES of the history', async () => {
    const { url } = await serve({ CHAT_HISTORY_MESSAGES: '2' });
    const socket = await connect(url);
    const history = ['one', 'two', 'three', 'four'].map((content, index) => ({ role: index % 2 === 0 ? ('user' as const) : ('assistant' as const), content }));
    await socket.ask({ type: 'chat', message: relatedQuestion, history });
    expect(harness.fake().completionRequests[0]!.messages.map((message) => message.content).slice(1)).toEqual(['three', 'four', relatedQuestion]);
  });

  it('stops the answer on cancel, closes the upstream request and ends with done cancelled', async () => {
    const socket = await startLongAnswer();
    const cancelledAt = performance.now();
    socket.send({ type: 'cancel' });
    const done = await socket.waitFor((frame) => frame.type === 'done');
    expect(done).toMatchObject({ finish_reason: 'cancelled' });
    await harness.fake().waitForNoOpenStreams(1_000);
    expect(performance.now() - cancelledAt).toBeLessThan(500);
    expect(harness.fake().abortedStreams).toBe(1);
    expect(socket.frames.filter((frame) => frame.type === 'token').length).toBeLessThan(50);
    // The socket takes the next question.
    harness.fake().tokenDelayMs = 0;
    const next = await socket.ask({ type: 'chat', message: relatedQuestion });
    expect(types(next)[0]).toBe('sources');
  });

  it('aborts the upstream request when the socket closes mid-answer', async () => {
    const socket = await startLongAnswer();
    await socket.close();
    await harness.fake().waitForNoOpenStreams(1_000);
    expect(harness.fake().abortedStreams).toBe(1);
  });

  it('refuses a second chat while one is in flight, and finishes the first', async () => {
    harness.fake().tokenDelayMs = 30;
    const { url } = await serve();
    const socket = await connect(url);
    socket.send({ type: 'chat', message: relatedQuestion });
    await socket.waitFor((frame) => frame.type === 'sources');
    socket.send({ type: 'chat', message: relatedQuestion });
    const busy = await socket.waitFor((frame) => frame.type === 'error');
    expect(busy).toMatchObject({ code: 'busy' });
    await socket.waitFor((frame) => frame.type === 'done');
    expect(socket.frames.filter((frame) => frame.type === 'done')).toHaveLength(1);
    expect(harness.fake().completionRequests).toHaveLength(1);
  });

  it.each([
    ['malformed JSON', '{"type":"chat",', /JSON/],
    ['an unknown type', JSON.stringify({ type: 'shout' }), /type/],
    ['a schema violation', JSON.stringify({ type: 'chat', message: 'x', top_k: 0 }), /top_k/],
    ['an empty message', JSON.stringify({ type: 'chat', message: '  ' }), /message/],
  ])('answers %s with a bad_request error and keeps the socket usable', async (_case, frame, pattern) => {
    const { url } = await serve();
    const socket = await connect(url);
    socket.send(frame);
    const error = await socket.waitFor((received) => received.type === 'error');
    expect(error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(pattern) });
    const next = await socket.ask({ type: 'chat', message: relatedQuestion });
    expect(types(next).at(-1)).toBe('done');
  });

  it('answers a frame over WS_MAX_FRAME_BYTES with frame_too_large and keeps the socket open', async () => {
    const { url } = await serve({ WS_MAX_FRAME_BYTES: '1024' });
    const socket = await connect(url);
    socket.send({ type: 'chat', message: 'x'.repeat(2_000) });
    expect(await socket.waitFor((frame) => frame.type === 'error')).toMatchObject({ code: 'frame_too_large' });
    const next = await socket.ask({ type: 'chat', message: relatedQuestion });
    expect(types(next).at(-1)).toBe('done');
  });

  it(`closes with 1009 a frame above ${TRANSPORT_FRAME_HEADROOM} times WS_MAX_FRAME_BYTES, before the handler buffers it`, async () => {
    const { url } = await serve({ WS_MAX_FRAME_BYTES: '1024' });
    const socket = await connect(url);
    socket.send('x'.repeat(5_000));
    expect(await socket.closed).toBe(1009);
  });

  it('says model loading, waits, then answers once /health turns 200', async () => {
    harness.fake().mode = 'loading';
    const { url } = await serve({ LLM_READY_WAIT_MS: '5000' });
    const socket = await connect(url);
    socket.send({ type: 'chat', message: relatedQuestion });
    await socket.waitFor((frame) => frame.type === 'status');
    expect(socket.frames.at(-1)).toMatchObject({ type: 'status', message: 'model loading' });
    setTimeout(() => harness.fake().ready(), 300);
    const done = await socket.waitFor((frame) => frame.type === 'done');
    expect(done).toMatchObject({ finish_reason: 'stop' });
    expect(types(socket.frames)).toEqual(['status', 'sources', ...harness.fake().tokens.map(() => 'token'), 'done']);
  });

  it('gives up with llm_loading after LLM_READY_WAIT_MS', async () => {
    harness.fake().mode = 'loading';
    const { url } = await serve({ LLM_READY_WAIT_MS: '400' });
    const socket = await connect(url);
    const started = performance.now();
    const frames = await socket.ask({ type: 'chat', message: relatedQuestion });
    expect(types(frames)).toEqual(['status', 'error', 'done']);
    expect(frames[1]).toMatchObject({ code: 'llm_loading' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(380);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('GET /ws/llm before the upgrade', () => {
  it('answers a plain GET with 426 and the JSON error body', async () => {
    const { httpURL } = await serve();
    const response = await fetch(httpURL);
    expect(response.status).toBe(426);
    expect(await response.json()).toEqual({ error: { code: 'upgrade_required', message: expect.any(String) } });
  });

  it('refuses an Origin outside ALLOWED_ORIGINS with 403 and accepts a listed one', async () => {
    const { url, httpURL } = await serve({ ALLOWED_ORIGINS: 'https://chat.example, http://localhost:5173' });
    await expect(connectChatSocket(url, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
    expect((await rawUpgrade(httpURL, 'https://evil.example')).status).toBe(403);
    // Node writes no body on a refused upgrade; a plain GET shows the error body.
    const refused = await fetch(httpURL, { headers: { Origin: 'https://evil.example' } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'origin_not_allowed' } });
    const socket = await connect(url, { origin: 'http://localhost:5173' });
    expect(types(await socket.ask(relatedQuestion)).at(-1)).toBe('done');
  });

  it('accepts only the page\'s own origin (and no Origin) when ALLOWED_ORIGINS is empty', async () => {
    const { url, httpURL } = await serve();
    await expect(connectChatSocket(url, { origin: 'https://anywhere.example' })).rejects.toThrow(/403/);
    expect((await rawUpgrade(httpURL, 'http://localhost:1')).status).toBe(403);
    const own = await connect(url, { origin: new URL(httpURL).origin });
    expect(types(await own.ask(relatedQuestion)).at(-1)).toBe('done');
    const noOrigin = await connect(url);
    expect(types(await noOrigin.ask(relatedQuestion)).at(-1)).toBe('done');
  });

  it('accepts any Origin when ALLOWED_ORIGINS is *', async () => {
    const { url } = await serve({ ALLOWED_ORIGINS: '*' });
    const socket = await connect(url, { origin: 'https://anywhere.example' });
    expect(types(await socket.ask(relatedQuestion)).at(-1)).toBe('done');
  });

  it('documents the protocol in the OpenAPI description of /ws/llm', async () => {
    const { app } = await serve();
    const document = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'test', version: '0' } });
    const operation = document.paths?.['/ws/llm']?.get;
    expect(operation?.description).toContain('"type":"sources"');
    expect(Object.keys(operation?.responses ?? {})).toEqual(expect.arrayContaining(['101', '403', '426']));
  });
});
