//! The watch list: the people whose calendars calgate keeps fresh, with the name and extension
//! an operator searches by.

use serde::{Deserialize, Serialize};
use sqlx::QueryBuilder;

use crate::backend::{Backend, Tx, on_pool, on_tx};

use crate::error::{Result, StoreError};
use crate::fold;
use crate::{Store, now_ms};

/// One watched person. `email` is stored lower-cased and is the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchedPerson {
    pub email: String,
    pub display_name: String,
    pub extension: Option<String>,
    /// Where the entry came from: [`ORIGIN_MANUAL`], [`ORIGIN_IMPORT`], or the id of the
    /// directory that syncs it.
    pub origin: String,
    /// The directory's own id of the entry (directory people only).
    pub origin_id: Option<String>,
    /// The source the directory routes this mailbox to, if it names one.
    pub route: Option<String>,
}

pub use calgate_settings::{ORIGIN_IMPORT, ORIGIN_MANUAL};

impl WatchedPerson {
    /// A person added by hand.
    pub fn manual(email: &str, name: &str, extension: Option<&str>) -> WatchedPerson {
        WatchedPerson {
            email: email.to_string(),
            display_name: name.to_string(),
            extension: extension.map(str::to_string),
            origin: ORIGIN_MANUAL.to_string(),
            origin_id: None,
            route: None,
        }
    }
}

const MAX_EMAIL: usize = 320;
const MAX_NAME: usize = 256;
const MAX_EXTENSION: usize = 32;
const MAX_ORIGIN: usize = 64;
const MAX_ORIGIN_ID: usize = 256;
/// Rows per multi-row statement: 7 bound values each stays far below SQLite's variable limit
/// and PostgreSQL's 65 535 parameters.
const PEOPLE_PER_STATEMENT: usize = 500;

impl WatchedPerson {
    /// The normalized form the store keeps, or why the entry is refused.
    pub(crate) fn normalized(&self) -> std::result::Result<WatchedPerson, String> {
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
        let origin = self.origin.trim().to_string();
        let valid_origin = !origin.is_empty()
            && origin.len() <= MAX_ORIGIN
            && origin
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid_origin {
            return Err("origin must be manual, import or a directory id".to_string());
        }
        let short = |v: &Option<String>, what: &str| match v.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) if v.len() <= MAX_ORIGIN_ID && !v.chars().any(char::is_control) => {
                Ok(Some(v.to_string()))
            }
            Some(_) => Err(format!(
                "{what} must be at most {MAX_ORIGIN_ID} printable bytes"
            )),
        };
        Ok(WatchedPerson {
            email,
            display_name,
            extension,
            origin,
            origin_id: short(&self.origin_id, "origin id")?,
            route: short(&self.route, "route")?,
        })
    }
}

/// The part of a display name whose words are indexed. A person listed without a name shows
/// their address as the name: only its local part names them ("lucia.patel"); the domain is the
/// same for nearly everyone, so its words would match the whole watch list and double the index.
fn searchable_name(p: &WatchedPerson) -> &str {
    if p.display_name == p.email {
        p.email
            .split_once('@')
            .map_or(p.email.as_str(), |(local, _)| local)
    } else {
        &p.display_name
    }
}

/// Words of a query looked up at most: a longer query is not a person's name.
const MAX_QUERY_WORDS: usize = 8;

/// The exclusive upper bound of all strings starting with `prefix` (under the ASCII-folding
/// NOCASE collation): the prefix followed by the highest code point.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}{}", char::MAX)
}

impl Store {
    /// Inserts or updates people by email, all or nothing. Returns how many distinct people the
    /// batch held (those already stored exactly so are left untouched). A person a directory syncs stays the directory's (its origin, id and route are
    /// kept; the name and extension are written, until the next sync says otherwise).
    pub async fn upsert_people(&self, people: &[WatchedPerson]) -> Result<u64> {
        let mut normalized = Vec::with_capacity(people.len());
        for (i, p) in people.iter().enumerate() {
            normalized.push(p.normalized().map_err(|reason| StoreError::InvalidInput {
                what: "person",
                reason: format!("entry {i}: {reason}"),
            })?);
        }
        // In key order: each index page is visited once per batch instead of once per row in
        // random order, which at 100 000 people spilled the page cache on every few rows.
        // The last entry for an email wins, as if the batch were applied in order: sorted
        // from the end with a stable sort, it comes first among its equals and is the one
        // `dedup_by` keeps.
        let mut unique: Vec<&WatchedPerson> = normalized.iter().rev().collect();
        unique.sort_by(|a, b| a.email.cmp(&b.email));
        unique.dedup_by(|a, b| a.email == b.email);
        upsert_sorted(self.db(), &unique).await
    }

