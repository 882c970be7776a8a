-- Full-text search over chunks, for hybrid retrieval (vector + text, fused by rank).
-- Runs on PostgreSQL 15-18 (PGlite included): only built-in configurations and GIN.
--
-- `search_text` is what gets indexed: the store fills it at insert with the content in which
-- every Chinese word is set off by spaces (lib/text-search), because PostgreSQL's parsers do
-- not segment Chinese. NULL means "index the content as is": that is how rows written before
-- this migration (and any writer that does not know the column) get a usable representation;
-- their Chinese text is searchable again word by word once the document is re-added.
ALTER TABLE knowledge_chunks ADD COLUMN search_text text;

-- Two configurations in one vector: `english` stems and drops stopwords ("connections" finds
-- "connection"), `simple` keeps every token as written, so identifiers, option names, error
-- codes and Chinese words match exactly. Generated, so it can never disagree with the text.
ALTER TABLE knowledge_chunks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
  to_tsvector('english'::regconfig, coalesce(search_text, content)) ||
  to_tsvector('simple'::regconfig, coalesce(search_text, content))
) STORED;

-- fastupdate off: with it, new rows wait in a pending list that every search scans linearly
-- until VACUUM merges it, and PGlite runs no autovacuum. Writes are rare here, reads are not.
CREATE INDEX knowledge_chunks_search_vector ON knowledge_chunks USING gin (search_vector) WITH (fastupdate = off);
