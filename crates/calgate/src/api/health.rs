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
    /// The gateways sharing this one's PostgreSQL database (absent on SQLite).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances: Option<Vec<InstanceView>>,
    /// Whether the PostgreSQL database answers (absent on SQLite).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseView>,
    /// Graph change notifications; absent while no source subscribes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<NotificationsView>,
}

/// One live gateway on the shared database.
#[derive(Debug, Serialize)]
pub struct InstanceView {
    pub id: String,
    pub address: String,
    /// Shard leases it holds.
    pub leases: u32,
    pub heartbeat_at: Timestamp,
    /// Whether it is the gateway answering.
    pub this: bool,
}

#[derive(Debug, Serialize)]
pub struct DatabaseView {
    pub reachable: bool,
}

impl InstanceView {
    /// The live instances as this gateway last read them.
    pub fn of(app: &AppState) -> Option<Vec<InstanceView>> {
        let cluster = app.cluster.as_ref()?;
        Some(
            cluster
                .instances()
                .into_iter()
                .map(|i| InstanceView {
                    this: i.id == cluster.id,
                    heartbeat_at: Timestamp::from_millisecond(i.heartbeat_at_ms)
                        .unwrap_or(Timestamp::UNIX_EPOCH),
                    id: i.id,
                    address: i.address,
                    leases: i.leases,
                })
                .collect(),
        )
    }
}

/// Graph change notifications at a glance.
#[derive(Debug, Serialize)]
pub struct NotificationsView {
    /// Live subscriptions, all sources together.
    pub subscriptions: usize,
    pub received: u64,
    pub accepted: u64,
    /// Dropped for a wrong `clientState` or an unknown subscription, or refused whole.
    pub dropped: u64,
    pub renewed: u64,
    /// Subscriptions that could not be made (those mailboxes are read at the refresh interval).
    pub failed_subscriptions: u64,
    /// Mean delay from a notification to the new data, in seconds (none yet: `null`).
    pub mean_delay_s: Option<f64>,
}

impl NotificationsView {
    pub fn of(engine: &calgate_engine::Engine) -> Option<NotificationsView> {
        let desk = engine.notifications();
        let by_source = desk.active_by_source();
        if by_source.is_empty() {
            return None;
        }
        let c = &desk.counters;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        let delay = c.delay.snapshot();
        Some(NotificationsView {
            subscriptions: by_source.iter().map(|(_, n)| n).sum(),
            received: load(&c.received),
            accepted: load(&c.accepted),
            dropped: load(&c.dropped_client_state)
                + load(&c.dropped_unknown)
                + load(&c.dropped_malformed)
                + load(&c.dropped_too_large),
            renewed: load(&c.renewed),
            failed_subscriptions: load(&c.create_failures),
            mean_delay_s: (delay.count > 0).then(|| delay.sum_seconds / delay.count as f64),
        })
    }
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
        instances: InstanceView::of(&app),
        database: app.cluster.as_ref().map(|c| DatabaseView {
            reachable: c.reachable(),
        }),
        notifications: NotificationsView::of(app.engine()),
    })
}

/// `GET /healthz`: the process answers.
pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok")
}

/// `GET /readyz`: the gateway is serving (its store is open and its engine runs).
pub async fn readyz(State(app): State<Arc<AppState>>) -> impl IntoResponse {
    if app.cluster.as_ref().is_some_and(|c| !c.reachable()) {
        // A load balancer takes it out: it fetches nothing and may serve old data.
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable");
    }
    if app.ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting")
    }
}