    /// Removes a person (and their cached availability). Returns whether they were watched.
    pub async fn delete_person(&self, email: &str) -> Result<bool> {
        let email = email.trim().to_lowercase();
        let mut tx = self.db().begin_write().await?;
        let deleted = on_tx!(&mut tx, |tx| sqlx::query(
            "DELETE FROM people WHERE email = $1"
        )
        .bind(&email)
        .execute(&mut **tx)
        .await?
        .rows_affected());
        on_tx!(&mut tx, |tx| sqlx::query(
            "DELETE FROM last_availability WHERE mailbox = $1"
        )
        .bind(&email)
        .execute(&mut **tx)
        .await?
        .rows_affected());
        tx.commit().await?;
        Ok(deleted > 0)
    }

    pub async fn get_person(&self, email: &str) -> Result<Option<WatchedPerson>> {
        let row: Option<PersonRow> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT email, display_name, extension, origin, origin_id, route FROM people \
             WHERE email = $1",
        )
        .bind(email.trim().to_lowercase())
        .fetch_optional(pool)
        .await?);
        Ok(row.map(into_person))
    }

    /// People whose email, name or extension starts with `query` (ignoring ASCII case), or
    /// whose name has, for every word of the query, a word starting with it — in any order,
    /// with case and diacritics folded ("patel luc" and "lopez" find "Lucía López-Patel").
    /// Ordered by name. Every branch is an index range, so a search costs the same with ten
    /// people or a hundred thousand. An empty query lists everyone up to `limit`.
    pub async fn search_people(&self, query: &str, limit: u32) -> Result<Vec<WatchedPerson>> {
        let query = query.trim();
        // No name, address or extension holds a control character (they are refused when
        // saved), and PostgreSQL refuses NUL in any text.
        if query.contains('\0') {
            return Ok(Vec::new());
        }
        // The address is stored in lower case, and the name is compared with ASCII case folded
        // (see `Backend::folded_name`): both ranges start at the query in lower case.
        let folded = query.to_ascii_lowercase();
        let name = self.db().folded_name();
        let words: Vec<String> = fold::words(query)
            .into_iter()
            .take(MAX_QUERY_WORDS)
            .collect();
        let rows: Vec<PersonRow> = on_pool!(self.db(), |pool| {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT email, display_name, extension, origin, origin_id, route FROM people ",
            );
            if !query.is_empty() {
                let end = prefix_end(&folded);
                q.push("WHERE email IN (SELECT email FROM people WHERE email >= ")
                    .push_bind(folded.as_str())
                    .push(" AND email < ")
                    .push_bind(end.clone());
                q.push(format_args!(
                    " UNION SELECT email FROM people WHERE {name} >= "
                ))
                .push_bind(folded.as_str())
                .push(format_args!(" AND {name} < "))
                .push_bind(end);
                q.push(" UNION SELECT email FROM people WHERE extension >= ")
                    .push_bind(query)
                    .push(" AND extension < ")
                    .push_bind(prefix_end(query));
                if !words.is_empty() {
                    q.push(" UNION SELECT * FROM (");
                    for (i, word) in words.iter().enumerate() {
                        if i > 0 {
                            q.push(" INTERSECT ");
                        }
                        q.push("SELECT email FROM people_name_words WHERE word >= ")
                            .push_bind(word.as_str())
                            .push(" AND word < ")
                            .push_bind(prefix_end(word));
                    }
                    q.push(") AS words");
                }
                q.push(") ");
            }
            q.push(format_args!("ORDER BY {name}, email LIMIT "))
                .push_bind(i64::from(limit));
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(into_person).collect())
    }

    /// The watched people among `emails` (addresses in any case), ordered by name.
    pub async fn get_people(&self, emails: &[String]) -> Result<Vec<WatchedPerson>> {
        let mut out = Vec::with_capacity(emails.len());
        for chunk in emails.chunks(PEOPLE_PER_STATEMENT) {
            let rows: Vec<PersonRow> = on_pool!(self.db(), |pool| {
                let mut q = QueryBuilder::<Db>::new(
                    "SELECT email, display_name, extension, origin, origin_id, route FROM people \
                     WHERE email IN (",
                );
                let mut list = q.separated(", ");
                for email in chunk {
                    list.push_bind(email.trim().to_lowercase());
                }
                q.push(")");
                q.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows.into_iter().map(into_person));
        }
        out.sort_by(|a, b| (&a.display_name, &a.email).cmp(&(&b.display_name, &b.email)));
        Ok(out)
    }

    /// The whole watch list, ordered by email (what the refresh scheduler starts from).
    pub async fn list_people(&self) -> Result<Vec<WatchedPerson>> {
        let rows: Vec<PersonRow> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT email, display_name, extension, origin, origin_id, route FROM people \
             ORDER BY email",
        )
        .fetch_all(pool)
        .await?);
        Ok(rows.into_iter().map(into_person).collect())
    }

    pub async fn count_people(&self) -> Result<u64> {
        let (n,): (i64,) = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT COUNT(*) FROM people"
        )
        .fetch_one(pool)
        .await?);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

