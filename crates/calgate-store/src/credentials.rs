//! What the sign-in machinery must not forget across a restart: the lockout guard's state (so a
//! restart is not a fresh attempt with a failing password) and the latest rotated refresh token
//! (sealed; durable before the save returns), both keyed by a credential fingerprint.

use secrecy::{ExposeSecret, SecretString};

use crate::backend::{on_pool, on_tx};
use crate::error::{Result, StoreError};
use crate::{Store, now_ms};

fn check_fingerprint(fingerprint: &str) -> Result<()> {
    if fingerprint.is_empty()
        || fingerprint.len() > 256
        || fingerprint.chars().any(char::is_control)
    {
        return Err(StoreError::InvalidInput {
            what: "credential fingerprint",
            reason: "must be 1 to 256 printable characters".to_string(),
        });
    }
    Ok(())
}

fn refresh_token_aad(fingerprint: &str) -> String {
    format!("calgate/v1/refresh_tokens/{fingerprint}/token")
}

/// How [`Store::claim_credential`] was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialClaim {
    /// The claim is the caller's.
    Mine,
    /// A server accepted the credential already: anyone may use it.
    Proven,
    /// Another gateway holds the claim.
    Held,
}

impl Store {
    /// Replaces the guard state stored for a credential.
    pub async fn save_guard_state(
        &self,
        fingerprint: &str,
        state: &serde_json::Value,
    ) -> Result<()> {
        check_fingerprint(fingerprint)?;
        let json = serde_json::to_string(state)
            .map_err(|e| StoreError::corrupt_json("guard state", &e))?;
        on_pool!(self.db(), |pool| sqlx::query(
            "INSERT INTO lockout_guard (fingerprint, state_json, updated_at_ms) \
             VALUES ($1, $2, $3) \
             ON CONFLICT (fingerprint) DO UPDATE SET state_json = excluded.state_json, \
             updated_at_ms = excluded.updated_at_ms",
        )
        .bind(fingerprint)
        .bind(json)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Stores `state` under `key` unless a state is stored there already; answers whether it
    /// was stored. Gateways starting together on one database thus agree on one state (its
    /// salt names every fingerprint).
    pub async fn insert_guard_state_if_absent(
        &self,
        key: &str,
        state: &serde_json::Value,
    ) -> Result<bool> {
        check_fingerprint(key)?;
        let json = serde_json::to_string(state)
            .map_err(|e| StoreError::corrupt_json("guard state", &e))?;
        let n = on_pool!(self.db(), |pool| sqlx::query(
            "INSERT INTO lockout_guard (fingerprint, state_json, updated_at_ms) \
             VALUES ($1, $2, $3) ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(key)
        .bind(json)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// Sets (or with `None` removes) one credential's entry in the `quarantined` map of the
    /// guard state stored under `key`, leaving every other entry as it is, under the write lock:
    /// gateways sharing the database change different credentials without losing each other's
    /// changes. Answers false when nothing is stored under `key`.
    pub async fn set_guard_entry(
        &self,
        key: &str,
        entry: &str,
        value: Option<&serde_json::Value>,
    ) -> Result<bool> {
        check_fingerprint(key)?;
        check_fingerprint(entry)?;
        let mut tx = self.db().begin_write().await?;
        let stored: Option<(String,)> = on_tx!(&mut tx, |tx| sqlx::query_as(
            "SELECT state_json FROM lockout_guard WHERE fingerprint = $1"
        )
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?);
        let Some((json,)) = stored else {
            return Ok(false);
        };
        let mut state: serde_json::Value =
            serde_json::from_str(&json).map_err(|e| StoreError::corrupt_json("guard state", &e))?;
        let Some(object) = state.as_object_mut() else {
            return Err(StoreError::InvalidInput {
                what: "guard state",
                reason: "the stored state is not an object".to_string(),
            });
        };
        let map = object
            .entry("quarantined")
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
        let Some(map) = map.as_object_mut() else {
            return Err(StoreError::InvalidInput {
                what: "guard state",
                reason: "its quarantined credentials are not an object".to_string(),
            });
        };
        match value {
            Some(value) => {
                map.insert(entry.to_string(), value.clone());
            }
            None => {
                map.remove(entry);
            }
        }
        let json = serde_json::to_string(&state)
            .map_err(|e| StoreError::corrupt_json("guard state", &e))?;
        on_tx!(&mut tx, |tx| sqlx::query(
            "UPDATE lockout_guard SET state_json = $2, updated_at_ms = $3 WHERE fingerprint = $1"
        )
        .bind(key)
        .bind(json)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?
        .rows_affected());
        tx.commit().await?;
        Ok(true)
    }

    /// Claims the first try of a credential for gateway `holder` until `until_ms` (several
    /// gateways on one database): granted when nobody claimed it, the claim has run out, or
    /// `holder` holds it already — and, unless `exclusive`, only while no server has accepted
    /// it yet. One statement, so two gateways claiming at once never both get it.
    pub async fn claim_credential(
        &self,
        fingerprint: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
        exclusive: bool,
    ) -> Result<CredentialClaim> {
        check_fingerprint(fingerprint)?;
        let won: Option<(String,)> = on_pool!(self.db(), |pool| sqlx::query_as(
            "INSERT INTO credential_claims (fingerprint, holder, until_ms, proven) \
             VALUES ($1, $2, $3, FALSE) \
             ON CONFLICT (fingerprint) DO UPDATE SET holder = excluded.holder, \
             until_ms = excluded.until_ms, proven = FALSE \
             WHERE (NOT credential_claims.proven OR $5) \
             AND (credential_claims.holder = excluded.holder OR credential_claims.until_ms < $4) \
             RETURNING holder",
        )
        .bind(fingerprint)
        .bind(holder)
        .bind(until_ms)
        .bind(now_ms)
        .bind(exclusive)
        .fetch_optional(pool)
        .await?);
        if won.is_some() {
            return Ok(CredentialClaim::Mine);
        }
        let row: Option<(bool,)> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT proven FROM credential_claims WHERE fingerprint = $1"
        )
        .bind(fingerprint)
        .fetch_optional(pool)
        .await?);
        Ok(match row {
            Some((true,)) => CredentialClaim::Proven,
            _ => CredentialClaim::Held,
        })
    }

    /// A server accepted the credential: every gateway may use it.
    pub async fn credential_proven(&self, fingerprint: &str, holder: &str) -> Result<()> {
        check_fingerprint(fingerprint)?;
        on_pool!(self.db(), |pool| sqlx::query(
            "INSERT INTO credential_claims (fingerprint, holder, until_ms, proven) \
             VALUES ($1, $2, 0, TRUE) \
             ON CONFLICT (fingerprint) DO UPDATE SET proven = TRUE, until_ms = 0",
        )
        .bind(fingerprint)
        .bind(holder)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// A server refused the credential: `holder` keeps (or takes) its claim until `until_ms`,
    /// and it is no longer proven.
    pub async fn credential_refused(
        &self,
        fingerprint: &str,
        holder: &str,
        until_ms: i64,
    ) -> Result<()> {
        check_fingerprint(fingerprint)?;
        on_pool!(self.db(), |pool| sqlx::query(
            "INSERT INTO credential_claims (fingerprint, holder, until_ms, proven) \
             VALUES ($1, $2, $3, FALSE) \
             ON CONFLICT (fingerprint) DO UPDATE SET holder = excluded.holder, \
             until_ms = excluded.until_ms, proven = FALSE",
        )
        .bind(fingerprint)
        .bind(holder)
        .bind(until_ms)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    pub async fn load_guard_state(&self, fingerprint: &str) -> Result<Option<serde_json::Value>> {
        let row: Option<(String,)> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT state_json FROM lockout_guard WHERE fingerprint = $1"
        )
        .bind(fingerprint)
        .fetch_optional(pool)
        .await?);
        row.map(|(json,)| {
            serde_json::from_str(&json).map_err(|e| StoreError::corrupt_json("guard state", &e))
        })
        .transpose()
    }

    /// Every stored guard state, by fingerprint.
    pub async fn load_guard_states(&self) -> Result<Vec<(String, serde_json::Value)>> {
        let rows: Vec<(String, String)> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT fingerprint, state_json FROM lockout_guard ORDER BY fingerprint",
        )
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(fp, json)| {
                let state = serde_json::from_str(&json)
                    .map_err(|e| StoreError::corrupt_json("guard state", &e))?;
                Ok((fp, state))
            })
            .collect()
    }

    pub async fn delete_guard_state(&self, fingerprint: &str) -> Result<bool> {
        let n = on_pool!(self.db(), |pool| sqlx::query(
            "DELETE FROM lockout_guard WHERE fingerprint = $1"
        )
        .bind(fingerprint)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// Stores the newest refresh token for a credential, sealed. On return it is on disk: the
    /// old one may already be invalid at Entra ID, so losing the new one would force a password
    /// sign-in.
    pub async fn save_refresh_token(&self, fingerprint: &str, token: &SecretString) -> Result<()> {
        check_fingerprint(fingerprint)?;
        let sealed = self.sealer.seal(
            &refresh_token_aad(fingerprint),
            token.expose_secret().as_bytes(),
        )?;
        on_pool!(self.db(), |pool| sqlx::query(
            "INSERT INTO refresh_tokens (fingerprint, key_id, sealed, updated_at_ms) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (fingerprint) DO UPDATE SET key_id = excluded.key_id, \
             sealed = excluded.sealed, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(fingerprint)
        .bind(self.sealer.key_id())
        .bind(sealed)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    pub async fn load_refresh_token(&self, fingerprint: &str) -> Result<Option<SecretString>> {
        let row: Option<(Vec<u8>,)> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT sealed FROM refresh_tokens WHERE fingerprint = $1"
        )
        .bind(fingerprint)
        .fetch_optional(pool)
        .await?);
        let Some((sealed,)) = row else {
            return Ok(None);
        };
        let aad = refresh_token_aad(fingerprint);
        let clear = self.sealer.open(&aad, &sealed)?;
        let text =
            std::str::from_utf8(&clear).map_err(|_| StoreError::Undecryptable { slot: aad })?;
        Ok(Some(SecretString::from(text)))
    }

    pub async fn delete_refresh_token(&self, fingerprint: &str) -> Result<bool> {
        let n = on_pool!(self.db(), |pool| sqlx::query(
            "DELETE FROM refresh_tokens WHERE fingerprint = $1"
        )
        .bind(fingerprint)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n > 0)
    }
}
