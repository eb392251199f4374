//! Liveness, readiness, the sources' health, and whether the data directory still takes writes.
//!
//! The data directory is probed with a real write, but at most once per [`PROBE_CACHE`] per
//! directory: a monitoring loop polling health must not become a disk-write loop, and concurrent
//! callers share the one probe in progress.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::Serialize;

use calgate_engine::{SourceHealth, SourceId};

use crate::state::AppState;
use crate::store_probe::{PROBE_CACHE, StoreView, probe_store_cached};

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

/// One source's health, by id (the default source is `default`).
#[derive(Debug, Serialize)]
pub struct SourceEntry {
    pub id: SourceId,
    #[serde(flatten)]
    pub health: SourceHealth,
}

#[derive(Debug, Serialize)]
pub struct HealthView {
    /// The default source (what a single-source gateway has).
    pub source: SourceView,
    /// Every configured source, the default included.
    pub sources: Vec<SourceEntry>,
    pub mailboxes: MailboxCounts,
    pub store: StoreView,
}

/// `GET /api/v1/health`.
pub async fn health(State(app): State<Arc<AppState>>) -> Json<HealthView> {
    let now = Timestamp::now();
    let [pending, fresh, stale, error] =
        app.engine().board().freshness_counts(now, app.stale_age());
    let health = app.engine().health();
    let sources = app
        .engine()
        .health_by_source()
        .into_iter()
        .map(|(id, health)| SourceEntry { id, health })
        .collect();
    let likely_causes = (health.state == calgate_engine::SourceState::AuthFailed)
        .then_some(&calgate_auth::LIKELY_CAUSES);
    let store = probe_store_cached(&app.store_probe, app.store.data_dir(), PROBE_CACHE).await;
    Json(HealthView {
        source: SourceView {
            health,
            likely_causes,
        },
        sources,
        mailboxes: MailboxCounts {
            pending,
            fresh,
            stale,
            error,
        },
        store,
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
