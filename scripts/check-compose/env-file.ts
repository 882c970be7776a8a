import { interpolate } from './interpolate.ts';

export interface EnvFile {
  variables: Map<string, string>;
  /** Names used inside values that no earlier line defines. */
  unset: string[];
  problems: string[];
}

/**
 * Parses a Compose env file: `KEY=value` lines, `export ` allowed, `#` comments, single
 * quotes literal, double quotes and bare values interpolated with the lines above (so
 * `LLM_MODEL=${HF_FILENAME}` works as in Compose).
 */
export function parseEnvFile(text: string): EnvFile {
  const variables = new Map<string, string>();
  const unset: string[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!match) {
      problems.push(`line ${index + 1}: not KEY=value: ${JSON.stringify(rawLine)}`);
      return;
    }
    const [, name, rawValue] = match as unknown as [string, string, string];
    let value: string;
    if (rawValue.startsWith("'")) {
      value = rawValue.slice(1, rawValue.lastIndexOf("'") > 0 ? rawValue.lastIndexOf("'") : undefined);
    } else {
      const quoted = rawValue.startsWith('"');
      const body = quoted
        ? rawValue.slice(1, rawValue.lastIndexOf('"') > 0 ? rawValue.lastIndexOf('"') : undefined).replace(/\\n/g, '\n').replace(/\\"/g, '"')
        : rawValue.replace(/\s+#.*$/, '');
      const result = interpolate(body, variables);
      unset.push(...result.unset);
      problems.push(...result.errors.map((message) => `line ${index + 1}: ${message}`));
      value = result.value;
    }
    variables.set(name, value);
  });
  return { variables, unset, problems };
}
