import type { Config } from '../../lib/config.ts';
import { addDocumentToKnowledgeBase } from '../../lib/knowledge/knowledge-base.ts';
import { openKnowledgeBase } from '../../lib/knowledge/open-knowledge-base.ts';
import type { Log } from '../../lib/log.ts';
import type { IngestTarget } from './ingest-files.ts';

/**
 * Writes straight to the configured database with the configured embedding model, opened
 * as the service opens it (migrations, the embedding column's dimension, the model).
 */
export async function openDirectTarget(config: Config, options: { log: Log }): Promise<{ target: IngestTarget; close(): Promise<void> }> {
  const knowledgeBase = await openKnowledgeBase(config, { log: options.log });
  return {
    target: {
      async add(source, content) {
        if (Buffer.byteLength(content) > config.maxDocumentBytes) throw new Error(`larger than MAX_DOCUMENT_BYTES (${config.maxDocumentBytes})`);
        const result = await addDocumentToKnowledgeBase(knowledgeBase.dependencies, { source, content });
        return { status: result.status, chunks: result.document.chunkCount };
      },
    },
    close: () => knowledgeBase.close(),
  };
}
