/** Structured one-line JSON logs on stderr. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type Log = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>) => void;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A logger that drops messages below `threshold`. */
export function createLog(threshold: LogLevel, write: (line: string) => void = (line) => console.error(line)): Log {
  return (level, message, fields) => {
    if (RANK[level] < RANK[threshold]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }));
  };
}
