// Timed, named steps with a PASS/FAIL summary, for the docker lane's driver.

export interface StepResult {
  name: string;
  ms: number;
  ok: boolean;
  detail: string;
}

export interface StepRunner {
  results: StepResult[];
  /** Runs and times one step; a fatal step's failure stops the run, a check's does not. */
  step(name: string, action: () => Promise<string | void>, options: { fatal: boolean }): Promise<boolean>;
  record(result: StepResult): void;
  printSummary(title: string): void;
  failed(): boolean;
}

export function createStepRunner(): StepRunner {
  const results: StepResult[] = [];
  const runStarted = performance.now();
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1).padStart(6)} s`;
  return {
    results,
    async step(name, action, { fatal }) {
      const started = performance.now();
      console.log(`… ${name}`);
      try {
        const detail = (await action()) ?? '';
        results.push({ name, ms: performance.now() - started, ok: true, detail });
        console.log(`  ok ${seconds(performance.now() - started).trim()}${detail ? ` — ${detail}` : ''}`);
        return true;
      } catch (error) {
        const detail = (error as Error).message;
        results.push({ name, ms: performance.now() - started, ok: false, detail });
        console.log(`  FAIL ${seconds(performance.now() - started).trim()}\n${detail.replace(/^/gm, '    ')}`);
        if (fatal) throw error;
        return false;
      }
    },
    record(result) {
      results.push(result);
    },
    printSummary(title) {
      const failures = results.filter((result) => !result.ok);
      console.log(`\n${title}`);
      for (const result of results) {
        console.log(`  ${result.ok ? 'ok  ' : 'FAIL'} ${seconds(result.ms)}  ${result.name}${result.detail && result.ok ? ` — ${result.detail}` : ''}`);
        if (!result.ok && result.detail) console.log(result.detail.replace(/^/gm, '         '));
      }
      console.log(`\n${failures.length === 0 ? 'PASS' : `FAIL (${failures.length} of ${results.length} steps)`} in ${seconds(performance.now() - runStarted).trim()}`);
    },
    failed: () => results.some((result) => !result.ok),
  };
}
