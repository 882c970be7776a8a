import { describe, expect, it } from 'vitest';
import { answerKeys, answerMetrics, citedNumbers, isGrounded, scoreAnswer, type ChatAnswer } from './answers.ts';
import type { EvalQuestion } from './eval-set.ts';

const poolQuestion: EvalQuestion = {
  id: 'postgres-pool-max',
  language: 'en',
  answerable: true,
  question: 'What is the default maximum number of connections in the postgres.js connection pool?',
  expected_source: 'postgres/README.md',
  evidence: 'By default `max` is 10',
};
const capitalQuestion: EvalQuestion = { id: 'none-capital', language: 'en', answerable: false, question: 'What is the capital city of Australia?' };
const sources = [
  { n: 1, source: 'postgres/README.md', content: 'Connections are opened lazily. By default `max` is 10 connections.' },
  { n: 2, source: 'ws/README.md', content: 'Unrelated.' },
];
const answer = (text: string, extra: Partial<ChatAnswer> = {}): ChatAnswer => ({ refusedByRetrieval: false, text, sources, ...extra });

describe('answer scoring', () => {
  it('takes the figures and code spans the question does not name as what the answer must hold', () => {
    expect(answerKeys(poolQuestion.question, poolQuestion.evidence)).toEqual(['10']);
    expect(answerKeys('What range does the caret range ^0.2.3 allow?', '`^0.2.3` := `>=0.2.3 <0.3.0-0`')).toEqual(['>=0.2.3 <0.3.0-0']);
  });

  it('counts an answer grounded only when it holds every key, or the evidence itself', () => {
    expect(isGrounded('The pool opens up to 10 connections [1].', poolQuestion.question, poolQuestion.evidence)).toBe(true);
    expect(isGrounded('The pool opens up to 100 connections [1].', poolQuestion.question, poolQuestion.evidence)).toBe(false);
    expect(isGrounded('Yes: By default `max` is 10.', poolQuestion.question, poolQuestion.evidence)).toBe(true);
  });

  it('falls back to half of the evidence words when it has no figure or code span', () => {
    const evidence = 'ping messages can be used as a means to verify that the remote endpoint is still responsive';
    expect(isGrounded('Send ping messages to verify the remote endpoint is responsive.', 'How can a server detect broken connections?', evidence)).toBe(true);
    expect(isGrounded('Close the socket.', 'How can a server detect broken connections?', evidence)).toBe(false);
  });

  it('scores citations by whether a cited passage holds the evidence', () => {
    expect(citedNumbers('See [1] and [2], again [1].')).toEqual([1, 2]);
    expect(scoreAnswer(poolQuestion, answer('It is 10 (`max`) [1].'))).toMatchObject({ grounded: true, citationAccurate: true, refused: false });
    expect(scoreAnswer(poolQuestion, answer('It is 10 (`max`) [2].'))).toMatchObject({ grounded: true, citationAccurate: false });
    expect(scoreAnswer(poolQuestion, answer('It is 10 (`max`).'))).toMatchObject({ citationAccurate: null });
  });

  it('counts 资料不足 from the model or from retrieval as a refusal', () => {
    expect(scoreAnswer(capitalQuestion, answer('资料不足'))).toMatchObject({ refused: true });
    expect(scoreAnswer(capitalQuestion, answer('', { refusedByRetrieval: true, sources: [] }))).toMatchObject({ refused: true });
    expect(scoreAnswer(capitalQuestion, answer('Canberra.'))).toMatchObject({ refused: false });
    expect(scoreAnswer(poolQuestion, answer('资料不足'))).toMatchObject({ refused: true, grounded: false });
  });

  it('aggregates grounded, refusal and citation rates', () => {
    const metrics = answerMetrics([
      scoreAnswer(poolQuestion, answer('10 (`max`) [1]')),
      scoreAnswer(poolQuestion, answer('资料不足')),
      scoreAnswer(capitalQuestion, answer('资料不足')),
      scoreAnswer(capitalQuestion, answer('Canberra')),
    ]);
    expect(metrics).toEqual({ answerable: 2, unanswerable: 2, groundedRate: 0.5, falseRefusalRate: 0.5, citationAccuracy: 1, citingRate: 1, refusalRate: 0.5 });
  });
});
