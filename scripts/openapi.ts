// `npm run openapi` writes openapi.json from the zod schemas; `--check` fails when the
// committed file is stale (CI).
import { readFile, writeFile } from 'node:fs/promises';
import { buildOpenApiDocument, createApp } from '../functions/app.ts';
import { loadConfig } from '../lib/config.ts';
import { PERMISSIVE_THRESHOLDS } from '../lib/knowledge/sufficiency.ts';
import { createServiceState } from '../lib/service-state.ts';
import type { ChatModel } from '../lib/llm/types.ts';
import type { UpgradeWebSocket } from 'hono/ws';

const config = loadConfig({});
const unused = (): never => {
  throw new Error('not used while building the document');
};
const app = createApp({
  config,
  knowledge: () => createServiceState<never>().get(),
  readiness: async () => ({ ready: false, checks: {} }),
  chat: { chatModel: { stream: unused, health: unused, countTokens: unused } as unknown as ChatModel, thresholds: PERMISSIVE_THRESHOLDS, upgradeWebSocket: (() => unused) as unknown as UpgradeWebSocket },
});
const text = `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
const target = new URL('../openapi.json', import.meta.url);
if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== text) {
    console.error('openapi.json is stale: run `npm run openapi` and commit the result');
    process.exit(1);
  }
  console.log('openapi.json is up to date');
} else {
  await writeFile(target, text);
  console.log('wrote openapi.json');
}
