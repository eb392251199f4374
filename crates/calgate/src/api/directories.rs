//! `GET /api/v1/directories`, `PUT/DELETE /api/v1/directories/{id}`,
//! `POST /api/v1/directories/{id}/sync` (`?dry_run=true`, `?confirm_removals=true`) and
//! `POST /api/v1/directories/{id}/test`: the directories the watch list is synced from.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use calgate_settings::{DirectoryConfig, FieldErrors};
use calgate_store::{ApiToken, PasswordChange};

use crate::api::{ApiError, store_error};
use crate::directories::{SyncError, SyncMode, Trigger, directory_view, graph_sources};
use crate::state::AppState;

/// People a test query answers at most.
pub(crate) const TEST_PEOPLE: usize = 10;

/// `GET /api/v1/directories`: every directory with its last sync's outcome.
pub async fn list(State(app): State<Arc<AppState>>) -> Result<Json<Vec<Value>>, ApiError> {
    let directories = app.store.load_directories().await.map_err(store_error)?;
    Ok(Json(
        directories
            .iter()
            .map(|d| directory_view(&app, d))
            .collect(),
    ))
}

// Why `id` cannot name a directory (the settings crate's rule), or `None`.
pub(crate) use calgate_settings::directory_id_problem as id_problem;

fn check_id(id: &str) -> Result<(), ApiError> {
    match id_problem(id) {
        None => Ok(()),
        Some(problem) => Err(crate::api::refused_id(
            "invalid_directory_id",
            "directory",
            problem,
        )),
    }
}

fn invalid(fields: FieldErrors) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_directory",
        fields.summary_of("the directory"),
    );
    e.fields = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    e
}

/// The configuration and password change in a `PUT` body, or why it is refused.
/// What is stored of a directory before a save: whether a bind password is, and the URL it
/// was entered for.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stored<'a> {
    pub password: bool,
    pub url: Option<&'a str>,
}

