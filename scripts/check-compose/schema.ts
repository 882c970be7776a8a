import { existsSync, readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';

/** Where the Compose Specification schema lives, relative to the project root. */
export const COMPOSE_SCHEMA_PATH = '../shared/schemas/compose-spec.json';

/**
 * Compiles the Compose Specification JSON schema (draft-07) at `file`. Throws with a clear
 * message when the file is absent, since every other check depends on it.
 */
export function loadComposeValidator(file: string): ValidateFunction {
  if (!existsSync(file)) {
    throw new Error(`Compose schema not found at ${COMPOSE_SCHEMA_PATH} (looked in ${file}); the shared/ folder must sit beside the project`);
  }
  const schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  // The file names its draft with an https URL that Ajv does not know; Ajv's default is draft-07.
  delete schema.$schema;
  // strict: false because the schema uses annotations (e.g. `deprecated`) Ajv does not define.
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(schema);
}

/** Runs the validator and turns its errors into readable lines. */
export function schemaErrors(validate: ValidateFunction, document: unknown): string[] {
  if (validate(document)) return [];
  return (validate.errors ?? []).map((error) => `schema: ${error.instancePath || '/'} ${error.message ?? 'is invalid'}${error.params && 'additionalProperty' in error.params ? ` (${String(error.params.additionalProperty)})` : ''}`);
}
