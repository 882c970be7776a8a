import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The service's default embedding model, which `npm run models:test` lays out for real. */
export const REAL_EMBEDDING_MODEL = 'sentence-transformers/all-MiniLM-L6-v2';

const EmbeddingEntrySchema = z.object({ id: z.string(), folder: z.string(), onnx: z.string(), onnxSha256: z.string(), from: z.string() });

/** `models.json`, written by scripts/models/prepare-models.py. */
const ModelsManifestSchema = z.object({
  embedding: z.object({ fp32: EmbeddingEntrySchema, q8: EmbeddingEntrySchema }),
  llm: z.object({
    file: z.string(),
    sha256: z.string(),
    from: z.string(),
    generalName: z.string().nullable(),
    hasChatTemplate: z.boolean(),
    instructionTuned: z.boolean(),
    contextLength: z.number().nullable(),
  }),
});

export type ModelsManifest = z.infer<typeof ModelsManifestSchema>;

/** A folder filled by `npm run models:test`. */
export interface RealModels {
  folder: string;
  manifest: ModelsManifest;
  /** The GGUF chat model's absolute path. */
  llmFile: string;
}

/**
 * The real models, if prepared: `LOCAL_RAG_REAL_MODELS_DIR` (scripts/test.sh sets it after the
 * models lane prepared them), else the folder `scripts/models-test.sh path` names (the cache's,
 * or MODELS_DIR's). Undefined when neither holds a `models.json`.
 */
export function findRealModels(): RealModels | undefined {
  const folder = process.env.LOCAL_RAG_REAL_MODELS_DIR || preparedFolder();
  if (!folder) return undefined;
  const manifestFile = path.join(folder, 'models.json');
  if (!existsSync(manifestFile)) return undefined;
  const manifest = ModelsManifestSchema.parse(JSON.parse(readFileSync(manifestFile, 'utf8')));
  return { folder, manifest, llmFile: path.join(folder, manifest.llm.file) };
}

/** True where a missing real model must fail the lane instead of skipping it (CI). */
export function realModelsRequired(): boolean {
  return process.env.CI === 'true';
}

/** The Python of the models virtualenv (the reference vectors run there). */
export function modelsPython(): string {
  return execFileSync('bash', [path.join(PROJECT_ROOT, 'scripts/models-test.sh'), 'python'], { encoding: 'utf8' }).trim();
}

function preparedFolder(): string | undefined {
  try {
    return execFileSync('bash', [path.join(PROJECT_ROOT, 'scripts/models-test.sh'), 'path'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}