pub(crate) type PersonRow = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

pub(crate) fn into_person(
    (email, display_name, extension, origin, origin_id, route): PersonRow,
) -> WatchedPerson {
    WatchedPerson {
        email,
        display_name,
        extension,
        origin,
        origin_id,
        route,
    }
}

/// `INSERT INTO people … VALUES` for `people` (the caller adds its `ON CONFLICT` clause).
pub(crate) fn insert_people<'a, DB>(
    people: impl IntoIterator<Item = &'a WatchedPerson>,
    now: i64,
) -> QueryBuilder<DB>
where
    DB: sqlx::Database,
    DB::Arguments: Default,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut q = QueryBuilder::<DB>::new(
        "INSERT INTO people (email, display_name, extension, origin, origin_id, route, \
         updated_at_ms) ",
    );
    q.push_values(people, |mut row, p| {
        row.push_bind(p.email.as_str())
            .push_bind(p.display_name.as_str())
            .push_bind(p.extension.as_deref())
            .push_bind(p.origin.as_str())
            .push_bind(p.origin_id.as_deref())
            .push_bind(p.route.as_deref())
            .push_bind(now);
    });
    q
}

/// Drops the name words of `emails` (they are written again after an update).
pub(crate) async fn forget_words<'a>(
    tx: &mut Tx,
    emails: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    on_tx!(tx, |tx| {
        let mut forget = QueryBuilder::<Db>::new("DELETE FROM people_name_words WHERE email IN (");
        let mut list = forget.separated(", ");
        for email in emails {
            list.push_bind(email);
        }
        forget.push(")");
        forget.build().execute(&mut **tx).await?;
    });
    Ok(())
}

/// What a person is stored as when `incoming` is written over `stored` (if any): a person a
/// directory syncs keeps the directory's origin, id and route.
fn merged(incoming: &WatchedPerson, stored: Option<&WatchedPerson>) -> WatchedPerson {
    match stored {
        Some(old) if old.origin != ORIGIN_MANUAL && old.origin != ORIGIN_IMPORT => WatchedPerson {
            origin: old.origin.clone(),
            origin_id: old.origin_id.clone(),
            route: old.route.clone(),
            ..incoming.clone()
        },
        _ => incoming.clone(),
    }
}

