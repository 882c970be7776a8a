import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat, truncate, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Log } from '../../log.ts';
import { createDownloadProgress } from './download-progress.ts';
import { hasGgufMagic } from './gguf-file.ts';

/** Attempts per download: a cut connection resumes from the bytes already on disk. */
const MAX_ATTEMPTS = 5;
const RETRY_BASE_MS = 500;
/** No byte for this long: the connection is dead, resume on a new one. */
const STALL_TIMEOUT_MS = 60_000;
const HTTP_PARTIAL_CONTENT = 206;
const HTTP_RANGE_NOT_SATISFIABLE = 416;
/** The name a download is written under until it is complete. */
const PARTIAL_SUFFIX = '.partial';

/** A file on the model hub: `<endpoint>/<repoId>/resolve/<revision>/<filename>`. */
export interface HubFile {
  endpoint: string;
  repoId: string;
  filename: string;
  revision: string;
  token?: string;
}

/** The download failed in a way a later start may not repeat (hub unreachable, 5xx, cut too often). */
export class DownloadError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'DownloadError';
  }
}

/** The URL of a hub file (path segments of the repo and file kept, each one escaped). */
export function hubFileUrl(file: HubFile): string {
  const escape = (path: string) => path.split('/').map(encodeURIComponent).join('/');
  return `${file.endpoint}/${escape(file.repoId)}/resolve/${encodeURIComponent(file.revision)}/${escape(file.filename)}`;
}

/**
 * Downloads a GGUF file from the hub to `target`: into `target.partial`, resuming it with an
 * HTTP Range request when a previous attempt (or process) was cut off, renamed to `target`
 * only when complete. A body that does not start with `GGUF` (an HTML error page, a wrong
 * file name) is refused and deleted. Progress on stderr (see `download-progress.ts`).
 */
export async function downloadHubFile(file: HubFile, target: string, options: { log?: Log; fetch?: typeof fetch; stream?: NodeJS.WriteStream; onPercent?: (percent: number) => void } = {}): Promise<void> {
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  const url = hubFileUrl(file);
  const partial = `${target}${PARTIAL_SUFFIX}`;
  await mkdir(dirname(target), { recursive: true });
  let lastError: unknown;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      if (await downloadOnce({ url, partial, token: file.token, fetchImplementation, log: options.log, stream: options.stream, label: file.filename, onPercent: options.onPercent })) {
        await rename(partial, target);
        return;
      }
    } catch (error) {
      if (error instanceof NotGgufError) {
        await unlink(partial).catch(() => {});
        throw new DownloadError(`${url} is not a GGUF file (${error.message}); check HF_REPO_ID, HF_FILENAME and HF_REVISION`);
      }
      if (error instanceof FatalHttpError) throw new DownloadError(`${url}: ${error.message}`);
      lastError = error;
      options.log?.('warn', 'chat model download interrupted; resuming', { attempt, error: describe(error) });
      await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * attempt));
    }
  }
  throw new DownloadError(`${url}: download failed after ${MAX_ATTEMPTS} attempts (${describe(lastError)}); the partial file is kept and the next start resumes it`, { cause: lastError });
}

class NotGgufError extends Error {}
class FatalHttpError extends Error {}

/** One request; true when the partial file is complete. */
async function downloadOnce(options: { url: string; partial: string; token?: string; fetchImplementation: typeof fetch; log?: Log; stream?: NodeJS.WriteStream; label: string; onPercent?: (percent: number) => void }): Promise<boolean> {
  const have = await stat(options.partial).then((info) => info.size, () => 0);
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (have > 0) headers.Range = `bytes=${have}-`;
  const controller = new AbortController();
  let stallTimer = setTimeout(() => controller.abort(), STALL_TIMEOUT_MS);
  const armStallTimer = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => controller.abort(), STALL_TIMEOUT_MS);
  };
  try {
    const response = await options.fetchImplementation(options.url, { headers, signal: controller.signal, redirect: 'follow' });
    if (response.status === HTTP_RANGE_NOT_SATISFIABLE && have > 0) {
      // The partial file already holds every byte (a rename that did not happen).
      await response.body?.cancel();
      return true;
    }
    if (response.status === 401 || response.status === 403) throw new FatalHttpError(`${response.status}: the hub refused access (a gated or private repository needs HF_TOKEN)`);
    if (response.status === 404) throw new FatalHttpError('404: no such repository, revision or file');
    if (!response.ok || !response.body) throw new Error(`the hub answered ${response.status}`);
    const resumed = response.status === HTTP_PARTIAL_CONTENT && have > 0;
    // A server that ignores Range sends the whole file again: start over.
    if (!resumed && have > 0) await truncate(options.partial, 0);
    const offset = resumed ? have : 0;
    const total = totalSize(response, offset);
    if (resumed) options.log?.('info', 'resuming chat model download', { file: options.label, from_mb: Math.round(have / (1024 * 1024)) });
    const progress = createDownloadProgress({ label: options.label, log: options.log, stream: options.stream, startedFrom: offset, onPercent: options.onPercent });
    const output = createWriteStream(options.partial, { flags: resumed ? 'a' : 'w' });
    const written = new Promise<void>((resolve, reject) => {
      output.once('error', reject);
      output.once('finish', resolve);
    });
    let received = offset;
    let checked = offset > 0;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        armStallTimer();
        if (!checked) {
          // Four bytes decide; a first chunk shorter than that is vanishingly rare from a real server.
          if (!hasGgufMagic(chunk)) throw new NotGgufError(`it starts with ${JSON.stringify(new TextDecoder().decode(chunk.subarray(0, 16)))}`);
          checked = true;
        }
        if (!output.write(chunk)) await new Promise<void>((resolve) => output.once('drain', () => resolve()));
        received += chunk.length;
        progress.update(received, total);
      }
    } finally {
      output.end();
      await written.catch(() => {});
      progress.done();
    }
    if (total !== undefined && received < total) throw new Error(`connection closed after ${received} of ${total} bytes`);
    return true;
  } finally {
    clearTimeout(stallTimer);
  }
}

/** The whole file's size from `Content-Range: bytes a-b/total` or `Content-Length`. */
function totalSize(response: Response, offset: number): number | undefined {
  const range = response.headers.get('content-range')?.match(/\/(\d+)\s*$/);
  if (range) return Number(range[1]);
  const length = response.headers.get('content-length');
  return length === null ? undefined : offset + Number(length);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
