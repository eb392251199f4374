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

#[derive(Debug, Serialize)]
pub struct HealthView {
    pub source: SourceHealth,
    pub mailboxes: MailboxCounts,
}

/// `GET /api/v1/health`.
pub async fn health(State(app): State<Arc<AppState>>) -> Json<HealthView> {
    let now = Timestamp::now();
    let [pending, fresh, stale, error] =
        app.engine().board().freshness_counts(now, app.stale_age());
    Json(HealthView {
        source: app.engine().health(),
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
