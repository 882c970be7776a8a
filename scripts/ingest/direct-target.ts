import type { Config } from '../../lib/config.ts';
import { openDatabase } from '../../lib/db/connect.ts';
import { openKnowledgeStore } from '../../lib/db/knowledge-store.ts';
import { runMigrations } from '../../lib/db/migrate.ts';
import { loadEmbedder } from '../../lib/embeddings/load-embedder.ts';
import { addDocumentToKnowledgeBase } from '../../lib/knowledge/knowledge-base.ts';
import type { IngestTarget } from './ingest-files.ts';

/** Writes straight to the configured database with the configured embedding model. */
export async function openDirectTarget(config: Config): Promise<{ target: IngestTarget; close(): Promise<void> }> {
  const database = await openDatabase(config.database, { efSearch: config.retrieval.efSearch });
  try {
    if (config.database.migrateOnStart) await runMigrations(database.sql);
    const embedder = await loadEmbedder(config.embedding);
    const dependencies = { store: openKnowledgeStore(database), embedder, chunking: config.chunking };
    return {
      target: {
        async add(source, content) {
          if (Buffer.byteLength(content) > config.maxDocumentBytes) throw new Error(`larger than MAX_DOCUMENT_BYTES (${config.maxDocumentBytes})`);
          const result = await addDocumentToKnowledgeBase(dependencies, { source, content });
          return { status: result.status, chunks: result.document.chunkCount };
        },
      },
      async close() {
        await embedder.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
