//! The calendar sources' settings and the routing table. Per source: the read-back view as
//! JSON in one row, each secret sealed in its own slot, and an audit row naming the changed
//! fields — written in one transaction, so a crash leaves either the old settings or the new
//! ones, never a mix. The source `default` is what the single-source settings API configures.

use crate::backend::{Tx, on_pool, on_tx};
use calgate_settings::{
    CalendarSettings, CalendarSettingsView, DEFAULT_SOURCE_ID, RoutingTable, SecretField,
    SettingsSecrets, changed_fields, check_display_name, source_id_problem,
};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::{Store, now_ms, timestamp};

/// The default source's slots and audit subject keep the names of the single-source era, so
/// secrets sealed then still open (the slot is part of the AAD).
const DEFAULT_SUBJECT: &str = "calendar_settings";

/// The audit subject of routing changes.
const ROUTING_SUBJECT: &str = "routing";

/// One source's settings as last saved.
#[derive(Debug, Clone)]
pub struct StoredSource {
    pub id: String,
    /// What the pages show (may be empty: the id is shown then).
    pub display_name: String,
    pub settings: CalendarSettings,
    /// Increases by one with every save of this source.
    pub revision: i64,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

/// The settings of the source `default` as last saved.
#[derive(Debug, Clone)]
pub struct StoredCalendarSettings {
    pub settings: CalendarSettings,
    /// Increases by one with every save.
    pub revision: i64,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

/// What a save did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsSaved {
    pub revision: i64,
    pub at: Timestamp,
    /// Field names (never values) that differ from the previous settings.
    pub changed_fields: Vec<String>,
}

/// One audit-trail entry: who changed which fields when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub subject: String,
    pub revision: i64,
    pub fields: Vec<String>,
}

/// The audit subject of a source: `calendar_settings` for `default`, `source:<id>` otherwise.
fn subject(id: &str) -> String {
    if id == DEFAULT_SOURCE_ID {
        DEFAULT_SUBJECT.to_string()
    } else {
        format!("source:{id}")
    }
}

/// The secrets slot of one source's secret field.
fn slot(id: &str, field: SecretField) -> String {
    if id == DEFAULT_SOURCE_ID {
        format!("{DEFAULT_SUBJECT}.{}", field.name())
    } else {
        format!("source.{id}.{}", field.name())
    }
}

impl Store {
    /// Seals `secret` into `slot` of the secrets table (created or replaced) within `tx`.
    pub(crate) async fn put_sealed(
        &self,
        tx: &mut Tx,
        slot: &str,
        secret: &SecretString,
        now: i64,
    ) -> Result<()> {
        let sealed = self
            .sealer
            .seal(&secret_aad(slot), secret.expose_secret().as_bytes())?;
        on_tx!(tx, |tx| sqlx::query(
            "INSERT INTO secrets (slot, key_id, sealed, updated_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (slot) DO UPDATE SET key_id = excluded.key_id, \
             sealed = excluded.sealed, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(slot)
        .bind(self.sealer.key_id())
        .bind(sealed)
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected());
        Ok(())
    }
}

/// Removes the sealed value of `slot`, if any, within `tx`.
pub(crate) async fn delete_sealed(tx: &mut Tx, slot: &str) -> Result<()> {
    on_tx!(tx, |tx| sqlx::query("DELETE FROM secrets WHERE slot = $1")
        .bind(slot)
        .execute(&mut **tx)
        .await?
        .rows_affected());
    Ok(())
}

/// The AAD of a secrets-table slot: table and row, so a value opens only where it was sealed.
pub(crate) fn secret_aad(slot: &str) -> String {
    format!("calgate/v1/secrets/{slot}")
}

fn check_source_id(id: &str) -> Result<()> {
    match source_id_problem(id) {
        None => Ok(()),
        Some(reason) => Err(StoreError::InvalidInput {
            what: "source id",
            reason,
        }),
    }
}

type SourceRow = (String, String, String, i64, i64, String);

impl Store {
    /// The settings of the source `default`, or `None` before the first save.
    pub async fn load_calendar_settings(&self) -> Result<Option<StoredCalendarSettings>> {
        Ok(self
            .load_source(DEFAULT_SOURCE_ID)
            .await?
            .map(|s| StoredCalendarSettings {
                settings: s.settings,
                revision: s.revision,
                updated_at: s.updated_at,
                updated_by: s.updated_by,
            }))
    }

