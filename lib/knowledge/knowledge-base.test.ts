import { describe, expect, it } from 'vitest';
import { createHashEmbedder } from '../../tests/support/hash-embedder.ts';
import { chunkDocument, chunkDocumentInSlices } from './knowledge-base.ts';

const dependencies = { embedder: createHashEmbedder(), chunking: { maxTokens: 256, overlapSentences: 1 } };
const MEBIBYTE = 1024 * 1024;
const paragraph = (sentence: string) => sentence.repeat(Math.ceil(MEBIBYTE / Buffer.byteLength(sentence)));

describe('chunkDocumentInSlices', () => {
  it.each([
    ['English', paragraph('Other requests keep being answered while this paragraph is chunked. ')],
    ['Chinese', paragraph('切分这一段文字的时候其他请求照常得到回答。')],
  ])('lets timers run while a 1 MiB %s paragraph is chunked, and gives the same chunks', async (_language, content) => {
    let turns = 0;
    let chunked = false;
    const tick = () => {
      if (chunked) return;
      turns++;
      setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    const chunks = await chunkDocumentInSlices(dependencies, content);
    chunked = true;
    // A synchronous chunker would let the first timer run only after it returned.
    expect(turns).toBeGreaterThan(0);
    expect(chunks).toEqual(chunkDocument(dependencies, content));
  });
});
