-- Where each watched person came from: `manual` (the API or the portal), `import` (a CSV
-- import) or the id of the directory that syncs it; the directory's own id of the entry (a
-- delta names removed people by it); and the source a directory routes the mailbox to.
ALTER TABLE people RENAME COLUMN source TO origin;
-- (On SQLite this made every older person `manual`; no PostgreSQL database has older people.)
ALTER TABLE people ADD COLUMN origin_id TEXT;
ALTER TABLE people ADD COLUMN route TEXT;
CREATE INDEX people_by_origin ON people (origin, email);

-- The directories the watch list is synced from: the configuration as JSON (the bind password
-- sealed in `secrets` under `directory.<id>.bind_password`), where the next read continues
-- (Graph's delta link) and the last sync's outcome as JSON.
CREATE TABLE directories (
    id            TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    config_json   TEXT NOT NULL,
    delta         TEXT,
    outcome_json  TEXT,
    revision      BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    updated_by    TEXT NOT NULL
);
