//! The watch list: the people whose calendars calgate keeps fresh, with the name and extension
//! an operator searches by.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::{Store, now_ms};

/// One watched person. `email` is stored lower-cased and is the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchedPerson {
    pub email: String,
    pub display_name: String,
    pub extension: Option<String>,
    /// Where the entry came from (`api`, `directory`, `import`…).
    pub source: String,
}

const MAX_EMAIL: usize = 320;
const MAX_NAME: usize = 256;
const MAX_EXTENSION: usize = 32;
const MAX_SOURCE: usize = 64;

impl WatchedPerson {
    /// The normalized form the store keeps, or why the entry is refused.
    fn normalized(&self) -> std::result::Result<WatchedPerson, String> {
        let email = self.email.trim().to_lowercase();
        let valid_email = email.len() <= MAX_EMAIL
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            });
        if !valid_email {
            return Err("email must be an address such as anna.rossi@contoso.com".to_string());
        }
        let display_name = match self.display_name.trim() {
            "" => email.clone(),
            name => name.to_string(),
        };
        if display_name.chars().count() > MAX_NAME || display_name.chars().any(char::is_control) {
            return Err(format!(
                "display name must be at most {MAX_NAME} printable characters"
            ));
        }
        let extension = self
            .extension
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_string);
        if let Some(ext) = &extension
            && (ext.chars().count() > MAX_EXTENSION || ext.chars().any(char::is_control))
        {
            return Err(format!(
                "extension must be at most {MAX_EXTENSION} printable characters"
            ));
        }
        let source = self.source.trim().to_string();
        let valid_source = !source.is_empty()
            && source.len() <= MAX_SOURCE
            && source
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid_source {
            return Err("source must be a short word such as api or directory".to_string());
        }
        Ok(WatchedPerson {
            email,
            display_name,
            extension,
            source,
        })
    }
}

/// `LIKE` pattern text with its wildcards escaped (escape character `\`).
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Store {
    /// Inserts or updates people by email, all or nothing. Returns how many were written.
    pub async fn upsert_people(&self, people: &[WatchedPerson]) -> Result<u64> {
        let mut normalized = Vec::with_capacity(people.len());
        for (i, p) in people.iter().enumerate() {
            normalized.push(p.normalized().map_err(|reason| StoreError::InvalidInput {
                what: "person",
                reason: format!("entry {i}: {reason}"),
            })?);
        }
        let now = now_ms();
        let mut tx = self.sqlite().begin_with("BEGIN IMMEDIATE").await?;
        for p in &normalized {
            sqlx::query(
                "INSERT INTO people (email, display_name, extension, source, updated_at_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (email) DO UPDATE SET display_name = excluded.display_name, \
                 extension = excluded.extension, source = excluded.source, \
                 updated_at_ms = excluded.updated_at_ms",
            )
            .bind(&p.email)
            .bind(&p.display_name)
            .bind(&p.extension)
            .bind(&p.source)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(normalized.len() as u64)
    }

    /// Removes a person (and their cached availability). Returns whether they were watched.
    pub async fn delete_person(&self, email: &str) -> Result<bool> {
        let email = email.trim().to_lowercase();
        let mut tx = self.sqlite().begin_with("BEGIN IMMEDIATE").await?;
        let deleted = sqlx::query("DELETE FROM people WHERE email = ?1")
            .bind(&email)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM last_availability WHERE mailbox = ?1")
            .bind(&email)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted > 0)
    }

    pub async fn get_person(&self, email: &str) -> Result<Option<WatchedPerson>> {
        let row: Option<(String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT email, display_name, extension, source FROM people WHERE email = ?1",
        )
        .bind(email.trim().to_lowercase())
        .fetch_optional(self.sqlite())
        .await?;
        Ok(row.map(into_person))
    }

    /// People whose email, name (any word of it) or extension starts with `query`, ignoring
    /// ASCII case, ordered by name. An empty query lists everyone up to `limit`.
    pub async fn search_people(&self, query: &str, limit: u32) -> Result<Vec<WatchedPerson>> {
        let q = like_escape(query.trim());
        let rows: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT email, display_name, extension, source FROM people \
             WHERE email LIKE ?1 ESCAPE '\\' OR display_name LIKE ?1 ESCAPE '\\' \
                OR display_name LIKE ?2 ESCAPE '\\' OR extension LIKE ?1 ESCAPE '\\' \
             ORDER BY display_name, email LIMIT ?3",
        )
        .bind(format!("{q}%"))
        .bind(format!("% {q}%"))
        .bind(i64::from(limit))
        .fetch_all(self.sqlite())
        .await?;
        Ok(rows.into_iter().map(into_person).collect())
    }

    /// The whole watch list, ordered by email (what the refresh scheduler starts from).
    pub async fn list_people(&self) -> Result<Vec<WatchedPerson>> {
        let rows: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT email, display_name, extension, source FROM people ORDER BY email",
        )
        .fetch_all(self.sqlite())
        .await?;
        Ok(rows.into_iter().map(into_person).collect())
    }

    pub async fn count_people(&self) -> Result<u64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM people")
            .fetch_one(self.sqlite())
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

fn into_person(
    (email, display_name, extension, source): (String, String, Option<String>, String),
) -> WatchedPerson {
    WatchedPerson {
        email,
        display_name,
        extension,
        source,
    }
}
