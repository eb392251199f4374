-- Name words are now stored folded (lower case, diacritics dropped: "müller" → "muller"), which
-- SQL cannot compute: the store makes them again at its next open and drops this row.
INSERT OR REPLACE INTO store_meta (name, value) VALUES ('reindex_name_words', X'01');
