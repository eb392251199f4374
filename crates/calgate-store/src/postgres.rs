//! PostgreSQL: the database URL, whose password is never shown, and opening a server's
//! database — one connection first (a wrong address or password is told at once), the schema
//! version read before anything is written, then the pool and the migrations of
//! `migrations/postgres/`.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

use crate::error::{Result, StoreError};

/// The migrations of the PostgreSQL schema: the same versions and descriptions as SQLite's.
pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections per gateway: requests read in parallel; writes serialize on the write lock.
const MAX_CONNECTIONS: u32 = 8;
/// How long the first connection may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request waits for a pooled connection (writers queue on the write lock while
/// holding one).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// A `postgres://` URL. It holds a password: its `Debug` and `Display` show only the host,
/// port and database name.
#[derive(Clone)]
pub struct DatabaseUrl {
    url: SecretString,
    shown: String,
}

impl DatabaseUrl {
    /// Checks `url` (`postgres://user:password@host:port/dbname`, or `postgresql://`). The
    /// error never quotes the URL.
    pub fn parse(url: &str) -> Result<DatabaseUrl> {
        let url = url.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::InvalidInput {
                what: "database URL",
                reason: "must start with postgres:// (postgres://USER:PASSWORD@HOST:PORT/DBNAME)"
                    .to_string(),
            });
        }
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::InvalidInput {
            what: "database URL",
            reason: e.to_string(),
        })?;
        let shown = format!(
            "postgres://{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options
                .get_database()
                .unwrap_or_else(|| options.get_username())
        );
        Ok(DatabaseUrl {
            url: SecretString::from(url),
            shown,
        })
    }

    fn options(&self) -> Result<PgConnectOptions> {
        PgConnectOptions::from_str(self.url.expose_secret()).map_err(|e| StoreError::InvalidInput {
            what: "database URL",
            reason: e.to_string(),
        })
    }
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<DatabaseUrl> {
        DatabaseUrl::parse(s)
    }
}

impl PartialEq for DatabaseUrl {
    fn eq(&self, other: &DatabaseUrl) -> bool {
        self.url.expose_secret() == other.url.expose_secret()
    }
}

impl Eq for DatabaseUrl {}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.shown).finish()
    }
}

/// Connects to the database, refuses one of a newer schema before writing anything, and
/// migrates it.
pub(crate) async fn open(url: &DatabaseUrl) -> Result<PgPool> {
    let options = url.options()?;
    let unreachable = |reason: String| StoreError::Connect {
        database: url.to_string(),
        reason,
    };
    let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options))
        .await
        .map_err(|_| unreachable(format!("no answer within {CONNECT_TIMEOUT:?}")))?
        .map_err(|e| unreachable(e.to_string()))?;
    let found = applied_schema_version(&mut conn).await?;
    conn.close().await?;
    let known = crate::schema_version();
    if found > known {
        return Err(StoreError::SchemaTooNew {
            database: url.to_string(),
            found,
            known,
        });
    }
    let pool = PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    // Each migration runs in its own transaction, under sqlx's advisory lock, so gateways
    // starting together migrate once.
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// The newest migration applied to the database, `0` for one without calgate's tables.
async fn applied_schema_version(conn: &mut PgConnection) -> Result<i64> {
    let (exists,): (bool,) = sqlx::query_as("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(0);
    }
    let (version,): (Option<i64>,) = sqlx::query_as(crate::NEWEST_MIGRATION)
        .fetch_one(&mut *conn)
        .await?;
    Ok(version.unwrap_or(0))
}
