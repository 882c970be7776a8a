import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.ts';
import type { Log } from '../../log.ts';
import { checkGgufFile } from './gguf-file.ts';
import { downloadHubFile, hubFileUrl } from './hub-download.ts';

type EmbeddedSettings = Config['llm']['embedded'];

/** Where the hub model lives on disk: `MODELS_DIR/<HF_FILENAME>`, as the compose `llm_init` job writes it. */
export function hubModelPath(settings: EmbeddedSettings): string {
  return join(settings.modelsDir, settings.hub.filename);
}

/**
 * The GGUF file the embedded runtime loads: LLM_MODEL_FILE when set (checked, never
 * downloaded; a bad one throws `ModelFileError`), else the hub file in MODELS_DIR,
 * downloaded first when missing unless HF_HUB_OFFLINE=1. Any other failure (hub unreachable,
 * offline and missing) throws a plain `Error` whose message says why chat is unavailable.
 */
export async function locateChatModel(settings: EmbeddedSettings, options: { log?: Log; fetch?: typeof fetch; onPercent?: (percent: number) => void } = {}): Promise<string> {
  if (settings.modelFile) {
    await checkGgufFile(settings.modelFile, 'LLM_MODEL_FILE');
    return settings.modelFile;
  }
  const target = hubModelPath(settings);
  const present = await stat(target).then((info) => info.isFile(), () => false);
  if (!present) {
    if (settings.offline) throw new Error(`${target} is missing and HF_HUB_OFFLINE=1 forbids downloading it; set LLM_MODEL_FILE, or LLM_BASE_URL for a llama-server`);
    options.log?.('info', 'downloading chat model (first start)', { url: hubFileUrl(settings.hub), to: target });
    await downloadHubFile(settings.hub, target, options);
  }
  await checkGgufFile(target, 'the downloaded chat model');
  return target;
}