    /// Saves validated settings for the source `default` (its display name unchanged).
    pub async fn save_calendar_settings(
        &self,
        settings: &CalendarSettings,
        actor: &str,
    ) -> Result<SettingsSaved> {
        self.save_source(DEFAULT_SOURCE_ID, None, settings, actor)
            .await
    }

    /// Every saved source, by id.
    pub async fn load_sources(&self) -> Result<Vec<StoredSource>> {
        let mut tx = self.db().begin_read().await?;
        let rows: Vec<SourceRow> = on_tx!(&mut tx, |tx| sqlx::query_as(
            "SELECT id, display_name, settings_json, revision, updated_at_ms, updated_by \
             FROM sources ORDER BY id",
        )
        .fetch_all(&mut **tx)
        .await?);
        let mut sources = Vec::with_capacity(rows.len());
        for row in rows {
            sources.push(self.source_from_row(&mut tx, row).await?);
        }
        tx.commit().await?;
        Ok(sources)
    }

    /// One saved source, or `None`.
    pub async fn load_source(&self, id: &str) -> Result<Option<StoredSource>> {
        let mut tx = self.db().begin_read().await?;
        let loaded = self.load_source_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(loaded)
    }

    /// Saves validated settings for source `id` (created when new) with an audit row for
    /// `actor`, atomically. `display_name` `None` keeps the saved one. Returns the new revision
    /// and the names of the fields that changed.
    pub async fn save_source(
        &self,
        id: &str,
        display_name: Option<&str>,
        settings: &CalendarSettings,
        actor: &str,
    ) -> Result<SettingsSaved> {
        check_actor(actor)?;
        check_source_id(id)?;
        let display_name = display_name
            .map(check_display_name)
            .transpose()
            .map_err(|reason| StoreError::InvalidInput {
                what: "display name",
                reason,
            })?;
        let view_json = serde_json::to_string(&settings.view())
            .map_err(|e| StoreError::corrupt_json("settings being saved", &e))?;
        let now = now_ms();
        // IMMEDIATE takes the write lock up front, so the read-compare-write below cannot
        // interleave with another save.
        let mut tx = self.db().begin_write().await?;
        let previous = self.load_source_in(&mut tx, id).await?;
        let (revision, mut changed) = match &previous {
            Some(prev) => (prev.revision + 1, changed_fields(&prev.settings, settings)),
            None => (1, changed_fields(&CalendarSettings::default(), settings)),
        };
        let previous_name = previous.as_ref().map(|p| p.display_name.clone());
        let display_name = display_name.or(previous_name.clone()).unwrap_or_default();
        if previous_name.as_deref().unwrap_or("") != display_name {
            changed.insert(0, "display_name");
        }
        on_tx!(&mut tx, |tx| sqlx::query(
            "INSERT INTO sources (id, display_name, settings_json, revision, updated_at_ms, \
             updated_by) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, \
             settings_json = excluded.settings_json, revision = excluded.revision, \
             updated_at_ms = excluded.updated_at_ms, updated_by = excluded.updated_by",
        )
        .bind(id)
        .bind(&display_name)
        .bind(&view_json)
        .bind(revision)
        .bind(now)
        .bind(actor)
        .execute(&mut **tx)
        .await?
        .rows_affected());
        for field in SecretField::ALL {
            let slot = slot(id, field);
            match settings.secret(field) {
                Some(secret) => self.put_sealed(&mut tx, &slot, secret, now).await?,
                None => {
                    delete_sealed(&mut tx, &slot).await?;
                }
            }
        }
        audit(&mut tx, now, actor, &subject(id), revision, &changed).await?;
        tx.commit().await?;
        Ok(SettingsSaved {
            revision,
            at: timestamp(now, "save time")?,
            changed_fields: changed.into_iter().map(str::to_string).collect(),
        })
    }

