import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenNode } from '../../functions/runtime/node.ts';
import { databaseLane } from '../support/test-environment.ts';
import { jsonRequest, startKnowledgeApp } from '../support/knowledge-app.ts';

type Harness = Awaited<ReturnType<typeof startKnowledgeApp>>;
let harness: Harness;
let server: Awaited<ReturnType<typeof listenNode>>;

// A short correctness run of the load lane; bench figures (30 s, p50/p99) come from a bench script.
const CONNECTIONS = 50;
const DURATION_SECONDS = 5;

beforeAll(async () => {
  // The per-client rate limit would answer one client at full speed with 429s: this measures the service.
  harness = await startKnowledgeApp({ RATE_LIMIT_REQUESTS: '0' });
  const response = await harness.app.request(
    '/api/v1/knowledge/add-document',
    jsonRequest('POST', { source: 'load/guide.md', content: 'local-rag stores chunks in PostgreSQL with pgvector. Search is hybrid: vectors and full text.' }),
  );
  expect(response.status).toBe(201);
  server = await listenNode(harness.app, { port: 0, host: '127.0.0.1', maxFrameBytes: harness.config.chat.maxFrameBytes });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await harness?.close();
});

describe(`search under load on ${databaseLane()} PostgreSQL`, () => {
  it(`answers every search of ${CONNECTIONS} concurrent connections with 200 and no errors`, async () => {
    const result = await autocannon({
      url: `http://127.0.0.1:${server.port}/api/v1/knowledge/search`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'Where are chunks stored?', top_k: 3 }),
      connections: CONNECTIONS,
      duration: DURATION_SECONDS,
    });
    expect(result.requests.total).toBeGreaterThan(CONNECTIONS);
    expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx }).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
  }, 120_000);
});
