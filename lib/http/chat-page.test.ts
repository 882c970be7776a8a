import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../scripts/build-web.ts';
import type { BuildWebResult } from '../../scripts/build-web.ts';
import { createChatPageRoutes } from './chat-page.ts';

let scratch: string;
let built: BuildWebResult;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'chat-page-'));
  built = await buildWeb({ outDirectory: path.join(scratch, 'dist') });
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('GET / (chat page)', () => {
  it('serves the page as revalidated HTML that links its assets relatively', async () => {
    const routes = createChatPageRoutes({ distDirectory: built.outDirectory });
    for (const pathname of ['/', '/index.html']) {
      const response = await routes.request(pathname);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      const html = await response.text();
      expect(html).toContain(`src="./${built.script}"`);
      expect(html).toContain(`href="./${built.stylesheet}"`);
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
  });

  it('serves the hashed script and stylesheet with their types, cached for good', async () => {
    const routes = createChatPageRoutes({ distDirectory: built.outDirectory });
    const script = await routes.request(`/${built.script}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect(await script.text()).toContain('/ws/llm');
    const stylesheet = await routes.request(`/${built.stylesheet}`);
    expect(stylesheet.headers.get('content-type')).toBe('text/css; charset=utf-8');
    // No web fonts or remote images: the page must work without any outside host.
    expect(await stylesheet.text()).not.toMatch(/@import|@font-face|url\(\s*["']?(https?:)?\/\//);
  });

  it('returns 404 for assets it did not build and for names that try to leave the folder', async () => {
    const routes = createChatPageRoutes({ distDirectory: built.outDirectory });
    expect((await routes.request('/assets/app-MISSING.js')).status).toBe(404);
    expect((await routes.request('/assets/..%2F..%2Fpackage.json')).status).toBe(404);
  });

  it('answers 503 page_not_built when the build output is missing', async () => {
    const routes = createChatPageRoutes({ distDirectory: path.join(scratch, 'never-built') });
    const response = await routes.request('/');
    expect(response.status).toBe(503);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('page_not_built');
    expect(body.error.message).toContain('build:web');
  });

  it('bakes VITE_API_URL into the script at build time', async () => {
    const other = await buildWeb({ outDirectory: path.join(scratch, 'with-api-url'), apiUrl: 'https://api.example.test/rag' });
    const script = await createChatPageRoutes({ distDirectory: other.outDirectory }).request(`/${other.script}`);
    expect(await script.text()).toContain('https://api.example.test/rag');
  });
});
