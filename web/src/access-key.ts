/**
 * The access key of a server that demands one (API_KEY / READ_API_KEY), asked once and kept
 * for the tab in sessionStorage: it is gone when the tab closes and other tabs never see it.
 * It reaches the chat socket as a subprotocol entry (browsers cannot set Authorization on a
 * WebSocket), so it never appears in a URL. The encoding matches lib/http/websocket-subprotocol.ts.
 */
const STORAGE_KEY = 'local-rag.access-key';
export const CHAT_SUBPROTOCOL = 'local-rag.v1';
const KEY_SUBPROTOCOL_PREFIX = 'local-rag.bearer.';
const UNAUTHORIZED = 401;

export function storedKey(storage: Pick<Storage, 'getItem'> = sessionStorage): string | undefined {
  return storage.getItem(STORAGE_KEY) ?? undefined;
}

export function rememberKey(key: string, storage: Pick<Storage, 'setItem'> = sessionStorage): void {
  storage.setItem(STORAGE_KEY, key);
}

export function forgetKey(storage: Pick<Storage, 'removeItem'> = sessionStorage): void {
  storage.removeItem(STORAGE_KEY);
}

/** The subprotocols the page offers: the chat's own, plus the key entry when it has a key. */
export function socketProtocols(key: string | undefined): string[] {
  if (key === undefined) return [CHAT_SUBPROTOCOL];
  let binary = '';
  for (const byte of new TextEncoder().encode(key)) binary += String.fromCharCode(byte);
  const encoded = btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return [CHAT_SUBPROTOCOL, KEY_SUBPROTOCOL_PREFIX + encoded];
}

/**
 * Why a socket could not open, asked over plain HTTP (a browser shows a refused upgrade only
 * as a close): `key-needed` when the server answers 401 to the same URL. A server on another
 * origin without CORS cannot be asked: `unknown`, and the page keeps retrying as before.
 */
export async function refusalReason(socketUrl: string, key: string | undefined, fetchImplementation: typeof fetch = fetch): Promise<'key-needed' | 'unknown'> {
  try {
    const response = await fetchImplementation(socketUrl.replace(/^ws/, 'http'), { headers: key === undefined ? {} : { Authorization: `Bearer ${key}` }, cache: 'no-store' });
    return response.status === UNAUTHORIZED ? 'key-needed' : 'unknown';
  } catch {
    return 'unknown';
  }
}
