-- Several calendar sources. Each source is one row: its id, a display name and the settings'
-- read-back view as JSON (secrets sealed in `secrets`). On SQLite the single-source settings row
-- becomes the source `default`; no PostgreSQL database predates this migration, so the copy
-- below finds no row and only keeps the two schemas' steps alike.
CREATE TABLE sources (
    id            TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    display_name  TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    revision      BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    updated_by    TEXT NOT NULL
);

INSERT INTO sources (id, display_name, settings_json, revision, updated_at_ms, updated_by)
    SELECT 'default', '', settings_json, revision, updated_at_ms, updated_by
    FROM calendar_settings WHERE id = 1;

DROP TABLE calendar_settings;

-- Which source serves which mailboxes (the routing table as JSON); a single row, absent until
-- first saved (everything then goes to `default`).
CREATE TABLE routing (
    id            BIGINT PRIMARY KEY CHECK (id = 1),
    routing_json  TEXT NOT NULL,
    revision      BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    updated_by    TEXT NOT NULL
);
