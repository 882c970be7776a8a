import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from './bench-environment.ts';

/** Resident memory of one process, in KiB, from `/proc/<pid>/status`. */
export interface ProcessMemory {
  pid: number;
  command: string;
  /** VmRSS: resident now. */
  rssKiB: number;
  /** VmHWM: the highest resident size the process ever had (the kernel's own peak). */
  peakKiB: number;
}

/** `pid` and all its descendants, read from `/proc/*\/stat` (Linux only). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command may contain spaces and parentheses: the fields start after the last ')'.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // The process exited while we looked.
    }
  }
  const tree: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop()!;
    tree.push(current);
    pending.push(...(children.get(current) ?? []));
  }
  return tree;
}

/** An argument without this machine's paths: project files relative to the root, others by name. */
function portableArgument(argument: string): string {
  const file = argument.startsWith('file://') ? fileURLToPath(argument) : argument;
  if (!path.isAbsolute(file)) return argument;
  const relative = path.relative(PROJECT_ROOT, file);
  return relative.startsWith('..') ? path.basename(file) : relative;
}

/** VmRSS and VmHWM of `pid`, or undefined when it is gone. */
export function readProcessMemory(pid: number): ProcessMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).map(portableArgument).join(' ');
    return { pid, command, rssKiB: field('VmRSS'), peakKiB: field('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * Samples the memory of a process tree every `intervalMs`: the current figures, and the
 * highest sum of VmRSS over the tree seen since the last {@link MemorySampler.resetPeak}.
 */
export class MemorySampler {
  readonly rootPid: number;
  private timer: NodeJS.Timeout | undefined;
  private sampledPeakKiB = 0;

  constructor(rootPid: number) {
    this.rootPid = rootPid;
  }

  start(intervalMs = 100): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Every process of the tree now. */
  sample(): ProcessMemory[] {
    const processes = processTree(this.rootPid).map(readProcessMemory).filter((memory): memory is ProcessMemory => memory !== undefined);
    const total = processes.reduce((sum, memory) => sum + memory.rssKiB, 0);
    this.sampledPeakKiB = Math.max(this.sampledPeakKiB, total);
    return processes;
  }

  /** Highest sampled sum of VmRSS since the last reset, then starts a new window. */
  takePeak(): number {
    const peak = this.sampledPeakKiB;
    this.sampledPeakKiB = 0;
    return peak;
  }
}
