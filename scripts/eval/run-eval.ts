import { addDocumentToKnowledgeBase, searchSimilarChunks, type KnowledgeDependencies } from '../../lib/knowledge/knowledge-base.ts';
import { retrieveForQuestion, type QuestionRetrieval } from '../../lib/knowledge/follow-up.ts';
import { type SufficiencySignals, type SufficiencyThresholds, type InsufficientReason } from '../../lib/knowledge/sufficiency.ts';
import type { HybridSettings, SearchMode } from '../../lib/contracts.ts';
import { calibrateThresholds, type CalibrationProposal } from './calibrate.ts';
import { containsEvidence, type EvalSet } from './eval-set.ts';
import { chunkKey, type ExactSearch } from './exact-reference.ts';
import { firstRank, mean, recallAtK, refusalMetrics, retrievalMetrics, type QuestionOutcome, type RefusalMetrics, type RetrievalMetrics } from './metrics.ts';

export const SEARCH_MODES: SearchMode[] = ['vector', 'text', 'hybrid'];

export interface EvaluationOptions {
  set: EvalSet;
  /** A store that is empty or holds only this set: the documents are added to it. */
  knowledge: KnowledgeDependencies;
  thresholds: SufficiencyThresholds;
  modes?: SearchMode[];
  /** Hits retrieved per question (ranks beyond it count as not found). Default 10. */
  topK?: number;
  /** Hits the refusal decision sees: what the chat hands the model (`RAG_TOP_K`). Default 3. */
  decisionTopK?: number;
  /** When given, vector-mode hits are compared with it for HNSW recall@10. */
  exactSearch?: ExactSearch;
  /** Fusion settings of hybrid mode (RAG_HYBRID_*); the store's defaults when absent. */
  hybrid?: Partial<HybridSettings>;
  /** Also propose thresholds per mode. */
  calibrate?: boolean;
  onProgress?: (message: string) => void;
}

/** One question's result in one mode, with what led to it. */
export interface QuestionReport extends QuestionOutcome {
  question: string;
  reason?: InsufficientReason;
  signals: SufficiencySignals;
  topSources: string[];
  /** Asked as the follow-up of an earlier turn (`previous_question`). */
  followUp: boolean;
  /** The hits are those of the earlier turn and the question searched together. */
  usedPreviousQuestion: boolean;
}

export interface ModeReport {
  mode: SearchMode;
  retrieval: RetrievalMetrics;
  byLanguage: Record<string, RetrievalMetrics>;
  refusal: RefusalMetrics;
  questions: QuestionReport[];
  calibration?: CalibrationProposal;
}

export interface EvaluationReport {
  set: string;
  model: string;
  documents: number;
  chunks: number;
  topK: number;
  decisionTopK: number;
  thresholds: SufficiencyThresholds;
  modes: ModeReport[];
  /** Mean recall@10 of vector mode against an exact scan; `null` without a reference. */
  hnsw: { recallAt10: number; queries: number } | null;
  timings: { ingestMs: number; searchMs: number };
}

/** Ingests the set, runs every question in every mode and measures retrieval and refusal. */
export async function runEvaluation(options: EvaluationOptions): Promise<EvaluationReport> {
  const { set, knowledge, thresholds } = options;
  const modes = options.modes ?? SEARCH_MODES;
  const topK = options.topK ?? 10;
  const decisionTopK = options.decisionTopK ?? 3;

  const ingestStarted = performance.now();
  let chunks = 0;
  for (const document of set.documents) {
    const result = await addDocumentToKnowledgeBase(knowledge, document);
    chunks += result.document.chunkCount;
  }
  const ingestMs = performance.now() - ingestStarted;
  options.onProgress?.(`ingested ${set.documents.length} documents, ${chunks} chunks in ${Math.round(ingestMs)} ms`);

  const searchStarted = performance.now();
  const modeReports: ModeReport[] = [];
  const recalls: number[] = [];
  for (const mode of modes) {
    const questions: QuestionReport[] = [];
    for (const question of set.questions) {
      // The chat's own retrieval: the question alone, or with its earlier turn when it is a follow-up.
      const retrieval = await retrieveForQuestion({
        message: question.question,
        previousQuestion: question.previous_question,
        search: (query) => searchSimilarChunks(knowledge, query, { topK, mode, hybrid: options.hybrid }),
        thresholds,
        decisionTopK,
      });
      // The exact reference answers the question alone; a combined query has no counterpart there.
      if (mode === 'vector' && options.exactSearch && !retrieval.usedPreviousQuestion) {
        const exact = await options.exactSearch(question.question, topK);
        recalls.push(recallAtK(retrieval.hits.map(chunkKey), exact.map(chunkKey), topK));
      }
      questions.push(assess(question, retrieval));
    }
    const languages = [...new Set(questions.map((question) => question.language))].sort();
    modeReports.push({
      mode,
      retrieval: retrievalMetrics(questions),
      byLanguage: Object.fromEntries(languages.map((language) => [language, retrievalMetrics(questions.filter((question) => question.language === language))])),
      refusal: refusalMetrics(questions),
      questions,
      calibration: options.calibrate ? calibrateThresholds(questions) : undefined,
    });
    options.onProgress?.(`${mode}: ${set.questions.length} questions`);
  }
  return {
    set: set.name,
    model: knowledge.embedder.modelId,
    documents: set.documents.length,
    chunks,
    topK,
    decisionTopK,
    thresholds,
    modes: modeReports,
    hnsw: recalls.length ? { recallAt10: mean(recalls), queries: recalls.length } : null,
    timings: { ingestMs: Math.round(ingestMs), searchMs: Math.round(performance.now() - searchStarted) },
  };
}

function assess(question: EvalSet['questions'][number], retrieval: QuestionRetrieval): QuestionReport {
  const { hits, decision } = retrieval;
  return {
    id: question.id,
    question: question.question,
    language: question.language,
    answerable: question.answerable,
    sourceRank: question.answerable ? firstRank(hits, (hit) => hit.source === question.expected_source) : null,
    evidenceRank: question.answerable ? firstRank(hits, (hit) => hit.source === question.expected_source && containsEvidence(hit.content, question.evidence)) : null,
    refused: !decision.sufficient,
    reason: decision.reason,
    signals: decision.signals,
    topSources: hits.slice(0, 3).map(chunkKey),
    followUp: question.previous_question !== undefined,
    usedPreviousQuestion: retrieval.usedPreviousQuestion,
  };
}
