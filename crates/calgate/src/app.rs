//! The gateway's shared state and its HTTP routes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::{SignedDuration, Timestamp};

use calgate_engine::{CalendarSource, Engine, EngineOptions};
use calgate_settings::CalendarSettings;
use calgate_store::{ApiRole, Store, WatchedPerson};

use crate::api::{self, ApiError};
use crate::metrics::GatewayMetrics;
use crate::view::Person;

/// Where the engine's source comes from.
#[derive(Clone)]
pub enum SourceMode {
    /// Built from the saved settings, rebuilt on every save (the product).
    FromSettings,
    /// A fixed source (tests that drive the engine directly).
    Fixed(Option<Arc<dyn CalendarSource>>),
}

impl std::fmt::Debug for SourceMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceMode::FromSettings => f.write_str("FromSettings"),
            SourceMode::Fixed(s) => write!(f, "Fixed({})", s.as_ref().map_or("none", |s| s.name())),
        }
    }
}

/// Everything a request handler may touch.
#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    engine: Engine,
    settings: RwLock<CalendarSettings>,
    options: RwLock<EngineOptions>,
    site_time_zone: jiff::tz::TimeZone,
    source_mode: SourceMode,
    pub sign_in: calgate_sources::SignInContext,
    /// The device-code sign-in in progress (portal and API).
    pub device_flow: std::sync::Mutex<crate::api::signin::DeviceFlow>,
    /// Fixed engine options (tests), instead of options derived from the settings.
    options_override: Option<EngineOptions>,
    ready: AtomicBool,
    pub metrics: Arc<GatewayMetrics>,
    /// The web pages' sign-in sessions.
    pub portal: crate::portal::Sessions,
    /// Failed sign-ins to the pages, per address and account.
    pub sign_in_limit: crate::portal::SignInLimiter,
    /// Connection tests per minute.
    pub test_limit: crate::check::TestLimit,
    /// Cancelled when the gateway shuts down: open event streams end so the server can stop.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The data directory's last write probe (health answers reuse it for a few seconds).
    pub store_probe: crate::api::health::ProbeCache,
    /// Connections, streams and timeouts.
    pub limits: crate::config::ServerLimits,
}

/// Engine options for `settings` at the site's time zone.
pub fn engine_options(settings: &CalendarSettings, tz: &jiff::tz::TimeZone) -> EngineOptions {
    let mut options = EngineOptions::with_interval(SignedDuration::from_secs(i64::from(
        settings.refresh_interval_s,
    )));
    options.site_time_zone = tz.clone();
    options.status.privacy = settings.privacy;
    options.status.rules = settings.status_rules;
    options
}

