-- Several gateways on one database (PostgreSQL): who may try a credential no server has accepted
-- yet (or whose quarantine's probe is due). A gateway claims the row until `until_ms`; the
-- others send nothing with that credential until it is proven (then anyone may use it) or
-- refused (then the lockout guard's quarantine reaches them). Keyed by the guard's keyed hash of
-- the credential, never the secret. A single gateway on SQLite leaves it empty.
CREATE TABLE credential_claims (
    fingerprint TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    holder      TEXT COLLATE "C" NOT NULL,
    until_ms    BIGINT NOT NULL,
    proven      BOOLEAN NOT NULL
);
