//! The two databases behind [`Store`](crate::Store): the embedded SQLite file and a PostgreSQL
//! server. Store code is written once: [`on_pool!`] and [`on_tx!`] run one block of code with
//! the backend's own pool or transaction (the compiler makes a copy for each backend, with
//! `Db` naming its sqlx database type), and the SQL text is shared — `$N` placeholders work on
//! both, and so do `ON CONFLICT … DO UPDATE`/`DO NOTHING` and `RETURNING`. What differs is kept
//! here: how a write transaction takes the write lock, and the case-folded name expression.

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::error::Result;

/// The storage backends.
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction of either backend.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$pool` bound to the backend's pool (`&SqlitePool` or `&PgPool`) and
/// `Db` to its database type; the body is written once and compiled for each backend.
macro_rules! on_pool {
    ($backend:expr, |$pool:ident| $body:expr) => {
        match $backend {
            $crate::backend::Backend::Sqlite($pool) => {
                #[allow(dead_code)]
                type Db = ::sqlx::Sqlite;
                $body
            }
            $crate::backend::Backend::Postgres($pool) => {
                #[allow(dead_code)]
                type Db = ::sqlx::Postgres;
                $body
            }
        }
    };
}

/// Runs `$body` with `$tx` bound to the transaction of its backend (use `&mut **$tx` as the
/// executor) and `Db` to its database type.
macro_rules! on_tx {
    ($transaction:expr, |$tx:ident| $body:expr) => {
        match $transaction {
            $crate::backend::Tx::Sqlite($tx) => {
                #[allow(dead_code)]
                type Db = ::sqlx::Sqlite;
                $body
            }
            $crate::backend::Tx::Postgres($tx) => {
                #[allow(dead_code)]
                type Db = ::sqlx::Postgres;
                $body
            }
        }
    };
}

pub(crate) use {on_pool, on_tx};

/// The advisory lock every PostgreSQL write transaction takes first: writes are serialized as
/// SQLite's `BEGIN IMMEDIATE` serializes them, so a read-compare-write (a revision, the
/// routing's check that its sources exist) cannot interleave with another writer.
const WRITE_LOCK: i64 = 0x6361_6c67_6174_6531; // "calgate1"

impl Backend {
    /// A transaction that holds the write lock from its start.
    pub(crate) async fn begin_write(&self) -> Result<Tx> {
        Ok(match self {
            Backend::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        })
    }

    /// A transaction for the shard leases: SQLite's write lock (the single writer), on
    /// PostgreSQL a plain one whose claims lock only their rows (`FOR UPDATE SKIP LOCKED`), so
    /// lease rounds do not queue behind the store's other writes.
    pub(crate) async fn begin_leases(&self) -> Result<Tx> {
        Ok(match self {
            Backend::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A transaction for several reads that must see one moment of the database.
    pub(crate) async fn begin_read(&self) -> Result<Tx> {
        Ok(match self {
            Backend::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Backend::Postgres(pool) => Tx::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        })
    }

    /// A display name compared and ordered with ASCII case folded: SQLite's column has the
    /// `NOCASE` collation; PostgreSQL's has `C`, under which `lower` folds ASCII only, and an
    /// index on `lower(display_name)` serves it.
    pub(crate) fn folded_name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "display_name",
            Backend::Postgres(_) => "lower(display_name)",
        }
    }

    pub(crate) async fn close(&self) {
        on_pool!(self, |pool| pool.close().await);
    }
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<()> {
        on_tx!(self, |tx| tx.commit().await?);
        Ok(())
    }
}
