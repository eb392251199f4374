//! The portal's administrator account: one user, its password kept as an Argon2id PHC string.
//! Hashing is deliberately slow, so it runs on the blocking pool, not on the async workers.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use secrecy::{ExposeSecret, SecretString};

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

impl Store {
    /// Sets (or replaces) the administrator's name and password.
    pub async fn set_admin_password(&self, username: &str, password: &SecretString) -> Result<()> {
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
        sqlx::query(
            "INSERT INTO admin_user (id, username, password_hash, updated_at_ms) VALUES (1, ?1, ?2, ?3) \
             ON CONFLICT (id) DO UPDATE SET username = excluded.username, \
             password_hash = excluded.password_hash, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(&username)
        .bind(hash)
        .bind(now_ms())
        .execute(self.sqlite())
        .await?;
        Ok(())
    }

    /// The administrator's name, if one is set.
    pub async fn admin_username(&self) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT username FROM admin_user WHERE id = 1")
            .fetch_optional(self.sqlite())
            .await?;
        Ok(row.map(|(u,)| u))
    }

    /// Whether `username` and `password` are the administrator's. An unknown user costs the same
    /// hashing time as a wrong password, so timing does not reveal which was wrong.
    pub async fn verify_admin_password(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<bool> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT username, password_hash FROM admin_user WHERE id = 1")
                .fetch_optional(self.sqlite())
                .await?;
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
                Ok(ok && stored_user == username)
            }
            None => {
                hash_password(&password)?;
                Ok(false)
            }
        })
        .await
    }
}
