// Second lane: the chat page in chromium against the real bundled service (`startService`,
// as `npm start` runs it: embedded PGlite, the fixture embedding model, ws-chat) and a real
// llama-server with the stories260K fixture model. The model writes children's stories, so
// this asserts what the page shows and when, never the wording of an answer.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenNode, nodeUpgradeWebSocket } from '../../functions/runtime/node.ts';
import { startService } from '../../functions/start-service.ts';
import type { RunningService } from '../../functions/start-service.ts';
import { buildWeb } from '../../scripts/build-web.ts';
import { startLlamaServer } from '../support/llama-server.ts';
import type { RunningLlamaServer } from '../support/llama-server.ts';
import { testConfig } from '../support/test-environment.ts';
import { chromiumAvailable, launchBrowser } from './support/browser.ts';
import type { Browser } from './support/browser.ts';
import { describeWhenPresent } from '../support/requirements.ts';

const CHROMIUM = { present: chromiumAvailable, missing: 'no chromium (bash scripts/browser.sh installs it)' };

const resultsDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-results');

const DOCUMENTS = [
  { source: 'guide/pgvector.md', content: 'pgvector is a PostgreSQL extension that stores embedding vectors in a vector column and finds the nearest neighbours by cosine distance.' },
  { source: 'guide/indexes.md', content: 'An HNSW index makes approximate nearest neighbour search in pgvector fast, at the cost of a slower index build and more memory.' },
];
const RELATED_QUESTION = 'How does pgvector find the nearest neighbours of an embedding vector?';
const INDEX_QUESTION = 'Which index makes pgvector search fast?';
const UNRELATED_QUESTION = 'Who painted the ceiling of the Sistine Chapel?';
// Measured with the glove-static-384d fixture against DOCUMENTS: the related question's best
// cosine is 0.77, the index question's 0.86, the unrelated one's 0.19. MiniLM needs its own value (RAG_MIN_SCORE docs).
const MIN_SCORE = '0.6';

let scratch: string;
let llama: RunningLlamaServer;
let service: RunningService;
let browser: Browser;
let page: Page;
/** Every frame on the page's sockets, parsed, as the browser saw them. */
const sent: Array<Record<string, unknown>> = [];
const received: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  if (!chromiumAvailable) return;
  // createApp serves web/dist (what `npm install` builds): build the current source there.
  await buildWeb();
  scratch = await mkdtemp(path.join(tmpdir(), 'chat-page-live-'));
  llama = await startLlamaServer({ parallel: 2, ctxSize: 8192 });
  const config = testConfig({
    FUNCTIONS: 'all',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: path.join(scratch, 'data'),
    LLM_BASE_URL: llama.baseURL,
    LLM_API_KEY: llama.apiKey,
    LLM_MODEL: 'stories260K',
    RAG_MIN_SCORE: MIN_SCORE,
    // Long answers, so that Stop lands while tokens are still coming.
    LLM_MAX_TOKENS: '400',
  });
  service = await startService({
    config,
    runtime: {
      upgradeWebSocket: nodeUpgradeWebSocket,
      listen: (app) => listenNode(app, { port: 0, host: '127.0.0.1', maxFrameBytes: config.chat.maxFrameBytes }),
    },
  });
  await service.ready;
  for (const document of DOCUMENTS) {
    const response = await fetch(`http://127.0.0.1:${service.port}/api/v1/knowledge/add-document`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(document),
    });
    expect(response.status).toBe(201);
  }
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await llama?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const lastTurn = () => page.locator('.turn').last();
const turnState = () => lastTurn().getAttribute('data-state');

async function ask(question: string) {
  await page.locator('#question').fill(question);
  await page.locator('#question').press('Enter');
}

/** From now on, records the newest answer's length after every DOM change (one entry per batch of changes). */
async function watchAnswerGrowth() {
  await page.locator('#log').evaluate((log) => {
    const lengths: number[] = [];
    (window as unknown as { answerGrowth: number[] }).answerGrowth = lengths;
    new MutationObserver(() => {
      const answers = log.querySelectorAll('.answer-text');
      lengths.push(answers[answers.length - 1]?.textContent?.length ?? 0);
    }).observe(log, { childList: true, characterData: true, subtree: true });
  });
}

