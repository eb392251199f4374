//! What the sign-in machinery must not forget across a restart: the lockout guard's state (so a
//! restart is not a fresh attempt with a failing password) and the latest rotated refresh token
//! (sealed; durable before the save returns), both keyed by a credential fingerprint.

use secrecy::{ExposeSecret, SecretString};

use crate::backend::on_pool;
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
