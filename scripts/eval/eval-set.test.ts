import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { containsEvidence, EvalSetError, loadEvalSet, resolveEvalSet } from './eval-set.ts';

const validSet = () => ({
  name: 'tiny',
  description: 'two documents',
  documents: [
    { source: 'pool.md', content: 'The pool opens at most\n  10 connections by default.' },
    { source: 'retry.md', content: 'Failed requests are retried 2 times.' },
  ],
  questions: [
    { id: 'pool-max', question: 'How many connections?', language: 'en', answerable: true, expected_source: 'pool.md', evidence: 'at most 10 connections' },
    { id: 'weather', question: '今天天气怎么样？', language: 'zh', answerable: false, note: 'off-topic' },
  ],
});

const noFiles = async (file: string): Promise<string> => {
  throw Object.assign(new Error(`no ${file}`), { code: 'ENOENT' });
};

async function problemsOf(raw: unknown, readText = noFiles): Promise<string[]> {
  try {
    await resolveEvalSet(raw, 'test.json', readText);
  } catch (error) {
    if (error instanceof EvalSetError) return error.problems;
    throw error;
  }
  return [];
}

describe('evaluation set format', () => {
  it('loads a valid set with inline documents and keeps its questions in order', async () => {
    const set = await resolveEvalSet(validSet(), 'test.json', noFiles);
    expect(set.documents.map((document) => document.source)).toEqual(['pool.md', 'retry.md']);
    expect(set.questions.map((question) => question.id)).toEqual(['pool-max', 'weather']);
  });

  it('matches evidence across re-flowed whitespace but not across different words', () => {
    expect(containsEvidence('at most\n  10 connections', 'at most 10 connections')).toBe(true);
    expect(containsEvidence('at most 10 connections', 'at most 20 connections')).toBe(false);
  });

  it('names the question whose evidence is not in its expected source', async () => {
    const raw = validSet();
    raw.questions[0] = { ...raw.questions[0]!, evidence: 'at most 20 connections' } as (typeof raw.questions)[number];
    expect(await problemsOf(raw)).toEqual([expect.stringMatching(/question "pool-max": evidence "at most 20 connections" does not appear in "pool.md"/)]);
  });

  it('names the question whose expected source is not a document of the set', async () => {
    const raw = validSet();
    raw.questions[0] = { ...raw.questions[0]!, expected_source: 'missing.md' } as (typeof raw.questions)[number];
    expect(await problemsOf(raw)).toEqual([expect.stringContaining('question "pool-max": expected_source "missing.md" is not a document')]);
  });

  it('names the question that lacks an evidence string, by id', async () => {
    const raw = validSet() as { questions: Array<Record<string, unknown>> };
    delete raw.questions[0]!.evidence;
    const problems = await problemsOf(raw);
    expect(problems.some((problem) => problem.startsWith('question "pool-max"') && problem.includes('evidence'))).toBe(true);
  });

  it('rejects a document with both or neither of path and content, and unknown languages', async () => {
    const raw = validSet() as { documents: Array<Record<string, unknown>>; questions: Array<Record<string, unknown>> };
    raw.documents[1] = { source: 'retry.md' };
    raw.questions[1]!.language = 'fr';
    const problems = await problemsOf(raw);
    expect(problems.some((problem) => problem.startsWith('documents.1'))).toBe(true);
    expect(problems.some((problem) => problem.startsWith('question "weather".language'))).toBe(true);
  });

  it('reports duplicate question ids', async () => {
    const raw = validSet();
    raw.questions[1] = { ...raw.questions[1]!, id: 'pool-max' };
    expect(await problemsOf(raw)).toEqual([expect.stringContaining('question "pool-max": id is used twice')]);
  });
});

describe('loadEvalSet', () => {
  let directory: string | undefined;
  afterEach(async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  async function writeSet(set: unknown, files: Record<string, string>): Promise<string> {
    directory = await mkdtemp(path.join(tmpdir(), 'eval-set-'));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(directory, name)), { recursive: true });
      await writeFile(path.join(directory, name), text);
    }
    const setFile = path.join(directory, 'sets', 'set.json');
    await mkdir(path.dirname(setFile), { recursive: true });
    await writeFile(setFile, JSON.stringify(set));
    return setFile;
  }

  it('reads document paths relative to the set file', async () => {
    const raw = { ...validSet(), documents: [{ source: 'pool.md', path: '../docs/pool.md' }, validSet().documents[1]] };
    const setFile = await writeSet(raw, { 'docs/pool.md': 'The pool opens at most 10 connections by default.' });
    const set = await loadEvalSet(setFile);
    expect(set.documents[0]!.content).toContain('at most 10 connections');
  });

  it('names the document whose file is missing, without repeating it for its questions', async () => {
    const raw = { ...validSet(), documents: [{ source: 'pool.md', path: '../docs/gone.md' }, validSet().documents[1]] };
    const setFile = await writeSet(raw, {});
    const error = await loadEvalSet(setFile).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EvalSetError);
    expect((error as EvalSetError).problems).toEqual(['document "pool.md": cannot read ../docs/gone.md (ENOENT)']);
  });

  it('says so when the file is not JSON', async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'eval-set-'));
    const setFile = path.join(directory, 'broken.json');
    await writeFile(setFile, '{ "name": ');
    await expect(loadEvalSet(setFile)).rejects.toThrow(/not valid JSON/);
  });
});
