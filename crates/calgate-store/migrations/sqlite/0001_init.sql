-- calgate's embedded database. Timestamps are unix milliseconds (UTC). Secrets are stored only
-- sealed (XChaCha20-Poly1305, key in secret.key beside this file); tokens and passwords only hashed.

-- Facts about the store itself: the id of the key that seals its secrets and a sealed check value
-- that tells a wrong key file apart from damaged data.
CREATE TABLE store_meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;

-- The calendar settings without their secrets (the read-back view as JSON); a single row.
CREATE TABLE calendar_settings (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    settings_json TEXT NOT NULL,
    revision      INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    updated_by    TEXT NOT NULL
) STRICT;

-- Sealed secrets by slot (`calendar_settings.password`, ...). The slot name is the AAD, so a
-- ciphertext moved to another slot does not open.
CREATE TABLE secrets (
    slot          TEXT PRIMARY KEY NOT NULL,
    key_id        TEXT NOT NULL,
    sealed        BLOB NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- Who changed which settings fields when; never the values.
CREATE TABLE settings_audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms    INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    subject  TEXT NOT NULL,
    revision INTEGER NOT NULL,
    fields   TEXT NOT NULL
) STRICT;

-- The lockout guard's state per credential fingerprint, opaque to the store.
CREATE TABLE lockout_guard (
    fingerprint   TEXT PRIMARY KEY NOT NULL,
    state_json    TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- The latest rotated OAuth refresh token per credential fingerprint, sealed.
CREATE TABLE refresh_tokens (
    fingerprint   TEXT PRIMARY KEY NOT NULL,
    key_id        TEXT NOT NULL,
    sealed        BLOB NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- The watch list.
CREATE TABLE people (
    email         TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,
    display_name  TEXT NOT NULL COLLATE NOCASE,
    extension     TEXT,
    source        TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX people_by_display_name ON people (display_name);
CREATE INDEX people_by_extension ON people (extension);

-- API tokens by the SHA-256 of the token; the clear token is shown once at creation.
CREATE TABLE api_tokens (
    id              TEXT PRIMARY KEY NOT NULL,
    label           TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'console')),
    token_sha256    BLOB NOT NULL UNIQUE,
    created_at_ms   INTEGER NOT NULL,
    last_used_at_ms INTEGER,
    revoked_at_ms   INTEGER
) STRICT;

-- The portal's administrator: an Argon2id PHC string.
CREATE TABLE admin_user (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    username      TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- The last availability fetched per mailbox (calgate_core::Availability as JSON), so a restart
-- serves data with its true age at once instead of "unknown" for everyone.
CREATE TABLE last_availability (
    mailbox           TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,
    availability_json TEXT NOT NULL,
    fetched_at_ms     INTEGER NOT NULL
) STRICT;
