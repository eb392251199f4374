//! `GET /api/v1/sources`, `PUT/DELETE /api/v1/sources/{id}`, `POST /api/v1/sources/{id}/test`
//! and `/retry`: several calendar sources, each with its settings, credentials and health.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::Value;

use calgate_engine::SourceHealth;
use calgate_settings::{
    CalendarSettingsView, Warning, check_display_name, source_id_problem, validate_json,
};
use calgate_store::ApiToken;

use crate::api::settings::{TestRequest, run_test};
use crate::api::{ApiError, store_error};
use crate::sources::ConfigError;
use crate::state::AppState;

/// One source as listed: its settings (secrets as `*_set` flags) and its health.
#[derive(Debug, Serialize)]
pub struct SourceView {
    pub id: String,
    pub display_name: String,
    pub settings: CalendarSettingsView,
    /// `None` for a source the engine has not been handed yet (a moment after a save).
    pub health: Option<SourceHealth>,
}

/// The answer to a save: the source as saved and the warnings about it.
#[derive(Debug, Serialize)]
pub struct SourceSaved {
    pub id: String,
    pub display_name: String,
    pub settings: CalendarSettingsView,
    pub warnings: Vec<Warning>,
}

/// `GET /api/v1/sources`: every source, `default` first.
pub async fn list(State(app): State<Arc<AppState>>) -> Json<Vec<SourceView>> {
    Json(source_views(&app))
}

/// Every source with its health (the pages list the same).
pub fn source_views(app: &AppState) -> Vec<SourceView> {
    let healths = app.engine().health_by_source();
    app.sources()
        .into_iter()
        .map(|s| SourceView {
            health: healths
                .iter()
                .find(|(id, _)| id.as_str() == s.id)
                .map(|(_, h)| h.clone()),
            settings: s.settings.view(),
            display_name: s.display_name,
            id: s.id,
        })
        .collect()
}

/// A 422 for an id outside `[a-z0-9-]{1,32}`.
fn check_id(id: &str) -> Result<(), ApiError> {
    match source_id_problem(id) {
        None => Ok(()),
        Some(problem) => Err(crate::api::refused_id(
            "invalid_source_id",
            "source",
            problem,
        )),
    }
}

/// `PUT /api/v1/sources/{id}`: creates or replaces a source. The body is the settings object
/// of `PUT /api/v1/settings/calendar` with an optional `display_name`; absent fields keep the
/// source's current values (a new source starts from the defaults).
pub async fn put(
    State(app): State<Arc<AppState>>,
    Extension(token): Extension<ApiToken>,
    Path(id): Path<String>,
    Json(mut body): Json<Value>,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    let display_name = match body.as_object_mut().and_then(|o| o.remove("display_name")) {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(check_display_name(&name).map_err(|problem| {
            let mut e = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_settings",
                format!("the source was not saved: {problem}"),
            );
            e.fields.insert("display_name".into(), problem);
            e
        })?),
        Some(_) => {
            let mut e = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_settings",
                "the source was not saved: display_name must be a string",
            );
            e.fields
                .insert("display_name".into(), "must be a string".into());
            return Err(e);
        }
    };
    let existing = app.source(&id);
    let current = existing
        .as_ref()
        .map(|s| s.settings.clone())
        .unwrap_or_default();
    let (settings, warnings) = match validate_json(&body, &current) {
        Ok(ok) => ok,
        Err(fields) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(fields.api_body())).into_response());
        }
    };
    let view = settings.view();
    app.save_source(
        &id,
        display_name.as_deref(),
        settings,
        &format!("api-token:{}", token.label),
    )
    .await
    .map_err(store_error)?;
    let display_name = app.source(&id).map(|s| s.display_name).unwrap_or_default();
    // `default` always exists; any other id is created by its first save.
    let status = if existing.is_none() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(SourceSaved {
            id,
            display_name,
            settings: view,
            warnings,
        }),
    )
        .into_response())
}

/// `DELETE /api/v1/sources/{id}`: removes a source (its sealed secrets with it). Refused while
/// the routing table names it; `default` is reset to unconfigured rather than removed.
pub async fn delete(
    State(app): State<Arc<AppState>>,
    Extension(token): Extension<ApiToken>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    check_id(&id)?;
    if app.source(&id).is_none() {
        return Err(ApiError::not_found("source"));
    }
    match app
        .delete_source(&id, &format!("api-token:{}", token.label))
        .await
    {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(e) => Err(config_error(e)),
    }
}

/// `POST /api/v1/sources/{id}/test`: one real request for one mailbox with that source's
/// saved settings.
pub async fn test(
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    Json(req): Json<TestRequest>,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    let source = app
        .source(&id)
        .ok_or_else(|| ApiError::not_found("source"))?;
    run_test(&app, &id, &source.settings, req).await
}

/// `POST /api/v1/sources/{id}/retry`: "Retry now" for one source.
pub async fn retry(
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<crate::api::signin::RetryAnswer>, ApiError> {
    check_id(&id)?;
    if app.source(&id).is_none() {
        return Err(ApiError::not_found("source"));
    }
    let credentials = app.sign_in.retry_now_for(&id);
    app.engine()
        .retry_now_for(&calgate_engine::SourceId::new(&id));
    tracing::info!(source = %id, credentials, "retry now requested by an administrator");
    Ok(Json(crate::api::signin::RetryAnswer { credentials }))
}

/// The API's answer to a refused change of sources or routing.
pub fn config_error(e: ConfigError) -> ApiError {
    match e {
        ConfigError::InvalidRouting(fields) => {
            let mut err = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_routing",
                fields.summary_of("the routing"),
            );
            err.fields = fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            err
        }
        ConfigError::SourceInUse(_) => {
            ApiError::new(StatusCode::CONFLICT, "source_in_use", e.to_string())
        }
        ConfigError::Store(e) => store_error(e),
    }
}
