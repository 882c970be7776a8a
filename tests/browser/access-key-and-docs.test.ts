// The chat page against the real ws-chat app with API_KEY set (issue 10): it asks for the key
// once, keeps it for the tab, never puts it in a URL; and /docs renders under its CSP.
// Knowledge in memory and the fault-injecting LLM stand-in: this lane is about the page.
import type { ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app.ts';
import { listenNode, nodeClientAddress, nodeUpgradeWebSocket } from '../../functions/runtime/node.ts';
import type { RunningServer } from '../../functions/runtime/runtime.ts';
import { createHashEmbedder } from '../support/hash-embedder.ts';
import { addDocumentToKnowledgeBase } from '../../lib/knowledge/knowledge-base.ts';
import { createMemoryStore } from '../support/memory-store.ts';
import { PERMISSIVE_THRESHOLDS } from '../../lib/knowledge/sufficiency.ts';
import { createChatModel } from '../../lib/llm/chat-model.ts';
import { buildWeb } from '../../scripts/build-web.ts';
import { startFakeLlmServer, type FakeLlmServer } from '../support/fake-llm-server.ts';
import { testConfig } from '../support/test-environment.ts';
import { chromiumAvailable, launchBrowser, type Browser } from './support/browser.ts';
import { describeWhenPresent } from '../support/requirements.ts';

const CHROMIUM = { present: chromiumAvailable, missing: 'no chromium (bash scripts/browser.sh installs it)' };

const WRITE_KEY = 'page-write-key';
const READ_KEY = 'page-read-key';

let server: RunningServer;
let fake: FakeLlmServer;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  if (!chromiumAvailable) return;
  // createApp serves web/dist: build the current source there.
  await buildWeb();
  fake = await startFakeLlmServer();
  const config = testConfig({ FUNCTIONS: 'all', API_KEY: WRITE_KEY, READ_API_KEY: READ_KEY, LLM_BASE_URL: fake.baseURL });
  const knowledge = { store: createMemoryStore(), embedder: createHashEmbedder(), chunking: config.chunking };
  await addDocumentToKnowledgeBase(knowledge, { source: 'guide.md', content: 'pgvector stores embeddings in PostgreSQL and finds neighbours by cosine distance.' });
  const app = createApp({
    config,
    knowledge: () => knowledge,
    readiness: async () => ({ ready: true, checks: {} }),
    chat: { chatModel: createChatModel(config.llm), thresholds: PERMISSIVE_THRESHOLDS, upgradeWebSocket: nodeUpgradeWebSocket },
    clientAddress: nodeClientAddress,
  });
  server = await listenNode(app, { port: 0, host: '127.0.0.1', maxFrameBytes: config.chat.maxFrameBytes });
  origin = `http://127.0.0.1:${server.port}`;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fake?.close();
});

/** A page that records what a user would not see: socket URLs, requests, script errors and console errors. */
async function openPage(path: string) {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(10_000);
  const socketUrls: string[] = [];
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('websocket', (socket) => socketUrls.push(socket.url()));
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' && !message.text().includes('401')) problems.push(message.text());
  });
  await page.goto(`${origin}${path}`);
  return { page, socketUrls, requests, problems };
}

async function submitKey(page: Page, key: string) {
  await page.getByLabel('This server needs an access key').fill(key);
  await page.getByRole('button', { name: 'Connect' }).click();
}

describeWhenPresent(CHROMIUM, 'chat page with API_KEY set, in chromium', { timeout: 60_000 }, () => {
  it('asks for the key, refuses a wrong one, connects with the read key and answers', async () => {
    const { page, socketUrls, requests } = await openPage('/');
    await page.locator('#key-form').waitFor({ state: 'visible' });
    expect(await page.locator('#connection').textContent()).toBe('Access key needed');
    expect(await page.locator('#key-error').isVisible()).toBe(false);

    await submitKey(page, 'not-the-key');
    await page.locator('#key-error').waitFor({ state: 'visible' });
    expect(await page.locator('#key-form').isVisible()).toBe(true);

    await submitKey(page, READ_KEY);
    await page.locator('#connection[data-state="open"]').waitFor();
    expect(await page.locator('#key-form').isVisible()).toBe(false);
    await page.locator('#question').fill('How does pgvector find neighbours?');
    await page.locator('#question').press('Enter');
    await page.locator('.turn[data-state="done"]').waitFor();
    expect(await page.locator('.turn .source-label').first().textContent()).toContain('guide.md');

    // The key is in no URL the page opened.
    for (const url of [...socketUrls, ...requests]) expect(url).not.toContain(READ_KEY);
    expect(socketUrls.every((url) => url === `ws://127.0.0.1:${server.port}/ws/llm`)).toBe(true);

    // Kept for the tab: a reload connects without asking.
    await page.reload();
    await page.locator('#connection[data-state="open"]').waitFor();
    expect(await page.locator('#key-form').isVisible()).toBe(false);
    await page.close();

    // Another tab does not have it.
    const other = await openPage('/');
    await other.page.locator('#key-form').waitFor({ state: 'visible' });
    await other.page.close();
  });
});

describeWhenPresent(CHROMIUM, '/docs in chromium', { timeout: 60_000 }, () => {
  it('renders Swagger UI under its Content-Security-Policy without violations', async () => {
    const { page, problems } = await openPage('/docs');
    const response = await page.request.get(`${origin}/docs`);
    expect(response.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.locator('.swagger-ui .info .title').waitFor();
    expect(await page.locator('.swagger-ui .info .title').textContent()).toContain('local-rag');
    // The operations came from openapi.json (fetched under connect-src 'self').
    await page.locator('.opblock-summary-path', { hasText: '/api/v1/knowledge/search' }).first().waitFor();
    expect(problems.filter((problem) => /Content Security Policy|Refused to/i.test(problem))).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
