//! API tokens. Only the SHA-256 of a token is stored: the clear token exists once, in the answer
//! to its creation. A token is 32 random bytes, so a plain hash (no salt, no stretching) is enough
//! and lets a request be checked with one indexed lookup.

use base64::Engine;
use jiff::Timestamp;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::backend::on_pool;
use crate::error::{Result, StoreError};
use crate::{Store, now_ms, timestamp};

/// The prefix makes calgate tokens recognizable to secret scanners and to people.
const TOKEN_PREFIX: &str = "cgt_";
/// `last_used_at` is written at most this often per token, not on every request.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// What a token may do (SPEC §5): `console` reads people and status; `admin` does everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiRole {
    Admin,
    Console,
}

impl ApiRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiRole::Admin => "admin",
            ApiRole::Console => "console",
        }
    }

    pub fn parse(s: &str) -> Option<ApiRole> {
        match s {
            "admin" => Some(ApiRole::Admin),
            "console" => Some(ApiRole::Console),
            _ => None,
        }
    }
}

/// A token's public facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub label: String,
    pub role: ApiRole,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A freshly created token: show `secret` to the user once; it cannot be recovered.
#[derive(Debug)]
pub struct NewApiToken {
    pub token: ApiToken,
    pub secret: SecretString,
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

type TokenRow = (String, String, String, i64, Option<i64>);

fn into_token((id, label, role, created_at_ms, last_used_at_ms): TokenRow) -> Result<ApiToken> {
    let corrupt = |reason: &str| StoreError::Corrupt {
        what: "API token".to_string(),
        reason: reason.to_string(),
    };
    Ok(ApiToken {
        id: Uuid::parse_str(&id).map_err(|_| corrupt("bad id"))?,
        label,
        role: ApiRole::parse(&role).ok_or_else(|| corrupt("unknown role"))?,
        created_at: timestamp(created_at_ms, "token creation time")?,
        last_used_at: last_used_at_ms
            .map(|ms| timestamp(ms, "token use time"))
            .transpose()?,
    })
}

impl Store {
    /// Creates a token with `role`; the answer holds the clear token, the store only its hash.
    pub async fn create_api_token(&self, role: ApiRole, label: &str) -> Result<NewApiToken> {
        let label = label.trim();
        if label.chars().count() > 128 || label.chars().any(char::is_control) {
            return Err(StoreError::InvalidInput {
                what: "token label",
                reason: "must be at most 128 printable characters".to_string(),
            });
        }
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(bytes.as_mut_slice());
        // Encoded straight into its final buffer, so no stray copy of the token is left behind.
        let mut clear = String::with_capacity(TOKEN_PREFIX.len() + 43);
        clear.push_str(TOKEN_PREFIX);
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode_string(bytes.as_slice(), &mut clear);
        let secret = SecretString::from(clear);
        let id = Uuid::new_v4();
        let now = now_ms();
        on_pool!(self.db(), |pool| sqlx::query(
            "INSERT INTO api_tokens (id, label, role, token_sha256, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(label)
        .bind(role.as_str())
        .bind(token_hash(secret.expose_secret()))
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(NewApiToken {
            token: ApiToken {
                id,
                label: label.to_string(),
                role,
                created_at: timestamp(now, "token creation time")?,
                last_used_at: None,
            },
            secret,
        })
    }

    /// The token's facts when `presented` is a live token, else `None`. Records the use.
    pub async fn verify_api_token(&self, presented: &str) -> Result<Option<ApiToken>> {
        if !presented.starts_with(TOKEN_PREFIX) || presented.len() > 128 {
            return Ok(None);
        }
        let hash = token_hash(presented);
        let row: Option<TokenRow> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT id, label, role, created_at_ms, last_used_at_ms FROM api_tokens \
             WHERE token_sha256 = $1 AND revoked_at_ms IS NULL",
        )
        .bind(&hash)
        .fetch_optional(pool)
        .await?);
        let Some(row) = row else { return Ok(None) };
        let mut token = into_token(row)?;
        let now = now_ms();
        let stale = token
            .last_used_at
            .is_none_or(|t| now - t.as_millisecond() >= LAST_USED_RESOLUTION_MS);
        if stale {
            on_pool!(self.db(), |pool| sqlx::query(
                "UPDATE api_tokens SET last_used_at_ms = $1 WHERE token_sha256 = $2"
            )
            .bind(now)
            .bind(&hash)
            .execute(pool)
            .await?
            .rows_affected());
            token.last_used_at = Some(timestamp(now, "token use time")?);
        }
        Ok(Some(token))
    }

    /// Live (not revoked) tokens, oldest first.
    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>> {
        let rows: Vec<TokenRow> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT id, label, role, created_at_ms, last_used_at_ms FROM api_tokens \
             WHERE revoked_at_ms IS NULL ORDER BY created_at_ms, id",
        )
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(into_token).collect()
    }

    /// The live (not revoked) token with `id`.
    pub async fn api_token(&self, id: Uuid) -> Result<Option<ApiToken>> {
        let row: Option<TokenRow> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT id, label, role, created_at_ms, last_used_at_ms FROM api_tokens \
             WHERE id = $1 AND revoked_at_ms IS NULL",
        )
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?);
        row.map(into_token).transpose()
    }

    /// The live token whose clear text is `presented`, without recording a use (to revoke it).
    pub async fn find_api_token(&self, presented: &str) -> Result<Option<ApiToken>> {
        if !presented.starts_with(TOKEN_PREFIX) || presented.len() > 128 {
            return Ok(None);
        }
        let row: Option<TokenRow> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT id, label, role, created_at_ms, last_used_at_ms FROM api_tokens \
             WHERE token_sha256 = $1 AND revoked_at_ms IS NULL",
        )
        .bind(token_hash(presented))
        .fetch_optional(pool)
        .await?);
        row.map(into_token).transpose()
    }

    /// Revokes a token at once. Returns whether a live token was revoked.
    pub async fn revoke_api_token(&self, id: Uuid) -> Result<bool> {
        let n = on_pool!(self.db(), |pool| sqlx::query(
            "UPDATE api_tokens SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL",
        )
        .bind(now_ms())
        .bind(id.to_string())
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n > 0)
    }
}
