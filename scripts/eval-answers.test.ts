import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../lib/config.ts';
import { createHashEmbedder } from '../tests/support/hash-embedder.ts';
import { resolveEvalSet } from './eval/eval-set.ts';
import { createMemoryStore } from '../tests/support/memory-store.ts';
import { PERMISSIVE_THRESHOLDS } from '../lib/knowledge/sufficiency.ts';
import { startFakeLlmServer, type FakeLlmServer } from '../tests/support/fake-llm-server.ts';
import { formatAnswerReport, runAnswerEvaluation } from './eval-answers.ts';

const set = await resolveEvalSet(
  {
    name: 'tiny',
    description: 'pools and baking',
    documents: [
      { source: 'pool.md', content: 'The connection pool opens at most 10 connections by default. Set max to change it.' },
      { source: 'bread.md', content: 'Sourdough bread needs a long proof. Bake it in a hot oven.' },
    ],
    questions: [
      { id: 'pool', question: 'How many connections does the pool open by default?', language: 'en', answerable: true, expected_source: 'pool.md', evidence: 'at most 10 connections' },
      { id: 'pool-follow-up', question: 'and the oven?', previous_question: 'How do I bake sourdough bread?', language: 'en', answerable: true, expected_source: 'bread.md', evidence: 'Bake it in a hot oven' },
      { id: 'capital', question: 'What is the capital of Australia?', language: 'en', answerable: false },
    ],
  },
  'tiny',
  async () => '',
);

describe('npm run eval -- --answers', () => {
  let fake: FakeLlmServer;
  beforeAll(async () => {
    fake = await startFakeLlmServer();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('asks every question over /ws/llm and scores what the model streamed', async () => {
    fake.tokens = ['At most ', '10 connections', ' [1].'];
    const config = loadConfig({ LLM_BASE_URL: fake.baseURL, LLM_TIMEOUT_MS: '5000' });
    const knowledge = { store: createMemoryStore(), embedder: createHashEmbedder(), chunking: config.chunking };
    const report = await runAnswerEvaluation({ set, config, knowledge, thresholds: { ...PERMISSIVE_THRESHOLDS, minBestScore: 0.3 } });

    const byId = Object.fromEntries(report.scores.map((score) => [score.id, score]));
    expect(byId.pool).toMatchObject({ refused: false, grounded: true, citations: [1], citationAccurate: true, answer: 'At most 10 connections [1].' });
    // The same canned answer to the oven follow-up holds none of its evidence.
    expect(byId['pool-follow-up']).toMatchObject({ refused: false, grounded: false });
    expect(byId.capital).toMatchObject({ refused: true });
    expect(report.metrics).toMatchObject({ answerable: 2, unanswerable: 1, groundedRate: 0.5, refusalRate: 1 });
    // The follow-up was sent with its earlier turn in the history, as the chat page sends it.
    expect(fake.completionRequests.some((request) => request.messages.some((message) => message.content === 'How do I bake sourdough bread?'))).toBe(true);
    expect(formatAnswerReport(report)).toContain('grounded answers            50.0 % of 2 answerable');
  });
});
