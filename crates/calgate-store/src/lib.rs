//! calgate's persistence: one SQLite database in the data directory (WAL, foreign keys, a busy
//! timeout, migrations embedded from `migrations/sqlite/`) or a PostgreSQL database named by a
//! [`DatabaseUrl`] (migrations from `migrations/postgres/`), and secrets sealed with a key kept
//! in its own 0600 file in the data directory.
//!
//! [`Store`] is the only way in. It holds the calendar settings (non-secret JSON plus sealed
//! secrets, saved together with an audit row in one transaction), the lockout guard's state, rotated
//! refresh tokens, the watch list, API tokens (hashed), the administrator (Argon2id), and the
//! last-known availability per mailbox for a warm restart. Its backend is an enum
//! (`backend.rs`); the code and SQL of each method are written once for both.

mod backend;

mod admin;
mod availability;
pub mod backup;
mod credentials;
mod directories;
mod error;
mod fold;
mod instances;
mod notify;
mod people;
mod postgres;
mod seal;
mod settings;
mod tokens;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use backend::{Backend, on_tx};

pub use credentials::CredentialClaim;
pub use directories::{PasswordChange, StoredDirectory, SyncWritten};
pub use error::{Result, StoreError};
pub use instances::{Instance, Lease, LeaseRound};
pub use notify::{Listener, Notice, Topic};
pub use people::{ORIGIN_IMPORT, ORIGIN_MANUAL, WatchedPerson};
pub use postgres::DatabaseUrl;
pub use settings::{AuditEntry, SettingsSaved, StoredCalendarSettings, StoredSource};
pub use tokens::{ApiRole, ApiToken, NewApiToken};

use seal::{KeyFile, Sealer};

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "calgate.db";
/// The secret key file's name inside the data directory.
pub const KEY_FILE: &str = "secret.key";

/// The migrations this build knows, embedded at compile time (PostgreSQL's, in
/// `postgres.rs`, have the same versions and descriptions).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The schema version this build writes: the number of its newest migration. A database whose
/// newest applied migration is above it was written by a newer release and is refused.
pub fn schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// How long a writer waits for another writer before giving up with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Readers run in parallel under WAL; writes serialize on SQLite's lock anyway.
const MAX_CONNECTIONS: u32 = 4;

/// AAD of the check value that tells a wrong key file from damaged data.
const KEY_CHECK_AAD: &str = "calgate/v1/store_meta/key_check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"calgate key check";

/// The newest successful migration recorded in `_sqlx_migrations` (both backends).
pub(crate) const NEWEST_MIGRATION: &str = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";

/// The gateway's persistent state. Cheap to share behind an `Arc`; every method is a short
/// transaction.
pub struct Store {
    backend: Backend,
    sealer: Sealer,
    data_dir: PathBuf,
    database: Option<DatabaseUrl>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("data_dir", &self.data_dir)
            .field("database", &self.database)
            .field("key_id", &self.sealer.key_id())
            .finish_non_exhaustive()
    }
}

/// Knobs for tests that need SQLite to produce faults it really produces.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct OpenOptions {
    /// `PRAGMA max_page_count`: a database size limit, which makes SQLite answer `SQLITE_FULL`.
    pub max_page_count: Option<u32>,
}

impl Store {
    /// Opens (or creates) `<data_dir>/calgate.db` and `<data_dir>/secret.key`, and runs the
    /// migrations. A database that holds secrets refuses to open with a missing or different
    /// key file rather than start with secrets nobody can read.
    pub async fn open(data_dir: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(data_dir.as_ref(), OpenOptions::default()).await
    }

    /// Opens the PostgreSQL database `database` when one is given (the key file still lives in
    /// `data_dir`, and every gateway sharing the database needs the same one), else the SQLite
    /// database of `data_dir` as [`Store::open`] does.
    pub async fn open_database(
        data_dir: impl AsRef<Path>,
        database: Option<&DatabaseUrl>,
    ) -> Result<Store> {
        let data_dir = data_dir.as_ref();
        let Some(url) = database else {
            return Store::open(data_dir).await;
        };
        // A key file that cannot be read stops the open before the database is touched.
        seal::read_key_file(&data_dir.join(KEY_FILE))?;
        let pool = postgres::open(url).await?;
        Store::attach(data_dir, Backend::Postgres(pool), Some(url.clone())).await
    }

