import type { Context } from 'hono';
import { presentedKey } from './access-keys.ts';

/** The runtime's view of the peer: the TCP remote address of the request, when it has one. */
export type ClientAddress = (context: Context) => string | undefined;

export interface ClientIdentityOptions {
  /** Whether keys are configured (then a client is its key: the key check ran before). */
  keysRequired: boolean;
  clientAddress?: ClientAddress;
  /** Behind the gateway, whose X-Real-IP names the real peer (nginx overwrites it). */
  trustProxyHeaders: boolean;
}

const KEY_ID_HEX_CHARACTERS = 32;

/**
 * Who a request counts against for rate limiting: its key when keys are required (so people
 * behind one NAT or gateway do not share a window), else its address. Keys are kept only as
 * a hash prefix, never as given.
 */
export function clientIdentity(options: ClientIdentityOptions): (context: Context) => Promise<string> {
  return async (context) => {
    const key = options.keysRequired ? presentedKey(context.req.raw) : undefined;
    if (key !== undefined) {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
      return `key:${Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('').slice(0, KEY_ID_HEX_CHARACTERS)}`;
    }
    const forwarded = options.trustProxyHeaders ? context.req.header('x-real-ip')?.trim() : undefined;
    return `address:${forwarded || options.clientAddress?.(context) || 'unknown'}`;
  };
}
