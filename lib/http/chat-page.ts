import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Hono } from 'hono';

/** Where scripts/build-web.ts writes the page, found from this file so any working directory works. */
const DEFAULT_DIST = new URL('../../web/dist/', import.meta.url);

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

// Asset names carry a content hash (app-<hash>.js), so a given URL never changes content.
const IMMUTABLE = 'public, max-age=31536000, immutable';
// index.html names the current hashes: revalidate it on every load so a rebuild shows at once.
const REVALIDATE = 'no-cache';

export interface ChatPageOptions {
  /** The build output folder: a path, or a `file:` URL ending in `/`; web/dist by default. */
  distDirectory?: URL | string;
}

function isMissingFile(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || (error instanceof Error && error.name === 'NotFound');
}

/**
 * The chat page: `GET /` and `GET /index.html`, plus its hashed assets under `/assets/`.
 * Everything it references is relative (`./assets/…`), so the same routes work when a proxy
 * serves them under a sub-path such as `/rag/`. Without a build (`npm run build:web`) the
 * page answers 503 `page_not_built` instead of a bare 404.
 */
export function createChatPageRoutes(options: ChatPageOptions = {}): Hono {
  const given = options.distDirectory ?? DEFAULT_DIST;
  // A trailing slash makes the folder the base that `new URL('index.html', base)` resolves against.
  const distDirectory = typeof given === 'string' ? pathToFileURL(path.resolve(given) + path.sep) : given;
  const routes = new Hono();

  const servePage = async () => {
    let html: string;
    try {
      html = await readFile(new URL('index.html', distDirectory), 'utf8');
    } catch (error) {
      if (!isMissingFile(error)) throw error;
      const message = 'The chat page has not been built; run `npm run build:web` (npm install does it too).';
      return Response.json({ error: { code: 'page_not_built', message } }, { status: 503, headers: { 'Cache-Control': 'no-store' } });
    }
    return new Response(html, {
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': REVALIDATE,
        'X-Content-Type-Options': 'nosniff',
        // The page loads only its own script and stylesheet and talks only to its own WebSocket
        // (ws/wss of any host, since VITE_API_URL may point elsewhere).
        'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        'Referrer-Policy': 'no-referrer',
      },
    });
  };

  routes.get('/', servePage);
  routes.get('/index.html', servePage);

  // The name pattern admits only files the build writes: no dots to climb out, no other folders.
  routes.get('/assets/:name{[A-Za-z0-9_-]+\\.(?:js|css)}', async (context) => {
    const name = context.req.param('name');
    const extension = name.slice(name.lastIndexOf('.') + 1);
    let body: Uint8Array;
    try {
      body = await readFile(new URL(`assets/${name}`, distDirectory));
    } catch (error) {
      if (!isMissingFile(error)) throw error;
      return context.json({ error: { code: 'not_found', message: `No asset ${name}.` } }, 404, { 'Cache-Control': 'no-store' });
    }
    return new Response(body as Uint8Array<ArrayBuffer>, {
      headers: { 'Content-Type': CONTENT_TYPES[extension] ?? 'application/octet-stream', 'Cache-Control': IMMUTABLE, 'X-Content-Type-Options': 'nosniff' },
    });
  });

  return routes;
}
