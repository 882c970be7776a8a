import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

const jsonObject = z.record(z.string(), z.unknown());

/** A document of the set: its text in a file beside the set (`path`) or inline (`content`). */
const documentSchema = z.union([
  z.strictObject({ source: z.string().min(1), path: z.string().min(1), metadata: jsonObject.optional() }),
  z.strictObject({ source: z.string().min(1), content: z.string().min(1), metadata: jsonObject.optional() }),
]);

const questionBase = {
  id: z.string().min(1),
  question: z.string().trim().min(1),
  language: z.enum(['en', 'zh']),
  /** The user's earlier turn in the same chat: the question is asked as its follow-up. */
  previous_question: z.string().trim().min(1).optional(),
};

/** A question the documents answer: `evidence` must appear verbatim in a retrieved chunk. */
const answerableQuestionSchema = z.strictObject({
  ...questionBase,
  answerable: z.literal(true),
  expected_source: z.string().min(1),
  evidence: z.string().trim().min(1),
});

/** A question no document answers: the service should refuse it. */
const unanswerableQuestionSchema = z.strictObject({
  ...questionBase,
  answerable: z.literal(false),
  note: z.string().optional(),
});

const questionSchema = z.discriminatedUnion('answerable', [answerableQuestionSchema, unanswerableQuestionSchema]);

/** The JSON file format of an evaluation set (see `bench/eval/sets/reference/reference.json`). */
export const evalSetSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string(),
  documents: z.array(documentSchema).min(1),
  questions: z.array(questionSchema).min(1),
});

export type EvalSetFile = z.infer<typeof evalSetSchema>;
export type EvalDocumentEntry = z.infer<typeof documentSchema>;
export type EvalQuestion = z.infer<typeof questionSchema>;
export type AnswerableQuestion = z.infer<typeof answerableQuestionSchema>;

/** A document with its text read, ready to ingest. */
export interface EvalDocument {
  source: string;
  content: string;
  metadata: Record<string, unknown>;
}

/** A validated set whose documents are loaded. */
export interface EvalSet {
  name: string;
  description: string;
  documents: EvalDocument[];
  questions: EvalQuestion[];
}

/** A set that cannot be used; `problems` lists every one, each naming its question or document. */
export class EvalSetError extends Error {
  readonly problems: string[];
  constructor(location: string, problems: string[]) {
    super(`invalid evaluation set ${location}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'EvalSetError';
    this.problems = problems;
  }
}

/**
 * Chunkers may re-flow whitespace (line breaks inside a sentence, indentation), so evidence is
 * matched with every run of whitespace collapsed to one space; everything else is verbatim.
 */
export function normalizeWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** True when `evidence` appears in `text`, whitespace-insensitively. */
export function containsEvidence(text: string, evidence: string): boolean {
  return normalizeWhitespace(text).includes(normalizeWhitespace(evidence));
}

/**
 * Checks a parsed set against its loaded documents: unique ids and sources, every expected
 * source present, every evidence string present in its expected source's text.
 * Pure: the documents' text is handed in. Returns the problems found (empty = valid).
 */
export function findSetProblems(file: EvalSetFile, documents: EvalDocument[]): string[] {
  const problems: string[] = [];
  const textBySource = new Map(documents.map((document) => [document.source, document.content]));
  const seenSources = new Set<string>();
  for (const entry of file.documents) {
    if (seenSources.has(entry.source)) problems.push(`document "${entry.source}" is listed twice`);
    seenSources.add(entry.source);
  }
  const seenIds = new Set<string>();
  for (const question of file.questions) {
    if (seenIds.has(question.id)) problems.push(`question "${question.id}": id is used twice`);
    seenIds.add(question.id);
    if (!question.answerable) continue;
    const text = textBySource.get(question.expected_source);
    if (text === undefined) {
      problems.push(`question "${question.id}": expected_source "${question.expected_source}" is not a document of the set`);
    } else if (!containsEvidence(text, question.evidence)) {
      problems.push(`question "${question.id}": evidence ${JSON.stringify(question.evidence)} does not appear in "${question.expected_source}"`);
    }
  }
  return problems;
}

/**
 * Validates a set already parsed from JSON and loads its documents; `readText` reads a
 * document path relative to `baseDirectory` (injected so tests need no files).
 * @throws {EvalSetError} naming every problem: schema violations, missing files, evidence
 * absent from its source.
 */
export async function resolveEvalSet(
  raw: unknown,
  location: string,
  readText: (file: string) => Promise<string>,
  baseDirectory = '.',
): Promise<EvalSet> {
  const parsed = evalSetSchema.safeParse(raw);
  if (!parsed.success) {
    throw new EvalSetError(location, parsed.error.issues.map((issue) => `${describePath(raw, issue.path)}: ${issue.message}`));
  }
  const file = parsed.data;
  const problems: string[] = [];
  const documents: EvalDocument[] = [];
  for (const entry of file.documents) {
    let content: string;
    if ('content' in entry) {
      content = entry.content;
    } else {
      const documentPath = path.resolve(baseDirectory, entry.path);
      try {
        content = await readText(documentPath);
      } catch (error) {
        problems.push(`document "${entry.source}": cannot read ${entry.path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
        continue;
      }
    }
    documents.push({ source: entry.source, content, metadata: entry.metadata ?? {} });
  }
  problems.push(...findSetProblems(file, documents).filter((problem) => !isAboutUnreadDocument(problem, file, documents)));
  if (problems.length > 0) throw new EvalSetError(location, problems);
  return { name: file.name, description: file.description, documents, questions: file.questions };
}

/** Reads, validates and loads a set file; document paths are relative to the file. */
export async function loadEvalSet(setFile: string): Promise<EvalSet> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(setFile, 'utf8'));
  } catch (error) {
    throw new EvalSetError(setFile, [error instanceof SyntaxError ? `not valid JSON: ${error.message}` : `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`]);
  }
  return resolveEvalSet(raw, setFile, (file) => readFile(file, 'utf8'), path.dirname(path.resolve(setFile)));
}

// A missing file is already reported; its questions would only repeat it as "not a document".
function isAboutUnreadDocument(problem: string, file: EvalSetFile, documents: EvalDocument[]): boolean {
  const loaded = new Set(documents.map((document) => document.source));
  return file.documents.some((entry) => !loaded.has(entry.source) && problem.includes(`expected_source "${entry.source}" is not a document`));
}

// `questions[3].evidence` reads better with the question's id: `questions[3] (id "x").evidence`.
function describePath(raw: unknown, issuePath: PropertyKey[]): string {
  if (issuePath.length === 0) return '(set)';
  const [head, index] = issuePath;
  const rest = issuePath.slice(2).map(String).join('.');
  if (head === 'questions' && typeof index === 'number') {
    const id = (raw as { questions?: Array<{ id?: unknown }> }).questions?.[index]?.id;
    const label = typeof id === 'string' ? `question "${id}"` : `questions[${index}]`;
    return rest ? `${label}.${rest}` : label;
  }
  return issuePath.map(String).join('.');
}