describeWhenPresent(CHROMIUM, 'chat page in chromium against the running service and a real llama-server', { timeout: 120_000 }, () => {
  it('connects through the service it was served from', async () => {
    const sockets: string[] = [];
    page.on('websocket', (socket) => {
      sockets.push(socket.url());
      socket.on('framesent', (frame) => sent.push(JSON.parse(String(frame.payload))));
      socket.on('framereceived', (frame) => received.push(JSON.parse(String(frame.payload))));
    });
    await page.goto(`http://127.0.0.1:${service.port}/`);
    await page.locator('#connection[data-state="open"]').waitFor();
    expect(sockets).toEqual([`ws://127.0.0.1:${service.port}/ws/llm`]);
  });

  it('answers 资料不足 for a question the documents do not cover, without calling the model', async () => {
    await ask(UNRELATED_QUESTION);
    await lastTurn().locator('.insufficient').waitFor();
    expect(await lastTurn().locator('.insufficient [lang="zh"]').textContent()).toBe('资料不足');
    await expect.poll(turnState).toBe('insufficient');
    expect(await lastTurn().locator('.source').count()).toBe(0);
    expect(await lastTurn().locator('[role="alert"]').count()).toBe(0);
  });

  it('streams a grounded answer token by token with its numbered sources', async () => {
    await watchAnswerGrowth();
    await ask(RELATED_QUESTION);
    expect(sent.at(-1)).toEqual({ type: 'chat', message: RELATED_QUESTION, history: [] });
    await lastTurn().locator('.source').first().waitFor();
    const labels = await lastTurn().locator('.source-label').allTextContents();
    expect(labels[0]).toMatch(/^\[1\] guide\/(pgvector|indexes)\.md #0$/);
    expect(labels.join(' ')).toContain('guide/pgvector.md');
    await expect.poll(turnState, { timeout: 60_000 }).toBe('done');
    const growth = await page.evaluate(() => (window as unknown as { answerGrowth: number[] }).answerGrowth);
    // A page that rendered the answer at the end would show one change; streaming shows many, each longer.
    expect(new Set(growth).size).toBeGreaterThan(5);
    expect(growth.every((length, index) => index === 0 || length >= growth[index - 1]!)).toBe(true);
    expect((await lastTurn().locator('.answer-text').textContent())!.length).toBeGreaterThan(0);
    expect(await page.locator('#question').isEditable()).toBe(true);
  });

  it('stops an answer mid-stream: the service confirms with done "cancelled" and the slot is freed', async () => {
    await ask(INDEX_QUESTION);
    await expect.poll(async () => ((await lastTurn().locator('.answer-text').textContent()) ?? '').length, { timeout: 30_000 }).toBeGreaterThan(0);
    const receivedBefore = received.length;
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(turnState).toBe('stopped');
    expect(sent.at(-1)).toEqual({ type: 'cancel' });
    // The page went idle on the service's answer to the cancel, not on its own fallback timer.
    expect(received.slice(receivedBefore).filter((frame) => frame.type === 'done')).toEqual([{ type: 'done', finish_reason: 'cancelled' }]);
    expect(await lastTurn().locator('.turn-note').textContent()).toBe('Stopped.');
    expect(await page.locator('#question').isEditable()).toBe(true);
    const busySlots = async () => {
      const response = await fetch(`${llama.origin}/slots`, { headers: { Authorization: `Bearer ${llama.apiKey}` } });
      const slots = (await response.json()) as Array<{ is_processing: boolean }>;
      return slots.filter((slot) => slot.is_processing).length;
    };
    await expect.poll(busySlots, { timeout: 5_000 }).toBe(0);

    await mkdir(resultsDirectory, { recursive: true });
    await page.screenshot({ path: path.join(resultsDirectory, 'chat-page-live.png'), fullPage: true });
  });
});
