import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';
import { keyFromSubprotocols } from './websocket-subprotocol.ts';

/** Read routes (search, document list, chat) accept either key; write routes only `apiKey`. */
export type Access = 'read' | 'write';

/** The keys from loadConfig: no `apiKey` = open service. */
export interface AccessKeys {
  apiKey?: string;
  readApiKey?: string;
}

const BEARER = /^Bearer\s+(.+)$/i;

/**
 * The key a request presents: `Authorization: Bearer <key>`, or (for the chat socket, which
 * browsers open without custom headers) a `local-rag.bearer.` entry in Sec-WebSocket-Protocol.
 */
export function presentedKey(request: Request): string | undefined {
  const authorization = BEARER.exec(request.headers.get('authorization') ?? '');
  if (authorization) return authorization[1]!.trim();
  return keyFromSubprotocols(request.headers.get('sec-websocket-protocol'));
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

/**
 * Compares two secrets in time that depends on neither: both are hashed to 32 bytes first (so
 * the length leaks nothing) and every byte is visited. Web Crypto only, so Deno runs it too.
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [left, right] = await Promise.all([sha256(given), sha256(expected)]);
  let difference = 0;
  for (let index = 0; index < left.length; index++) difference |= left[index]! ^ right[index]!;
  return difference === 0;
}

/** Whether `key` grants `access`: every configured key that may is compared, none skipped early. */
export async function keyGrants(keys: AccessKeys, key: string, access: Access): Promise<boolean> {
  const candidates = access === 'write' ? [keys.apiKey] : [keys.apiKey, keys.readApiKey];
  const results = await Promise.all(candidates.filter((candidate): candidate is string => candidate !== undefined).map((candidate) => secretsEqual(key, candidate)));
  return results.includes(true);
}

/**
 * Middleware: when `keys.apiKey` is set, the request must present a key granting `access`.
 * 401 for a missing or unknown key, 403 for a read key on a write route.
 */
export function requireKey(options: { keys: AccessKeys; access: Access }): MiddlewareHandler {
  const { keys, access } = options;
  return async (context, next) => {
    if (keys.apiKey !== undefined) await checkKey(context, keys, access);
    await next();
  };
}

async function checkKey(context: Context, keys: AccessKeys, access: Access): Promise<void> {
  const key = presentedKey(context.req.raw);
  const challenge = { headers: { 'WWW-Authenticate': 'Bearer' } };
  if (key === undefined) throw new AppError(401, 'unauthorized', 'this endpoint needs a key: Authorization: Bearer <key>', challenge);
  if (await keyGrants(keys, key, access)) return;
  if (access === 'write' && (await keyGrants(keys, key, 'read'))) throw new AppError(403, 'forbidden', 'this key may only read (READ_API_KEY); writing needs API_KEY');
  throw new AppError(401, 'unauthorized', 'wrong key', challenge);
}
