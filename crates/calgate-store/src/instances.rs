//! Several gateways on one PostgreSQL database: each running gateway (an instance) keeps a row
//! alive by its heartbeat, and holds leases on shards of the mailboxes
//! ([`calgate_core::shard`]). A lease is claimed with `SELECT … FOR UPDATE SKIP LOCKED` among
//! free or expired rows, so two instances claiming at once never take the same shard; each
//! instance takes at most its fair share (`ceil(shards / live instances)`) and gives back what it
//! holds above it, so an instance that joins gets some. On SQLite the tables exist and a single
//! gateway never uses them. Times are milliseconds since the Unix epoch, as elsewhere.

use std::collections::BTreeSet;

use calgate_core::shard::{SHARDS, Shard};

use crate::Store;
use crate::backend::{on_pool, on_tx};
use crate::error::Result;

/// An instance whose heartbeat is older than this is forgotten altogether (its row deleted).
const FORGET_AFTER_MS: i64 = 10 * 60 * 1000;

const CLAIM_FREE_SQLITE: &str = "SELECT shard FROM shard_leases \
     WHERE holder IS NULL OR expires_at_ms <= $1 ORDER BY shard LIMIT $2";
const CLAIM_FREE_POSTGRES: &str = "SELECT shard FROM shard_leases \
     WHERE holder IS NULL OR expires_at_ms <= $1 ORDER BY shard LIMIT $2 FOR UPDATE SKIP LOCKED";

/// A live instance as the health page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    /// Where it listens, as it said itself.
    pub address: String,
    pub started_at_ms: i64,
    pub heartbeat_at_ms: i64,
    /// Unexpired leases it holds.
    pub leases: u32,
}

/// One shard's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub shard: Shard,
    /// `None`: free (never claimed or given back).
    pub holder: Option<String>,
    pub expires_at_ms: i64,
}

/// What a lease round left an instance holding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRound {
    /// The shards it holds now, each until `expires_at_ms`.
    pub owned: BTreeSet<Shard>,
    pub expires_at_ms: i64,
    /// Live instances counted for the fair share (this one included).
    pub live: u32,
}

