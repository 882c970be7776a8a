import { describe, expect, it } from 'vitest';
import { readsAsFollowUp, retrieveForQuestion } from './follow-up.ts';
import type { SufficiencyThresholds } from './sufficiency.ts';
import type { SearchHit } from '../contracts.ts';

const thresholds: SufficiencyThresholds = { minBestScore: 0.5, minBestScoreWithoutTextMatch: -1, minTermCoverage: 0.5, minFusedMargin: 0 };
const wsChunk = 'The permessage-deflate extension is disabled by default on the server and enabled by default on the client.';
const compressionQuestion = 'Is permessage-deflate compression enabled by default on the server?';

function hit(content: string, score: number): SearchHit {
  return { documentId: 'd', source: 'ws.md', chunkIndex: 40, content, score, metadata: {} };
}

/** A search that finds the ws chunk, strongly, only when the query names compression. */
function searchLog() {
  const queries: string[] = [];
  return {
    queries,
    search: async (query: string) => {
      queries.push(query);
      return [hit(wsChunk, /compression|deflate/i.test(query) ? 0.87 : 0.1)];
    },
  };
}

describe('readsAsFollowUp', () => {
  it.each(['and on the client?', 'What about the client?', 'is it exact?', 'why?', '那客户端呢？', '还有别的方法吗', 'How do I turn it off?'])('reads %j as a follow-up', (message) => {
    expect(readsAsFollowUp(message)).toBe(true);
  });

  it.each([
    'What is the capital city of Australia?',
    'Which error class is thrown when the API answers with status 429?',
    'When is it safe to turn off autoCleanupIncoming?',
    '今天北京的天气怎么样？',
    'passwd 命令的 -e 选项有什么作用？',
  ])('reads %j as a question of its own', (message) => {
    expect(readsAsFollowUp(message)).toBe(false);
  });
});

describe('retrieveForQuestion', () => {
  it('refuses a complete unrelated question instead of answering it from the earlier turn', async () => {
    const { queries, search } = searchLog();
    const result = await retrieveForQuestion({ message: 'What is the capital city of Australia?', previousQuestion: compressionQuestion, search, thresholds });
    expect(result.decision).toMatchObject({ sufficient: false, reason: 'below_threshold' });
    expect(result.usedPreviousQuestion).toBe(false);
    expect(queries).toEqual(['What is the capital city of Australia?']);
  });

  it('answers a follow-up from the earlier question together with it', async () => {
    const { queries, search } = searchLog();
    const result = await retrieveForQuestion({ message: 'and on the client?', previousQuestion: compressionQuestion, search, thresholds });
    expect(result).toMatchObject({ usedPreviousQuestion: true, query: `${compressionQuestion}\nand on the client?`, decision: { sufficient: true } });
    expect(queries).toHaveLength(2);
  });

  it('measures term coverage on the follow-up\'s own words, not the earlier question\'s', async () => {
    const { search } = searchLog();
    const result = await retrieveForQuestion({ message: 'and what about the weather in Sydney?', previousQuestion: compressionQuestion, search, thresholds });
    expect(result.decision).toMatchObject({ sufficient: false });
    expect(result.usedPreviousQuestion).toBe(false);
  });

  it('measures a follow-up without content words of its own on both turns', async () => {
    const { search } = searchLog();
    const result = await retrieveForQuestion({ message: 'why?', previousQuestion: compressionQuestion, search, thresholds });
    expect(result.decision.sufficient).toBe(true);
    expect(result.decision.signals.term_coverage).toBeGreaterThanOrEqual(thresholds.minTermCoverage);
  });

  it('searches once for a question of its own or without an earlier question', async () => {
    const { queries, search } = searchLog();
    await retrieveForQuestion({ message: compressionQuestion, previousQuestion: 'something else', search, thresholds });
    await retrieveForQuestion({ message: 'and on the client?', search, thresholds });
    expect(queries).toEqual([compressionQuestion, 'and on the client?']);
  });

  it('prefers the follow-up\'s search with its earlier question even when the message alone finds something', async () => {
    const clientChunk = hit('The client sends its API key in a header.', 0.9);
    const search = async (query: string) => (query.includes('\n') ? [hit(wsChunk, 0.87)] : [clientChunk]);
    const result = await retrieveForQuestion({ message: 'and on the client?', previousQuestion: compressionQuestion, search, thresholds });
    expect(result.usedPreviousQuestion).toBe(true);
    expect(result.hits[0]!.content).toBe(wsChunk);
  });

  it('decides on the first decisionTopK hits only', async () => {
    const search = async () => [hit('unrelated text', 0.2), hit(wsChunk, 0.9)];
    const result = await retrieveForQuestion({ message: 'permessage-deflate client default', search, thresholds, decisionTopK: 1 });
    expect(result.decision).toMatchObject({ sufficient: false, reason: 'below_threshold' });
  });
});
