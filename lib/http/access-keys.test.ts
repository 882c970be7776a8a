import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { renderError } from './error-response.ts';
import { type AccessKeys, keyGrants, presentedKey, requireKey, secretsEqual } from './access-keys.ts';
import { CHAT_SUBPROTOCOL, keySubprotocol, selectSubprotocol } from './websocket-subprotocol.ts';

const keys = { apiKey: 'write-secret', readApiKey: 'read-secret' };

function guarded(access: 'read' | 'write', configured: AccessKeys = keys) {
  const app = new Hono();
  app.onError((error, context) => renderError(error, context));
  app.get('/', requireKey({ keys: configured, access }), (context) => context.text('ok'));
  return app;
}

describe('requireKey', () => {
  it('lets everything through when API_KEY is unset', async () => {
    expect((await guarded('write', {}).request('/')).status).toBe(200);
  });

  it('answers 401 with a challenge when no key is sent, and 401 for a wrong one', async () => {
    const missing = await guarded('read').request('/');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    expect(await missing.json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect((await guarded('read').request('/', { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it('takes the read key on read routes, refuses it (403) on write routes', async () => {
    expect((await guarded('read').request('/', { headers: { Authorization: 'Bearer read-secret' } })).status).toBe(200);
    expect((await guarded('read').request('/', { headers: { Authorization: 'Bearer write-secret' } })).status).toBe(200);
    const refused = await guarded('write').request('/', { headers: { Authorization: 'Bearer read-secret' } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect((await guarded('write').request('/', { headers: { Authorization: 'bearer write-secret' } })).status).toBe(200);
  });

  it('takes the key from a local-rag.bearer subprotocol entry (how the chat page sends it)', async () => {
    const headers = { 'Sec-WebSocket-Protocol': `${CHAT_SUBPROTOCOL}, ${keySubprotocol('read-secret')}` };
    expect((await guarded('read').request('/', { headers })).status).toBe(200);
    expect((await guarded('read').request('/', { headers: { 'Sec-WebSocket-Protocol': 'local-rag.bearer.!!' } })).status).toBe(401);
  });
});

describe('presentedKey and the subprotocol encoding', () => {
  it('round-trips any key, including characters a subprotocol token cannot hold', () => {
    for (const key of ['plain', 'with space/and+slash=', 'ключ-密钥-🔑']) {
      const entry = keySubprotocol(key);
      expect(entry).toMatch(/^local-rag\.bearer\.[A-Za-z0-9_-]+$/);
      expect(presentedKey(new Request('http://localhost/', { headers: { 'Sec-WebSocket-Protocol': `${CHAT_SUBPROTOCOL}, ${entry}` } }))).toBe(key);
    }
  });

  it('answers local-rag.v1 only, never the entry carrying the key', () => {
    expect(selectSubprotocol(`${keySubprotocol('k')}, ${CHAT_SUBPROTOCOL}`)).toBe(CHAT_SUBPROTOCOL);
    expect(selectSubprotocol(keySubprotocol('k'))).toBeUndefined();
    expect(selectSubprotocol(undefined)).toBeUndefined();
  });
});

describe('secretsEqual', () => {
  it('compares by value whatever the lengths', async () => {
    expect(await secretsEqual('same', 'same')).toBe(true);
    expect(await secretsEqual('same', 'samf')).toBe(false);
    expect(await secretsEqual('short', 'a much longer secret')).toBe(false);
    expect(await secretsEqual('', 'x')).toBe(false);
  });

  it('grants write only to API_KEY', async () => {
    expect(await keyGrants(keys, 'read-secret', 'write')).toBe(false);
    expect(await keyGrants(keys, 'write-secret', 'write')).toBe(true);
    expect(await keyGrants({ apiKey: 'a' }, 'b', 'read')).toBe(false);
  });
});