impl Store {
    /// Records that instance `id` (listening at `address`) is alive at `now_ms`; a new id's start
    /// is `now_ms`. Rows of instances silent for ten minutes are removed.
    pub async fn heartbeat(&self, id: &str, address: &str, now_ms: i64) -> Result<()> {
        on_pool!(self.db(), |pool| {
            sqlx::query(
                "INSERT INTO instances (id, address, started_at_ms, heartbeat_at_ms) \
                 VALUES ($1, $2, $3, $3) ON CONFLICT (id) DO UPDATE SET \
                 address = excluded.address, heartbeat_at_ms = excluded.heartbeat_at_ms",
            )
            .bind(id)
            .bind(address)
            .bind(now_ms)
            .execute(pool)
            .await?;
            sqlx::query("DELETE FROM instances WHERE heartbeat_at_ms < $1")
                .bind(now_ms - FORGET_AFTER_MS)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Instances whose heartbeat is at `live_since_ms` or later, by id, with the leases each
    /// holds unexpired at `now_ms`.
    pub async fn live_instances(&self, live_since_ms: i64, now_ms: i64) -> Result<Vec<Instance>> {
        let rows: Vec<(String, String, i64, i64, i64)> = on_pool!(self.db(), |pool| {
            sqlx::query_as(
                "SELECT i.id, i.address, i.started_at_ms, i.heartbeat_at_ms, \
                 (SELECT COUNT(*) FROM shard_leases l \
                  WHERE l.holder = i.id AND l.expires_at_ms > $2) \
                 FROM instances i WHERE i.heartbeat_at_ms >= $1 ORDER BY i.id",
            )
            .bind(live_since_ms)
            .bind(now_ms)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, address, started_at_ms, heartbeat_at_ms, leases)| Instance {
                    id,
                    address,
                    started_at_ms,
                    heartbeat_at_ms,
                    leases: u32::try_from(leases).unwrap_or(0),
                },
            )
            .collect())
    }

    /// One lease round of instance `id` at `now_ms`: renews the leases it holds until
    /// `now_ms + lease_ms`, gives back those above its fair share (the highest shards first),
    /// and claims free or expired shards up to it. The fair share counts the instances whose
    /// heartbeat is at `live_since_ms` or later (at least this one). One transaction; on
    /// PostgreSQL the claim skips rows another instance is claiming at the same moment.
    pub async fn lease_round(
        &self,
        id: &str,
        now_ms: i64,
        lease_ms: i64,
        live_since_ms: i64,
    ) -> Result<LeaseRound> {
        let until = now_ms + lease_ms;
        // SQLite has no row locks (its transaction holds the one write lock); PostgreSQL's claim
        // skips rows another instance is claiming.
        let claim_sql = match self.db() {
            crate::backend::Backend::Postgres(_) => CLAIM_FREE_POSTGRES,
            crate::backend::Backend::Sqlite(_) => CLAIM_FREE_SQLITE,
        };
        let mut tx = self.db().begin_leases().await?;
        let round = on_tx!(&mut tx, |tx| {
            // The rows exist once; a database made before the shard count was known gets them.
            for shard in 0..SHARDS {
                sqlx::query(
                    "INSERT INTO shard_leases (shard, holder, expires_at_ms) VALUES ($1, NULL, 0) \
                     ON CONFLICT (shard) DO NOTHING",
                )
                .bind(i64::from(shard))
                .execute(&mut **tx)
                .await?;
            }
            let (live,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM instances WHERE heartbeat_at_ms >= $1 AND id <> $2",
            )
            .bind(live_since_ms)
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
            let live = u32::try_from(live).unwrap_or(0).saturating_add(1);
            let fair = u32::from(SHARDS).div_ceil(live);
            let renewed: Vec<(i64,)> = sqlx::query_as(
                "UPDATE shard_leases SET expires_at_ms = $1 WHERE holder = $2 RETURNING shard",
            )
            .bind(until)
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
            let mut owned: BTreeSet<Shard> = renewed
                .into_iter()
                .filter_map(|(s,)| Shard::try_from(s).ok())
                .collect();
            while u32::try_from(owned.len()).unwrap_or(u32::MAX) > fair {
                let Some(shard) = owned.pop_last() else {
                    break;
                };
                sqlx::query(
                    "UPDATE shard_leases SET holder = NULL, expires_at_ms = 0 \
                     WHERE shard = $1 AND holder = $2",
                )
                .bind(i64::from(shard))
                .bind(id)
                .execute(&mut **tx)
                .await?;
            }
            let wanted = fair.saturating_sub(u32::try_from(owned.len()).unwrap_or(u32::MAX));
            if wanted > 0 {
                let free: Vec<(i64,)> = sqlx::query_as(claim_sql)
                    .bind(now_ms)
                    .bind(i64::from(wanted))
                    .fetch_all(&mut **tx)
                    .await?;
                for (shard,) in free {
                    sqlx::query(
                        "UPDATE shard_leases SET holder = $1, expires_at_ms = $2 WHERE shard = $3",
                    )
                    .bind(id)
                    .bind(until)
                    .bind(shard)
                    .execute(&mut **tx)
                    .await?;
                    if let Ok(shard) = Shard::try_from(shard) {
                        owned.insert(shard);
                    }
                }
            }
            LeaseRound {
                owned,
                expires_at_ms: until,
                live,
            }
        });
        tx.commit().await?;
        Ok(round)
    }

    /// Every shard's lease, by shard.
    pub async fn leases(&self) -> Result<Vec<Lease>> {
        let rows: Vec<(i64, Option<String>, i64)> = on_pool!(self.db(), |pool| {
            sqlx::query_as("SELECT shard, holder, expires_at_ms FROM shard_leases ORDER BY shard")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(shard, holder, expires_at_ms)| {
                Some(Lease {
                    shard: Shard::try_from(shard).ok()?,
                    holder,
                    expires_at_ms,
                })
            })
            .collect())
    }

    /// Instance `id` stops (a graceful shutdown): its leases are free at once and its row is
    /// gone, so the others take its shards without waiting for the leases to expire.
    pub async fn leave(&self, id: &str) -> Result<()> {
        on_pool!(self.db(), |pool| {
            sqlx::query(
                "UPDATE shard_leases SET holder = NULL, expires_at_ms = 0 WHERE holder = $1",
            )
            .bind(id)
            .execute(pool)
            .await?;
            sqlx::query("DELETE FROM instances WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
