import { z } from '@hono/zod-openapi';
import { jsonDepth, MAX_JSON_DEPTH } from '../json-depth.ts';

/**
 * A string PostgreSQL can store unchanged: no NUL (text columns reject `\0`) and no lone
 * UTF-16 surrogates (they would be silently replaced by U+FFFD when encoded as UTF-8).
 */
export function storableString() {
  return z
    .string()
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL (\\u0000) characters')
    .refine((value) => value.isWellFormed(), 'must be well-formed Unicode (no lone surrogate code units)');
}

/** A storable string with at least one non-whitespace character. */
export function nonBlankString() {
  return storableString().refine((value) => value.trim().length > 0, 'must not be empty or whitespace only');
}

/** Largest metadata object, as JSON text. */
export const MAX_METADATA_CHARACTERS = 16 * 1024;

/**
 * Free-form JSON object metadata, stored as jsonb. The depth is checked first, without
 * recursion: JSON.stringify of a value thousands of levels deep overflows the stack.
 */
export const MetadataSchema = z
  .record(z.string(), z.unknown())
  .superRefine((value, context) => {
    if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      context.addIssue({ code: 'custom', message: `must nest at most ${MAX_JSON_DEPTH} levels deep` });
      return;
    }
    const json = JSON.stringify(value);
    if (json.includes('\\u0000')) context.addIssue({ code: 'custom', message: 'must not contain NUL characters' });
    if (json.length > MAX_METADATA_CHARACTERS) context.addIssue({ code: 'custom', message: 'must be at most 16 KiB as JSON' });
  })
  .openapi({ example: { lang: 'en', tags: ['guide'] } });
