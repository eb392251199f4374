//! `GET/PUT /api/v1/settings/calendar` and `POST /api/v1/settings/calendar/test`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use calgate_settings::{CalendarSettingsView, Warning, validate_json};
use calgate_store::ApiToken;

use crate::api::ApiError;
use crate::api::store_error;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct SettingsAnswer {
    pub settings: CalendarSettingsView,
    pub warnings: Vec<Warning>,
}

/// `GET /api/v1/settings/calendar`: every field, secrets as `*_set` flags.
pub async fn get(State(app): State<Arc<AppState>>) -> Json<SettingsAnswer> {
    Json(SettingsAnswer {
        settings: app.settings().view(),
        warnings: Vec::new(),
    })
}

/// `PUT /api/v1/settings/calendar`: validates, saves with an audit row, applies at once.
pub async fn put(
    State(app): State<Arc<AppState>>,
    Extension(token): Extension<ApiToken>,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    let current = app.settings();
    let (settings, warnings) = match validate_json(&body, &current) {
        Ok(ok) => ok,
        Err(fields) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(fields.api_body())).into_response());
        }
    };
    let view = settings.view();
    app.save_settings(settings, &format!("api-token:{}", token.label))
        .await
        .map_err(store_error)?;
    Ok(Json(SettingsAnswer {
        settings: view,
        warnings,
    })
    .into_response())
}

/// A connection test: which mailbox (default: the first watched person the source serves) and,
/// optionally, settings to test instead of the saved ones (the same object `PUT` takes, applied
/// over the saved settings and validated, never saved).
#[derive(Debug, Deserialize)]
pub struct TestRequest {
    #[serde(default)]
    pub mailbox: Option<String>,
    #[serde(default)]
    pub settings: Option<Value>,
}

/// `POST /api/v1/settings/calendar/test`: one real request for one mailbox with the saved
/// settings, and exactly what happened.
pub async fn test(
    State(app): State<Arc<AppState>>,
    Json(req): Json<TestRequest>,
) -> Result<Response, ApiError> {
    let saved = app.settings();
    run_test(&app, calgate_settings::DEFAULT_SOURCE_ID, &saved, req).await
}

/// A connection test of source `id` (saved settings `saved`, or the request's settings applied
/// over them) against the request's mailbox, within the tests-per-minute limit.
pub async fn run_test(
    app: &AppState,
    id: &str,
    saved: &calgate_settings::CalendarSettings,
    req: TestRequest,
) -> Result<Response, ApiError> {
    let settings = match &req.settings {
        None => saved.clone(),
        Some(update) => match validate_json(update, saved) {
            Ok((settings, _)) => settings,
            Err(fields) => {
                return Ok(
                    (StatusCode::UNPROCESSABLE_ENTITY, Json(fields.api_body())).into_response()
                );
            }
        },
    };
    let mut mailbox = req.mailbox.unwrap_or_default().trim().to_ascii_lowercase();
    if mailbox.is_empty() {
        mailbox = app
            .first_watched_of(id)
            .await
            .map_err(store_error)?
            .unwrap_or_default();
    }
    if !crate::view::looks_like_email(&mailbox) {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "mailbox must be an email address",
        );
        e.fields.insert(
            "mailbox".into(),
            "not an email address (and nobody watched is served by this source)".into(),
        );
        return Err(e);
    }
    if let Err(wait) = app.test_limit.take() {
        let secs = wait.as_secs().max(1);
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_tests",
            format!(
                "at most {} connection tests a minute; try again in {secs} s",
                crate::check::TESTS_PER_WINDOW
            ),
        );
        e.retry_after = Some(secs);
        return Err(e);
    }
    Ok(
        Json(crate::check::run(&settings, &app.sign_in, &app.options(), &mailbox).await)
            .into_response(),
    )
}
