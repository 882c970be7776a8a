-- Document frequencies for full-text ranking: in how many chunks each lexeme of
-- `search_vector` occurs. Hybrid search weighs a query term by its rarity; counting a term's
-- chunks through the GIN index costs a whole posting list per term (~3 ms for a common term
-- at 100k chunks, most of a hybrid query), a primary-key lookup here costs microseconds.
--
-- Maintained by the store (lib/db/knowledge-store.ts) in the transaction that inserts or
-- deletes a document's chunks, by one upsert in lexeme order. A row may reach 0 chunks and
-- stay: it means the same as a missing row. Derived data: a writer that bypasses the store
-- (a bulk load) must recount it afterwards, with the INSERT below on an emptied table.

-- COLLATE "C": only equality lookups, so a byte-wise comparison is enough and cheapest.
CREATE TABLE knowledge_lexemes (
  lexeme text COLLATE "C" PRIMARY KEY,
  chunks integer NOT NULL
);

INSERT INTO knowledge_lexemes (lexeme, chunks)
SELECT lexeme, count(*)::int
FROM knowledge_chunks c CROSS JOIN LATERAL unnest(tsvector_to_array(c.search_vector)) AS lexeme
GROUP BY lexeme;
