import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEmbedder } from '../embeddings/load-embedder.ts';
import type { Embedder, TokenCounter } from '../contracts.ts';
import { expectNoTextLost, expectWithinBudget } from '../../tests/support/chunk-assertions.ts';
import { chunkText } from './chunk-text.ts';
import { describeWhenPresent } from '../../tests/support/requirements.ts';

/** BERT-like: a word, a CJK character or a punctuation mark is one token. */
const wordCounter: TokenCounter = {
  countTokens: (text) => (text.match(/[\p{Script=Han}]|[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []).length,
};
/** One token per three non-space characters, so a long word must be cut inside. */
const characterCounter: TokenCounter = { countTokens: (text) => Math.ceil(text.replace(/\s/g, '').length / 3) };

const nonSpace = (text: string) => text.replace(/\s/g, '');

const englishSentences = [
  'Dr. Smith opened the clinic at 9 a.m. on Monday.',
  'Patients waited patiently in the hall.',
  'Was the new schedule announced in advance?',
  'Nobody seemed to know for sure!',
  'The nurse, i.e. Mrs. Jones, handed out numbered tickets.',
  'See https://example.com/hours?day=mon for the full timetable.',
  'By noon the queue had finally cleared.',
];

describe('chunkText', () => {
  it('returns no chunks for empty or whitespace-only text', () => {
    expect(chunkText('', { tokenCounter: wordCounter, maxTokens: 50, overlapSentences: 1 })).toEqual([]);
    expect(chunkText(' \n\t\n  ', { tokenCounter: wordCounter, maxTokens: 50, overlapSentences: 1 })).toEqual([]);
  });

  it('keeps short text as one chunk with whitespace collapsed', () => {
    const chunks = chunkText('  Hello    world.\tSecond\t\tsentence here.  ', { tokenCounter: wordCounter, maxTokens: 50, overlapSentences: 1 });
    expect(chunks).toEqual([{ content: 'Hello world. Second sentence here.', tokenCount: 7 }]);
  });

  it('packs English prose into whole sentences and repeats one sentence between chunks', () => {
    const text = englishSentences.join(' ');
    const chunks = chunkText(text, { tokenCounter: wordCounter, maxTokens: 30, overlapSentences: 1 });
    expect(chunks.length).toBeGreaterThan(1);
    expectWithinBudget(chunks, wordCounter, 30);
    for (const chunk of chunks) {
      // Only whole sentences: abbreviations and the URL did not end a sentence early.
      expect(englishSentences.some((sentence) => chunk.content.startsWith(sentence))).toBe(true);
      expect(englishSentences.some((sentence) => chunk.content.endsWith(sentence))).toBe(true);
    }
    for (let index = 1; index < chunks.length; index++) {
      const lastOfPrevious = englishSentences.find((sentence) => chunks[index - 1]!.content.endsWith(sentence))!;
      const firstNew = englishSentences[englishSentences.indexOf(lastOfPrevious) + 1]!;
      // The overlap sentence is repeated whenever it fits beside the next new sentence.
      const overlapFits = wordCounter.countTokens(`${lastOfPrevious} ${firstNew}`) <= 30;
      expect(chunks[index]!.content.startsWith(lastOfPrevious)).toBe(overlapFits);
    }
    expect(chunks.some((chunk, index) => index > 0 && chunk.content.startsWith(englishSentences.find((sentence) => chunks[index - 1]!.content.endsWith(sentence))!))).toBe(true);
    expectNoTextLost(text, chunks);
  });

  it('shares no sentence when overlapSentences is 0 and two when it is 2', () => {
    const text = englishSentences.join(' ');
    const none = chunkText(text, { tokenCounter: wordCounter, maxTokens: 30, overlapSentences: 0 });
    expect(nonSpace(none.map((chunk) => chunk.content).join(''))).toBe(nonSpace(text));
    const two = chunkText(text, { tokenCounter: wordCounter, maxTokens: 40, overlapSentences: 2 });
    const lastTwo = englishSentences.filter((sentence) => two[0]!.content.includes(sentence)).slice(-2).join(' ');
    expect(two[1]!.content.startsWith(lastTwo)).toBe(true);
  });

  it('never loops or overflows when the overlap sentence and the next one do not fit together', () => {
    const sentence = (index: number) => `Sentence ${index} ${'word '.repeat(14).trim()}.`; // 17 tokens
    const text = Array.from({ length: 12 }, (_, index) => sentence(index)).join(' ');
    const chunks = chunkText(text, { tokenCounter: wordCounter, maxTokens: 25, overlapSentences: 1 });
    expect(chunks).toHaveLength(12);
    expectWithinBudget(chunks, wordCounter, 25);
    expectNoTextLost(text, chunks);
  });

  it('splits Chinese prose at 。！？ and keeps it verbatim', () => {
    const sentences = ['今天天气很好。', '我们去公园散步吧！', '你觉得怎么样？', '好的，我们下午三点出发。', '记得带上水和雨伞。'];
    const text = sentences.join('');
    const chunks = chunkText(text, { tokenCounter: wordCounter, maxTokens: 16, overlapSentences: 1 });
    expect(chunks.length).toBeGreaterThan(1);
    expectWithinBudget(chunks, wordCounter, 16);
    for (const chunk of chunks) {
      expect(text.includes(chunk.content)).toBe(true);
      expect(chunk.content).toMatch(/[。！？]$/);
    }
    expectNoTextLost(text, chunks);
  });

  it('handles English and Chinese mixed in one paragraph', () => {
    const text = 'PostgreSQL 支持向量检索。It uses the pgvector extension. 安装很简单！Run CREATE EXTENSION vector.';
    const chunks = chunkText(text, { tokenCounter: wordCounter, maxTokens: 12, overlapSentences: 0 });
    expect(chunks.map((chunk) => chunk.content)).toEqual(['PostgreSQL 支持向量检索。', 'It uses the pgvector extension. 安装很简单！', 'Run CREATE EXTENSION vector.']);
  });

  it('starts a chunk at every markdown heading and keeps the heading with its text', () => {
    const text = [
      '# Guide',
      '## Install',
      'Download the package. Unpack it anywhere.',
      '',
      'Then run the installer. It takes a minute.',
      '## Configure',
      'Edit the settings file. Restart the service afterwards.',
      '### Logging',
      'Logs go to standard output.',
    ].join('\n');
    const chunks = chunkText(text, { tokenCounter: wordCounter, maxTokens: 14, overlapSentences: 1 });
    expectWithinBudget(chunks, wordCounter, 14);
    expect(chunks[0]!.content).toBe('# Guide\n## Install\n\nDownload the package. Unpack it anywhere.');
    for (const chunk of chunks) {
      const lines = chunk.content.split('\n').filter(Boolean);
      // A heading only ever opens a chunk, and is never alone.
      const headingLines = lines.map((line) => /^#{1,6} /.test(line));
      expect(headingLines.indexOf(false)).toBeGreaterThan(-1);
      expect(headingLines.slice(headingLines.indexOf(false)).includes(true)).toBe(false);
    }
    expect(chunks.find((chunk) => chunk.content.startsWith('## Configure'))!.content).toContain('Edit the settings file.');
    expect(chunks.find((chunk) => chunk.content.startsWith('### Logging'))!.content).toBe('### Logging\n\nLogs go to standard output.');
    expectNoTextLost(text, chunks);
  });

  it('treats paragraph breaks as sentence boundaries and keeps code lines intact', () => {
    const text = 'Intro line without a full stop\n\nExample:\n\n```ts\nconst answer = compute(41) + 1;\n    return answer;\n```\n\nDone.';
    const chunks = chunkText(text, { tokenCounter: wordCounter, maxTokens: 200, overlapSentences: 1 });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.content).toBe('Intro line without a full stop\n\nExample:\n\n```ts\nconst answer = compute(41) + 1;\n    return answer;\n```\n\nDone.');
  });

  it('splits one sentence longer than the budget on word boundaries', () => {
    const words = Array.from({ length: 1000 }, (_, index) => `word${index}`);
    const text = `${words.join(' ')}.`;
    const chunks = chunkText(text, { tokenCounter: wordCounter, maxTokens: 64, overlapSentences: 1 });
    expect(chunks.length).toBeGreaterThanOrEqual(16);
    expectWithinBudget(chunks, wordCounter, 64);
    expectNoTextLost(text, chunks);
    for (const chunk of chunks) expect(chunk.content).toMatch(/^word\d+\b/); // no word cut in two
  });

  it('splits a long unbroken token (a base64 blob) by characters without losing any', () => {
    const blob = Array.from({ length: 5000 }, (_, index) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[(index * 7919) % 64]).join('');
    const text = `The attachment follows. ${blob} That was all.`;
    const chunks = chunkText(text, { tokenCounter: characterCounter, maxTokens: 100, overlapSentences: 1 });
    expectWithinBudget(chunks, characterCounter, 100);
    expectNoTextLost(text, chunks);
    expect(chunks.map((chunk) => chunk.content).join('')).toContain(blob.slice(0, 300));
  });

  it('never loses text and never exceeds the budget on random documents', () => {
    const random = seededRandom(12345);
    for (let run = 0; run < 200; run++) {
      const text = randomDocument(random);
      const counter = pick(random, [wordCounter, characterCounter]);
      const maxTokens = pick(random, [14, 20, 50, 126]);
      const chunks = chunkText(text, { tokenCounter: counter, maxTokens, overlapSentences: pick(random, [0, 1, 2]) });
      if (nonSpace(text) === '') expect(chunks).toEqual([]);
      else expectNoTextLost(text, chunks);
      expectWithinBudget(chunks, counter, maxTokens);
    }
  });
});

describe('chunkText token ids', () => {
  // Two characters a token, spaces included: the ids of "ab cd" are not those of "ab" and "cd" joined.
  const pairIds = (text: string) => Array.from(text.replace(/\s+/g, ' ').trim().match(/[\s\S]{1,2}/gu) ?? [], (pair) => pair.charCodeAt(0) * 65536 + (pair.charCodeAt(1) || 0));
  const pairCounter: TokenCounter = { countTokens: (text) => pairIds(text).length, tokenize: pairIds };

  it('tokenizes each chunk\'s text again when the tokenizer does not promise that whitespace separates', () => {
    const random = seededRandom(99);
    for (let run = 0; run < 50; run++) {
      const text = randomDocument(random);
      for (const chunk of chunkText(text, { tokenCounter: pairCounter, maxTokens: 60, overlapSentences: 1 })) {
        expect(chunk.tokenIds).toEqual(pairIds(chunk.content));
        expect(chunk.tokenCount).toBeLessThanOrEqual(60);
      }
    }
  });

  it('gives no ids when the counter only counts', () => {
    expect(chunkText('One sentence. Another one.', { tokenCounter: wordCounter, maxTokens: 50, overlapSentences: 1 })[0]).not.toHaveProperty('tokenIds');
  });
});

function seededRandom(seed: number): () => number {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
}
const pick = <T>(random: () => number, items: T[]) => items[Math.floor(random() * items.length)]!;

/** English, Chinese, markdown, code, URLs, a base64 blob and a long Chinese run, in random order and spacing. */
function randomDocument(random: () => number): string {
  const pieces = ['the', 'Dr.', 'e.g.', 'vector', 'search', '数据库', '检索。', '很好！', '?', '!', '.', ',', '\n', '\n\n', '\n## Heading\n', '\n```\ncode line();\n```\n', 'https://x.org/a?b=c.', 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo'.repeat(8), '中文长句'.repeat(30), '    ', '\t'];
  return Array.from({ length: Math.floor(random() * 300) }, () => pick(random, pieces)).join(pick(random, [' ', '', ' ']));
}

const fixtureFolder = path.resolve(import.meta.dirname, '../../../shared/fixtures/models/glove-static-384d');

describeWhenPresent({ present: existsSync(fixtureFolder), missing: `no fixture model at ${fixtureFolder}` }, 'chunkText with the fixture model\'s own tokenizer', () => {
  let embedder: Embedder;
  beforeAll(async () => {
    embedder = await loadEmbedder({ model: fixtureFolder, dimensions: 384, dtype: 'fp32', threads: 1, batchSize: 32, modelsDir: './models', offline: false });
  });
  afterAll(async () => {
    await embedder?.close();
  });

  it('gives each chunk the ids the tokenizer gives its text, whether it joins sentence ids or tokenizes again', () => {
    expect(embedder.splitsAtWhitespace).toBe(true);
    // The same tokenizer without the promise: every chunk's text is tokenized on its own.
    const retokenizing: TokenCounter = { countTokens: (text) => embedder.countTokens(text), tokenize: (text) => embedder.tokenize!(text) };
    const random = seededRandom(777);
    for (let run = 0; run < 150; run++) {
      const text = randomDocument(random);
      const options = { maxTokens: pick(random, [14, 20, 50, 126]), overlapSentences: pick(random, [0, 1, 2]) };
      const chunks = chunkText(text, { tokenCounter: embedder, ...options });
      for (const chunk of chunks) {
        expect(chunk.tokenIds).toEqual(embedder.tokenize!(chunk.content));
        expect(chunk.tokenCount).toBe(chunk.tokenIds!.length);
        expect(chunk.tokenCount).toBeLessThanOrEqual(options.maxTokens);
      }
      expect(chunkText(text, { tokenCounter: retokenizing, ...options })).toEqual(chunks);
    }
    // 300 documents through the real tokenizer: ~20 s alone, more on a busy machine.
  }, 120_000);

  it('gives chunks that all fit the model window as the model counts them', async () => {
    const prose = Array.from({ length: 60 }, (_, index) => `${englishSentences[index % englishSentences.length]} Item ${index} costs $${index}.99, doesn't it?`).join(' ');
    const longSentence = Array.from({ length: 900 }, (_, index) => ['tokenization', 'un-believable', 'e-mail', 'naïve', 'co-operate'][index % 5]).join(' ');
    const text = `# Report\n\n${prose}\n\n## Appendix\n\n${longSentence}.\n\n\`\`\`\nSELECT * FROM chunks WHERE id = 1;\n\`\`\``;
    for (const maxTokens of [embedder.maxTokens - 2, 40]) {
      const chunks = chunkText(text, { tokenCounter: embedder, maxTokens, overlapSentences: 1 });
      expect(chunks.length).toBeGreaterThan(1);
      for (const chunk of chunks) {
        expect(embedder.countTokens(chunk.content)).toBeLessThanOrEqual(maxTokens);
        expect(chunk.tokenCount).toBe(embedder.countTokens(chunk.content));
      }
      expectNoTextLost(text, chunks);
    }
    const vectors = await embedder.embed(chunkText(text, { tokenCounter: embedder, maxTokens: embedder.maxTokens - 2, overlapSentences: 1 }).map((chunk) => chunk.content));
    expect(vectors.every((vector) => vector.length === 384)).toBe(true);
  });
});
