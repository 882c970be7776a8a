// The README's promise in a browser: `npm start` with no LLM_BASE_URL (the embedded chat
// runtime; LLM_MODEL_FILE = the stories260K fixture instead of the 1 GB download) and the
// chat page answers. A real process, real chromium; asserts what the page shows, never wording.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../scripts/build-web.ts';
import { fixtureChatModel } from '../support/chat-model-fixture.ts';
import { freePort, startServiceProcess, stopServiceProcess, waitUntil } from '../support/service-process.ts';
import { chromiumAvailable, launchBrowser, type Browser } from './support/browser.ts';
import { describeWhenPresent } from '../support/requirements.ts';

const CHROMIUM = { present: chromiumAvailable, missing: 'no chromium (bash scripts/browser.sh installs it)' };

const DOCUMENT = { source: 'guide/pgvector.md', content: 'pgvector is a PostgreSQL extension that stores embedding vectors in a vector column and finds the nearest neighbours by cosine distance.' };
const QUESTION = 'How does pgvector find the nearest neighbours of an embedding vector?';

let scratch: string;
let service: ReturnType<typeof startServiceProcess> | undefined;
let browser: Browser | undefined;
let page: Page;
let port: number;

beforeAll(async () => {
  if (!chromiumAvailable) return;
  await buildWeb();
  scratch = await mkdtemp(path.join(tmpdir(), 'chat-page-embedded-'));
  port = await freePort();
  service = startServiceProcess({ DATA_DIR: path.join(scratch, 'data'), MODELS_DIR: path.join(scratch, 'models'), PORT: String(port), FUNCTIONS: 'all', LLM_MODEL_FILE: fixtureChatModel(), LLM_MAX_TOKENS: '64', RAG_MIN_SCORE: '0.6' });
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 180_000, '/readyz 200 (knowledge base and embedded chat model)');
  const added = await fetch(`http://127.0.0.1:${port}/api/v1/knowledge/add-document`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(DOCUMENT) });
  expect(added.status).toBe(201);
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (service) await stopServiceProcess(service.child);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describeWhenPresent(CHROMIUM, 'chat page with npm start and no LLM_BASE_URL (embedded chat model)', { timeout: 120_000 }, () => {
  it('answers a question with streamed tokens and its sources', async () => {
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.locator('#connection[data-state="open"]').waitFor();
    await page.locator('#question').fill(QUESTION);
    await page.locator('#question').press('Enter');
    const turn = page.locator('.turn').last();
    await turn.locator('.source').first().waitFor();
    await expect.poll(() => turn.getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    expect((await turn.locator('.answer-text').textContent())?.trim().length).toBeGreaterThan(0);
    expect(await turn.locator('[role="alert"]').count()).toBe(0);
    await page.screenshot({ path: path.resolve('test-results/chat-page-embedded.png'), fullPage: true });
  });
});
