// `npm start` without LLM_BASE_URL, as a real process: the embedded chat model from
// LLM_MODEL_FILE or from a hub (a stand-in served by this test on 127.0.0.1), and what the
// user sees when the model is missing, corrupt or cannot be downloaded.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectChatSocket } from '../../scripts/eval/chat-socket-client.ts';
import { fixtureChatModel } from '../support/chat-model-fixture.ts';
import { freePort, startServiceProcess, stopServiceProcess, waitUntil } from '../support/service-process.ts';
import { startStandInHub } from '../support/stand-in-hub.ts';
import { PROJECT_ROOT, testEmbeddingModel } from '../support/test-environment.ts';

/** Start-up reads the embedding model and loads llama.cpp: generous on a loaded 2-core machine. */
const START_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 60_000;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'local-rag-embedded-start-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function environment(name: string, extra: Record<string, string>) {
  const port = await freePort();
  return { port, variables: { DATA_DIR: path.join(scratch, name, 'data'), MODELS_DIR: path.join(scratch, name, 'models'), PORT: String(port), FUNCTIONS: 'all', LLM_MAX_TOKENS: '32', ...extra } };
}

async function readiness(port: number) {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as { status?: string; error?: { message: string; details?: Record<string, { ok: boolean; detail?: string }> } } };
}

describe('npm start with a bad LLM_MODEL_FILE', () => {
  it.each([
    ['a missing file', async () => path.join(scratch, 'nowhere.gguf'), /LLM_MODEL_FILE=.*nowhere\.gguf: no such file/],
    ['a file that is not GGUF', async () => writeScratch('notes.gguf', 'just some text, not a model'), /not a GGUF model file/],
    ['a corrupt GGUF file', async () => writeScratch('corrupt.gguf', `GGUF${'\u0000\u00ff'.repeat(64)}`), /LLM_MODEL_FILE=.*corrupt\.gguf: a corrupt GGUF file, llama\.cpp cannot load it/],
  ])('stops with exit code 2 and a clear message for %s', async (_name, makeFile, message) => {
    const modelFile = await makeFile();
    const { variables } = await environment(`bad-${path.basename(modelFile)}`, { LLM_MODEL_FILE: modelFile });
    const service = startServiceProcess(variables);
    try {
      const code = await Promise.race([service.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), EXIT_TIMEOUT_MS))]);
      expect(code, service.output()).toBe(2);
      expect(service.output()).toMatch(message);
    } finally {
      await stopServiceProcess(service.child);
    }
  });
});

async function writeScratch(name: string, content: string) {
  const file = path.join(scratch, name);
  await writeFile(file, content);
  return file;
}

describe('npm start with no chat model to be had', () => {
  it('serves the knowledge base and says in the log and /readyz why chat is unavailable', async () => {
    const unreachableHub = `http://127.0.0.1:${await freePort()}`;
    const { port, variables } = await environment('unreachable', { HF_ENDPOINT: unreachableHub });
    const service = startServiceProcess(variables);
    try {
      await waitUntil(
        async () => {
          const details = (await readiness(port)).body.error?.details;
          return details?.startup === undefined && (details?.llm?.detail?.includes('unavailable') ?? false);
        },
        START_TIMEOUT_MS,
        'the knowledge base up and llm unavailable in /readyz',
      );
      const { status, body } = await readiness(port);
      expect(status).toBe(503);
      expect(body.error?.message).toMatch(/^llm: unavailable: .*download failed/);
      expect(service.output()).toContain('chat unavailable: no chat model');
      const added = await fetch(`http://127.0.0.1:${port}/api/v1/knowledge/add-document`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ source: 'garden.md', content: 'The little garden grows beans in summer.' }),
      });
      expect(added.status).toBe(201);
      // The chat says so too, instead of waiting for a model that will not come.
      const socket = await connectChatSocket(`ws://127.0.0.1:${port}/ws/llm`);
      const frames = await socket.ask({ type: 'chat', message: 'What grows in the little garden?' }, 30_000);
      await socket.close();
      expect(frames.find((frame) => frame.type === 'error')).toMatchObject({ type: 'error', code: 'llm_unavailable', message: expect.stringMatching(/download failed/) });
    } finally {
      await stopServiceProcess(service.child);
    }
  });

  it('never downloads with HF_HUB_OFFLINE=1', async () => {
    const hub = await startStandInHub({ files: {} });
    const { port, variables } = await environment('offline', { HF_ENDPOINT: hub.endpoint, HF_HUB_OFFLINE: '1' });
    const service = startServiceProcess(variables);
    try {
      await waitUntil(async () => (await readiness(port)).body.error?.details?.llm?.detail?.includes('HF_HUB_OFFLINE') ?? false, START_TIMEOUT_MS, 'the offline reason in /readyz');
      expect(hub.requests).toEqual([]);
    } finally {
      await stopServiceProcess(service.child);
      await hub.close();
    }
  });
});