impl<'a> Stored<'a> {
    pub(crate) fn of(d: Option<&'a calgate_store::StoredDirectory>) -> Stored<'a> {
        Stored {
            password: d.is_some_and(|d| d.bind_password_set),
            url: d.and_then(|d| d.config.url.as_deref()),
        }
    }
}

/// The configuration and password change in a `PUT` body, or why it is refused. A stored bind
/// password is never sent to another server: when the URL changes, the password must be
/// entered again (as a calendar source's secrets must when their addresses move).
pub(crate) fn parse_body(
    mut body: Value,
    stored: Stored<'_>,
    graph: &[String],
) -> Result<(DirectoryConfig, PasswordChange), FieldErrors> {
    let stored_password = stored.password;
    let mut errors = FieldErrors::default();
    let password = match body.as_object_mut().map(|o| o.remove("bind_password")) {
        None | Some(None) => PasswordChange::Keep,
        Some(Some(Value::Null)) => PasswordChange::Clear,
        Some(Some(Value::String(p))) if p.is_empty() => PasswordChange::Keep,
        Some(Some(Value::String(p))) if p.len() <= 1024 => {
            PasswordChange::Set(SecretString::from(p))
        }
        Some(Some(_)) => {
            errors.insert("bind_password", "a string of at most 1024 bytes, or null");
            PasswordChange::Keep
        }
    };
    if let Some(o) = body.as_object_mut() {
        // Read-back fields a client may send back unchanged.
        for ignored in [
            "id",
            "bind_password_set",
            "last_sync",
            "syncing",
            "delta_saved",
        ] {
            o.remove(ignored);
        }
    }
    let config: DirectoryConfig = match serde_json::from_value(body) {
        Ok(c) => c,
        Err(e) => {
            errors.insert("body", format!("not a directory object: {e}"));
            return Err(errors);
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let password_set = match &password {
        PasswordChange::Keep => stored_password,
        PasswordChange::Set(_) => true,
        PasswordChange::Clear => false,
    };
    let config = config.checked(password_set, graph)?;
    let same = |a: Option<&str>, b: Option<&str>| {
        a.map(|u| u.trim().to_ascii_lowercase()) == b.map(|u| u.trim().to_ascii_lowercase())
    };
    if stored_password
        && matches!(password, PasswordChange::Keep)
        && config.bind_dn.is_some()
        && !same(stored.url, config.url.as_deref())
    {
        let mut errors = FieldErrors::default();
        errors.insert_coded(
            "bind_password",
            calgate_settings::SECRET_REENTRY_CODE,
            "enter the bind password again: the URL changed, and a stored password is never \
             sent to another server",
        );
        return Err(errors);
    }
    Ok((config, password))
}

/// `PUT /api/v1/directories/{id}`: creates or replaces a directory. `bind_password` is
/// write-only: absent or empty keeps the stored one, `null` removes it.
pub async fn put(
    State(app): State<Arc<AppState>>,
    Extension(token): Extension<ApiToken>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    let existing = app.store.load_directory(&id).await.map_err(store_error)?;
    let (config, password) =
        parse_body(body, Stored::of(existing.as_ref()), &graph_sources(&app)).map_err(invalid)?;
    app.store
        .save_directory(
            &id,
            &config,
            password,
            &format!("api-token:{}", token.label),
        )
        .await
        .map_err(store_error)?;
    tracing::info!(directory = %id, kind = ?config.kind, "directory saved");
    crate::cluster::announce(&app, crate::cluster::Changed::Directories).await;
    let saved = app
        .store
        .load_directory(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ApiError::not_found("directory"))?;
    let status = if existing.is_none() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(directory_view(&app, &saved))).into_response())
}

/// `DELETE /api/v1/directories/{id}`: removes a directory; its people stay watched, as people
/// added by hand.
pub async fn delete(
    State(app): State<Arc<AppState>>,
    Extension(token): Extension<ApiToken>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    check_id(&id)?;
    let existed = app
        .store
        .delete_directory(&id, &format!("api-token:{}", token.label))
        .await
        .map_err(store_error)?;
    if existed {
        app.metrics.forget_directory(&id);
        tracing::info!(directory = %id, "directory deleted");
        crate::cluster::announce(&app, crate::cluster::Changed::Directories).await;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("directory"))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SyncQuery {
    #[serde(default)]
    dry_run: Option<bool>,
    #[serde(default)]
    confirm_removals: Option<bool>,
}

/// `POST /api/v1/directories/{id}/sync`: syncs now (after a running sync ends) and answers
/// the outcome: `{status: ok|held|failed, added, updated, removed, unchanged, held, warnings,
/// error}`. `?dry_run=true` answers what would change without changing it;
/// `?confirm_removals=true` lets a held sync remove.
pub async fn sync(
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<SyncQuery>,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let mode = SyncMode {
        dry_run: q.dry_run.unwrap_or(false),
        confirm_removals: q.confirm_removals.unwrap_or(false),
    };
    match app.sync_directory(&id, mode, Trigger::Admin).await {
        Ok(outcome) => Ok(Json(outcome.to_json())),
        Err(e) => Err(sync_error(e)),
    }
}

pub(crate) fn sync_error(e: SyncError) -> ApiError {
    match e {
        SyncError::NotFound(_) => ApiError::not_found("directory"),
        SyncError::Running(_) => ApiError::new(
            StatusCode::CONFLICT,
            "directory_sync_running",
            e.to_string(),
        ),
        SyncError::Store(e) => store_error(e),
    }
}

/// `POST /api/v1/directories/{id}/test`: binds and reads the first ten people, mapped,
/// changing nothing: `{people: [{email, name, extension, source}], warnings}`.
pub async fn test(
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let read = app
        .test_directory(&id, TEST_PEOPLE)
        .await
        .map_err(sync_error)?;
    let people = crate::directories::people_of(&read);
    let warnings: Vec<Value> = read
        .warnings
        .iter()
        .map(|w| json!({"code": w.code.to_string(), "message": w.message}))
        .collect();
    Ok(Json(json!({
        "ok": !people.is_empty() || warnings.is_empty(),
        "people": people.iter().map(|e| json!({
            "email": e.email, "name": e.name, "extension": e.extension, "source": e.source,
        })).collect::<Vec<_>>(),
        "warnings": warnings,
    })))
}
