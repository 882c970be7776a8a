import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { HybridSettings } from './contracts.ts';
import type { LogLevel } from './log.ts';

/** The functions a process can serve; `FUNCTIONS=all` serves every one. */
export const FUNCTION_NAMES = ['add-document', 'search', 'ws-chat'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

const DEFAULT_EMBEDDING_MODEL = 'sentence-transformers/all-MiniLM-L6-v2';

/**
 * The chat model downloaded on first start when neither LLM_BASE_URL nor LLM_MODEL_FILE is
 * set: Qwen2.5 1.5B Instruct, Q4_K_M (986 MB, Apache-2.0, ungated, answers English and
 * Chinese). The README says why this one.
 */
export const DEFAULT_CHAT_MODEL = { repoId: 'bartowski/Qwen2.5-1.5B-Instruct-GGUF', filename: 'Qwen2.5-1.5B-Instruct-Q4_K_M.gguf', revision: 'main' } as const;
/** The model hub the download job and the embedded runtime fetch from (`HF_ENDPOINT`). */
const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/** Fusion settings when neither the caller nor the configuration gives any. */
// Tuned on bench/eval/sets/reference (bench/eval/README.md): the text ranking is the stronger one there.
export const DEFAULT_HYBRID_SETTINGS: HybridSettings = { vectorWeight: 1, textWeight: 2, candidates: 10 };

/**
 * The `hnsw.ef_search` a session starts with unless configured (`RAG_HNSW_EF_SEARCH`; see
 * openDatabase): the lowest setting whose recall@10 at 100k chunks reached the 0.95 goal, and
 * not higher because pgvector's cost estimate grows with it until, at 10k chunks, the planner
 * prefers a slower exact scan. The figures: bench/results/hnsw-ef-search.md.
 */
export const DEFAULT_HNSW_EF_SEARCH = 300;

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

const commaList = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean));

/** Host names a browser can only reach on this machine: a DNS-rebinding page cannot use them. */
const LOOPBACK_HOST_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const LOOPBACK_LISTEN_ADDRESS = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;

/**
 * The Host names accepted when ALLOWED_HOSTS is unset: a loopback listener (the laptop case)
 * accepts only loopback names and its own address; any other listener (a container behind a
 * gateway, which sets ALLOWED_HOSTS in the compose files) accepts every Host.
 */
function defaultAllowedHosts(listenHost: string): string[] {
  if (!LOOPBACK_LISTEN_ADDRESS.test(listenHost)) return ['*'];
  const own = listenHost.includes(':') && !listenHost.startsWith('[') ? `[${listenHost}]` : listenHost;
  return [...new Set([...LOOPBACK_HOST_NAMES, own.toLowerCase()])];
}

const KIBIBYTE = 1024;
const MINUTE_MS = 60_000;

/** Every environment variable the service reads, with its default. */
const environmentSchema = z.object({
  PORT: integer(8080, 0, 65535),
  HOST: z.string().default('127.0.0.1'),
  FUNCTIONS: functionList,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),

  DATABASE_URL: optionalString.refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL'),
  // Replaces the password in DATABASE_URL, so the URL can live in plain configuration and the
  // password in a secret (DATABASE_PASSWORD_FILE, the same file PostgreSQL's image reads).
  DATABASE_PASSWORD: optionalString,
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
  READ_API_KEY: optionalString,
  ALLOWED_HOSTS: commaList,
  TRUST_PROXY_HEADERS: booleanFlag(false),
  MAX_DOCUMENT_BYTES: integer(1024 * 1024, 1),
  MAX_REQUEST_BYTES: integer(64 * KIBIBYTE, KIBIBYTE, 64 * 1024 * KIBIBYTE),
  RATE_LIMIT_REQUESTS: integer(600, 0),
  RATE_LIMIT_WINDOW_MS: integer(MINUTE_MS, 1000, 24 * 60 * MINUTE_MS),

  LLM_BASE_URL: optionalString.pipe(z.string().url().optional()),
  LLM_API_KEY: optionalString,
  LLM_MODEL_FILE: optionalString,
  HF_ENDPOINT: z.string().url().default(DEFAULT_HUB_ENDPOINT),
  HF_REPO_ID: optionalString,
  HF_FILENAME: optionalString,
  HF_REVISION: optionalString,
  HF_TOKEN: optionalString,
  LLM_MODEL: optionalString,
  LLM_THREADS: integer(0, 0, 256),
  LLM_PARALLEL: integer(2, 1, 64),
  LLM_QUEUE_LIMIT: integer(8, 0, 10_000),
  LLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.1),
  LLM_MAX_TOKENS: integer(512, 1, 32768),
  LLM_CONTEXT_TOKENS: z.coerce.number().int().min(256).max(1_000_000).optional(),
  LLM_TIMEOUT_MS: integer(60_000, 100),
  LLM_READY_WAIT_MS: integer(30_000, 0),
  ALLOWED_ORIGINS: commaList,
  WS_MAX_FRAME_BYTES: integer(16 * 1024, 256, 1024 * 1024),
  WS_MAX_CONNECTIONS: integer(256, 1, 1_000_000),
  WS_IDLE_TIMEOUT_MS: integer(10 * MINUTE_MS, 0),
  WS_PING_INTERVAL_MS: integer(30_000, 0),
  CHAT_HISTORY_MESSAGES: integer(6, 0, 100),
});

