import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

// Relative URLs only: the page also works behind a gateway that mounts us under a sub-path.
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>local-rag API</title><link rel="stylesheet" href="docs/swagger-ui.css"></head>
<body><div id="docs"></div><script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script></body></html>`;
/**
 * Swagger UI from our own origin only: its script and init file (no inline script), its
 * stylesheet plus the inline styles React sets, its SVG icons as data: URLs, and fetches of
 * openapi.json and "Try it out" requests to this service. Never framed.
 */
export const DOCS_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INIT = `window.ui = SwaggerUIBundle({ url: new URL('openapi.json', location.href).href, dom_id: '#docs', deepLinking: true });`;

/**
 * Interactive API docs at `GET /docs`: Swagger UI served from the installed
 * `swagger-ui-dist` package, so it works with no network access.
 */
export function createApiDocsRoutes(): Hono {
  const app = new Hono();
  let assetsDirectory: string | undefined;
  app.get('/docs', (context) => context.html(PAGE, 200, { 'Content-Security-Policy': DOCS_CONTENT_SECURITY_POLICY }));
  app.get('/docs/init.js', (context) => context.body(INIT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get('/docs/:asset', async (context) => {
    const asset = context.req.param('asset');
    const type = ASSETS[asset];
    if (!type) return context.notFound();
    assetsDirectory ??= path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
    const body = await readFile(path.join(assetsDirectory, asset));
    return context.body(new Uint8Array(body), 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' });
  });
  return app;
}
