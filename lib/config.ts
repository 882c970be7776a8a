import { z } from 'zod';
import { DEFAULT_HNSW_EF_SEARCH, DEFAULT_HYBRID_SETTINGS } from './db/search-query.ts';
import type { LogLevel } from './log.ts';

/** The functions a process can serve; `FUNCTIONS=all` serves every one. */
export const FUNCTION_NAMES = ['add-document', 'search', 'ws-chat'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

const DEFAULT_EMBEDDING_MODEL = 'sentence-transformers/all-MiniLM-L6-v2';

const booleanFlag = (fallback: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
    .optional()
    .transform((value) => (value === undefined ? fallback : ['1', 'true', 'yes', 'on'].includes(value)));

const integer = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const functionList = z
  .string()
  .default('all')
  .transform((value, context) => {
    const names = value.split(',').map((name) => name.trim()).filter(Boolean);
    if (names.length === 0 || names.includes('all')) return [...FUNCTION_NAMES];
    const unknown = names.filter((name) => !FUNCTION_NAMES.includes(name as FunctionName));
    if (unknown.length > 0) {
      context.addIssue({ code: 'custom', message: `unknown function(s) ${unknown.join(', ')}; expected all or ${FUNCTION_NAMES.join(', ')}` });
      return z.NEVER;
    }
    return [...new Set(names)] as FunctionName[];
  });

const origins = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((origin) => origin.trim()).filter(Boolean));

/** Every environment variable the service reads, with its default. */
const environmentSchema = z.object({
  PORT: integer(8080, 0, 65535),
  HOST: z.string().default('127.0.0.1'),
  FUNCTIONS: functionList,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),

  DATABASE_URL: optionalString.refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL'),
  DATA_DIR: z.string().default('./data'),
  DATABASE_POOL_SIZE: integer(10, 1, 100),
  MIGRATE_ON_START: booleanFlag(true),

  EMBEDDING_MODEL: z.string().default(DEFAULT_EMBEDDING_MODEL),
  EMBEDDING_DIM: integer(384, 1, 16000),
  EMBEDDING_DTYPE: z.enum(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16']).default('fp32'),
  EMBEDDING_THREADS: integer(0, 0, 256),
  EMBEDDING_BATCH_SIZE: integer(32, 1, 1024),
  MODELS_DIR: z.string().default('./models'),
  HF_HUB_OFFLINE: booleanFlag(false),

  CHUNK_MAX_TOKENS: integer(256, 16, 8192),
  CHUNK_OVERLAP_SENTENCES: integer(1, 0, 10),

  RAG_TOP_K: integer(3, 1, 50),
  RAG_MIN_SCORE: z.coerce.number().min(-1).max(1).optional(),
  RAG_HYBRID_VECTOR_WEIGHT: z.coerce.number().min(0).max(100).default(DEFAULT_HYBRID_SETTINGS.vectorWeight),
  RAG_HYBRID_TEXT_WEIGHT: z.coerce.number().min(0).max(100).default(DEFAULT_HYBRID_SETTINGS.textWeight),
  RAG_HYBRID_CANDIDATES: integer(DEFAULT_HYBRID_SETTINGS.candidates, 1, 1000),
  RAG_HNSW_EF_SEARCH: integer(DEFAULT_HNSW_EF_SEARCH, 10, 1000),
  API_KEY: optionalString,
  MAX_DOCUMENT_BYTES: integer(1024 * 1024, 1),

  LLM_BASE_URL: z.string().url().default('http://127.0.0.1:8081/v1'),
  LLM_API_KEY: optionalString,
  HF_FILENAME: optionalString,
  LLM_MODEL: optionalString,
  LLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.1),
  LLM_MAX_TOKENS: integer(512, 1, 32768),
  LLM_CONTEXT_TOKENS: integer(4096, 256, 1_000_000),
  LLM_TIMEOUT_MS: integer(60_000, 100),
  LLM_READY_WAIT_MS: integer(30_000, 0),
  ALLOWED_ORIGINS: origins,
  WS_MAX_FRAME_BYTES: integer(16 * 1024, 256, 1024 * 1024),
  CHAT_HISTORY_MESSAGES: integer(6, 0, 100),
});

export type Environment = Record<string, string | undefined>;

