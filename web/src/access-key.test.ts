import { describe, expect, it } from 'vitest';
import { keyFromSubprotocols, selectSubprotocol } from '../../lib/http/websocket-subprotocol.ts';
import { forgetKey, refusalReason, rememberKey, socketProtocols, storedKey } from './access-key.ts';

function memoryStorage() {
  const values = new Map<string, string>();
  return {
    getItem: (name: string) => values.get(name) ?? null,
    setItem: (name: string, value: string) => void values.set(name, value),
    removeItem: (name: string) => void values.delete(name),
  };
}

describe('the chat page access key', () => {
  it('offers the key in a subprotocol entry the server decodes, and the chat protocol first', () => {
    for (const key of ['s3cret', 'with spaces/+=', '密钥🔑']) {
      const protocols = socketProtocols(key);
      expect(selectSubprotocol(protocols.join(', '))).toBe('local-rag.v1');
      expect(keyFromSubprotocols(protocols.join(', '))).toBe(key);
    }
    expect(socketProtocols(undefined)).toEqual(['local-rag.v1']);
  });

  it('keeps the key in the given storage until forgotten', () => {
    const storage = memoryStorage();
    expect(storedKey(storage)).toBeUndefined();
    rememberKey('k', storage);
    expect(storedKey(storage)).toBe('k');
    forgetKey(storage);
    expect(storedKey(storage)).toBeUndefined();
  });

  it('says a key is needed only when the socket URL answers 401 over HTTP', async () => {
    const answering = (status: number) => (async () => new Response(null, { status })) as unknown as typeof fetch;
    expect(await refusalReason('ws://127.0.0.1:1/ws/llm', undefined, answering(401))).toBe('key-needed');
    expect(await refusalReason('ws://127.0.0.1:1/ws/llm', 'k', answering(426))).toBe('unknown');
    const failing = (async () => {
      throw new TypeError('CORS');
    }) as unknown as typeof fetch;
    expect(await refusalReason('wss://elsewhere.example/ws/llm', undefined, failing)).toBe('unknown');
  });
});
