//! The watch list and the person records.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::api::ApiError;
use crate::state::AppState;
use crate::view::{Person, PersonView, StatusView, looks_like_email, person_view, status_view};

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
    /// Only people whose data is `pending`, `fresh`, `stale` or `error`.
    #[serde(default)]
    pub freshness: Option<calgate_engine::Freshness>,
}

#[derive(Debug, Serialize)]
pub struct PersonSummary {
    pub email: String,
    pub name: Option<String>,
    pub extension: Option<String>,
    /// Where the person came from: `manual`, `import` or the id of the directory that syncs it.
    pub origin: String,
    /// The id of the calendar source that serves this person.
    pub source: String,
    pub status: StatusView,
    /// Teams presence; absent when the person's source does not read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence: Option<crate::view::PresenceView>,
    pub freshness: calgate_engine::Freshness,
    /// When the data was read (`None` before the first answer).
    pub as_of: Option<Timestamp>,
    /// What the source answered for this mailbox when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::view::ErrorView>,
}

/// `GET /api/v1/people?query=`: watched people whose email, name or extension matches.
pub async fn list(
    State(app): State<Arc<AppState>>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<PersonSummary>>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let query = q.query.as_deref().unwrap_or("");
    let now = Timestamp::now();
    let stale_age = app.stale_age();
    let board = app.engine().board();
    let people = match q.freshness {
        None => app.search_people(query, limit).await?,
        Some(want) => app.people_in_state(query, want, limit).await?,
    };
    // Only the status: the day's timeline of every listed person is not built to be dropped.
    let out = people
        .into_iter()
        .map(|p| {
            let entry = board.get(&p.email);
            let availability = entry.as_ref().and_then(|e| e.availability.as_deref());
            PersonSummary {
                status: status_view(entry.as_ref()),
                presence: crate::view::presence_view(entry.as_ref()),
                source: app.source_of(&p.email),
                freshness: entry
                    .as_ref()
                    .map_or(calgate_engine::Freshness::Pending, |e| {
                        e.freshness(now, stale_age)
                    }),
                as_of: availability.map(|a| a.fetched_at),
                error: availability.and_then(|a| a.error.as_ref()).map(|e| {
                    crate::view::ErrorView {
                        code: e.code.clone(),
                        message: e.message.clone(),
                    }
                }),
                email: p.email,
                name: p.name,
                extension: p.extension,
                origin: p
                    .origin
                    .unwrap_or_else(|| calgate_store::ORIGIN_MANUAL.to_string()),
            }
        })
        .collect();
    Ok(Json(out))
}

/// `GET /api/v1/people/{email}`: the full record; refreshes old data on demand.
pub async fn get(
    State(app): State<Arc<AppState>>,
    Path(email): Path<String>,
) -> Result<Json<PersonView>, ApiError> {
    let email = email.trim().to_lowercase();
    let person = app
        .person(&email)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    app.engine().refresh_if_old(&email);
    let now = Timestamp::now();
    let entry = app.engine().board().get(&email);
    Ok(Json(person_view(
        &person,
        app.source_of(&email),
        entry.as_ref(),
        &app.options(),
        now,
        app.stale_age(),
    )))
}

#[derive(Debug, Serialize)]
pub struct UpsertResult {
    pub upserted: usize,
    pub watched: usize,
}

/// Problems listed in one answer at most: a huge invalid upload gets a short answer, not one
/// larger than itself.
pub const MAX_LISTED_ERRORS: usize = 100;

/// Per-entry problems, the first [`MAX_LISTED_ERRORS`] kept and all counted.
#[derive(Debug, Default)]
struct FieldErrors {
    fields: std::collections::BTreeMap<String, String>,
    count: usize,
}

impl FieldErrors {
    fn insert(&mut self, field: String, problem: String) {
        self.count += 1;
        if self.fields.len() < MAX_LISTED_ERRORS {
            self.fields.insert(field, problem);
        }
    }
}

