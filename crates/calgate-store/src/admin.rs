//! The portal's administrator account: one user, its password kept as an Argon2id PHC string.
//! Hashing is deliberately slow, so it runs on the blocking pool, not on the async workers.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use secrecy::{ExposeSecret, SecretString};

use crate::backend::on_pool;
use crate::error::{Result, StoreError};
use crate::{Store, now_ms};

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

fn hash_password(password: &SecretString) -> Result<String> {
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| StoreError::PasswordHash(e.to_string()))
}

fn credential_stamp(username: &str, phc: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(username.as_bytes())
        .chain_update([0u8])
        .chain_update(phc.as_bytes())
        .finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Sets (or replaces) the administrator's name and password, answering the new credential
    /// stamp (see [`Store::admin_credential_stamp`]) — of this write, so a change made at the
    /// same moment elsewhere cannot be mistaken for it.
    pub async fn set_admin_password(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<String> {
        let username = username.trim().to_string();
        if username.is_empty()
            || username.chars().count() > 128
            || username.chars().any(char::is_control)
        {
            return Err(StoreError::InvalidInput {
                what: "admin username",
                reason: "must be 1 to 128 printable characters".to_string(),
            });
        }
        if password.expose_secret().is_empty() || password.expose_secret().len() > 1024 {
            return Err(StoreError::InvalidInput {
                what: "admin password",
                reason: "must be 1 to 1024 bytes".to_string(),
            });
        }
        let password = password.clone();
        let hash = blocking(move || hash_password(&password)).await?;
        on_pool!(self.db(), |pool| sqlx::query(
            "INSERT INTO admin_user (id, username, password_hash, updated_at_ms) \
             VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET username = excluded.username, \
             password_hash = excluded.password_hash, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(&username)
        .bind(&hash)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected());
        Ok(credential_stamp(&username, &hash))
    }

    /// The administrator's name, if one is set.
    pub async fn admin_username(&self) -> Result<Option<String>> {
        let row: Option<(String,)> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT username FROM admin_user WHERE id = 1"
        )
        .fetch_optional(pool)
        .await?);
        Ok(row.map(|(u,)| u))
    }

    /// Whether `username` and `password` are the administrator's. An unknown user costs the same
    /// hashing time as a wrong password, so timing does not reveal which was wrong.
    pub async fn verify_admin_password(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<bool> {
        Ok(self
            .verify_admin_password_stamp(username, password)
            .await?
            .is_some())
    }

    /// A value that changes whenever the administrator's name or password is set (a digest of
    /// the stored PHC string, whose salt is new every time): a sign-in session remembers it and
    /// ends when it no longer matches. `None` when no administrator is set.
    pub async fn admin_credential_stamp(&self) -> Result<Option<String>> {
        let row: Option<(String, String)> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT username, password_hash FROM admin_user WHERE id = 1"
        )
        .fetch_optional(pool)
        .await?);
        Ok(row.map(|(user, phc)| credential_stamp(&user, &phc)))
    }

    /// Like [`Store::verify_admin_password`], answering the credential stamp (see
    /// [`Store::admin_credential_stamp`]) of the password that matched.
    pub async fn verify_admin_password_stamp(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<Option<String>> {
        let row: Option<(String, String)> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT username, password_hash FROM admin_user WHERE id = 1"
        )
        .fetch_optional(pool)
        .await?);
        let password = password.clone();
        let username = username.trim().to_string();
        blocking(move || match row {
            Some((stored_user, phc)) => {
                let parsed = PasswordHash::new(&phc).map_err(|_| StoreError::Corrupt {
                    what: "admin password hash".to_string(),
                    reason: "not a PHC string".to_string(),
                })?;
                let ok = Argon2::default()
                    .verify_password(password.expose_secret().as_bytes(), &parsed)
                    .is_ok();
                Ok((ok && stored_user == username).then(|| credential_stamp(&stored_user, &phc)))
            }
            None => {
                hash_password(&password)?;
                Ok(None)
            }
        })
        .await
    }
}
