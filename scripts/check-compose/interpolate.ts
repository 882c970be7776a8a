/**
 * Compose's variable interpolation, so the compose files can be checked without Docker:
 * `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
 * `${VAR:+replacement}`, `${VAR+replacement}`, nested defaults, and `$$` for a literal `$`.
 */

export type Variables = ReadonlyMap<string, string>;

export interface Interpolation {
  value: string;
  /** Variables used with no value and no default (Compose warns and substitutes ""). */
  unset: string[];
  /** Messages of `${VAR:?message}` / `${VAR?message}` that fired. */
  errors: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Replaces every variable reference in `text` the way `docker compose config` does. */
export function interpolate(text: string, variables: Variables): Interpolation {
  const result: Interpolation = { value: '', unset: [], errors: [] };
  let index = 0;
  while (index < text.length) {
    const dollar = text.indexOf('$', index);
    if (dollar === -1) {
      result.value += text.slice(index);
      break;
    }
    result.value += text.slice(index, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      result.value += '$';
      index = dollar + 2;
    } else if (next === '{') {
      const close = matchingBrace(text, dollar + 1);
      if (close === -1) throw new Error(`unterminated "\${" in ${JSON.stringify(text)}`);
      result.value += expandBraced(text.slice(dollar + 2, close), variables, result);
      index = close + 1;
    } else {
      const name = NAME.exec(text.slice(dollar + 1))?.[0];
      if (name === undefined) {
        // A lone `$` (e.g. before a digit or at the end) stays as it is, as in Compose.
        result.value += '$';
        index = dollar + 1;
      } else {
        result.value += lookup(name, variables, result);
        index = dollar + 1 + name.length;
      }
    }
  }
  return result;
}

function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let position = open; position < text.length; position += 1) {
    if (text[position] === '{') depth += 1;
    else if (text[position] === '}') {
      depth -= 1;
      if (depth === 0) return position;
    }
  }
  return -1;
}

function lookup(name: string, variables: Variables, result: Interpolation): string {
  const value = variables.get(name);
  if (value === undefined) {
    result.unset.push(name);
    return '';
  }
  return value;
}

function expandBraced(body: string, variables: Variables, result: Interpolation): string {
  const name = NAME.exec(body)?.[0];
  if (name === undefined) throw new Error(`invalid variable reference "\${${body}}"`);
  const rest = body.slice(name.length);
  if (rest === '') return lookup(name, variables, result);
  const operator = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0];
  if (operator === undefined) throw new Error(`invalid variable reference "\${${body}}"`);
  // The word after the operator may itself hold references (nested defaults).
  const word = () => {
    const inner = interpolate(rest.slice(operator.length), variables);
    result.unset.push(...inner.unset);
    result.errors.push(...inner.errors);
    return inner.value;
  };
  const value = variables.get(name);
  const emptyCounts = operator.startsWith(':');
  const missing = value === undefined || (emptyCounts && value === '');
  switch (operator) {
    case ':-':
    case '-':
      return missing ? word() : (value ?? '');
    case ':?':
    case '?':
      if (missing) {
        const message = word();
        result.errors.push(`${name}: ${message || 'required variable is missing a value'}`);
        return '';
      }
      return value ?? '';
    default:
      return missing ? '' : word();
  }
}

/** Interpolates every string inside a parsed YAML document (keys stay as written). */
export function interpolateTree(node: unknown, variables: Variables, found: { unset: Set<string>; errors: string[] }, path = ''): unknown {
  if (typeof node === 'string') {
    const result = interpolate(node, variables);
    for (const name of result.unset) found.unset.add(name);
    found.errors.push(...result.errors.map((message) => `${path}: ${message}`));
    return result.value;
  }
  if (Array.isArray(node)) return node.map((item, index) => interpolateTree(item, variables, found, `${path}[${index}]`));
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, interpolateTree(value, variables, found, path ? `${path}.${key}` : key)]),
    );
  }
  return node;
}
