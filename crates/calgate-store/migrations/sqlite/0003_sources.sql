-- Several calendar sources. Each source is one row: its id, a display name and the settings'
-- read-back view as JSON (secrets sealed in `secrets`). The single-source settings row becomes
-- the source `default`; its sealed secrets keep their slots (`calendar_settings.<field>`), so
-- an upgraded installation needs nothing entered again.
CREATE TABLE sources (
    id            TEXT PRIMARY KEY NOT NULL,
    display_name  TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    revision      INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    updated_by    TEXT NOT NULL
) STRICT;

INSERT INTO sources (id, display_name, settings_json, revision, updated_at_ms, updated_by)
    SELECT 'default', '', settings_json, revision, updated_at_ms, updated_by
    FROM calendar_settings WHERE id = 1;

DROP TABLE calendar_settings;

-- Which source serves which mailboxes (the routing table as JSON); a single row, absent until
-- first saved (everything then goes to `default`).
CREATE TABLE routing (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    routing_json  TEXT NOT NULL,
    revision      INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    updated_by    TEXT NOT NULL
) STRICT;
