//! The gateway's HTTP routes: open liveness, readiness and metrics; the `/api/v1` routes behind
//! a Bearer API token; the portal's pages.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;

use calgate_store::ApiRole;

use crate::api::{self, ApiError};
use crate::state::AppState;

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
        .map_err(api::store_error)?;
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
            "/api/v1/people/import",
            post(api::people::import).layer(axum::extract::DefaultBodyLimit::max(
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
        .route("/api/v1/sources", get(api::sources::list))
        .route(
            "/api/v1/sources/{id}",
            axum::routing::put(api::sources::put).delete(api::sources::delete),
        )
        .route("/api/v1/sources/{id}/test", post(api::sources::test))
        .route("/api/v1/sources/{id}/retry", post(api::sources::retry))
        .route("/api/v1/directories", get(api::directories::list))
        .route(
            "/api/v1/directories/{id}",
            axum::routing::put(api::directories::put).delete(api::directories::delete),
        )
        .route(
            "/api/v1/directories/{id}/sync",
            post(api::directories::sync),
        )
        .route(
            "/api/v1/directories/{id}/test",
            post(api::directories::test),
        )
        .route(
            "/api/v1/routing",
            get(api::routing::get).put(api::routing::put),
        )
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
        .layer(middleware::from_fn_with_state(app.clone(), language))
        .with_state(app)
}

/// Every request is handled in its reader's language (see [`crate::i18n`]).
async fn language(State(app): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let lang = crate::i18n::negotiate(req.headers(), app.default_language());
    crate::i18n::scope(lang, next.run(req)).await
}
