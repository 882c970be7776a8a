/**
 * The chat socket's address, derived as the seed does —
 * `(VITE_API_URL || '').replace(/^http/, 'ws') + '/ws/llm'` — with one fix: when no API URL
 * was given at build time, the base is the directory the page itself was served from, not
 * the host root. So a page behind a proxy at `https://host:8443/rag/` talks to
 * `wss://host:8443/rag/ws/llm`, and one at `http://127.0.0.1:8080/` to `ws://127.0.0.1:8080/ws/llm`.
 *
 * `apiUrl` may be absolute (`https://api.example.com/rag`) or relative to the page (`/rag`,
 * `../api`); a trailing slash is ignored.
 */
export function webSocketUrl(apiUrl: string | undefined, location: { href: string }): string {
  const configured = (apiUrl ?? '').trim();
  // new URL('.', href) is the page's directory: query, hash and a file name such as index.html drop off.
  const base = new URL(configured === '' ? '.' : configured, location.href);
  base.search = '';
  base.hash = '';
  return base.href.replace(/\/+$/, '').replace(/^http/, 'ws') + '/ws/llm';
}
