//! Liveness, readiness and the source's health.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::Serialize;

use calgate_engine::SourceHealth;

use crate::app::AppState;

#[derive(Debug, Serialize)]
pub struct MailboxCounts {
    pub pending: usize,
    pub fresh: usize,
    pub stale: usize,
    pub error: usize,
}

/// The source's health; with `auth_failed` also the usual causes of a refused service account.
#[derive(Debug, Serialize)]
pub struct SourceView {
    #[serde(flatten)]
    pub health: SourceHealth,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub likely_causes: Option<&'static [&'static str; 3]>,
}

#[derive(Debug, Serialize)]
pub struct HealthView {
    pub source: SourceView,
    pub mailboxes: MailboxCounts,
}

/// `GET /api/v1/health`.
pub async fn health(State(app): State<Arc<AppState>>) -> Json<HealthView> {
    let now = Timestamp::now();
    let [pending, fresh, stale, error] =
        app.engine().board().freshness_counts(now, app.stale_age());
    let health = app.engine().health();
    let likely_causes = (health.state == calgate_engine::SourceState::AuthFailed)
        .then_some(&calgate_auth::LIKELY_CAUSES);
    Json(HealthView {
        source: SourceView {
            health,
            likely_causes,
        },
        mailboxes: MailboxCounts {
            pending,
            fresh,
            stale,
            error,
        },
    })
}

/// `GET /healthz`: the process answers.
pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok")
}

/// `GET /readyz`: the gateway is serving (its store is open and its engine runs).
pub async fn readyz(State(app): State<Arc<AppState>>) -> impl IntoResponse {
    if app.ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting")
    }
}
