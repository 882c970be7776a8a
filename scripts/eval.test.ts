import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWhenPresent } from '../tests/support/requirements.ts';

const projectRoot = fileURLToPath(new URL('../', import.meta.url));
const fixtureModel = path.join(projectRoot, '../shared/fixtures/models/glove-static-384d');
const model = process.env.EMBEDDING_MODEL ?? (existsSync(fixtureModel) ? fixtureModel : undefined);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runEval(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/eval.ts', ...args], { cwd: projectRoot, env: { ...process.env, EMBEDDING_MODEL: model } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const tinySet = {
  name: 'tiny',
  description: 'one document about pools, one about baking',
  documents: [
    { source: 'pool.md', content: 'The connection pool opens at most 10 connections by default. Set max to change it.' },
    { source: 'bread.md', content: 'Sourdough bread needs a long proof. Bake it in a hot oven.' },
  ],
  questions: [
    { id: 'pool', question: 'How many connections does the pool open by default?', language: 'en', answerable: true, expected_source: 'pool.md', evidence: 'at most 10 connections' },
    { id: 'capital', question: 'What is the capital of Australia?', language: 'en', answerable: false },
  ],
};

describeWhenPresent({ present: model !== undefined, missing: 'no fixture model and no EMBEDDING_MODEL' }, 'npm run eval', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'eval-cli-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('prints JSON with every mode and passes a gate the set meets', async () => {
    const setFile = path.join(directory, 'tiny.json');
    await writeFile(setFile, JSON.stringify(tinySet));
    const run = await runEval([setFile, '--store', 'memory', '--json', '--min-evidence-at-3', '1']);
    expect(run.stderr).not.toMatch(/below the required/);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { modes: Array<{ mode: string; retrieval: { evidenceAt: Record<string, number> } }> };
    expect(report.modes.map((mode) => mode.mode)).toEqual(['vector', 'text', 'hybrid']);
    expect(report.modes[2]!.retrieval.evidenceAt['3']).toBe(1);
  }, 60_000);

  it('exits 1 when hybrid evidence@3 is below --min-evidence-at-3', async () => {
    const run = await runEval(['bench/eval/sets/reference/reference.json', '--store', 'memory', '--min-evidence-at-3', '0.999']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/hybrid evidence@3 \d\.\d{3} is below the required 0\.999/);
    expect(run.stdout).toMatch(/^hybrid +\d\.\d{3}/m);
  }, 90_000);

  it('exits 2 naming the question when an evidence string is not in its document', async () => {
    const broken = { ...tinySet, questions: [{ ...tinySet.questions[0], evidence: 'at most 99 connections' }] };
    const setFile = path.join(directory, 'broken.json');
    await writeFile(setFile, JSON.stringify(broken));
    const run = await runEval([setFile, '--store', 'memory']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('question "pool": evidence "at most 99 connections" does not appear in "pool.md"');
  }, 60_000);
});
