import { describe, expect, it } from 'vitest';
import { parseEnvFile } from './env-file.ts';
import { interpolate } from './interpolate.ts';

const variables = new Map([
  ['SET', 'value'],
  ['EMPTY', ''],
]);

describe('interpolate (Compose rules)', () => {
  it.each([
    ['${SET}', 'value'],
    ['$SET/x', 'value/x'],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${UNSET-fallback}', 'fallback'],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET:-${SET}}', 'value'],
    ['$${SET} and $$SET', '${SET} and $SET'],
    ['cost: 5$', 'cost: 5$'],
  ])('expands %s to %s', (text, expected) => {
    const result = interpolate(text, variables);
    expect(result.value).toBe(expected);
    expect(result.errors).toEqual([]);
  });

  it('reports a variable with no value and no default', () => {
    expect(interpolate('a${UNSET}b', variables)).toEqual({ value: 'ab', unset: ['UNSET'], errors: [] });
  });

  it('reports the message of ${VAR:?message} for an empty or unset variable only', () => {
    expect(interpolate('${EMPTY:?must be set}', variables).errors).toEqual(['EMPTY: must be set']);
    expect(interpolate('${EMPTY?must be set}', variables).errors).toEqual([]);
    expect(interpolate('${UNSET?must be set}', variables).errors).toEqual(['UNSET: must be set']);
    expect(interpolate('${SET:?must be set}', variables)).toEqual({ value: 'value', unset: [], errors: [] });
  });

  it('refuses an unterminated reference', () => {
    expect(() => interpolate('${SET', variables)).toThrow(/unterminated/);
  });
});

describe('parseEnvFile', () => {
  it('expands earlier variables, keeps single quotes literal and drops comments', () => {
    const env = parseEnvFile(["# comment", 'HF_FILENAME=model.gguf', 'LLM_MODEL=${HF_FILENAME}', "RAW='${HF_FILENAME}'", 'QUOTED="a #b"', 'BARE=c # note', 'export EMPTY='].join('\n'));
    expect(Object.fromEntries(env.variables)).toEqual({ HF_FILENAME: 'model.gguf', LLM_MODEL: 'model.gguf', RAW: '${HF_FILENAME}', QUOTED: 'a #b', BARE: 'c', EMPTY: '' });
    expect(env.problems).toEqual([]);
  });

  it('names a variable used before it is defined and a line that is not KEY=value', () => {
    const env = parseEnvFile('LLM_MODEL=${HF_FILENAME}\nnot a setting');
    expect(env.unset).toEqual(['HF_FILENAME']);
    expect(env.problems).toEqual(['line 2: not KEY=value: "not a setting"']);
  });
});