/** Typed service configuration; built once at start by {@link loadConfig}. */
export interface Config {
  port: number;
  host: string;
  functions: FunctionName[];
  logLevel: LogLevel;
  database: { url?: string; dataDir: string; poolSize: number; migrateOnStart: boolean };
  embedding: {
    model: string;
    dimensions: number;
    dtype: string;
    /** ONNX Runtime intra-op threads; 0 lets the runtime choose. */
    threads: number;
    batchSize: number;
    modelsDir: string;
    offline: boolean;
  };
  chunking: { maxTokens: number; overlapSentences: number };
  retrieval: {
    topK: number;
    minScore?: number;
    /** Reciprocal-rank-fusion weights and per-ranking candidate count of hybrid search. */
    hybrid: { vectorWeight: number; textWeight: number; candidates: number };
    /** pgvector `hnsw.ef_search` of every connection: HNSW candidates per search (recall against speed). */
    efSearch: number;
  };
  apiKey?: string;
  maxDocumentBytes: number;
  llm: {
    baseURL: string;
    apiKey?: string;
    model: string;
    temperature: number;
    maxTokens: number;
    contextTokens: number;
    timeoutMs: number;
    readyWaitMs: number;
  };
  chat: { allowedOrigins: string[]; maxFrameBytes: number; historyMessages: number };
}

/** Raised when the environment holds bad values; the message names every bad variable. */
export class ConfigError extends Error {
  readonly variables: string[];
  constructor(message: string, variables: string[]) {
    super(message);
    this.name = 'ConfigError';
    this.variables = variables;
  }
}

/**
 * Reads and validates the service configuration from an environment object.
 * This is the only place that knows environment variable names.
 */
export function loadConfig(environment: Environment): Config {
  // An empty value (`FOO=` in an env file) means "not set", so defaults apply.
  const known = Object.fromEntries(
    Object.keys(environmentSchema.shape).map((name) => [name, environment[name] === '' ? undefined : environment[name]]),
  );
  const parsed = environmentSchema.safeParse(known);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    const variables = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))];
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, variables);
  }
  const value = parsed.data;
  return {
    port: value.PORT,
    host: value.HOST,
    functions: value.FUNCTIONS,
    logLevel: value.LOG_LEVEL,
    database: { url: value.DATABASE_URL, dataDir: value.DATA_DIR, poolSize: value.DATABASE_POOL_SIZE, migrateOnStart: value.MIGRATE_ON_START },
    embedding: {
      model: value.EMBEDDING_MODEL,
      dimensions: value.EMBEDDING_DIM,
      dtype: value.EMBEDDING_DTYPE,
      threads: value.EMBEDDING_THREADS,
      batchSize: value.EMBEDDING_BATCH_SIZE,
      modelsDir: value.MODELS_DIR,
      offline: value.HF_HUB_OFFLINE,
    },
    chunking: { maxTokens: value.CHUNK_MAX_TOKENS, overlapSentences: value.CHUNK_OVERLAP_SENTENCES },
    retrieval: {
      topK: value.RAG_TOP_K,
      minScore: value.RAG_MIN_SCORE,
      hybrid: { vectorWeight: value.RAG_HYBRID_VECTOR_WEIGHT, textWeight: value.RAG_HYBRID_TEXT_WEIGHT, candidates: value.RAG_HYBRID_CANDIDATES },
      efSearch: value.RAG_HNSW_EF_SEARCH,
    },
    apiKey: value.API_KEY,
    maxDocumentBytes: value.MAX_DOCUMENT_BYTES,
    llm: {
      baseURL: value.LLM_BASE_URL,
      apiKey: value.LLM_API_KEY,
      model: value.LLM_MODEL ?? value.HF_FILENAME ?? 'local-model',
      temperature: value.LLM_TEMPERATURE,
      maxTokens: value.LLM_MAX_TOKENS,
      contextTokens: value.LLM_CONTEXT_TOKENS,
      timeoutMs: value.LLM_TIMEOUT_MS,
      readyWaitMs: value.LLM_READY_WAIT_MS,
    },
    chat: { allowedOrigins: value.ALLOWED_ORIGINS, maxFrameBytes: value.WS_MAX_FRAME_BYTES, historyMessages: value.CHAT_HISTORY_MESSAGES },
  };
}

/** The variable names {@link loadConfig} reads, for documentation and the env-file checks. */
export const CONFIG_VARIABLES = Object.keys(environmentSchema.shape);
