// Drives a running service (the Deno smoke test's, started with API_KEY, READ_API_KEY,
// WS_MAX_CONNECTIONS=4 and WS_PING_INTERVAL_MS=1000) over real HTTP and sockets: the same
// rules as the Node suites (tests/knowledge/http-security.test.ts, chat-socket-security.test.ts)
// hold on this runtime. Prints one line per check; exit 1 on the first failure.
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { connectChatSocket, type ChatSocketClient } from '../../scripts/eval/chat-socket-client.ts';
import { CHAT_SUBPROTOCOL, keySubprotocol } from '../../lib/http/websocket-subprotocol.ts';

const [base, writeKey, readKey] = process.argv.slice(2);
if (!base || !writeKey || !readKey) {
  console.error('usage: tsx tests/deno/http-security-check.ts <http://host:port> <API_KEY> <READ_API_KEY>');
  process.exit(2);
}
const socketUrl = `${base.replace(/^http/, 'ws')}/ws/llm`;
const MAX_CONNECTIONS = 4;
const DEAD_PEER_WAIT_MS = 10_000;

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** GET with a Host header of our choosing (fetch will not send one). */
function getWithHost(path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${base}${path}`, { headers: { Host: host, Authorization: `Bearer ${readKey}` } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}

const json = (body: unknown, key?: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
  body: JSON.stringify(body),
});

/** A WebSocket upgrade with a browser's headers; resolves with the status and the subprotocol answered. */
function browserUpgrade(protocols: string): Promise<{ status: number; protocol?: string }> {
  return new Promise((resolve, reject) => {
    const headers = { Origin: base!, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': protocols };
    const request = httpRequest(`${base}/ws/llm`, { headers }, (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0 });
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0, protocol: response.headers['sec-websocket-protocol'] });
    });
    request.on('error', reject);
    request.end();
  });
}

const passed: string[] = [];
const step = async (name: string, run: () => Promise<void>) => {
  await run();
  passed.push(name);
  console.log(`ok   ${name}`);
};

await step('nosniff, Referrer-Policy and a caller X-Request-Id echoed', async () => {
  const response = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'deno-check-1' } });
  check(response.headers.get('x-content-type-options') === 'nosniff', 'no nosniff');
  check(response.headers.get('referrer-policy') === 'no-referrer', 'no Referrer-Policy');
  check(response.headers.get('x-request-id') === 'deno-check-1', `X-Request-Id ${response.headers.get('x-request-id')}`);
});
await step('/docs has its CSP with frame-ancestors', async () => {
  const policy = (await fetch(`${base}/docs`)).headers.get('content-security-policy') ?? '';
  check(policy.includes("frame-ancestors 'none'") && policy.includes("script-src 'self'"), `CSP ${policy}`);
});
await step('a rebinding Host gets 421', async () => {
  check((await getWithHost('/api/v1/knowledge/documents', 'rebind.attacker.example')) === 421, 'not 421');
  check((await getWithHost('/api/v1/knowledge/documents', 'localhost:1')) === 200, 'localhost refused');
});
await step('keys: 401 without, READ_API_KEY reads, 403 when it writes', async () => {
  check((await fetch(`${base}/api/v1/knowledge/search`, json({ query: 'x' }))).status === 401, 'search without key');
  check((await fetch(`${base}/api/v1/knowledge/documents`, { headers: { authorization: `Bearer ${readKey}` } })).status === 200, 'list with read key');
  check((await fetch(`${base}/api/v1/knowledge/add-document`, json({ source: 'r', content: 'r' }, readKey))).status === 403, 'add with read key');
});
await step('a search body over MAX_REQUEST_BYTES gets 413', async () => {
  const response = await fetch(`${base}/api/v1/knowledge/search`, json({ query: 'x'.repeat(100_000) }, readKey));
  check(response.status === 413, `status ${response.status}`);
});
await step('deep metadata gets 400', async () => {
  const deep = JSON.parse('{"a":'.repeat(3000) + '1' + '}'.repeat(3000));
  const response = await fetch(`${base}/api/v1/knowledge/add-document`, json({ source: 'deep', content: 'deep', metadata: deep }, writeKey));
  check(response.status === 400, `status ${response.status}`);
});
await step('/ws/llm: another origin 403, no key 401, the read key as a subprotocol opens with local-rag.v1', async () => {
  await connectChatSocket(socketUrl, { origin: 'https://evil.example', headers: { Authorization: `Bearer ${readKey}` } }).then(
    () => check(false, 'foreign origin opened'),
    (error: Error) => check(/403/.test(error.message), error.message),
  );
  await connectChatSocket(socketUrl).then(
    () => check(false, 'opened without a key'),
    (error: Error) => check(/401/.test(error.message), error.message),
  );
  // As a browser sends it (", " between entries; the ws client joins with "," alone).
  const answered = await browserUpgrade(`${CHAT_SUBPROTOCOL}, ${keySubprotocol(readKey)}`);
  check(answered.status === 101 && answered.protocol === CHAT_SUBPROTOCOL, `upgrade ${answered.status}, protocol ${answered.protocol}`);
  check((await browserUpgrade(`${CHAT_SUBPROTOCOL}, ${keySubprotocol('wrong')}`)).status === 401, 'wrong key in the subprotocol');
});
await step(`/ws/llm: the upgrade past WS_MAX_CONNECTIONS (${MAX_CONNECTIONS}) gets 503`, async () => {
  const open: ChatSocketClient[] = [];
  try {
    for (let index = 0; index < MAX_CONNECTIONS; index++) open.push(await connectChatSocket(socketUrl, { headers: { Authorization: `Bearer ${readKey}` } }));
    await connectChatSocket(socketUrl, { headers: { Authorization: `Bearer ${readKey}` } }).then(
      (extra) => {
        open.push(extra);
        check(false, 'opened past the limit');
      },
      (error: Error) => check(/503/.test(error.message), error.message),
    );
  } finally {
    await Promise.all(open.map((socket) => socket.close()));
  }
});
await step('/ws/llm: a peer that stops answering pings is dropped', async () => {
  // The slots of the sockets just closed are freed when Deno reports their close.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const silent = new WebSocket(socketUrl, { autoPong: false, headers: { Authorization: `Bearer ${readKey}` } });
  await new Promise((resolve, reject) => silent.once('open', resolve).once('error', reject).once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`))));
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), DEAD_PEER_WAIT_MS);
    silent.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  silent.terminate();
  check(closed, `still open after ${DEAD_PEER_WAIT_MS} ms without pongs`);
});
console.log(`http security on Deno: ${passed.length} passed, 0 failed`);
process.exit(0);
