-- Several gateways on one database (PostgreSQL): each running gateway's row, renewed by its
-- heartbeat, and one lease row per shard of the mailboxes (a holder fetches that shard's
-- mailboxes until `expires_at_ms`). A single gateway on SQLite leaves both empty.
CREATE TABLE instances (
    id              TEXT PRIMARY KEY NOT NULL,
    address         TEXT NOT NULL,
    started_at_ms   INTEGER NOT NULL,
    heartbeat_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE shard_leases (
    shard         INTEGER PRIMARY KEY NOT NULL,
    holder        TEXT,
    expires_at_ms INTEGER NOT NULL
) STRICT;
