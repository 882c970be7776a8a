import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { renderError } from './error-response.ts';
import { hostGuard, hostName } from './host-guard.ts';

function guarded(allowedHosts: string[]) {
  const app = new Hono();
  app.onError((error, context) => renderError(error, context));
  app.use('*', hostGuard({ allowedHosts }));
  app.get('*', (context) => context.text('ok'));
  return app;
}

const withHost = (host: string, path = '/api/v1/knowledge/documents') => ({ path, init: { headers: { Host: host } } });

describe('hostGuard', () => {
  const loopback = loadConfig({ HOST: '127.0.0.1' }).allowedHosts;

  it('refuses a rebinding name on a loopback listener with 421 in the error shape', async () => {
    const { path, init } = withHost('attacker.example:8080');
    const response = await guarded(loopback).request(path, init);
    expect(response.status).toBe(421);
    expect(await response.json()).toEqual({ error: { code: 'host_not_allowed', message: expect.stringContaining('ALLOWED_HOSTS') } });
  });

  it('answers loopback names with any port, *.localhost, and the probes for every Host', async () => {
    for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080', 'LOCALHOST', 'app.localhost:3000']) {
      const { path, init } = withHost(host);
      expect((await guarded(loopback).request(path, init)).status, host).toBe(200);
    }
    for (const probe of ['/healthz', '/readyz']) expect((await guarded(loopback).request(probe, { headers: { Host: '10.0.0.7:8080' } })).status).toBe(200);
  });

  it('takes ALLOWED_HOSTS as given, and any Host on a non-loopback listener by default', async () => {
    const configured = loadConfig({ HOST: '0.0.0.0', ALLOWED_HOSTS: 'rag.example.com, localhost' }).allowedHosts;
    expect((await guarded(configured).request('/', { headers: { Host: 'rag.example.com' } })).status).toBe(200);
    expect((await guarded(configured).request('/', { headers: { Host: 'other.example.com' } })).status).toBe(421);
    expect(loadConfig({ HOST: '0.0.0.0' }).allowedHosts).toEqual(['*']);
    expect(loadConfig({ HOST: '127.0.0.2' }).allowedHosts).toContain('127.0.0.2');
  });

  it('reads host names without their ports', () => {
    expect(hostName('[::1]:8080')).toBe('[::1]');
    expect(hostName('Example.COM:443')).toBe('example.com');
    expect(hostName('localhost')).toBe('localhost');
  });
});
