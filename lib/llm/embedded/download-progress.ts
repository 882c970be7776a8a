import type { Log } from '../../log.ts';

const PERCENT = 100;
const LOG_STEP_PERCENT = 10;
const BAR_WIDTH = 30;
/** Redraw the terminal bar at most this often. */
const REDRAW_MS = 200;
const MEGABYTE = 1024 * 1024;

export interface DownloadProgress {
  /** `received` bytes of `total` (undefined when the server did not say). */
  update(received: number, total: number | undefined): void;
  done(): void;
}

/**
 * Shows a download: a bar with bytes, rate and ETA redrawn in place on a terminal, or one
 * log line per 10 % when stderr is not a TTY (a service log, CI).
 */
export function createDownloadProgress(options: { label: string; log?: Log; stream?: NodeJS.WriteStream; startedFrom?: number; onPercent?: (percent: number) => void }): DownloadProgress {
  const stream = options.stream ?? process.stderr;
  const started = performance.now();
  const startedFrom = options.startedFrom ?? 0;
  let lastDraw = 0;
  let lastLoggedStep = -1;
  let drawn = false;

  return {
    update(received, total) {
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0 ? (received - startedFrom) / seconds : 0;
      const percent = total ? Math.min(PERCENT, Math.floor((received / total) * PERCENT)) : undefined;
      if (percent !== undefined) options.onPercent?.(percent);
      if (stream.isTTY) {
        const now = performance.now();
        if (now - lastDraw < REDRAW_MS && received !== total) return;
        lastDraw = now;
        const filled = percent === undefined ? 0 : Math.round((percent / PERCENT) * BAR_WIDTH);
        const eta = total && rate > 0 ? `ETA ${Math.ceil((total - received) / rate)} s` : '';
        const bar = percent === undefined ? '' : `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${percent}% `;
        stream.write(`\r${options.label} ${bar}${megabytes(received)}${total ? `/${megabytes(total)}` : ''} MB ${megabytes(rate)} MB/s ${eta}   `);
        drawn = true;
        return;
      }
      const step = percent === undefined ? Math.floor(received / (100 * MEGABYTE)) : Math.floor(percent / LOG_STEP_PERCENT);
      if (step <= lastLoggedStep) return;
      lastLoggedStep = step;
      options.log?.('info', 'downloading chat model', { file: options.label, percent, received_mb: Number(megabytes(received)), total_mb: total ? Number(megabytes(total)) : undefined, mb_per_s: Number(megabytes(rate)) });
    },
    done() {
      if (drawn) stream.write('\n');
    },
  };
}

function megabytes(bytes: number): string {
  return (bytes / MEGABYTE).toFixed(1);
}