export type Environment = Record<string, string | undefined>;

/**
 * Variables that may instead be given as `<NAME>_FILE`, the path of a file holding the value
 * (Docker and Kubernetes secrets are mounted as files). One trailing newline is dropped.
 */
export const FILE_VARIABLES = ['DATABASE_URL', 'DATABASE_PASSWORD', 'API_KEY', 'READ_API_KEY', 'LLM_API_KEY'] as const;
const FILE_SUFFIX = '_FILE';

/** How {@link loadConfig} reads `*_FILE` variables; tests pass their own reader. */
export interface LoadConfigOptions {
  readFile?: (path: string) => string;
}

/** Each `<NAME>_FILE` replaced by `<NAME>` holding the file's content. */
function withFileVariables(environment: Environment, readFile: (path: string) => string): { environment: Environment; problems: string[]; variables: string[] } {
  const resolved: Environment = { ...environment };
  const problems: string[] = [];
  const variables: string[] = [];
  for (const name of FILE_VARIABLES) {
    const fileName = `${name}${FILE_SUFFIX}`;
    const path = environment[fileName]?.trim();
    if (!path) continue;
    if (environment[name]?.trim()) {
      problems.push(`${fileName}: ${name} is set as well; set only one of them`);
      variables.push(fileName);
      continue;
    }
    try {
      resolved[name] = readFile(path).replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${fileName}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      variables.push(fileName);
    }
  }
  return { environment: resolved, problems, variables };
}

