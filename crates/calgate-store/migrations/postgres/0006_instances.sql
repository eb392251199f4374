-- Several gateways on one database (PostgreSQL): each running gateway's row, renewed by its
-- heartbeat, and one lease row per shard of the mailboxes (a holder fetches that shard's
-- mailboxes until `expires_at_ms`). A single gateway on SQLite leaves both empty.
CREATE TABLE instances (
    id              TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    address         TEXT NOT NULL,
    started_at_ms   BIGINT NOT NULL,
    heartbeat_at_ms BIGINT NOT NULL
);

CREATE TABLE shard_leases (
    shard         BIGINT PRIMARY KEY NOT NULL,
    holder        TEXT COLLATE "C",
    expires_at_ms BIGINT NOT NULL
);
