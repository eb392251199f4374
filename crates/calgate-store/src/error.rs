//! The store's errors. None of them carries a secret: database messages come from SQLite or
//! PostgreSQL (neither quotes bound values), a database URL is shown without its password, and
//! JSON problems are reported by position only.

use std::path::PathBuf;

/// Anything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the key file {} is accessible to other users (mode {mode:o}); restrict it with chmod 600",
        path.display()
    )]
    KeyFilePermissions { path: PathBuf, mode: u32 },
    #[error("the key file {} must hold exactly 32 bytes, it holds {len}", path.display())]
    KeyFileInvalid { path: PathBuf, len: u64 },
    #[error(
        "the key file {} is missing, but the database holds secrets sealed with key {key_id}; \
         restore the key file from a backup, or copy it from a gateway sharing this database \
         (every gateway sharing a database needs the same secret.key; a new key cannot open \
         them)",
        path.display()
    )]
    KeyFileMissing { path: PathBuf, key_id: String },
    #[error(
        "the key file {} holds key {found}, but the database's secrets are sealed with key \
         {expected}; restore the matching key file (every gateway sharing a database needs the \
         same secret.key)",
        path.display()
    )]
    WrongKey {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error(
        "the stored secret {slot} cannot be opened (damaged, moved, or sealed with another key)"
    )]
    Undecryptable { slot: String },
    /// SQLite reported `SQLITE_FULL`: the disk (or the database's size limit) is full. The write
    /// was rolled back; what was saved before is intact.
    #[error("the disk is full; the change was not saved ({0})")]
    DiskFull(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The PostgreSQL server cannot be reached or refused us (`database` is shown without the
    /// password). Nothing was written.
    #[error("cannot open the PostgreSQL database {database}: {reason}")]
    Connect { database: String, reason: String },
    /// Something only the SQLite backend has.
    #[error("{what} is for SQLite databases only; {instead}")]
    SqliteOnly {
        what: &'static str,
        instead: &'static str,
    },
    /// The database was written by a newer release: its schema has migrations this build does
    /// not know. Nothing was written to it.
    #[error(
        "the database {database} has schema version {found}, newer than calgate {} knows \
         (schema {known}): it was written by a newer release. Nothing was changed; run that \
         release or a later one, or restore a backup taken with this release",
        env!("CARGO_PKG_VERSION")
    )]
    SchemaTooNew {
        /// The SQLite file's path, or the PostgreSQL database without its password.
        database: String,
        found: i64,
        known: i64,
    },
    /// A backup could not be written or read back (`reason` says what is wrong with it).
    #[error("{}: {reason}", path.display())]
    Backup { path: PathBuf, reason: String },
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("the stored {what} is unreadable: {reason}")]
    Corrupt { what: String, reason: String },
    /// Something still in use cannot be removed (a source the routing names).
    #[error("{what} is still used by {by}")]
    InUse { what: String, by: String },
    #[error("invalid {what}: {reason}")]
    InvalidInput { what: &'static str, reason: String },
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    #[error("a background task failed: {0}")]
    Task(String),
}

/// SQLite's primary result code for a full disk (`SQLITE_FULL`).
const SQLITE_FULL: i64 = 13;
/// PostgreSQL's SQLSTATE `disk_full`.
const PG_DISK_FULL: &str = "53100";

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let full = e.as_database_error().is_some_and(|db| {
            if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                return db.code().as_deref() == Some(PG_DISK_FULL);
            }
            db.code()
                .and_then(|code| code.parse::<i64>().ok())
                // Extended result codes keep the primary code in the low byte.
                .is_some_and(|code| code & 0xff == SQLITE_FULL)
        });
        if full {
            StoreError::DiskFull(e)
        } else {
            StoreError::Database(e)
        }
    }
}

impl StoreError {
    /// A JSON column that does not parse, described without quoting its content.
    pub(crate) fn corrupt_json(what: impl Into<String>, e: &serde_json::Error) -> StoreError {
        StoreError::Corrupt {
            what: what.into(),
            reason: format!(
                "{:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
