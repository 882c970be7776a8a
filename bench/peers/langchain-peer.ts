// The peer as its documentation sets it up: LangChain.js' PGVectorStore over node-postgres,
// its HuggingFaceTransformersEmbeddings (transformers.js, the same ONNX model as local-rag) and
// its default RecursiveCharacterTextSplitter. Only bench/peers imports these packages; they are
// installed into bench/peers/node_modules by bench/peers/install.sh, never into the product.
import { HuggingFaceTransformersEmbeddings } from '@langchain/community/embeddings/huggingface_transformers';
import { PGVectorStore } from '@langchain/community/vectorstores/pgvector';
import { Document } from '@langchain/core/documents';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import pg from 'pg';
import type { Config } from '../../lib/config.ts';
import { resolveModelLocation } from '../../lib/embeddings/model-location.ts';

/** Its own table in the bench database, beside local-rag's knowledge tables. */
const PEER_TABLE = 'langchain_peer_chunks';
const PEER_COLLECTIONS = 'langchain_peer_collections';

export interface PeerDocument {
  source: string;
  content: string;
}

export interface PeerHit {
  source: string;
  content: string;
}

/** One LangChain.js pipeline: split, embed, store, search. */
export interface LangChainPeer {
  /** Drops and recreates its table (with the HNSW index its docs describe), off the clock. */
  reset(): Promise<void>;
  /** Splits and adds documents as a LangChain user would: `splitDocuments` then `addDocuments`. */
  ingest(documents: PeerDocument[]): Promise<{ chunks: number }>;
  search(query: string, topK: number): Promise<PeerHit[]>;
  close(): Promise<void>;
}

/**
 * Opens the peer on `url` with the embedding settings local-rag runs with (model folder,
 * dtype, threads), warmed up by one embedding.
 */
export async function openLangChainPeer(options: { url: string; embedding: Config['embedding'] }): Promise<LangChainPeer> {
  const { embedding } = options;
  const location = resolveModelLocation(embedding.model, embedding.dtype, embedding.modelsDir ?? './models');
  const embeddings = new HuggingFaceTransformersEmbeddings({
    model: location.loadId,
    pretrainedOptions: {
      dtype: embedding.dtype as 'fp32',
      local_files_only: location.local || embedding.offline,
      cache_dir: location.modelsDir,
      session_options: embedding.threads > 0 ? { intraOpNumThreads: embedding.threads } : {},
    },
  });
  await embeddings.embedQuery('warm up');
  const pool = new pg.Pool({ connectionString: options.url, max: 2 });
  const splitter = new RecursiveCharacterTextSplitter();
  const storeConfig = {
    pool,
    tableName: PEER_TABLE,
    collectionTableName: PEER_COLLECTIONS,
    collectionName: 'bench',
    distanceStrategy: 'cosine' as const,
  };
  let store: PGVectorStore | undefined;
  return {
    async reset() {
      // initialize() holds one pooled client for the store's lifetime; give the old one back.
      store?.client?.release();
      await pool.query(`DROP TABLE IF EXISTS ${PEER_TABLE}, ${PEER_COLLECTIONS} CASCADE`);
      store = await PGVectorStore.initialize(embeddings, storeConfig);
      await store.createHnswIndex({ dimensions: embedding.dimensions });
    },
    async ingest(documents) {
      if (!store) throw new Error('reset() first');
      const split = await splitter.splitDocuments(documents.map((document) => new Document({ pageContent: document.content, metadata: { source: document.source } })));
      await store.addDocuments(split);
      return { chunks: split.length };
    },
    async search(query, topK) {
      if (!store) throw new Error('reset() first');
      const found = await store.similaritySearch(query, topK);
      return found.map((document) => ({ source: String(document.metadata.source), content: document.pageContent }));
    },
    async close() {
      store?.client?.release();
      await pool.end();
    },
  };
}
