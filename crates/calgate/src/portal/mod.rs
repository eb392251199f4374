//! The web pages: the admin portal (settings, test connection, health, watch list, logs) and the
//! operator console. Server-rendered with askama (auto-escaped), a little plain JavaScript of our
//! own for live updates and showing only the fields that apply, and no inline script or style so a
//! strict Content-Security-Policy holds.
//!
//! Sign-in is a session cookie (HttpOnly, SameSite=Strict, expiring) issued after the admin
//! password is verified by the store, or after a console API token is presented for the operator
//! page. Failed sign-ins are rate-limited. Every state-changing request carries the session's CSRF
//! token (a hidden form field, or the `x-csrf-token` header for scripts); a middleware refuses any
//! POST without it before a handler runs.

mod console;
mod guidance;
mod health;
mod people;
mod sessions;
mod settings;
mod text;
mod tokens;

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::app::AppState;

pub use sessions::{Role, Session, Sessions};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "calgate_session";
/// The form field (and header) that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
const CSRF_HEADER: &str = "x-csrf-token";
/// Largest form body accepted (a pasted watch list of a few thousand lines fits).
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// The pages' Content-Security-Policy: our own scripts, styles and connections only.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
                       base-uri 'none'";

/// The navigation bar and the sign-out form every signed-in page shows.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub csrf: String,
    pub user: String,
    pub admin: bool,
    pub active: &'static str,
}

impl Chrome {
    pub fn new(session: &Session, active: &'static str) -> Chrome {
        Chrome {
            csrf: session.csrf.clone(),
            user: session.user.clone(),
            admin: session.role == Role::Admin,
            active,
        }
    }
}

/// An admin session, or a redirect to the sign-in page.
#[derive(Debug, Clone)]
pub struct AdminSession(pub Session);

/// Any session (admin or console), or a redirect to the sign-in page.
#[derive(Debug, Clone)]
pub struct AnySession(pub Session);

/// A redirect back to `page` with a one-line notice shown on it.
fn with_notice(page: &str, notice: &str) -> Response {
    Redirect::to(&format!("{page}?notice={}", text::url_encode(notice))).into_response()
}

fn to_login(parts: &Parts) -> Response {
    if parts.method != Method::GET {
        return (
            StatusCode::FORBIDDEN,
            "your session has ended: sign in again",
        )
            .into_response();
    }
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let target = format!("/portal/login?next={}", text::url_encode(next));
    Redirect::to(&target).into_response()
}

impl FromRequestParts<Arc<AppState>> for AdminSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<AdminSession, Response> {
        match app.portal.signed_in(&parts.headers) {
            Some(s) if s.role == Role::Admin => Ok(AdminSession(s)),
            Some(_) => Err((
                StatusCode::FORBIDDEN,
                "this page is for the administrator; operators use the console",
            )
                .into_response()),
            None => Err(to_login(parts)),
        }
    }
}

impl FromRequestParts<Arc<AppState>> for AnySession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<AnySession, Response> {
        app.portal
            .signed_in(&parts.headers)
            .map(AnySession)
            .ok_or_else(|| to_login(parts))
    }
}

/// The pages' routes (merged into the gateway's router).
pub fn router(app: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route(
            "/portal",
            get(|| async { Redirect::to("/portal/settings") }),
        )
        .route("/portal/login", get(login_page).post(login))
        .route("/portal/logout", post(logout))
        .route("/portal/settings", get(settings::page).post(settings::save))
        .route("/portal/settings/test", post(settings::test))
        .route(
            "/portal/signin/device-code",
            get(settings::device_code_state).post(settings::start_device_code),
        )
        .route("/portal/health", get(health::page))
        .route("/portal/health/retry", post(health::retry))
        .route("/portal/logs", get(health::logs))
        .route("/portal/logs/download", get(health::download))
        .route("/portal/people", get(people::page))
        .route("/portal/people/add", post(people::add))
        .route("/portal/people/remove", post(people::remove))
        .route("/portal/people/import", post(people::import))
        .route("/portal/tokens", get(tokens::page))
        .route("/portal/tokens/create", post(tokens::create))
        .route("/portal/tokens/revoke", post(tokens::revoke))
        .route("/console", get(console::page))
        .route("/static/{file}", get(asset))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .layer(middleware::from_fn_with_state(app, guard))
}

/// Runs before every page: refuses cross-site and CSRF-less POSTs, and adds the security
/// headers to every answer.
async fn guard(State(app): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let req = if req.method() == Method::POST {
        match check_post(&app, req).await {
            Ok(req) => req,
            Err(refusal) => return with_headers(refusal),
        }
    } else {
        req
    };
    with_headers(next.run(req).await)
}

