//! The directories the watch list is synced from, and the writes of a sync: only the people
//! whose origin is the directory, in one transaction.

use std::collections::HashSet;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sqlx::QueryBuilder;

use calgate_settings::{DirectoryConfig, directory_id_problem};

use crate::backend::{on_pool, on_tx};
use crate::error::{Result, StoreError};
use crate::people::{WatchedPerson, forget_words, insert_people, insert_words};
use crate::settings::{delete_sealed, secret_aad};
use crate::{Store, now_ms, timestamp};

/// Rows per multi-row statement (7 bound values each, far below PostgreSQL's 65 535).
const ROWS_PER_STATEMENT: usize = 500;

/// One stored directory.
#[derive(Debug, Clone)]
pub struct StoredDirectory {
    pub id: String,
    pub config: DirectoryConfig,
    /// A bind password is stored.
    pub bind_password_set: bool,
    /// The bind password itself: unsealed by [`Store::load_directory`] only (a sync or a save
    /// needs it; a listing never does).
    pub bind_password: Option<SecretString>,
    /// Where the next read continues from (Graph's delta link).
    pub delta: Option<String>,
    /// The last sync's outcome, as the gateway wrote it.
    pub outcome: Option<serde_json::Value>,
    pub revision: i64,
    pub updated_at: jiff::Timestamp,
}

/// A change to the bind password when a directory is saved.
#[derive(Debug, Clone)]
pub enum PasswordChange {
    Keep,
    Set(SecretString),
    Clear,
}

/// What a sync wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncWritten {
    pub upserted: u64,
    pub removed: u64,
}

fn password_slot(id: &str) -> String {
    format!("directory.{id}.bind_password")
}

fn check_directory_id(id: &str) -> Result<()> {
    match directory_id_problem(id) {
        None => Ok(()),
        Some(reason) => Err(StoreError::InvalidInput {
            what: "directory id",
            reason,
        }),
    }
}

type DirectoryRow = (String, String, Option<String>, Option<String>, i64, i64);

