import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenNode } from '../../functions/runtime/node.ts';
import type { RunningServer } from '../../functions/runtime/runtime.ts';
import { createChatPageRoutes } from '../../lib/http/chat-page.ts';
import { buildWeb } from '../../scripts/build-web.ts';
import { chromiumAvailable, launchBrowser } from './support/browser.ts';
import type { Browser } from './support/browser.ts';
import { startPrefixProxy } from './support/prefix-proxy.ts';
import type { PrefixProxy } from './support/prefix-proxy.ts';
import { FIRST_TOKENS, mountScriptedChatPeer, REST_TOKENS } from './support/scripted-chat-peer.ts';
import type { ScriptedChatPeer } from './support/scripted-chat-peer.ts';
import { describeWhenPresent } from '../support/requirements.ts';

const CHROMIUM = { present: chromiumAvailable, missing: 'no chromium (bash scripts/browser.sh installs it)' };

const resultsDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-results');

let scratch: string;
let server: RunningServer;
let peer: ScriptedChatPeer;
let browser: Browser;

beforeAll(async () => {
  if (!chromiumAvailable) return;
  scratch = await mkdtemp(path.join(tmpdir(), 'chat-page-browser-'));
  const built = await buildWeb({ outDirectory: path.join(scratch, 'dist') });
  const app = new Hono();
  app.route('/', createChatPageRoutes({ distDirectory: built.outDirectory }));
  peer = mountScriptedChatPeer(app);
  server = await listenNode(app, { port: 0, host: '127.0.0.1', maxFrameBytes: 16 * 1024 });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Opens the page and records what a user would not see: requests, socket URLs, script errors. */
async function openPage(url: string) {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(5_000);
  const requests: string[] = [];
  const socketUrls: string[] = [];
  const pageErrors: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('websocket', (socket) => socketUrls.push(socket.url()));
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(url);
  await page.locator('#connection[data-state="open"]').waitFor();
  return { page, requests, socketUrls, pageErrors };
}

const lastTurn = (page: Page) => page.locator('.turn').last();
const answerText = (page: Page) => lastTurn(page).locator('.answer-text').textContent();
const lastFrame = () => peer.received.at(-1);

async function ask(page: Page, question: string) {
  await page.locator('#question').fill(question);
  await page.locator('#question').press('Enter');
}

describeWhenPresent(CHROMIUM, 'chat page in chromium against a scripted /ws/llm peer', { timeout: 30_000 }, () => {
  let page: Page;
  let opened: Awaited<ReturnType<typeof openPage>>;

  beforeAll(async () => {
    opened = await openPage(`http://127.0.0.1:${server.port}/`);
    page = opened.page;
  });

  it('loads from its own origin only and connects to ws://127.0.0.1:<port>/ws/llm', async () => {
    expect(opened.socketUrls).toEqual([`ws://127.0.0.1:${server.port}/ws/llm`]);
    const origin = `http://127.0.0.1:${server.port}/`;
    expect(opened.requests.filter((url) => !url.startsWith(origin))).toEqual([]);
    expect(await page.locator('#connection').textContent()).toBe('Connected');
    expect(await page.getByLabel('Your question').isEditable()).toBe(true);
  });

  it('streams tokens as they arrive, with numbered sources and expandable excerpts', async () => {
    await ask(page, 'What is pgvector?');
    // The peer holds the rest of the answer back: the page must show the first tokens on their own.
    await expect.poll(() => answerText(page)).toBe(FIRST_TOKENS.join(''));
    expect(await lastTurn(page).getAttribute('data-state')).toBe('streaming');
    expect(await page.locator('#question').isDisabled()).toBe(true);
    expect(await page.locator('#send').isDisabled()).toBe(true);
    expect(await page.locator('#stop').isVisible()).toBe(true);
    expect(lastFrame()).toEqual({ type: 'chat', message: 'What is pgvector?', history: [] });

    const sources = lastTurn(page).locator('.source');
    expect(await sources.locator('.source-label').allTextContents()).toEqual(['[1] guide.md #0', '[2] ops/indexes.md #3']);
    expect(await sources.first().locator('.score').textContent()).toBe('score 0.83');
    const excerpt = sources.first().locator('.excerpt');
    expect(await excerpt.isVisible()).toBe(false);
    await sources.first().locator('summary').click();
    expect(await excerpt.isVisible()).toBe(true);
    expect(await excerpt.textContent()).toContain('pgvector adds a vector column type');

    peer.release();
    await lastTurn(page).locator('xpath=self::*[@data-state="done"]').waitFor();
    expect(await answerText(page)).toBe([...FIRST_TOKENS, ...REST_TOKENS].join(''));
    expect(await page.locator('#question').isEditable()).toBe(true);
    expect(await page.locator('#stop').isVisible()).toBe(false);
    expect(await lastTurn(page).locator('.answer').getAttribute('aria-busy')).toBe('false');
  });

  it('sends the conversation as history, shows "model loading", and Stop sends cancel and frees the input', async () => {
    await ask(page, 'Tell me a long story');
    const notice = lastTurn(page).locator('.notice');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('loading');
    await expect.poll(() => answerText(page)).toContain('word3 ');
    expect(await notice.count()).toBe(0);
    await mkdir(resultsDirectory, { recursive: true });
    await page.screenshot({ path: path.join(resultsDirectory, 'chat-page-streaming.png') });
    expect(lastFrame()).toEqual({
      type: 'chat',
      message: 'Tell me a long story',
      history: [
        { role: 'user', content: 'What is pgvector?' },
        { role: 'assistant', content: [...FIRST_TOKENS, ...REST_TOKENS].join('') },
      ],
    });

    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => lastFrame()).toEqual({ type: 'cancel' });
    await lastTurn(page).locator('xpath=self::*[@data-state="stopped"]').waitFor();
    expect(await page.locator('#question').isEditable()).toBe(true);
    expect(await page.locator('#stop').isVisible()).toBe(false);
    const stoppedAt = await answerText(page);
    await page.waitForTimeout(300);
    expect(await answerText(page)).toBe(stoppedAt);
    expect(await lastTurn(page).locator('.turn-note').textContent()).toBe('Stopped.');
  });

  it('shows 资料不足 as "not enough information", distinct from an error', async () => {
    await ask(page, 'Who won an unrelated football match?');
    const insufficient = lastTurn(page).locator('.insufficient');
    await insufficient.waitFor();
    expect(await insufficient.locator('[lang="zh"]').textContent()).toBe('资料不足');
    expect(await insufficient.textContent()).toContain('do not contain enough information');
    expect(await lastTurn(page).locator('[role="alert"]').count()).toBe(0);
    await lastTurn(page).locator('xpath=self::*[@data-state="insufficient"]').waitFor();

    await ask(page, 'please fail');
    const error = lastTurn(page).locator('[role="alert"]');
    await error.waitFor();
    expect(await error.textContent()).toBe('The language model is unavailable; try again shortly.');
    expect(await lastTurn(page).getAttribute('data-state')).toBe('error');
    expect(await page.locator('#question').isEditable()).toBe(true);

    const background = (selector: string) => page.locator(selector).last().evaluate((node) => getComputedStyle(node).backgroundColor);
    expect(await background('.insufficient')).not.toBe(await background('.error'));
  });

  it('keeps a question too long for one frame in the input and says so instead of sending it', async () => {
    const framesBefore = peer.received.length;
    const turnsBefore = await page.locator('.turn').count();
    const tooLong = '问'.repeat(6_000); // 18,000 UTF-8 bytes, over the 16 KiB frame limit
    await ask(page, tooLong);
    await page.locator('.log > .notice').filter({ hasText: 'too long' }).waitFor();
    expect(await page.locator('#question').inputValue()).toBe(tooLong);
    expect(await page.locator('.turn').count()).toBe(turnsBefore);
    expect(peer.received.length).toBe(framesBefore);
    expect(await page.locator('#connection').getAttribute('data-state')).toBe('open');
    await page.locator('#question').fill('');
  });

  it('marks the answer interrupted when the socket drops, reconnects, and keeps the history', async () => {
    const connectionsBefore = peer.connections;
    await ask(page, 'Please drop the connection');
    await page.locator('#connection[data-state="reconnecting"]').waitFor();
    expect(await page.locator('#connection').textContent()).toMatch(/^Reconnecting…/);
    expect(await lastTurn(page).getAttribute('data-state')).toBe('interrupted');
    expect(await lastTurn(page).locator('.turn-note').textContent()).toContain('interrupted');
    expect(await answerText(page)).toBe('Once upon ');

    await page.locator('#connection[data-state="open"]').waitFor({ timeout: 5_000 });
    expect(peer.connections).toBe(connectionsBefore + 1);

    await ask(page, 'And which index should I use?');
    await expect.poll(() => answerText(page)).toBe(FIRST_TOKENS.join(''));
    peer.release();
    await lastTurn(page).locator('xpath=self::*[@data-state="done"]').waitFor();
    // Stopped, insufficient, failed and interrupted exchanges are not history; the first answer is.
    expect(lastFrame()).toMatchObject({ type: 'chat', message: 'And which index should I use?', history: [{ role: 'user', content: 'What is pgvector?' }, { role: 'assistant' }] });
    expect(opened.pageErrors).toEqual([]);

    await mkdir(resultsDirectory, { recursive: true });
    await page.screenshot({ path: path.join(resultsDirectory, 'chat-page.png'), fullPage: true });
  });
});

describeWhenPresent(CHROMIUM, 'chat page behind a proxy that serves it under /rag/', { timeout: 30_000 }, () => {
  let proxy: PrefixProxy;

  beforeAll(async () => {
    proxy = await startPrefixProxy('/rag', server.port);
  });

  afterAll(async () => {
    await proxy?.close();
  });

  it('loads its assets and connects to ws://127.0.0.1:<proxy port>/rag/ws/llm', async () => {
    for (const pathname of ['/rag/', '/rag/index.html', '/rag']) {
      const { page, socketUrls, requests, pageErrors } = await openPage(`http://127.0.0.1:${proxy.port}${pathname}`);
      expect(socketUrls).toEqual([`ws://127.0.0.1:${proxy.port}/rag/ws/llm`]);
      expect(requests.every((url) => url.startsWith(`http://127.0.0.1:${proxy.port}/rag`))).toBe(true);
      expect(peer.upgradePaths.at(-1)).toBe('/ws/llm');

      await ask(page, `Through the proxy from ${pathname}?`);
      await expect.poll(() => answerText(page)).toBe(FIRST_TOKENS.join(''));
      peer.release();
      await lastTurn(page).locator('xpath=self::*[@data-state="done"]').waitFor();
      expect(pageErrors).toEqual([]);
      await page.close();
    }
  });
});
