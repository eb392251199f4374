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
/// also change the watch list and the settings. Liveness, readiness, metrics and the endpoints
/// Microsoft Graph posts notifications to are open (a notification proves itself by its
/// subscription's `clientState`).
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
        .route(
            calgate_sources::graph_source::NOTIFICATION_PATH,
            post(api::notifications::change),
        )
        .route(
            calgate_sources::graph_source::LIFECYCLE_PATH,
            post(api::notifications::lifecycle),
        )
        .route("/api/v1/openapi.json", get(api::openapi::openapi))
        .merge(console)
        .merge(admin)
        .merge(crate::portal::router(app.clone()))
        .fallback(api::no_route)
        .layer(middleware::from_fn_with_state(app.clone(), language))
        .with_state(app)
}

/// The plain-HTTP listener beside an HTTPS one: every request, whatever its method, gets a
/// 308 to the same path and query on the HTTPS port of the host it asked for (308 keeps a
/// POST a POST). Without a usable `Host` there is nowhere to send it: 400.
pub fn https_redirect(https_port: u16) -> Router {
    Router::new().fallback(move |req: Request| async move {
        match https_location(&req, https_port) {
            Some(location) => (
                axum::http::StatusCode::PERMANENT_REDIRECT,
                [(header::LOCATION, location)],
                "This gateway is served over HTTPS.\n",
            )
                .into_response(),
            None => (
                axum::http::StatusCode::BAD_REQUEST,
                "A Host header is needed to redirect to HTTPS.\n",
            )
                .into_response(),
        }
    })
}

fn https_location(req: &Request, https_port: u16) -> Option<String> {
    let host = req.headers().get(header::HOST)?.to_str().ok()?;
    // A user part has no place in a Host header; refusing it keeps the parse simple.
    if host.is_empty() || host.contains('@') {
        return None;
    }
    let authority: axum::http::uri::Authority = host.parse().ok()?;
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str);
    Some(format!("https://{}{port}{path}", authority.host()))
}

/// Every request is handled in its reader's language (see [`crate::i18n`]).
async fn language(State(app): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let lang = crate::i18n::negotiate(req.headers(), app.default_language());
    crate::i18n::scope(lang, next.run(req)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(host: Option<&str>, target: &str, port: u16) -> Option<String> {
        let mut req = Request::builder().uri(target);
        if let Some(host) = host {
            req = req.header(header::HOST, host);
        }
        https_location(&req.body(axum::body::Body::empty()).ok()?, port)
    }

    #[test]
    fn the_redirect_keeps_host_path_and_query_and_names_the_https_port() {
        assert_eq!(
            location(Some("gw.example:80"), "/portal/login?next=/console", 8443).as_deref(),
            Some("https://gw.example:8443/portal/login?next=/console")
        );
        assert_eq!(
            location(Some("gw.example"), "/", 443).as_deref(),
            Some("https://gw.example/")
        );
        assert_eq!(
            location(Some("[2001:db8::1]:80"), "/x", 443).as_deref(),
            Some("https://[2001:db8::1]/x")
        );
        assert_eq!(location(None, "/", 443), None);
        assert_eq!(location(Some("evil@gw.example"), "/", 443), None);
        assert_eq!(location(Some("gw example"), "/", 443), None);
        assert_eq!(location(Some(""), "/", 443), None);
    }
}
