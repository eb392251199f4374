//! The calendar settings: the read-back view as JSON in one row, each secret sealed in its own
//! slot, and an audit row naming the changed fields — written in one transaction, so a crash
//! leaves either the old settings or the new ones, never a mix.

use calgate_settings::{
    CalendarSettings, CalendarSettingsView, SecretField, SettingsSecrets, changed_fields,
};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::{Sqlite, Transaction};

use crate::error::{Result, StoreError};
use crate::{Store, now_ms, timestamp};

const SUBJECT: &str = "calendar_settings";

/// The settings as last saved.
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

fn slot(field: SecretField) -> String {
    format!("{SUBJECT}.{}", field.name())
}

/// The AAD of a secrets-table slot: table and row, so a value opens only where it was sealed.
pub(crate) fn secret_aad(slot: &str) -> String {
    format!("calgate/v1/secrets/{slot}")
}

impl Store {
    /// The saved settings, or `None` before the first save.
    pub async fn load_calendar_settings(&self) -> Result<Option<StoredCalendarSettings>> {
        let mut tx = self.sqlite().begin().await?;
        let loaded = self.load_settings_in(&mut tx).await?;
        tx.commit().await?;
        Ok(loaded)
    }

    /// Saves validated settings with an audit row for `actor`, atomically. Returns the new
    /// revision and the names of the fields that changed.
    pub async fn save_calendar_settings(
        &self,
        settings: &CalendarSettings,
        actor: &str,
    ) -> Result<SettingsSaved> {
        check_actor(actor)?;
        let view_json = serde_json::to_string(&settings.view())
            .map_err(|e| StoreError::corrupt_json("settings being saved", &e))?;
        let now = now_ms();
        // IMMEDIATE takes the write lock up front, so the read-compare-write below cannot
        // interleave with another save.
        let mut tx = self.sqlite().begin_with("BEGIN IMMEDIATE").await?;
        let previous = self.load_settings_in(&mut tx).await?;
        let (revision, changed) = match &previous {
            Some(prev) => (prev.revision + 1, changed_fields(&prev.settings, settings)),
            None => (1, changed_fields(&CalendarSettings::default(), settings)),
        };
        sqlx::query(
            "INSERT INTO calendar_settings (id, settings_json, revision, updated_at_ms, updated_by) \
             VALUES (1, ?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO UPDATE SET settings_json = excluded.settings_json, \
             revision = excluded.revision, updated_at_ms = excluded.updated_at_ms, \
             updated_by = excluded.updated_by",
        )
        .bind(&view_json)
        .bind(revision)
        .bind(now)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        for field in SecretField::ALL {
            let slot = slot(field);
            match settings.secret(field) {
                Some(secret) => {
                    let sealed = self
                        .sealer
                        .seal(&secret_aad(&slot), secret.expose_secret().as_bytes())?;
                    sqlx::query(
                        "INSERT INTO secrets (slot, key_id, sealed, updated_at_ms) VALUES (?1, ?2, ?3, ?4) \
                         ON CONFLICT (slot) DO UPDATE SET key_id = excluded.key_id, \
                         sealed = excluded.sealed, updated_at_ms = excluded.updated_at_ms",
                    )
                    .bind(&slot)
                    .bind(self.sealer.key_id())
                    .bind(sealed)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM secrets WHERE slot = ?1")
                        .bind(&slot)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        let fields_json = serde_json::to_string(&changed)
            .map_err(|e| StoreError::corrupt_json("audit fields", &e))?;
        sqlx::query(
            "INSERT INTO settings_audit (at_ms, actor, subject, revision, fields) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(now)
        .bind(actor)
        .bind(SUBJECT)
        .bind(revision)
        .bind(fields_json)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SettingsSaved {
            revision,
            at: timestamp(now, "save time")?,
            changed_fields: changed.into_iter().map(str::to_string).collect(),
        })
    }

    /// The newest audit entries first.
    pub async fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows: Vec<(i64, i64, String, String, i64, String)> = sqlx::query_as(
            "SELECT id, at_ms, actor, subject, revision, fields FROM settings_audit \
             ORDER BY id DESC LIMIT ?1",
        )
        .bind(i64::from(limit))
        .fetch_all(self.sqlite())
        .await?;
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

    async fn load_settings_in(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
    ) -> Result<Option<StoredCalendarSettings>> {
        let row: Option<(String, i64, i64, String)> = sqlx::query_as(
            "SELECT settings_json, revision, updated_at_ms, updated_by FROM calendar_settings WHERE id = 1",
        )
        .fetch_optional(&mut **tx)
        .await?;
        let Some((json, revision, updated_at_ms, updated_by)) = row else {
            return Ok(None);
        };
        let view: CalendarSettingsView = serde_json::from_str(&json)
            .map_err(|e| StoreError::corrupt_json("calendar settings", &e))?;
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
            let slot = slot(field);
            let sealed: Option<(Vec<u8>,)> =
                sqlx::query_as("SELECT sealed FROM secrets WHERE slot = ?1")
                    .bind(&slot)
                    .fetch_optional(&mut **tx)
                    .await?;
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
        Ok(Some(StoredCalendarSettings {
            settings: CalendarSettings::from_view(view, secrets),
            revision,
            updated_at: timestamp(updated_at_ms, "settings update time")?,
            updated_by,
        }))
    }
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