impl AppState {
    /// The state around `store`, with an engine started (without a source) on the options for
    /// `settings`; [`AppState::apply_settings`] gives it its source.
    pub fn new(
        store: Store,
        settings: CalendarSettings,
        site_time_zone: jiff::tz::TimeZone,
        source_mode: SourceMode,
        options_override: Option<EngineOptions>,
        sign_in: calgate_sources::SignInContext,
        limits: crate::config::ServerLimits,
    ) -> AppState {
        let options = options_override
            .clone()
            .unwrap_or_else(|| engine_options(&settings, &site_time_zone));
        AppState {
            store,
            engine: Engine::start(None, options.clone()),
            settings: RwLock::new(settings),
            options: RwLock::new(options),
            site_time_zone,
            source_mode,
            sign_in,
            device_flow: std::sync::Mutex::default(),
            options_override,
            ready: AtomicBool::new(false),
            metrics: Arc::new(GatewayMetrics::default()),
            portal: crate::portal::Sessions::default(),
            sign_in_limit: crate::portal::SignInLimiter::default(),
            test_limit: crate::check::TestLimit::default(),
            shutdown: tokio_util::sync::CancellationToken::new(),
            store_probe: crate::api::health::ProbeCache::default(),
            limits,
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

    pub fn settings(&self) -> CalendarSettings {
        self.settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Data older than this is shown as stale (and turns unknown at the status's own limit).
    pub fn stale_age(&self) -> SignedDuration {
        self.options().refresh_interval * 2
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Applies new settings: the engine switches source at once; the old credentials are not
    /// used again (requests in flight with them are dropped).
    pub fn apply_settings(&self, settings: CalendarSettings) {
        let options = self
            .options_override
            .clone()
            .unwrap_or_else(|| engine_options(&settings, &self.site_time_zone));
        *self.options.write().unwrap_or_else(|e| e.into_inner()) = options.clone();
        match &self.source_mode {
            SourceMode::Fixed(source) => self.engine.replace_source(source.clone(), options),
            SourceMode::FromSettings => {
                match calgate_sources::build_active(&settings, &self.sign_in) {
                    Ok(source) => self.engine.replace_source(Some(source), options),
                    Err(why) => self.engine.misconfigure(why.code, &why.message, options),
                }
            }
        }
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = settings;
    }

    /// Saves validated settings with an audit row naming `actor`, then applies them.
    pub async fn save_settings(
        &self,
        settings: CalendarSettings,
        actor: &str,
    ) -> Result<(), calgate_store::StoreError> {
        let saved = self.store.save_calendar_settings(&settings, actor).await?;
        tracing::info!(
            revision = saved.revision,
            fields = ?saved.changed_fields,
            actor = %actor,
            "calendar settings saved"
        );
        self.apply_settings(settings);
        Ok(())
    }

    pub async fn person(&self, email: &str) -> Result<Option<Person>, ApiError> {
        Ok(self
            .store
            .get_person(email)
            .await
            .map_err(store_error)?
            .map(to_person))
    }

    /// People whose email, name or extension matches `query`.
    pub async fn search_people(&self, query: &str, limit: usize) -> Result<Vec<Person>, ApiError> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let people = self
            .store
            .search_people(query.trim(), limit)
            .await
            .map_err(store_error)?;
        Ok(people.into_iter().map(to_person).collect())
    }

    /// Adds or updates people and starts watching the new ones. Returns the watch-list size.
    pub async fn upsert_people(&self, people: Vec<Person>) -> Result<usize, ApiError> {
        let emails: Vec<String> = people.iter().map(|p| p.email.clone()).collect();
        let rows: Vec<WatchedPerson> = people
            .into_iter()
            .map(|p| WatchedPerson {
                display_name: p.name.unwrap_or_default(),
                email: p.email,
                extension: p.extension,
                source: "api".to_string(),
            })
            .collect();
        self.store.upsert_people(&rows).await.map_err(store_error)?;
        self.engine.watch(emails);
        let count = self.store.count_people().await.map_err(store_error)?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    pub async fn delete_person(&self, email: &str) -> Result<bool, ApiError> {
        let removed = self.store.delete_person(email).await.map_err(store_error)?;
        if removed {
            self.engine.unwatch(vec![email.to_string()]);
        }
        Ok(removed)
    }
}

fn to_person(p: WatchedPerson) -> Person {
    let name = (!p.display_name.is_empty() && p.display_name != p.email).then_some(p.display_name);
    Person {
        email: p.email,
        name,
        extension: p.extension,
    }
}

/// A store failure as an API error: the message names the problem (a full disk, say) but never
/// a secret, which store errors never hold. Input the store refuses is the caller's mistake
/// (422), not an unavailable store: a client told 503 would retry the same request for ever.
pub fn store_error(e: calgate_store::StoreError) -> ApiError {
    if let calgate_store::StoreError::InvalidInput { .. } = &e {
        tracing::info!(error = %e, "input refused by the store");
        return ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            e.to_string(),
        );
    }
    tracing::error!(error = %e, "store operation failed");
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
        format!("the database refused the operation: {e}"),
    )
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

fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

async fn require(
    app: &AppState,
    token: Option<String>,
    admin: bool,
) -> Result<calgate_store::ApiToken, ApiError> {
    app.metrics
        .http_requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let Some(token) = token else {
        app.metrics.auth_rejections.fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::unauthorized());
    };
    let found = app
        .store
        .verify_api_token(&token)
        .await
        .map_err(store_error)?;
    match found {
        None => {
            app.metrics.auth_rejections.fetch_add(1, Ordering::Relaxed);
            Err(ApiError::unauthorized())
        }
        Some(t) if admin && t.role != ApiRole::Admin => Err(ApiError::forbidden()),
        Some(t) => Ok(t),
    }
}

async fn console_auth(State(app): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let token = bearer(&req);
    // The operator page reads the same API with its sign-in cookie (no token in a URL).
    if token.is_none()
        && app
            .portal
            .current(&app.store, req.headers())
            .await
            .is_some()
    {
        return next.run(req).await;
    }
    match require(&app, token, false).await {
        Ok(token) => {
            req.extensions_mut().insert(token);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

async fn admin_auth(State(app): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let token = bearer(&req);
    match require(&app, token, true).await {
        Ok(token) => {
            req.extensions_mut().insert(token);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// All routes. Console tokens read people, statuses, the stream and health; admin tokens may
/// also change the watch list and the settings. Liveness, readiness and metrics are open.
pub fn router(app: Arc<AppState>) -> Router {
    let console = Router::new()
        .route("/api/v1/health", get(api::health::health))
        .route("/api/v1/people", get(api::people::list))
        .route("/api/v1/people/{email}", get(api::people::get))
        .route("/api/v1/stream", get(api::stream::stream))
        .route_layer(middleware::from_fn_with_state(app.clone(), console_auth));
    let admin = Router::new()
        .route(
            "/api/v1/people",
            axum::routing::put(api::people::upsert).layer(axum::extract::DefaultBodyLimit::max(
                usize::try_from(api::WATCH_LIST_BODY_LIMIT).unwrap_or(usize::MAX),
            )),
        )
        .route(
            "/api/v1/people/{email}",
            axum::routing::delete(api::people::delete),
        )
        .route(
            "/api/v1/settings/calendar",
            get(api::settings::get).put(api::settings::put),
        )
        .route("/api/v1/settings/calendar/test", post(api::settings::test))
        .route("/api/v1/source/retry", post(api::signin::retry))
        .route(
            "/api/v1/tokens",
            get(api::tokens::list).post(api::tokens::create),
        )
        .route(
            "/api/v1/tokens/{id}",
            axum::routing::delete(api::tokens::revoke),
        )
        .route(
            "/api/v1/signin/device-code",
            get(api::signin::device_code_status)
                .post(api::signin::start_device_code)
                .delete(api::signin::forget_device_code),
        )
        .route_layer(middleware::from_fn_with_state(app.clone(), admin_auth));
    Router::new()
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(api::openapi::openapi))
        .merge(console)
        .merge(admin)
        .merge(crate::portal::router(app.clone()))
        .fallback(api::no_route)
        .with_state(app)
}
