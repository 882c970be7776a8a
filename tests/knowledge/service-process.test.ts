import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startServiceProcess, stopServiceProcess as stopProcess, waitUntil as waitFor } from '../support/service-process.ts';

// `npm start` as a user runs it: a real process on the embedded database.
function startProcess(environment: Record<string, string>) {
  return startServiceProcess({ LOG_LEVEL: 'warn', FUNCTIONS: 'add-document,search', ...environment });
}

describe('npm start (the service process)', () => {
  let dataDir: string;
  let port: number;
  let first: ReturnType<typeof startProcess>;
  const readinessSeen: number[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'local-rag-process-'));
    port = await freePort();
    first = startProcess({ DATA_DIR: dataDir, PORT: String(port) });
  });
  afterAll(async () => {
    await stopProcess(first.child);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers /healthz at once and /readyz 503 with a reason until start-up is done, then 200', async () => {
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/healthz`)).ok, 30_000);
    let notReadyBody: { error?: { code: string; message: string } } | undefined;
    await waitFor(async () => {
      const response = await fetch(`${base}/readyz`);
      readinessSeen.push(response.status);
      if (response.status === 503) {
        notReadyBody = (await response.json()) as typeof notReadyBody;
        expect(response.headers.get('retry-after')).toBeTruthy();
      }
      return response.status === 200;
    }, 90_000);
    expect(readinessSeen).toContain(503);
    expect(notReadyBody?.error?.code).toBe('not_ready');
    expect(notReadyBody?.error?.message).toMatch(/database|migrations|embedding model|starting/);
    const search = await fetch(`${base}/api/v1/knowledge/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"anything"}' });
    expect(search.status).toBe(200);
  });

  it('refuses a second process on the same DATA_DIR at once, with a clear message', async () => {
    const second = startProcess({ DATA_DIR: dataDir, PORT: String(await freePort()) });
    const code = await second.exited;
    expect(code).toBe(1);
    expect(second.output()).toMatch(/data directory .* is in use by another local-rag process \(pid \d+\)/);
    // The first one keeps serving.
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  });

  it('stops with one message naming every bad variable', async () => {
    const bad = startProcess({ PORT: 'eighty', RAG_TOP_K: '99', DATA_DIR: dataDir });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('PORT');
    expect(bad.output()).toContain('RAG_TOP_K');
  });
});
