/**
 * The chat socket's subprotocols. A browser cannot set headers on a WebSocket, so the page
 * sends its key as a second subprotocol entry, `local-rag.bearer.<base64url(key)>`, beside
 * `local-rag.v1`. The key then travels in a request header (never in the URL, so never in an
 * access log or a browser history), and the server always answers with `local-rag.v1`: the
 * key is never echoed back.
 */
export const CHAT_SUBPROTOCOL = 'local-rag.v1';
export const KEY_SUBPROTOCOL_PREFIX = 'local-rag.bearer.';

function offeredSubprotocols(header: string | null | undefined): string[] {
  return (header ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
}

/** The subprotocol the server answers with: `local-rag.v1` when offered, else none. */
export function selectSubprotocol(header: string | null | undefined): string | undefined {
  return offeredSubprotocols(header).includes(CHAT_SUBPROTOCOL) ? CHAT_SUBPROTOCOL : undefined;
}

/** The key carried in a `local-rag.bearer.` entry of `Sec-WebSocket-Protocol`, if any. */
export function keyFromSubprotocols(header: string | null | undefined): string | undefined {
  const entry = offeredSubprotocols(header).find((candidate) => candidate.startsWith(KEY_SUBPROTOCOL_PREFIX));
  if (!entry) return undefined;
  try {
    return decodeBase64Url(entry.slice(KEY_SUBPROTOCOL_PREFIX.length));
  } catch {
    // Not base64url: no key was given (the request then fails like one without a key).
    return undefined;
  }
}

/** The subprotocol entry that carries `key` (what the chat page sends). */
export function keySubprotocol(key: string): string {
  const bytes = new TextEncoder().encode(key);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return KEY_SUBPROTOCOL_PREFIX + btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeBase64Url(encoded: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) throw new Error('not base64url');
  const binary = atob(encoded.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (character) => character.charCodeAt(0)));
}