/// `PUT /api/v1/people`: bulk upsert of the watch list.
pub async fn upsert(
    State(app): State<Arc<AppState>>,
    Json(people): Json<Vec<Person>>,
) -> Result<Json<UpsertResult>, ApiError> {
    let mut clean = Vec::with_capacity(people.len());
    let mut errors = FieldErrors::default();
    for (i, p) in people.into_iter().enumerate() {
        let email = p.email.trim().to_lowercase();
        if !looks_like_email(&email) {
            errors.insert(format!("[{i}].email"), "not an email address".to_string());
            continue;
        }
        let name = p
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        let extension = p
            .extension
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        if !fits(name.as_deref(), MAX_NAME) {
            errors.insert(
                format!("[{i}].name"),
                format!("at most {MAX_NAME} printable characters"),
            );
        }
        // Without a name the address is shown as the name, so it must fit as one.
        if name.is_none() && email.chars().count() > MAX_NAME {
            errors.insert(
                format!("[{i}].email"),
                format!("at most {MAX_NAME} characters unless a name is given"),
            );
        }
        if !fits(extension.as_deref(), MAX_EXTENSION) {
            errors.insert(
                format!("[{i}].extension"),
                format!("at most {MAX_EXTENSION} printable characters"),
            );
        }
        clean.push(Person {
            email,
            name,
            extension,
            origin: None,
        });
    }
    if errors.count > 0 {
        let listed = errors.fields.len();
        let message = if errors.count > listed {
            format!(
                "{} problems in the entries (the first {listed} listed); nothing was saved",
                errors.count
            )
        } else {
            "some entries are invalid; nothing was saved".to_string()
        };
        let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_people", message);
        e.fields = errors.fields;
        return Err(e);
    }
    let upserted = clean.len();
    let watched = app.upsert_people(clean).await?;
    Ok(Json(UpsertResult { upserted, watched }))
}

/// `DELETE /api/v1/people/{email}`.
pub async fn delete(
    State(app): State<Arc<AppState>>,
    Path(email): Path<String>,
) -> Result<StatusCode, ApiError> {
    let email = email.trim().to_lowercase();
    if app.delete_person(&email).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("person"))
    }
}

/// The longest display name the watch list keeps (the store refuses longer ones).
pub(crate) const MAX_NAME: usize = 256;
/// The longest extension the watch list keeps (the store refuses longer ones).
pub(crate) const MAX_EXTENSION: usize = 32;

/// Whether an optional name or extension is short enough and free of control characters.
pub(crate) fn fits(value: Option<&str>, max: usize) -> bool {
    value.is_none_or(|v| v.chars().count() <= max && !v.chars().any(char::is_control))
}

#[derive(Debug, Default, Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    pub dry_run: Option<bool>,
}

/// One refused row of an import.
#[derive(Debug, Serialize)]
pub struct ImportError {
    pub line: usize,
    pub code: &'static str,
    pub message: String,
}

/// The answer of an import.
#[derive(Debug, Serialize)]
pub struct ImportAnswer {
    /// Rows that can be imported.
    pub valid: usize,
    /// Rows imported (0 for a dry run).
    pub imported: usize,
    /// The watch list's size after the import.
    pub watched: Option<usize>,
    pub errors: Vec<ImportError>,
}

/// `POST /api/v1/people/import` with `Content-Type: text/csv`: the valid rows of a CSV are
/// watched (origin `import`) and the bad ones answered by line; `?dry_run=true` only checks.
pub async fn import(
    State(app): State<Arc<AppState>>,
    Query(q): Query<ImportQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<ImportAnswer>, ApiError> {
    let csv = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv"));
    if !csv {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the CSV with Content-Type: text/csv",
        ));
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_encoding",
            "the CSV must be UTF-8 (with or without a byte order mark)",
        ));
    };
    let rows = crate::import::read(text);
    let mut errors = Vec::new();
    let mut people = Vec::new();
    for row in rows {
        match row.problem {
            Some(problem) => {
                if errors.len() < MAX_LISTED_ERRORS {
                    errors.push(ImportError {
                        line: row.line,
                        code: problem.code(),
                        message: crate::i18n::text_in(
                            crate::i18n::Lang::En,
                            problem.message_key(),
                            &[],
                        ),
                    });
                }
            }
            None => people.push(Person {
                email: row.email,
                name: (!row.name.is_empty()).then_some(row.name),
                extension: (!row.extension.is_empty()).then_some(row.extension),
                origin: None,
            }),
        }
    }
    let valid = people.len();
    if q.dry_run.unwrap_or(false) || people.is_empty() {
        return Ok(Json(ImportAnswer {
            valid,
            imported: 0,
            watched: None,
            errors,
        }));
    }
    let watched = app.import_people(people).await?;
    tracing::info!(imported = valid, refused = errors.len(), "people imported");
    Ok(Json(ImportAnswer {
        valid,
        imported: valid,
        watched: Some(watched),
        errors,
    }))
}
