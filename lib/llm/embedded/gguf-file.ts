import { open, stat } from 'node:fs/promises';
import { readGgufFileInfo } from 'node-llama-cpp';

/** Every GGUF file starts with these four bytes. */
const GGUF_MAGIC = 'GGUF';

/**
 * The model file named by LLM_MODEL_FILE is missing or not a GGUF file: an operator error no
 * retry can fix, so the process stops with exit code 2 (as for a bad variable).
 */
export class ModelFileError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ModelFileError';
  }
}

/** True when `bytes` begins like a GGUF file. */
export function hasGgufMagic(bytes: Uint8Array): boolean {
  return bytes.length >= GGUF_MAGIC.length && new TextDecoder().decode(bytes.subarray(0, GGUF_MAGIC.length)) === GGUF_MAGIC;
}

/** Throws {@link ModelFileError} naming `variable` when `path` is not a readable GGUF file. */
export async function checkGgufFile(path: string, variable: string): Promise<void> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new ModelFileError(`${variable}=${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, { cause: error });
  });
  if (!info.isFile()) throw new ModelFileError(`${variable}=${path}: not a file`);
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(GGUF_MAGIC.length);
    await handle.read(head, 0, head.length, 0);
    if (!hasGgufMagic(head)) throw new ModelFileError(`${variable}=${path}: not a GGUF model file (it does not start with "GGUF"); llama.cpp models are .gguf files`);
  } finally {
    await handle.close();
  }
  // The header and metadata, parsed in JavaScript: a corrupt file fails here in milliseconds,
  // not after llama.cpp's binary check (tens of seconds on a busy machine).
  await readGgufFileInfo(path, { readTensorInfo: false, sourceType: 'filesystem', logWarnings: false }).catch((error: unknown) => {
    throw new ModelFileError(`${variable}=${path}: a corrupt GGUF file, llama.cpp cannot load it (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  });
}
