//! The gateway's shared state and its HTTP routes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use jiff::{SignedDuration, Timestamp};

use calgate_core::Privacy;
use calgate_engine::{Engine, EngineOptions};

use crate::api::{self, ApiError};
use crate::metrics::GatewayMetrics;
use crate::view::Person;

/// Everything a request handler may touch.
#[derive(Debug)]
pub struct AppState {
    engine: Engine,
    options: RwLock<EngineOptions>,
    people: RwLock<BTreeMap<String, Person>>,
    ready: AtomicBool,
    pub metrics: Arc<GatewayMetrics>,
}

impl AppState {
    pub fn new(engine: Engine, options: EngineOptions) -> AppState {
        AppState {
            engine,
            options: RwLock::new(options),
            people: RwLock::new(BTreeMap::new()),
            ready: AtomicBool::new(false),
            metrics: Arc::new(GatewayMetrics::default()),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn options(&self) -> EngineOptions {
        self.options
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn privacy(&self) -> Privacy {
        self.options().status.privacy
    }

    /// Data older than this is shown as stale (and turns unknown at the status's own limit).
    pub fn stale_age(&self) -> SignedDuration {
        let o = self.options();
        o.refresh_interval * 2
    }

    /// The operator's day in the site's time zone.
    pub fn today(&self, now: Timestamp) -> (Timestamp, Timestamp) {
        let mut o = self.options();
        o.window_days = 1;
        let w = o.window(now);
        (w.start, w.end)
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    pub fn person(&self, email: &str) -> Option<Person> {
        self.people
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(email)
            .cloned()
    }

    /// People whose email, name or extension contains `query` (case-insensitive), by email.
    pub fn search_people(&self, query: &str, limit: usize) -> Vec<Person> {
        let q = query.trim().to_lowercase();
        self.people
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|p| {
                q.is_empty()
                    || p.email.contains(&q)
                    || p.name
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase().contains(&q))
                    || p.extension.as_deref().is_some_and(|x| x.contains(&q))
            })
            .take(limit)
            .cloned()
            .collect()
    }

    /// Adds or updates people and starts watching the new ones. Returns the watch-list size.
    pub async fn upsert_people(&self, people: Vec<Person>) -> Result<usize, ApiError> {
        let emails: Vec<String> = people.iter().map(|p| p.email.clone()).collect();
        let size = {
            let mut map = self.people.write().unwrap_or_else(|e| e.into_inner());
            for p in people {
                map.insert(p.email.clone(), p);
            }
            map.len()
        };
        self.engine.watch(emails);
        Ok(size)
    }

    pub async fn delete_person(&self, email: &str) -> Result<bool, ApiError> {
        let removed = self
            .people
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(email)
            .is_some();
        if removed {
            self.engine.unwatch(vec![email.to_string()]);
        }
        Ok(removed)
    }
}

async fn metrics(State(app): State<Arc<AppState>>) -> impl IntoResponse {
    let body = crate::metrics::render(
        &app.metrics,
        app.engine(),
        Timestamp::now(),
        app.stale_age(),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

/// All routes.
pub fn router(app: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .route("/metrics", get(metrics))
        .route("/api/v1/health", get(api::health::health))
        .route(
            "/api/v1/people",
            get(api::people::list).put(api::people::upsert),
        )
        .route(
            "/api/v1/people/{email}",
            get(api::people::get).delete(api::people::delete),
        )
        .route("/api/v1/stream", get(api::stream::stream))
        .with_state(app)
}