fn with_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// A POST must come from our own pages (same origin when the browser says) and, once signed in,
/// carry the session's CSRF token. The body is read here and handed on unchanged.
async fn check_post(app: &AppState, req: Request) -> Result<Request, Response> {
    let forbidden = |why: &'static str| (StatusCode::FORBIDDEN, why).into_response();
    if !same_origin(req.headers()) {
        return Err(forbidden("cross-site request refused"));
    }
    if req.uri().path() == "/portal/login" {
        return Ok(req);
    }
    let Some(session) = app.portal.signed_in(req.headers()) else {
        return Err(forbidden("your session has ended: sign in again"));
    };
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response())?;
    let presented = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            url::form_urlencoded::parse(&bytes)
                .find(|(k, _)| k == CSRF_FIELD)
                .map(|(_, v)| v.into_owned())
        });
    match presented {
        Some(token) if sessions::same_secret(&token, &session.csrf) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(forbidden(
            "missing or wrong form token (CSRF): reload the page and try again",
        )),
    }
}

/// False when the browser names an `Origin` other than the host it talks to.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin);
    origin_host.eq_ignore_ascii_case(host)
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    error: Option<String>,
    username: String,
}

/// Only local paths are followed after sign-in (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/portal/settings".to_string(),
    }
}

async fn login_page(Query(q): Query<LoginQuery>) -> impl IntoResponse {
    LoginPage {
        next: safe_next(q.next.as_deref()),
        error: None,
        username: crate::gateway::ADMIN_USER.to_string(),
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: Option<String>,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Whether the browser reached us over HTTPS (through a TLS front end that says so).
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

async fn login(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let secure = over_https(&headers);
    let refuse = |status: StatusCode, why: String, username: String| {
        (
            status,
            LoginPage {
                next: next.clone(),
                error: Some(why),
                username,
            },
        )
            .into_response()
    };
    if let Some(wait) = app.portal.locked_for() {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins. Try again in {} s.",
                wait.as_secs().max(1)
            ),
            form.username,
        );
    }
    // An operator signs in with a console API token; the administrator with the password.
    if !form.token.trim().is_empty() {
        return match app.store.verify_api_token(form.token.trim()).await {
            Ok(Some(t)) => {
                let role = match t.role {
                    calgate_store::ApiRole::Admin => Role::Admin,
                    _ => Role::Console,
                };
                let (cookie, _) = app
                    .portal
                    .create(role, &format!("token:{}", t.label), secure);
                tracing::info!(label = %t.label, "signed in to the pages with an API token");
                let target = if role == Role::Console {
                    "/console".to_string()
                } else {
                    next.clone()
                };
                signed_in(cookie, &target)
            }
            Ok(None) => {
                app.portal.record_failure();
                refuse(
                    StatusCode::UNAUTHORIZED,
                    "That token is not valid.".to_string(),
                    form.username,
                )
            }
            Err(e) => refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("The database did not answer: {e}"),
                form.username,
            ),
        };
    }
    let password = secrecy::SecretString::from(form.password);
    match app
        .store
        .verify_admin_password(&form.username, &password)
        .await
    {
        Ok(true) => {
            let (cookie, _) = app.portal.create(Role::Admin, form.username.trim(), secure);
            tracing::info!(user = %form.username.trim(), "administrator signed in");
            signed_in(cookie, &next)
        }
        Ok(false) => {
            app.portal.record_failure();
            tracing::warn!(user = %form.username.trim(), "portal sign-in refused");
            refuse(
                StatusCode::UNAUTHORIZED,
                "Wrong username or password.".to_string(),
                form.username,
            )
        }
        Err(e) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("The database did not answer: {e}"),
            form.username,
        ),
    }
}

fn signed_in(cookie: String, target: &str) -> Response {
    let mut resp = Redirect::to(target).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

async fn logout(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    app.portal.end(&headers);
    let mut resp = Redirect::to("/portal/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(sessions::CLEAR_COOKIE),
    );
    resp
}

const STYLE: &str = include_str!("../../static/calgate.css");
const PORTAL_JS: &str = include_str!("../../static/portal.js");
const CONSOLE_JS: &str = include_str!("../../static/console.js");

/// The vendored static files, embedded in the binary.
async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "calgate.css" => (STYLE, "text/css; charset=utf-8"),
        "portal.js" => (PORTAL_JS, "text/javascript; charset=utf-8"),
        "console.js" => (CONSOLE_JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/console")), "/console");
        assert_eq!(safe_next(Some("//evil.example/x")), "/portal/settings");
        assert_eq!(safe_next(Some("https://evil.example/")), "/portal/settings");
        assert_eq!(safe_next(Some("/\\evil.example")), "/portal/settings");
        assert_eq!(safe_next(None), "/portal/settings");
    }

    #[test]
    fn cross_site_posts_are_recognised() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("gw.local:8080"));
        assert!(same_origin(&h), "no Origin: a non-browser client");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://gw.local:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h));
    }
}
