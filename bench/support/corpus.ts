import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './bench-environment.ts';

/** A real document: the README of an installed package. */
export interface CorpusDocument {
  source: string;
  content: string;
}

const MIN_BYTES = 3 * 1024;
const MAX_BYTES = 64 * 1024;

/**
 * Real English text for benchmarks: the READMEs of the packages in node_modules (top level and
 * scoped), sorted by path so every run reads the same documents. Mostly-ASCII files between
 * 3 and 64 KiB only, so the set is English prose with code blocks, like a knowledge base.
 */
export function loadReadmeCorpus(): CorpusDocument[] {
  const modules = path.join(PROJECT_ROOT, 'node_modules');
  const packageFolders = readdirSync(modules)
    .sort()
    .flatMap((name) => (name.startsWith('@') ? readdirSync(path.join(modules, name)).sort().map((inner) => `${name}/${inner}`) : [name]))
    .filter((name) => !name.startsWith('.'));
  const documents: CorpusDocument[] = [];
  const seen = new Set<string>();
  for (const name of packageFolders) {
    const file = readmeOf(path.join(modules, name));
    if (!file) continue;
    const size = statSync(file).size;
    if (size < MIN_BYTES || size > MAX_BYTES) continue;
    const content = readFileSync(file, 'utf8');
    // Monorepo packages often ship the same README; one copy is enough.
    if (seen.has(content)) continue;
    const nonAscii = content.replace(/[\x00-\x7f]/g, '').length;
    if (nonAscii / content.length > 0.02) continue;
    seen.add(content);
    documents.push({ source: `node_modules/${name}/${path.basename(file)}`, content });
  }
  return documents;
}

function readmeOf(folder: string): string | undefined {
  try {
    const match = readdirSync(folder).find((file) => /^readme\.md$/i.test(file));
    return match ? path.join(folder, match) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Prose sentences of the documents (Intl.Segmenter), without code, tables or link lists:
 * 30 to 300 characters, at least five words, deduplicated, in document order.
 */
export function proseSentences(documents: CorpusDocument[]): string[] {
  const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
  const sentences = new Set<string>();
  for (const document of documents) {
    const prose = document.content.replace(/```[\s\S]*?```/g, '\n\n').split(/\n\s*\n/);
    for (const paragraph of prose) {
      if (/^\s*([|#>*-]|\d+\.)/.test(paragraph) || /[{};=<>]/.test(paragraph)) continue;
      for (const { segment } of segmenter.segment(paragraph.replace(/\s+/g, ' '))) {
        const sentence = segment.trim();
        if (sentence.length < 30 || sentence.length > 300 || sentence.split(' ').length < 5) continue;
        sentences.add(sentence);
      }
    }
  }
  return [...sentences];
}
