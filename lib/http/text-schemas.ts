import { z } from '@hono/zod-openapi';

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

/** Free-form JSON object metadata, stored as jsonb. */
export const MetadataSchema = z
  .record(z.string(), z.unknown())
  .refine((value) => !JSON.stringify(value).includes('\\u0000'), 'must not contain NUL characters')
  .refine((value) => JSON.stringify(value).length <= 16_384, 'must be at most 16 KiB as JSON')
  .openapi({ example: { lang: 'en', tags: ['guide'] } });