    /// Deletes source `id` with its sealed secrets and an audit row, unless the saved routing
    /// names it ([`StoreError::InUse`]). Returns whether it existed.
    pub async fn delete_source(&self, id: &str, actor: &str) -> Result<bool> {
        check_actor(actor)?;
        check_source_id(id)?;
        let now = now_ms();
        let mut tx = self.db().begin_write().await?;
        let routing = load_routing_in(&mut tx).await?.unwrap_or_default();
        if routing.names(id) {
            return Err(StoreError::InUse {
                what: format!("source {id}"),
                by: "the routing table".to_string(),
            });
        }
        let revision: Option<(i64,)> = on_tx!(&mut tx, |tx| sqlx::query_as(
            "SELECT revision FROM sources WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?);
        let Some((revision,)) = revision else {
            return Ok(false);
        };
        on_tx!(&mut tx, |tx| sqlx::query(
            "DELETE FROM sources WHERE id = $1"
        )
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected());
        for field in SecretField::ALL {
            delete_sealed(&mut tx, &slot(id, field)).await?;
        }
        audit(
            &mut tx,
            now,
            actor,
            &subject(id),
            revision + 1,
            &["deleted"],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The saved routing table, or `None` before the first save (everything to `default`).
    pub async fn load_routing(&self) -> Result<Option<RoutingTable>> {
        let mut tx = self.db().begin_read().await?;
        let routing = load_routing_in(&mut tx).await?;
        tx.commit().await?;
        Ok(routing)
    }

    /// Saves a routing table already checked by the caller, with an audit row. Every source it
    /// names must exist at the moment of saving (checked in the same transaction, so a source
    /// deleted meanwhile is not routed to): else [`StoreError::InvalidInput`].
    pub async fn save_routing(&self, routing: &RoutingTable, actor: &str) -> Result<i64> {
        check_actor(actor)?;
        let json = serde_json::to_string(routing)
            .map_err(|e| StoreError::corrupt_json("routing being saved", &e))?;
        let now = now_ms();
        let mut tx = self.db().begin_write().await?;
        let ids: Vec<(String,)> = on_tx!(&mut tx, |tx| sqlx::query_as("SELECT id FROM sources")
            .fetch_all(&mut **tx)
            .await?);
        let exists = |id: &str| id == DEFAULT_SOURCE_ID || ids.iter().any(|(k,)| k == id);
        let mut named = std::iter::once(&routing.default)
            .chain(routing.domains.values())
            .chain(routing.mailboxes.values());
        if let Some(missing) = named.find(|id| !exists(id)) {
            return Err(StoreError::InvalidInput {
                what: "routing",
                reason: format!("no source has the id {missing}"),
            });
        }
        let previous: Option<(i64,)> = on_tx!(&mut tx, |tx| sqlx::query_as(
            "SELECT revision FROM routing WHERE id = 1"
        )
        .fetch_optional(&mut **tx)
        .await?);
        let revision = previous.map_or(1, |(r,)| r + 1);
        on_tx!(&mut tx, |tx| sqlx::query(
            "INSERT INTO routing (id, routing_json, revision, updated_at_ms, updated_by) \
             VALUES (1, $1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET routing_json = excluded.routing_json, \
             revision = excluded.revision, updated_at_ms = excluded.updated_at_ms, \
             updated_by = excluded.updated_by",
        )
        .bind(&json)
        .bind(revision)
        .bind(now)
        .bind(actor)
        .execute(&mut **tx)
        .await?
        .rows_affected());
        audit(&mut tx, now, actor, ROUTING_SUBJECT, revision, &["routing"]).await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// The newest audit entries first.
    pub async fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT id, at_ms, actor, subject, revision, fields FROM settings_audit \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
        audit_entries(rows)
    }

    /// The newest `limit` audit entries of source `id`'s settings, newest first.
    pub async fn recent_source_audit(&self, id: &str, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT id, at_ms, actor, subject, revision, fields FROM settings_audit \
             WHERE subject = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(subject(id))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
        audit_entries(rows)
    }

    async fn load_source_in(&self, tx: &mut Tx, id: &str) -> Result<Option<StoredSource>> {
        let row: Option<SourceRow> = on_tx!(tx, |tx| sqlx::query_as(
            "SELECT id, display_name, settings_json, revision, updated_at_ms, updated_by \
             FROM sources WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?);
        match row {
            Some(row) => Ok(Some(self.source_from_row(tx, row).await?)),
            None => Ok(None),
        }
    }

    async fn source_from_row(
        &self,
        tx: &mut Tx,
        (id, display_name, json, revision, updated_at_ms, updated_by): SourceRow,
    ) -> Result<StoredSource> {
        let view: CalendarSettingsView = serde_json::from_str(&json)
            .map_err(|e| StoreError::corrupt_json(format!("settings of source {id}"), &e))?;
        let mut secrets = SettingsSecrets::default();
        for field in SecretField::ALL {
            let expected = match field {
                SecretField::Password => view.password_set,
                SecretField::ClientSecret => view.client_secret_set,
                SecretField::ClientCertificatePem => view.client_certificate_pem_set,
            };
            if !expected {
                continue;
            }
            let slot = slot(&id, field);
            let sealed: Option<(Vec<u8>,)> = on_tx!(tx, |tx| sqlx::query_as(
                "SELECT sealed FROM secrets WHERE slot = $1"
            )
            .bind(&slot)
            .fetch_optional(&mut **tx)
            .await?);
            let Some((sealed,)) = sealed else {
                return Err(StoreError::Corrupt {
                    what: slot,
                    reason: "the settings say it is set, but no sealed value is stored".to_string(),
                });
            };
            let clear = self.sealer.open(&secret_aad(&slot), &sealed)?;
            let text =
                std::str::from_utf8(&clear).map_err(|_| StoreError::Undecryptable { slot })?;
            secrets.set(field, Some(SecretString::from(text)));
        }
        Ok(StoredSource {
            id,
            display_name,
            settings: CalendarSettings::from_view(view, secrets),
            revision,
            updated_at: timestamp(updated_at_ms, "settings update time")?,
            updated_by,
        })
    }
}

async fn load_routing_in(tx: &mut Tx) -> Result<Option<RoutingTable>> {
    let row: Option<(String,)> = on_tx!(tx, |tx| sqlx::query_as(
        "SELECT routing_json FROM routing WHERE id = 1"
    )
    .fetch_optional(&mut **tx)
    .await?);
    row.map(|(json,)| {
        serde_json::from_str(&json).map_err(|e| StoreError::corrupt_json("routing", &e))
    })
    .transpose()
}

pub(crate) async fn audit(
    tx: &mut Tx,
    now: i64,
    actor: &str,
    subject: &str,
    revision: i64,
    fields: &[&str],
) -> Result<()> {
    let fields_json =
        serde_json::to_string(fields).map_err(|e| StoreError::corrupt_json("audit fields", &e))?;
    on_tx!(tx, |tx| sqlx::query(
        "INSERT INTO settings_audit (at_ms, actor, subject, revision, fields) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now)
    .bind(actor)
    .bind(subject)
    .bind(revision)
    .bind(fields_json)
    .execute(&mut **tx)
    .await?
    .rows_affected());
    Ok(())
}

fn check_actor(actor: &str) -> Result<()> {
    if actor.trim().is_empty() || actor.len() > 256 {
        return Err(StoreError::InvalidInput {
            what: "actor",
            reason: "must be 1 to 256 characters naming who saved".to_string(),
        });
    }
    Ok(())
}

/// An audit row as read: id, time, actor, subject, revision, fields (JSON).
type AuditRow = (i64, i64, String, String, i64, String);

fn audit_entries(rows: Vec<AuditRow>) -> Result<Vec<AuditEntry>> {
    rows.into_iter()
        .map(|(id, at_ms, actor, subject, revision, fields)| {
            Ok(AuditEntry {
                id,
                at: timestamp(at_ms, "audit time")?,
                actor,
                subject,
                revision,
                fields: serde_json::from_str(&fields)
                    .map_err(|e| StoreError::corrupt_json("audit fields", &e))?,
            })
        })
        .collect()
}
