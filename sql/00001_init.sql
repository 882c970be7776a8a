-- Knowledge base: one row per document (a source), its chunks with their embeddings.
-- Runs on PostgreSQL 15-18 with pgvector >= 0.5 (HNSW).
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE knowledge_documents (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  source         text        NOT NULL UNIQUE CHECK (length(source) BETWEEN 1 AND 1024),
  content_sha256 text        NOT NULL,
  metadata       jsonb       NOT NULL DEFAULT '{}'::jsonb,
  chunk_count    integer     NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The seed's table and columns (id, source, content, embedding, created_at), plus what
-- ingestion needs: the owning document, the chunk's position and its token count.
CREATE TABLE knowledge_chunks (
  id          bigserial   PRIMARY KEY,
  document_id uuid        NOT NULL REFERENCES knowledge_documents (id) ON DELETE CASCADE,
  source      text        NOT NULL,
  chunk_index integer     NOT NULL CHECK (chunk_index >= 0),
  content     text        NOT NULL,
  token_count integer     NOT NULL,
  embedding   vector(384) NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (document_id, chunk_index)
);

-- HNSW rather than the seed's ivfflat (lists = 100): ivfflat learns its centroids from the
-- rows present when the index is built, so built on an empty table every vector falls in
-- arbitrary lists and recall collapses; HNSW needs no training, stays accurate as rows
-- arrive and answers in ~1 ms at 100k rows. Defaults m = 16, ef_construction = 64.
CREATE INDEX knowledge_chunks_embedding_hnsw ON knowledge_chunks USING hnsw (embedding vector_cosine_ops);
CREATE INDEX knowledge_chunks_source ON knowledge_chunks (source);
CREATE INDEX knowledge_documents_metadata ON knowledge_documents USING gin (metadata jsonb_path_ops);