    pub(crate) async fn open_with(data_dir: &Path, options: OpenOptions) -> Result<Store> {
        let db_path = data_dir.join(DB_FILE);
        // Before anything is created or written: a newer release's database is left as it is.
        if db_path.is_file() {
            refuse_newer_schema(&db_path).await?;
        }
        create_private_dir(data_dir)?;
        // A key file that cannot be read stops the open before the database is created.
        seal::read_key_file(&data_dir.join(KEY_FILE))?;

        let mut connect = SqliteConnectOptions::new()
            .filename(&db_path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the call returns (settings, refresh tokens).
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Statement journals of the watch list's multi-row upserts stay in memory rather than
            // going through a temporary file for every chunk.
            .pragma("temp_store", "memory")
            // SQLite's default 2 MiB of page cache per connection: the pages the watch list's
            // upserts touch are mostly in the OS cache anyway, and four connections at a larger
            // cache cost tens of megabytes at 100 000 people.
            .pragma("cache_size", "-2048")
            .busy_timeout(BUSY_TIMEOUT);
        if let Some(pages) = options.max_page_count {
            connect = connect.pragma("max_page_count", pages.to_string());
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            // On a full disk SQLite rolls the transaction back itself; the driver's own ROLLBACK
            // then fails and it keeps counting a transaction that no longer exists, so every
            // later BEGIN on that connection would fail even after space returns. Such a
            // connection is closed instead of going back to the pool.
            .after_release(|conn, _| {
                let in_tx = sqlx::Connection::is_in_transaction(conn);
                Box::pin(async move { Ok(!in_tx) })
            })
            .connect_with(connect)
            .await?;
        restrict_file(&db_path)?;
        MIGRATOR.run(&pool).await?;
        Store::attach(data_dir, Backend::Sqlite(pool), None).await
    }

    /// The steps after migrating, the same on both backends: the name words made again when a
    /// migration asked, and the key file paired with the database.
    async fn attach(
        data_dir: &Path,
        backend: Backend,
        database: Option<DatabaseUrl>,
    ) -> Result<Store> {
        let prepared = async {
            create_private_dir(data_dir)?;
            let key_path = data_dir.join(KEY_FILE);
            let key = seal::read_key_file(&key_path)?;
            people::reindex_if_asked(&backend).await?;
            attach_key(&backend, key, &key_path).await
        };
        match prepared.await {
            Ok(sealer) => Ok(Store {
                backend,
                sealer,
                data_dir: data_dir.to_path_buf(),
                database,
            }),
            Err(e) => {
                backend.close().await;
                Err(e)
            }
        }
    }

    /// The data directory this store lives in.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The public id of the key sealing this store's secrets (for diagnostics).
    pub fn key_id(&self) -> &str {
        self.sealer.key_id()
    }

    /// A secret for keying credential fingerprints (`LockoutGuard::restore_keyed`), derived from
    /// the key file: stable across restarts, never stored, useless without the key file.
    pub fn fingerprint_key(&self) -> secrecy::SecretSlice<u8> {
        secrecy::SecretSlice::from(self.sealer.fingerprint_key().to_vec())
    }

    /// The PostgreSQL database this store is in; `None` for the SQLite file of the data
    /// directory.
    pub fn database_url(&self) -> Option<&DatabaseUrl> {
        self.database.as_ref()
    }

    /// SQLite's own consistency check: `Ok(vec!["ok"])` when the database is sound. PostgreSQL
    /// has no such check ([`StoreError::SqliteOnly`]).
    pub async fn integrity_check(&self) -> Result<Vec<String>> {
        let Backend::Sqlite(pool) = &self.backend else {
            return Err(StoreError::SqliteOnly {
                what: "the integrity check",
                instead: "PostgreSQL checks its own pages",
            });
        };
        let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
            .fetch_all(pool)
            .await?;
        Ok(rows.into_iter().map(|(line,)| line).collect())
    }

    /// Waits for in-flight statements and closes the database (graceful shutdown).
    pub async fn close(&self) {
        self.backend.close().await;
    }

    pub(crate) fn db(&self) -> &Backend {
        &self.backend
    }

    /// The SQLite pool, for the tests of the SQLite file itself.
    #[cfg(test)]
    pub(crate) fn pool_for_tests(&self) -> &sqlx::SqlitePool {
        match &self.backend {
            Backend::Sqlite(pool) => pool,
            Backend::Postgres(_) => panic!("a test of SQLite's own ran on PostgreSQL"),
        }
    }
}

/// The newest migration applied to the database at `db_path`, read through a read-only
/// connection (`0` for a database without calgate's migrations table).
pub(crate) async fn applied_schema_version(db_path: &Path) -> Result<i64> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect_with(&read_only_options(db_path)).await?;
    let version = schema_version_of(&mut conn).await;
    conn.close().await?;
    version
}

/// A read-only connection to a database another process may be writing. Read-only connections
/// to a WAL database make its `-wal` and `-shm` files when they are missing and cannot remove
/// them again; the files exist whenever another process has the database open, and without them
/// nobody does, so the file is then read as it is (immutable) and nothing is left beside it.
pub(crate) fn read_only_options(db_path: &Path) -> SqliteConnectOptions {
    let mut wal = db_path.as_os_str().to_owned();
    wal.push("-wal");
    let in_use = Path::new(&wal).exists();
    SqliteConnectOptions::new()
        .filename(db_path)
        .read_only(true)
        .immutable(!in_use)
        .busy_timeout(BUSY_TIMEOUT)
}

/// The newest successful migration recorded in `_sqlx_migrations`, `0` without that table.
pub(crate) async fn schema_version_of(conn: &mut sqlx::SqliteConnection) -> Result<i64> {
    let table: Option<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if table.is_none() {
        return Ok(0);
    }
    let (version,): (Option<i64>,) = sqlx::query_as(NEWEST_MIGRATION)
        .fetch_one(&mut *conn)
        .await?;
    Ok(version.unwrap_or(0))
}

/// Refuses a database written by a newer release (a migration beyond this build's newest).
async fn refuse_newer_schema(db_path: &Path) -> Result<()> {
    let found = applied_schema_version(db_path).await?;
    let known = schema_version();
    if found > known {
        return Err(StoreError::SchemaTooNew {
            database: db_path.display().to_string(),
            found,
            known,
        });
    }
    Ok(())
}

/// Pairs the key file with the database: on first start records the key's id and a sealed check
/// value; later, proves the key file is the one the secrets were sealed with. The pairing is
/// read and written under the write lock, so two gateways starting together on one PostgreSQL
/// database with different keys cannot both record theirs.
async fn attach_key(backend: &Backend, key: KeyFile, key_path: &Path) -> Result<Sealer> {
    let mut tx = backend.begin_write().await?;
    let stored: Option<(Vec<u8>, Vec<u8>)> = on_tx!(&mut tx, |tx| sqlx::query_as(
        "SELECT k.value, c.value FROM store_meta k, store_meta c \
         WHERE k.name = 'key_id' AND c.name = 'key_check'",
    )
    .fetch_optional(&mut **tx)
    .await?);
    let sealer = match (key, stored) {
        (KeyFile::Missing(path), Some((key_id, _))) => {
            return Err(StoreError::KeyFileMissing {
                path,
                key_id: String::from_utf8_lossy(&key_id).into_owned(),
            });
        }
        (KeyFile::Missing(_), None) => match seal::create_key_file(key_path)? {
            KeyFile::Created(sealer) | KeyFile::Existing(sealer) => sealer,
            KeyFile::Missing(path) => {
                return Err(StoreError::KeyFileMissing {
                    path,
                    key_id: String::new(),
                });
            }
        },
        (KeyFile::Existing(sealer) | KeyFile::Created(sealer), Some((key_id, check))) => {
            if sealer.open(KEY_CHECK_AAD, &check).is_err() {
                return Err(StoreError::WrongKey {
                    path: key_path.to_path_buf(),
                    expected: String::from_utf8_lossy(&key_id).into_owned(),
                    found: sealer.key_id().to_string(),
                });
            }
            return Ok(sealer);
        }
        (KeyFile::Existing(sealer) | KeyFile::Created(sealer), None) => sealer,
    };
    let check = sealer.seal(KEY_CHECK_AAD, KEY_CHECK_PLAINTEXT)?;
    for (name, value) in [
        ("key_id", sealer.key_id().as_bytes().to_vec()),
        ("key_check", check),
    ] {
        on_tx!(&mut tx, |tx| sqlx::query(
            "INSERT INTO store_meta (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&mut **tx)
        .await?
        .rows_affected());
    }
    tx.commit().await?;
    Ok(sealer)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| StoreError::Io {
        action: "create",
        path: dir.to_path_buf(),
        source,
    })
}

/// The database holds hashes and personal data: owner-only, like the key. SQLite gives its WAL
/// and shared-memory files the database file's permissions.
fn restrict_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| StoreError::Io {
                action: "restrict",
                path: path.to_path_buf(),
                source,
            },
        )?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

pub(crate) fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

pub(crate) fn timestamp(ms: i64, what: &str) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|_| StoreError::Corrupt {
        what: what.to_string(),
        reason: "timestamp out of range".to_string(),
    })
}

#[cfg(test)]
mod tests;
