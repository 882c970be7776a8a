import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './test-environment.ts';

/** The 1.2 MB llama fixture (2048-token training context) beside the clone. */
export const FIXTURE_CHAT_MODEL = path.resolve(PROJECT_ROOT, '../shared/fixtures/models/stories260K.gguf');

/** The fixture's path; a missing fixture fails the lane (never a skip). */
export function fixtureChatModel(): string {
  if (!existsSync(FIXTURE_CHAT_MODEL)) throw new Error(`the chat lane needs ${FIXTURE_CHAT_MODEL} (../shared/fixtures beside the clone)`);
  return FIXTURE_CHAT_MODEL;
}