/// Writes sorted, distinct people and their name words in one transaction. Each chunk's stored
/// rows are read first: a person stored exactly as given is not written again (a directory's
/// hourly sync or a re-sent list rewrites nothing), and name words are written only for new
/// people and changed names, so a new person costs no lookup in the words' address index.
async fn upsert_sorted(db: &Backend, unique: &[&WatchedPerson]) -> Result<u64> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let mut renamed: Vec<&str> = Vec::new();
    let mut worded: Vec<&WatchedPerson> = Vec::new();
    for chunk in unique.chunks(PEOPLE_PER_STATEMENT) {
        let stored: Vec<PersonRow> = on_tx!(&mut tx, |tx| {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT email, display_name, extension, origin, origin_id, route FROM people \
                 WHERE email IN (",
            );
            let mut list = q.separated(", ");
            for p in chunk {
                list.push_bind(p.email.as_str());
            }
            q.push(")");
            q.build_query_as().fetch_all(&mut **tx).await?
        });
        let stored: std::collections::HashMap<String, WatchedPerson> = stored
            .into_iter()
            .map(|row| (row.0.clone(), into_person(row)))
            .collect();
        let mut changed: Vec<&WatchedPerson> = Vec::with_capacity(chunk.len());
        for &p in chunk {
            let old = stored.get(&p.email);
            if old.is_some_and(|old| merged(p, Some(old)) == *old) {
                continue;
            }
            changed.push(p);
            match old {
                None => worded.push(p),
                Some(old) if searchable_name(old) != searchable_name(p) => {
                    renamed.push(p.email.as_str());
                    worded.push(p);
                }
                Some(_) => {}
            }
        }
        if changed.is_empty() {
            continue;
        }
        on_tx!(&mut tx, |tx| {
            let mut upsert = insert_people::<Db>(changed.iter().copied(), now);
            upsert.push(
                " ON CONFLICT (email) DO UPDATE SET display_name = excluded.display_name, \
                     extension = excluded.extension, \
                     origin = CASE WHEN people.origin IN ('manual', 'import') \
                         THEN excluded.origin ELSE people.origin END, \
                     origin_id = CASE WHEN people.origin IN ('manual', 'import') \
                         THEN excluded.origin_id ELSE people.origin_id END, \
                     route = CASE WHEN people.origin IN ('manual', 'import') \
                         THEN excluded.route ELSE people.route END, \
                     updated_at_ms = excluded.updated_at_ms",
            );
            upsert.build().execute(&mut **tx).await?;
        });
    }
    for emails in renamed.chunks(PEOPLE_PER_STATEMENT) {
        forget_words(&mut tx, emails.iter().copied()).await?;
    }
    insert_words(&mut tx, &worded).await?;
    tx.commit().await?;
    Ok(unique.len() as u64)
}

/// Inserts the folded name words of `people`. The words table is keyed by (word, email):
/// inserted in that order, so each index page is visited once.
pub(crate) async fn insert_words(tx: &mut Tx, people: &[&WatchedPerson]) -> Result<()> {
    let mut words: Vec<(String, &str)> = people
        .iter()
        .flat_map(|p| {
            fold::words(searchable_name(p))
                .into_iter()
                .map(|w| (w, p.email.as_str()))
        })
        .collect();
    words.sort_unstable();
    words.dedup();
    for words in words.chunks(PEOPLE_PER_STATEMENT * 2) {
        on_tx!(&mut *tx, |tx| {
            let mut insert =
                QueryBuilder::<Db>::new("INSERT INTO people_name_words (word, email) ");
            insert.push_values(words, |mut row, (word, email)| {
                row.push_bind(word.as_str()).push_bind(*email);
            });
            insert.push(" ON CONFLICT DO NOTHING");
            insert.build().execute(&mut **tx).await?;
        });
    }
    Ok(())
}

/// The `store_meta` row a migration leaves when the name words must be made again (their
/// folding changed).
const REINDEX_MARK: &str = "reindex_name_words";

/// Makes every name word again when a migration asked for it: in one transaction, in pages of
/// the watch list, then the request is dropped.
pub(crate) async fn reindex_if_asked(db: &Backend) -> Result<()> {
    let asked: Option<(Vec<u8>,)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT value FROM store_meta WHERE name = $1"
    )
    .bind(REINDEX_MARK)
    .fetch_optional(pool)
    .await?);
    if asked.is_none() {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    on_tx!(&mut tx, |tx| sqlx::query("DELETE FROM people_name_words")
        .execute(&mut **tx)
        .await?
        .rows_affected());
    let mut after = String::new();
    loop {
        let rows: Vec<PersonRow> = on_tx!(&mut tx, |tx| sqlx::query_as(
            "SELECT email, display_name, extension, origin, origin_id, route FROM people \
             WHERE email > $1 ORDER BY email LIMIT 5000",
        )
        .bind(&after)
        .fetch_all(&mut **tx)
        .await?);
        let Some(last) = rows.last() else {
            break;
        };
        after.clone_from(&last.0);
        let people: Vec<WatchedPerson> = rows.into_iter().map(into_person).collect();
        let refs: Vec<&WatchedPerson> = people.iter().collect();
        insert_words(&mut tx, &refs).await?;
    }
    on_tx!(&mut tx, |tx| sqlx::query(
        "DELETE FROM store_meta WHERE name = $1"
    )
    .bind(REINDEX_MARK)
    .execute(&mut **tx)
    .await?
    .rows_affected());
    tx.commit().await?;
    Ok(())
}
