// `npm run eval -- <set.json> --answers`: every question of the set through the real chat
// path — the ws-chat app served on 127.0.0.1 (random port) over the evaluation's knowledge
// base, a WebSocket client speaking /ws/llm, the LLM at LLM_BASE_URL — and the answers scored
// (scripts/eval/answers.ts): grounded-answer rate, citation accuracy, refusal rate.
import type { Config } from '../lib/config.ts';
import { answerMetrics, scoreAnswer, type AnswerMetrics, type AnswerScore, type ChatAnswer } from './eval/answers.ts';
import type { EvalSet } from './eval/eval-set.ts';
import { addDocumentToKnowledgeBase, searchSimilarChunks, type KnowledgeDependencies } from '../lib/knowledge/knowledge-base.ts';
import type { SufficiencyThresholds } from '../lib/knowledge/sufficiency.ts';
import { createChatModel } from '../lib/llm/chat-model.ts';
import { listenNode, nodeUpgradeWebSocket } from '../functions/runtime/node.ts';
import { createWsChatApp } from '../functions/ws-chat/app.ts';
import { connectChatSocket } from './eval/chat-socket-client.ts';

/** One answer may take this long on a small CPU (prompt processing plus LLM_MAX_TOKENS). */
const ANSWER_TIMEOUT_MS = 300_000;
/** What the history holds for the assistant's earlier turn of a follow-up. */
const EARLIER_ANSWER = '(answered)';

export interface AnswerReport {
  set: string;
  model: string;
  llm: string;
  metrics: AnswerMetrics;
  scores: Array<AnswerScore & { answer: string; ms: number }>;
}

/** Ingests the set into `knowledge`, asks every question over /ws/llm and scores the answers. */
export async function runAnswerEvaluation(options: {
  set: EvalSet;
  config: Config;
  knowledge: KnowledgeDependencies;
  thresholds: SufficiencyThresholds;
  onProgress?: (message: string) => void;
}): Promise<AnswerReport> {
  const { set, config, knowledge } = options;
  for (const document of set.documents) await addDocumentToKnowledgeBase(knowledge, document);
  const chatModel = createChatModel(config.llm);
  const app = createWsChatApp({
    config,
    retrieve: (query, searchOptions) => searchSimilarChunks(knowledge, query, { ...searchOptions, hybrid: config.retrieval.hybrid }),
    chatModel,
    thresholds: options.thresholds,
    upgradeWebSocket: nodeUpgradeWebSocket,
  });
  const server = await listenNode(app, { port: 0, host: '127.0.0.1', maxFrameBytes: config.chat.maxFrameBytes });
  const socket = await connectChatSocket(`ws://127.0.0.1:${server.port}/ws/llm`);
  const scores: AnswerReport['scores'] = [];
  try {
    for (const question of set.questions) {
      const started = performance.now();
      const history = question.previous_question ? [{ role: 'user' as const, content: question.previous_question }, { role: 'assistant' as const, content: EARLIER_ANSWER }] : [];
      const frames = await socket.ask({ type: 'chat', message: question.question, history }, ANSWER_TIMEOUT_MS);
      const answer: ChatAnswer = { refusedByRetrieval: false, text: '', sources: [] };
      for (const frame of frames) {
        if (frame.type === 'insufficient') answer.refusedByRetrieval = true;
        else if (frame.type === 'token') answer.text += frame.content;
        else if (frame.type === 'sources') answer.sources = frame.sources;
        else if (frame.type === 'error') answer.errorCode = frame.code;
      }
      if (answer.errorCode) throw new Error(`question "${question.id}": the chat failed with ${answer.errorCode}`);
      const ms = Math.round(performance.now() - started);
      scores.push({ ...scoreAnswer(question, answer), answer: answer.text, ms });
      options.onProgress?.(`${question.id}: ${answer.refusedByRetrieval ? 'refused before the model' : JSON.stringify(answer.text.slice(0, 120))} (${ms} ms)`);
    }
  } finally {
    await socket.close();
    await server.close();
  }
  return { set: set.name, model: knowledge.embedder.modelId, llm: config.llm.model, metrics: answerMetrics(scores), scores };
}

/** The metrics as a small table, the per-question outcomes below it. */
export function formatAnswerReport(report: AnswerReport): string {
  const { metrics } = report;
  const percent = (value: number | null) => (value === null ? 'n/a' : `${(100 * value).toFixed(1)} %`);
  const lines = [
    `set ${report.set}; embedding ${report.model}; LLM ${report.llm}`,
    `grounded answers            ${percent(metrics.groundedRate)} of ${metrics.answerable} answerable`,
    `answerable refused          ${percent(metrics.falseRefusalRate)}`,
    `answers citing [n]          ${percent(metrics.citingRate)}`,
    `citation accuracy           ${percent(metrics.citationAccuracy)} of the citing answers`,
    `unanswerable refused        ${percent(metrics.refusalRate)} of ${metrics.unanswerable}`,
    '',
  ];
  for (const score of report.scores) {
    const verdict = score.answerable ? (score.refused ? 'REFUSED' : score.grounded ? 'grounded' : 'not grounded') : score.refused ? 'refused' : 'ANSWERED';
    lines.push(`${score.id}: ${verdict}; cites ${score.citations.join(',') || '-'}${score.citationAccurate === false ? ' (wrong)' : ''}; ${JSON.stringify(score.answer.slice(0, 160))}`);
  }
  return lines.join('\n');
}