/** DATABASE_URL with DATABASE_PASSWORD as its password (percent-encoded), when both are set. */
function databaseUrlWithPassword(url: string | undefined, password: string | undefined): string | undefined {
  if (url === undefined || password === undefined) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

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
  /** Needed on every /api/v1 route and /ws/llm when set (write routes accept only this one). */
  apiKey?: string;
  /** Also accepted on the read routes (search, document list, chat); needs `apiKey`. */
  readApiKey?: string;
  /** Host header names (port ignored) the service answers; `*` = any. */
  allowedHosts: string[];
  /** Take the client address from X-Forwarded-For (only behind a gateway that sets it). */
  trustProxyHeaders: boolean;
  maxDocumentBytes: number;
  /** Body limit of every JSON route except add-document (which has MAX_DOCUMENT_BYTES). */
  maxRequestBytes: number;
  /** Per client and function: `requests` per `windowMs`; 0 requests = no limit. */
  rateLimit: { requests: number; windowMs: number };
  llm: {
    /** An OpenAI-compatible server (llama-server); unset = the embedded runtime. */
    baseURL?: string;
    apiKey?: string;
    model: string;
    temperature: number;
    maxTokens: number;
    /** An upper bound on the per-sequence window; the server's (or embedded context's) real one wins when smaller. */
    contextTokens?: number;
    timeoutMs: number;
    readyWaitMs: number;
    embedded: {
      /** A local `.gguf`; when set nothing is downloaded. */
      modelFile?: string;
      /** Where the hub model is looked up and downloaded (`MODELS_DIR/<HF_FILENAME>`). */
      modelsDir: string;
      offline: boolean;
      hub: { endpoint: string; repoId: string; filename: string; revision: string; token?: string };
      /** Evaluation threads; 0 = the default from `lib/llm/embedded/thread-count.ts`. */
      threads: number;
      /** Sequences evaluated together (answers in flight). */
      parallel: number;
      /** Chats waiting for a sequence beyond `parallel`; one more gets a `busy` error. */
      queueLimit: number;
    };
  };
  chat: {
    /** Browser origins allowed on /ws/llm besides the page's own; `*` = any. */
    allowedOrigins: string[];
    maxFrameBytes: number;
    historyMessages: number;
    /** Open sockets at most; the next upgrade gets 503. */
    maxConnections: number;
    /** A socket with no frame either way for this long is closed; 0 = never. */
    idleTimeoutMs: number;
    /** Ping every socket this often and drop the ones that missed the last pong; 0 = never. */
    pingIntervalMs: number;
  };
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
export function loadConfig(environment: Environment, options: LoadConfigOptions = {}): Config {
  const files = withFileVariables(environment, options.readFile ?? ((path) => readFileSync(path, 'utf8')));
  // An empty value (`FOO=` in an env file) means "not set", so defaults apply.
  const known = Object.fromEntries(
    Object.keys(environmentSchema.shape).map((name) => [name, files.environment[name] === '' ? undefined : files.environment[name]]),
  );
  const parsed = environmentSchema.safeParse(known);
  const issues = parsed.success ? [] : parsed.error.issues;
  const problems = [...files.problems, ...issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`)];
  const variables = [...new Set([...files.variables, ...issues.map((issue) => String(issue.path[0]))])];
  if (parsed.success && parsed.data.DATABASE_PASSWORD !== undefined && parsed.data.DATABASE_URL === undefined) {
    problems.push('DATABASE_PASSWORD: needs DATABASE_URL (the password replaces the one in that URL)');
    variables.push('DATABASE_PASSWORD');
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, variables);
  const value = parsed.data;
  if (value.READ_API_KEY !== undefined && value.API_KEY === undefined) {
    throw new ConfigError('invalid configuration: READ_API_KEY: needs API_KEY too (otherwise writes would be open while reads need a key)', ['READ_API_KEY']);
  }
  if (value.READ_API_KEY !== undefined && value.READ_API_KEY === value.API_KEY) {
    throw new ConfigError('invalid configuration: READ_API_KEY: must differ from API_KEY', ['READ_API_KEY']);
  }
  if (value.HF_REPO_ID && !value.HF_FILENAME) {
    throw new ConfigError('invalid configuration: HF_FILENAME: required with HF_REPO_ID (the .gguf file of that repository)', ['HF_FILENAME']);
  }
  return {
    port: value.PORT,
    host: value.HOST,
    functions: value.FUNCTIONS,
    logLevel: value.LOG_LEVEL,
    database: { url: databaseUrlWithPassword(value.DATABASE_URL, value.DATABASE_PASSWORD), dataDir: value.DATA_DIR, poolSize: value.DATABASE_POOL_SIZE, migrateOnStart: value.MIGRATE_ON_START },
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
    readApiKey: value.READ_API_KEY,
    allowedHosts: value.ALLOWED_HOSTS.length > 0 ? value.ALLOWED_HOSTS.map((host) => host.toLowerCase()) : defaultAllowedHosts(value.HOST),
    trustProxyHeaders: value.TRUST_PROXY_HEADERS,
    maxDocumentBytes: value.MAX_DOCUMENT_BYTES,
    maxRequestBytes: value.MAX_REQUEST_BYTES,
    rateLimit: { requests: value.RATE_LIMIT_REQUESTS, windowMs: value.RATE_LIMIT_WINDOW_MS },
    llm: {
      baseURL: value.LLM_BASE_URL,
      apiKey: value.LLM_API_KEY,
      model: value.LLM_MODEL ?? value.HF_FILENAME ?? 'local-model',
      temperature: value.LLM_TEMPERATURE,
      maxTokens: value.LLM_MAX_TOKENS,
      contextTokens: value.LLM_CONTEXT_TOKENS,
      timeoutMs: value.LLM_TIMEOUT_MS,
      readyWaitMs: value.LLM_READY_WAIT_MS,
      embedded: {
        modelFile: value.LLM_MODEL_FILE,
        modelsDir: value.MODELS_DIR,
        offline: value.HF_HUB_OFFLINE,
        // A repo of one's own without a file name would download the default file from it: both or neither.
        hub: {
          endpoint: value.HF_ENDPOINT.replace(/\/+$/, ''),
          repoId: value.HF_REPO_ID ?? DEFAULT_CHAT_MODEL.repoId,
          filename: value.HF_REPO_ID ? (value.HF_FILENAME ?? '') : DEFAULT_CHAT_MODEL.filename,
          revision: value.HF_REVISION ?? DEFAULT_CHAT_MODEL.revision,
          token: value.HF_TOKEN,
        },
        threads: value.LLM_THREADS,
        parallel: value.LLM_PARALLEL,
        queueLimit: value.LLM_QUEUE_LIMIT,
      },
    },
    chat: {
      allowedOrigins: value.ALLOWED_ORIGINS,
      maxFrameBytes: value.WS_MAX_FRAME_BYTES,
      historyMessages: value.CHAT_HISTORY_MESSAGES,
      maxConnections: value.WS_MAX_CONNECTIONS,
      idleTimeoutMs: value.WS_IDLE_TIMEOUT_MS,
      pingIntervalMs: value.WS_PING_INTERVAL_MS,
    },
  };
}

/** The variable names {@link loadConfig} reads, for documentation and the env-file checks. */
export const CONFIG_VARIABLES = [...Object.keys(environmentSchema.shape), ...FILE_VARIABLES.map((name) => `${name}${FILE_SUFFIX}`)];
