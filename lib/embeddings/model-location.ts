import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Where an embedding model comes from and what transformers.js is asked to load. */
export interface ModelLocation {
  /** The id the embedder reports: the hub id, or the folder's name for a local folder. */
  modelId: string;
  /** What `pipeline()` receives: a hub id, or the folder's absolute path. */
  loadId: string;
  /** The folder the model files are (or will be) in. */
  folder: string;
  /** True for a model folder named in the settings; false for a hub model cached under the models folder. */
  local: boolean;
  /** For a hub model: the models folder its files are downloaded into (`<owner>/<name>/...`). */
  modelsDir?: string;
}

/**
 * The sentence-transformers repo ships only `onnx/model.onnx` (fp32) under transformers.js's
 * file names; its quantised exports are named `model_qint8_*.onnx`, which transformers.js
 * never asks for. Xenova's conversion of the same weights has every dtype's file.
 */
const QUANTISED_ALIASES: Record<string, string> = {
  'sentence-transformers/all-MiniLM-L6-v2': 'Xenova/all-MiniLM-L6-v2',
};

/**
 * Windows of models whose hub files do not say it in a form transformers.js downloads:
 * sentence-transformers trained MiniLM at 256 tokens (`sentence_bert_config.json`), while its
 * tokenizer claims 512, and the Xenova conversion has no `sentence_bert_config.json` at all.
 */
const KNOWN_WINDOWS: Record<string, number> = {
  'sentence-transformers/all-MiniLM-L6-v2': 256,
  'Xenova/all-MiniLM-L6-v2': 256,
};

/** BERT-style position tables stop at 512; a tokenizer's "no limit" is not a window. */
const WINDOW_CAP = 512;

/** A hub id is `owner/name` (or `name`) with no path syntax in it. */
const HUB_ID = /^[\w.-]+(\/[\w.-]+)?$/;

/**
 * Decides whether `model` names a local folder or a hub model, and where its files live.
 * A value that looks like a path (absolute, `./`, `../`, more than one `/`) or that names an
 * existing folder is a local folder; anything else is a hub id cached under `modelsDir`.
 */
export function resolveModelLocation(model: string, dtype: string, modelsDir: string): ModelLocation {
  const looksLikePath = path.isAbsolute(model) || model.startsWith('.') || model.includes('\\') || !HUB_ID.test(model);
  const asFolder = path.resolve(model);
  if (looksLikePath || isDirectory(asFolder)) {
    return { modelId: path.basename(asFolder), loadId: asFolder, folder: asFolder, local: true };
  }
  const loadId = dtype !== 'fp32' ? (QUANTISED_ALIASES[model] ?? model) : model;
  const root = path.resolve(modelsDir);
  return { modelId: model, loadId, folder: path.join(root, loadId), local: false, modelsDir: root };
}

/**
 * The model's window in tokens, special tokens included. In order: `max_seq_length` from
 * `sentence_bert_config.json` in the model folder (what sentence-transformers truncates at),
 * then the known window of a hub model, then the tokenizer's `model_max_length`; never above
 * the position table (`max_position_embeddings`) nor 512.
 */
export function readModelWindow(location: ModelLocation, tokenizerMaxLength: unknown, maxPositionEmbeddings: unknown): number {
  const cap = Math.min(WINDOW_CAP, positiveInteger(maxPositionEmbeddings) ?? WINDOW_CAP);
  const fromSentenceTransformers = positiveInteger(readJson(path.join(location.folder, 'sentence_bert_config.json'))?.max_seq_length);
  const window =
    fromSentenceTransformers ?? KNOWN_WINDOWS[location.modelId] ?? KNOWN_WINDOWS[location.loadId] ?? positiveInteger(tokenizerMaxLength) ?? cap;
  return Math.min(window, cap);
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 ? Math.floor(value) : undefined;
}

function readJson(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** True when `folder` exists and is a directory. */
export function isDirectory(folder: string): boolean {
  try {
    return statSync(folder).isDirectory();
  } catch {
    return false;
  }
}