impl Store {
    /// Every directory, by id.
    pub async fn load_directories(&self) -> Result<Vec<StoredDirectory>> {
        let rows: Vec<DirectoryRow> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT id, config_json, delta, outcome_json, revision, updated_at_ms \
             FROM directories ORDER BY id",
        )
        .fetch_all(pool)
        .await?);
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.directory_from_row(row, false).await?);
        }
        Ok(out)
    }

    pub async fn load_directory(&self, id: &str) -> Result<Option<StoredDirectory>> {
        let row: Option<DirectoryRow> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT id, config_json, delta, outcome_json, revision, updated_at_ms \
             FROM directories WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        match row {
            Some(row) => Ok(Some(self.directory_from_row(row, true).await?)),
            None => Ok(None),
        }
    }

    async fn directory_from_row(
        &self,
        (id, json, delta, outcome, revision, updated_at_ms): DirectoryRow,
        unseal: bool,
    ) -> Result<StoredDirectory> {
        let config: DirectoryConfig = serde_json::from_str(&json)
            .map_err(|e| StoreError::corrupt_json(format!("directory {id}"), &e))?;
        let slot = password_slot(&id);
        let sealed: Option<(Vec<u8>,)> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT sealed FROM secrets WHERE slot = $1"
        )
        .bind(&slot)
        .fetch_optional(pool)
        .await?);
        let bind_password_set = sealed.is_some();
        let bind_password = match sealed.filter(|_| unseal) {
            Some((sealed,)) => {
                let clear = self.sealer.open(&secret_aad(&slot), &sealed)?;
                let text = String::from_utf8(clear.to_vec())
                    .map_err(|_| StoreError::Undecryptable { slot })?;
                Some(SecretString::from(text))
            }
            None => None,
        };
        let outcome = outcome
            .map(|o| serde_json::from_str(&o))
            .transpose()
            .map_err(|e| StoreError::corrupt_json(format!("outcome of directory {id}"), &e))?;
        Ok(StoredDirectory {
            id,
            config,
            bind_password_set,
            bind_password,
            delta,
            outcome,
            revision,
            updated_at: timestamp(updated_at_ms, "directory update time")?,
        })
    }

    /// Creates or replaces directory `id` (checked configuration), with its bind password.
    /// A changed configuration forgets the delta link, so the next sync reads everything.
    /// Returns the new revision.
    pub async fn save_directory(
        &self,
        id: &str,
        config: &DirectoryConfig,
        password: PasswordChange,
        actor: &str,
    ) -> Result<i64> {
        check_directory_id(id)?;
        let json = serde_json::to_string(config)
            .map_err(|e| StoreError::corrupt_json("directory being saved", &e))?;
        let now = now_ms();
        let mut tx = self.db().begin_write().await?;
        let previous: Option<(String, i64)> = on_tx!(&mut tx, |tx| sqlx::query_as(
            "SELECT config_json, revision FROM directories WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?);
        let revision = previous.as_ref().map_or(1, |(_, r)| r + 1);
        let same_config = previous.as_ref().is_some_and(|(j, _)| *j == json);
        on_tx!(&mut tx, |tx| sqlx::query(
            "INSERT INTO directories (id, config_json, delta, outcome_json, revision, \
             updated_at_ms, updated_by) VALUES ($1, $2, NULL, NULL, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET config_json = excluded.config_json, \
             delta = CASE WHEN $6 THEN directories.delta ELSE NULL END, \
             revision = excluded.revision, updated_at_ms = excluded.updated_at_ms, \
             updated_by = excluded.updated_by",
        )
        .bind(id)
        .bind(&json)
        .bind(revision)
        .bind(now)
        .bind(actor)
        .bind(same_config && matches!(password, PasswordChange::Keep))
        .execute(&mut **tx)
        .await?
        .rows_affected());
        let slot = password_slot(id);
        match password {
            PasswordChange::Keep => {}
            PasswordChange::Set(secret) => self.put_sealed(&mut tx, &slot, &secret, now).await?,
            PasswordChange::Clear => {
                delete_sealed(&mut tx, &slot).await?;
            }
        }
        crate::settings::audit(
            &mut tx,
            now,
            actor,
            &format!("directory:{id}"),
            revision,
            &["config"],
        )
        .await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// Deletes directory `id` and its bind password. Its people stay watched, as people added
    /// by hand. Returns whether it existed.
    pub async fn delete_directory(&self, id: &str, actor: &str) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.db().begin_write().await?;
        let deleted = on_tx!(&mut tx, |tx| sqlx::query(
            "DELETE FROM directories WHERE id = $1"
        )
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected())
            > 0;
        if deleted {
            delete_sealed(&mut tx, &password_slot(id)).await?;
            on_tx!(&mut tx, |tx| sqlx::query(
                "UPDATE people SET origin = 'manual', origin_id = NULL, route = NULL \
                 WHERE origin = $1",
            )
            .bind(id)
            .execute(&mut **tx)
            .await?
            .rows_affected());
            crate::settings::audit(
                &mut tx,
                now,
                actor,
                &format!("directory:{id}"),
                0,
                &["deleted"],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// Records a sync's outcome and, when given, where the next read continues.
    pub async fn save_directory_state(
        &self,
        id: &str,
        delta: Option<Option<&str>>,
        outcome: &serde_json::Value,
    ) -> Result<()> {
        let outcome = outcome.to_string();
        match delta {
            Some(delta) => {
                on_pool!(self.db(), |pool| sqlx::query(
                    "UPDATE directories SET delta = $2, outcome_json = $3 WHERE id = $1"
                )
                .bind(id)
                .bind(delta)
                .bind(outcome)
                .execute(pool)
                .await?
                .rows_affected())
            }
            None => {
                on_pool!(self.db(), |pool| sqlx::query(
                    "UPDATE directories SET outcome_json = $2 WHERE id = $1"
                )
                .bind(id)
                .bind(outcome)
                .execute(pool)
                .await?
                .rows_affected())
            }
        };
        Ok(())
    }

    /// The people directory `origin` synced, by email.
    pub async fn people_of_origin(&self, origin: &str) -> Result<Vec<WatchedPerson>> {
        let rows: Vec<crate::people::PersonRow> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT email, display_name, extension, origin, origin_id, route FROM people \
             WHERE origin = $1 ORDER BY email",
        )
        .bind(origin)
        .fetch_all(pool)
        .await?);
        Ok(rows.into_iter().map(crate::people::into_person).collect())
    }

    /// Every watched address whose origin is not `origin`.
    pub async fn emails_not_of_origin(&self, origin: &str) -> Result<HashSet<String>> {
        let rows: Vec<(String,)> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT email FROM people WHERE origin <> $1"
        )
        .bind(origin)
        .fetch_all(pool)
        .await?);
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }

    /// Writes a directory sync in one transaction: `upserts` (whose origin must be `origin`)
    /// are inserted or updated — never over a person of another origin — and `removals` stop
    /// being watched if they are still the directory's.
    pub async fn apply_directory_sync(
        &self,
        origin: &str,
        upserts: &[WatchedPerson],
        removals: &[String],
    ) -> Result<SyncWritten> {
        let mut rows = Vec::with_capacity(upserts.len());
        for (i, p) in upserts.iter().enumerate() {
            let p = p.normalized().map_err(|reason| StoreError::InvalidInput {
                what: "person",
                reason: format!("entry {i}: {reason}"),
            })?;
            if p.origin != origin {
                return Err(StoreError::InvalidInput {
                    what: "person",
                    reason: format!("entry {i} is not of origin {origin}"),
                });
            }
            rows.push(p);
        }
        rows.sort_by(|a, b| a.email.cmp(&b.email));
        rows.dedup_by(|a, b| a.email == b.email);
        let now = now_ms();
        let mut tx = self.db().begin_write().await?;
        let mut written = SyncWritten::default();
        let mut mine: Vec<&WatchedPerson> = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let written_emails: Vec<(String,)> = on_tx!(&mut tx, |tx| {
                let mut q = insert_people::<Db>(chunk, now);
                // A person of another origin is left alone, even if it appeared since the plan.
                q.push(
                    " ON CONFLICT (email) DO UPDATE SET display_name = excluded.display_name, \
                     extension = excluded.extension, origin_id = excluded.origin_id, \
                     route = excluded.route, updated_at_ms = excluded.updated_at_ms \
                     WHERE people.origin = excluded.origin RETURNING email",
                );
                q.build_query_as().fetch_all(&mut **tx).await?
            });
            let written_set: HashSet<&str> = written_emails.iter().map(|(e,)| e.as_str()).collect();
            let chunk_mine: Vec<&WatchedPerson> = chunk
                .iter()
                .filter(|p| written_set.contains(p.email.as_str()))
                .collect();
            if !chunk_mine.is_empty() {
                forget_words(&mut tx, chunk_mine.iter().map(|p| p.email.as_str())).await?;
            }
            written.upserted += chunk_mine.len() as u64;
            mine.extend(chunk_mine);
        }
        insert_words(&mut tx, &mine).await?;
        for chunk in removals.chunks(ROWS_PER_STATEMENT) {
            let gone: Vec<(String,)> = on_tx!(&mut tx, |tx| {
                let mut q = QueryBuilder::<Db>::new("DELETE FROM people WHERE origin = ");
                q.push_bind(origin).push(" AND email IN (");
                let mut list = q.separated(", ");
                for email in chunk {
                    list.push_bind(email.trim().to_lowercase());
                }
                q.push(") RETURNING email");
                q.build_query_as().fetch_all(&mut **tx).await?
            });
            written.removed += gone.len() as u64;
            if gone.is_empty() {
                continue;
            }
            // The name words go with the row (foreign key); the cached availability here.
            on_tx!(&mut tx, |tx| {
                let mut q =
                    QueryBuilder::<Db>::new("DELETE FROM last_availability WHERE mailbox IN (");
                let mut list = q.separated(", ");
                for (email,) in &gone {
                    list.push_bind(email.as_str());
                }
                q.push(")");
                q.build().execute(&mut **tx).await?;
            });
        }
        tx.commit().await?;
        Ok(written)
    }
}
