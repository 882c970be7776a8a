import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** A file to ingest and the source name it is stored under. */
export interface IngestFile {
  path: string;
  source: string;
}

export interface IngestOutcome {
  status: 'created' | 'replaced' | 'unchanged';
  chunks: number;
}

/** Where documents go: the database directly, or a running service's API. */
export interface IngestTarget {
  add(source: string, content: string): Promise<IngestOutcome>;
}

const EXTENSIONS = new Set(['.md', '.markdown', '.txt']);

/**
 * Expands arguments into files: a file stands for itself (source = its name), a folder for
 * every .md/.txt file below it (source = path relative to the folder, `/`-separated).
 */
export async function collectFiles(paths: string[]): Promise<IngestFile[]> {
  const files: IngestFile[] = [];
  for (const argument of paths) {
    const info = await stat(argument).catch(() => {
      throw new Error(`${argument}: no such file or folder`);
    });
    if (info.isFile()) {
      files.push({ path: argument, source: path.basename(argument) });
      continue;
    }
    const walk = async (folder: string) => {
      for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules') await walk(full);
        else if (entry.isFile() && EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
          files.push({ path: full, source: path.relative(argument, full).split(path.sep).join('/') });
        }
      }
    };
    await walk(argument);
  }
  return files;
}

export interface IngestSummary {
  created: number;
  replaced: number;
  unchanged: number;
  /** Empty or whitespace-only files: nothing to index. */
  skipped: number;
  failed: number;
  chunks: number;
  milliseconds: number;
}

/** Ingests files one by one, drawing a progress bar on `progress` (a TTY) or logging lines. */
export async function ingestFiles(files: IngestFile[], target: IngestTarget, progress: NodeJS.WriteStream): Promise<IngestSummary> {
  const summary: IngestSummary = { created: 0, replaced: 0, unchanged: 0, skipped: 0, failed: 0, chunks: 0, milliseconds: 0 };
  const started = Date.now();
  const draw = (done: number, current: string) => {
    if (!progress.isTTY) return;
    const width = 30;
    const filled = Math.round((done / files.length) * width);
    progress.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${files.length} ${current.slice(0, 40).padEnd(40)}`);
  };
  for (const [index, file] of files.entries()) {
    draw(index, file.source);
    try {
      const content = await readFile(file.path, 'utf8');
      if (!content.trim()) {
        summary.skipped += 1;
        progress.write(`${progress.isTTY ? '\n' : ''}skipped   ${file.source}: empty file\n`);
        continue;
      }
      const outcome = await target.add(file.source, content);
      summary[outcome.status] += 1;
      summary.chunks += outcome.chunks;
      if (!progress.isTTY) progress.write(`${outcome.status.padEnd(9)} ${file.source} (${outcome.chunks} chunks)\n`);
    } catch (error) {
      summary.failed += 1;
      progress.write(`${progress.isTTY ? '\n' : ''}failed    ${file.source}: ${(error as Error).message}\n`);
    }
  }
  draw(files.length, 'done');
  if (progress.isTTY) progress.write('\n');
  summary.milliseconds = Date.now() - started;
  return summary;
}
