import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownloadError, downloadHubFile, hubFileUrl } from './hub-download.ts';

/** A response from a fake hub; the real one is exercised by tests/chat/embedded-start.test.ts. */
function hubResponse(body: Uint8Array, init: { status?: number; headers?: Record<string, string> } = {}) {
  return new Response(new Blob([body as Uint8Array<ArrayBuffer>]), { status: init.status ?? 200, headers: { 'Content-Length': String(body.length), ...init.headers } });
}

const gguf = new TextEncoder().encode(`GGUF${'x'.repeat(1000)}`);
const file = { endpoint: 'http://hub.test', repoId: 'org/repo', filename: 'model.gguf', revision: 'main' };

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'local-rag-download-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('downloadHubFile', () => {
  it('builds the resolve URL of the repository, revision and file', () => {
    expect(hubFileUrl({ ...file, filename: 'sub dir/model.gguf' })).toBe('http://hub.test/org/repo/resolve/main/sub%20dir/model.gguf');
  });

  it('resumes a partial file with a Range request and renames it only when complete', async () => {
    const target = path.join(folder, 'model.gguf');
    await writeFile(`${target}.partial`, gguf.subarray(0, 400));
    const requests: Array<Record<string, string>> = [];
    await downloadHubFile({ ...file, token: 'secret' }, target, {
      fetch: async (_url, init) => {
        requests.push(init?.headers as Record<string, string>);
        return hubResponse(gguf.subarray(400), { status: 206, headers: { 'Content-Range': `bytes 400-${gguf.length - 1}/${gguf.length}` } });
      },
    });
    expect(requests).toEqual([{ Authorization: 'Bearer secret', Range: 'bytes=400-' }]);
    expect(new Uint8Array(await readFile(target))).toEqual(gguf);
    await expect(stat(`${target}.partial`)).rejects.toThrow();
  });

  it('starts over when the server ignores the Range header', async () => {
    const target = path.join(folder, 'model.gguf');
    await writeFile(`${target}.partial`, 'stale bytes');
    await downloadHubFile(file, target, { fetch: async () => hubResponse(gguf) });
    expect(new Uint8Array(await readFile(target))).toEqual(gguf);
  });

  it('refuses a body that is not GGUF and deletes it', async () => {
    const target = path.join(folder, 'model.gguf');
    const page = new TextEncoder().encode('<!doctype html><p>Sign in</p>');
    const failure = await downloadHubFile(file, target, { fetch: async () => hubResponse(page) }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DownloadError);
    expect((failure as Error).message).toMatch(/is not a GGUF file .*check HF_REPO_ID, HF_FILENAME and HF_REVISION/);
    await expect(stat(`${target}.partial`)).rejects.toThrow();
    await expect(stat(target)).rejects.toThrow();
  });

  it('says a gated repository needs HF_TOKEN, without retrying', async () => {
    let calls = 0;
    const failure = await downloadHubFile(file, path.join(folder, 'model.gguf'), {
      fetch: async () => {
        calls++;
        return new Response('gated', { status: 401 });
      },
    }).catch((error: unknown) => error);
    expect((failure as Error).message).toMatch(/needs HF_TOKEN/);
    expect(calls).toBe(1);
  });
});