describe('npm start downloading the chat model on first start', () => {
  it('resumes a download cut off midway, renames it when complete, and then answers chats', async () => {
    const model = await readFile(fixtureChatModel());
    const filePath = '/local-rag/stand-in-GGUF/resolve/main/stories260K.gguf';
    const hub = await startStandInHub({ files: { [filePath]: model }, cutAfterBytes: Math.floor(model.length / 3) });
    const { port, variables } = await environment('download', { HF_ENDPOINT: hub.endpoint, HF_REPO_ID: 'local-rag/stand-in-GGUF', HF_FILENAME: 'stories260K.gguf' });
    const service = startServiceProcess(variables);
    try {
      await waitUntil(async () => (await readiness(port)).status === 200, START_TIMEOUT_MS, '/readyz 200');
      // The first request was cut; the second asked only for the rest.
      expect(hub.requests.map((request) => request.headers.range)).toEqual([undefined, `bytes=${Math.floor(model.length / 3)}-`]);
      const downloaded = path.join(variables.MODELS_DIR, 'stories260K.gguf');
      expect((await readFile(downloaded)).equals(model)).toBe(true);
      await expect(stat(`${downloaded}.partial`)).rejects.toThrow();
      expect(service.output()).toMatch(/resuming chat model download/);

      await fetch(`http://127.0.0.1:${port}/api/v1/knowledge/add-document`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ source: 'garden.md', content: 'The little garden grows beans and tomatoes in the summer sun.' }),
      });
      const socket = await connectChatSocket(`ws://127.0.0.1:${port}/ws/llm`);
      const frames = await socket.ask({ type: 'chat', message: 'What grows in the little garden in summer?' }, 60_000);
      await socket.close();
      expect(frames.at(-1), JSON.stringify(frames.filter((frame) => frame.type !== 'token'))).toMatchObject({ type: 'done', finish_reason: expect.stringMatching(/^(stop|length)$/) });
      expect(frames.filter((frame) => frame.type === 'token').length).toBeGreaterThan(0);
    } finally {
      await stopServiceProcess(service.child);
      await hub.close();
    }
  });

  it('refuses a hub file that is not GGUF and keeps nothing of it', async () => {
    const filePath = '/local-rag/stand-in-GGUF/resolve/main/page.gguf';
    const hub = await startStandInHub({ files: { [filePath]: new TextEncoder().encode('<!doctype html><title>Sign in</title>') } });
    const { port, variables } = await environment('not-gguf', { HF_ENDPOINT: hub.endpoint, HF_REPO_ID: 'local-rag/stand-in-GGUF', HF_FILENAME: 'page.gguf' });
    const service = startServiceProcess(variables);
    try {
      await waitUntil(async () => (await readiness(port)).body.error?.details?.llm?.detail?.includes('not a GGUF file') ?? false, START_TIMEOUT_MS, 'the not-GGUF reason in /readyz');
      await expect(stat(path.join(variables.MODELS_DIR, 'page.gguf.partial'))).rejects.toThrow();
      await expect(stat(path.join(variables.MODELS_DIR, 'page.gguf'))).rejects.toThrow();
    } finally {
      await stopServiceProcess(service.child);
      await hub.close();
    }
  });
});

describe('FUNCTIONS=ws-chat alone (one process per function) on the embedded runtime', () => {
  it('loads the model in that process and answers from the shared knowledge base', async () => {
    const { port, variables } = await environment('ws-chat-only', { FUNCTIONS: 'ws-chat', LLM_MODEL_FILE: fixtureChatModel() });
    // The knowledge base is filled beforehand, as the add-document process would.
    const folder = path.join(scratch, 'ws-chat-only', 'docs');
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'garden.md'), 'The little garden grows beans and tomatoes in the summer sun.\n');
    await new Promise<void>((resolve, reject) =>
      execFile(path.join(PROJECT_ROOT, 'node_modules/.bin/tsx'), ['scripts/ingest.ts', folder], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: variables.DATA_DIR, EMBEDDING_MODEL: testEmbeddingModel() } }, (error, _stdout, stderr) =>
        error ? reject(new Error(`ingest failed: ${stderr}`)) : resolve(),
      ),
    );
    const service = startServiceProcess(variables);
    try {
      await waitUntil(async () => (await readiness(port)).status === 200, START_TIMEOUT_MS, '/readyz 200');
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/knowledge/search`, { method: 'POST', body: '{}' })).status).toBe(404);
      const socket = await connectChatSocket(`ws://127.0.0.1:${port}/ws/llm`);
      const frames = await socket.ask({ type: 'chat', message: 'What grows in the little garden in summer?' }, 60_000);
      await socket.close();
      expect(frames[0]?.type, JSON.stringify(frames.filter((frame) => frame.type !== 'token'))).toBe('sources');
      expect(frames.at(-1)).toMatchObject({ type: 'done', finish_reason: expect.stringMatching(/^(stop|length)$/) });
    } finally {
      await stopServiceProcess(service.child);
    }
  });
});
