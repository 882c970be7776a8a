import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHashEmbedder } from '../../tests/support/hash-embedder.ts';
import { addDocumentToKnowledgeBase } from '../../lib/knowledge/knowledge-base.ts';
import { createMemoryStore } from '../../tests/support/memory-store.ts';
import { collectFiles, ingestFiles, type IngestTarget } from './ingest-files.ts';

let folder: string;
const quiet = Object.assign(new Writable({ write: (_chunk, _encoding, done) => done() }), { isTTY: false }) as unknown as NodeJS.WriteStream;

beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'ingest-'));
  await mkdir(path.join(folder, 'guide', 'deep'), { recursive: true });
  await mkdir(path.join(folder, 'node_modules'), { recursive: true });
  await writeFile(path.join(folder, 'README.md'), '# Title\n\nThe service answers questions.');
  await writeFile(path.join(folder, 'guide', 'deep', 'notes.txt'), 'Deep notes about chunking.');
  await writeFile(path.join(folder, 'guide', 'image.png'), 'not text');
  await writeFile(path.join(folder, 'guide', 'empty.md'), '  \n');
  await writeFile(path.join(folder, 'node_modules', 'skip.md'), 'never read');
});
afterAll(() => rm(folder, { recursive: true, force: true }));

function memoryTarget(): IngestTarget & { embedded: () => number } {
  const store = createMemoryStore();
  const embedder = createHashEmbedder();
  let embedded = 0;
  const counting = { ...embedder, embed: (texts: string[]) => ((embedded += texts.length), embedder.embed(texts)) };
  return {
    embedded: () => embedded,
    async add(source, content) {
      const result = await addDocumentToKnowledgeBase({ store, embedder: counting, chunking: { maxTokens: 256, overlapSentences: 1 } }, { source, content });
      return { status: result.status, chunks: result.document.chunkCount };
    },
  };
}

describe('npm run ingest', () => {
  it('names each file by its path relative to the folder argument and skips other files', async () => {
    const files = await collectFiles([folder]);
    expect(files.map((file) => file.source)).toEqual(['guide/deep/notes.txt', 'guide/empty.md', 'README.md']);
  });

  it('names a file argument by its file name', async () => {
    expect(await collectFiles([path.join(folder, 'README.md')])).toEqual([{ path: path.join(folder, 'README.md'), source: 'README.md' }]);
  });

  it('fails clearly for a path that does not exist', async () => {
    await expect(collectFiles([path.join(folder, 'missing')])).rejects.toThrow(/no such file or folder/);
  });

  it('adds new files, skips empty ones, and does no work when re-run on unchanged files', async () => {
    const target = memoryTarget();
    const files = await collectFiles([folder]);
    const first = await ingestFiles(files, target, quiet);
    expect(first).toMatchObject({ created: 2, skipped: 1, failed: 0 });
    const embeddedAfterFirst = target.embedded();
    const second = await ingestFiles(files, target, quiet);
    expect(second).toMatchObject({ created: 0, unchanged: 2, failed: 0 });
    expect(target.embedded()).toBe(embeddedAfterFirst);
  });
});
