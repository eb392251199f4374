//! The web pages: the admin portal (settings per source, test connection, sources and routing,
//! directories, health, watch list, API tokens, the administrator's account, logs) and the
//! operator console.
//! Server-rendered with askama (auto-escaped), a little plain JavaScript of our own for live
//! updates and showing only the fields that apply, and no inline script or style so a
//! strict Content-Security-Policy holds.
//!
//! Sign-in is a session cookie (HttpOnly, SameSite=Strict, expiring) issued after the admin
//! password is verified by the store, or after a console API token is presented for the operator
//! page. Failed sign-ins are limited per client address and per account (`signin_limit.rs`).
//! A session ends when its token is revoked or the admin password changes. Every state-changing
//! request carries the session's CSRF
//! token (a hidden form field, or the `x-csrf-token` header for scripts); a middleware refuses any
//! POST without it before a handler runs.

mod account;
mod console;
mod directories;
mod guidance;
mod health;
mod login;
mod people;
mod settings;
mod settings_form;
mod sources;
mod text;
mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::state::AppState;

pub use crate::sessions::{Credential, Role, Session, Sessions};
pub use crate::signin_limit::SignInLimiter;

pub use crate::sessions::SESSION_COOKIE;
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
    /// The reader's language.
    pub lang: crate::i18n::Lang,
}

impl Chrome {
    pub fn new(session: &Session, active: &'static str) -> Chrome {
        Chrome {
            csrf: session.csrf.clone(),
            user: session.user.clone(),
            admin: session.role == Role::Admin,
            active,
            lang: crate::i18n::current(),
        }
    }

    /// Message `key` in the reader's language (templates escape it like any text).
    pub fn t(&self, key: &str) -> String {
        crate::i18n::text_in(self.lang, key, &[])
    }

    /// Message `key` in the reader's language with one argument, `{ $name }`.
    pub fn t_arg(&self, key: &str, name: &str, value: &str) -> String {
        crate::i18n::text_in(
            self.lang,
            key,
            &[(name, fluent_bundle::FluentValue::from(value))],
        )
    }

    /// Where the language picker comes back to: this page.
    pub fn path(&self) -> &'static str {
        match self.active {
            "sources" => "/portal/sources",
            "directories" => "/portal/directories",
            "health" => "/portal/health",
            "people" => "/portal/people",
            "logs" => "/portal/logs",
            "tokens" => "/portal/tokens",
            "account" => "/portal/account",
            "console" => "/console",
            _ => "/portal/settings",
        }
    }

    /// The languages the picker offers: (tag, own name, chosen).
    pub fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        crate::i18n::Lang::ALL
            .into_iter()
            .map(|l| (l.code(), l.name(), l == self.lang))
            .collect()
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
        return (StatusCode::FORBIDDEN, crate::i18n::t("n-session-ended")).into_response();
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
        match app.portal.current(&app.store, &parts.headers).await {
            Some(s) if s.role == Role::Admin => Ok(AdminSession(s)),
            Some(_) => Err((StatusCode::FORBIDDEN, crate::i18n::t("n-admin-only")).into_response()),
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
            .current(&app.store, &parts.headers)
            .await
            .map(AnySession)
            .ok_or_else(|| to_login(parts))
    }
}

/// The address the request came from: its TCP peer, or the client a trusted proxy names in
/// `X-Forwarded-For` ([`crate::proxies`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub std::net::IpAddr);

/// The TCP peer and whether the connection is TLS, as the server set them on the request.
fn connection(parts: &Parts) -> (std::net::IpAddr, bool) {
    // Served by our own loop the peer is always known; without it, every such request
    // shares one bucket, which limits more, never less.
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let tls =
        parts.extensions.get::<crate::server::Transport>() == Some(&crate::server::Transport::Tls);
    (peer, tls)
}

impl FromRequestParts<Arc<AppState>> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<ClientAddress, Self::Rejection> {
        let (peer, _) = connection(parts);
        Ok(ClientAddress(
            app.trusted_proxies.client_address(peer, &parts.headers),
        ))
    }
}

/// Whether the browser reached us over HTTPS (then cookies are `Secure`): the connection is
/// TLS, or a trusted proxy says it terminated TLS.
#[derive(Debug, Clone, Copy)]
pub struct OverHttps(pub bool);

impl FromRequestParts<Arc<AppState>> for OverHttps {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<OverHttps, Self::Rejection> {
        let (peer, tls) = connection(parts);
        Ok(OverHttps(app.trusted_proxies.over_https(
            tls,
            peer,
            &parts.headers,
        )))
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
        .route("/portal/login", get(login::page).post(login::sign_in))
        .route("/portal/language", get(login::choose_language))
        .route("/portal/logout", post(login::sign_out))
        .route("/portal/account", get(account::page))
        .route("/portal/account/password", post(account::change_password))
        .route("/portal/settings", get(settings::page).post(settings::save))
        .route("/portal/settings/test", post(settings::test))
        .route(
            "/portal/signin/device-code",
            get(settings::device_code_state).post(settings::start_device_code),
        )
        .route("/portal/sources", get(sources::page))
        .route("/portal/sources/add", post(sources::add))
        .route("/portal/sources/remove", post(sources::remove))
        .route("/portal/sources/retry", post(sources::retry))
        .route(
            "/portal/routing",
            get(|| async { Redirect::to("/portal/sources#routing") }).post(sources::save_routing),
        )
        .route("/portal/directories", get(directories::page))
        .route("/portal/directories/save", post(directories::save))
        .route("/portal/directories/test", post(directories::test))
        .route("/portal/directories/preview", post(directories::preview))
        .route("/portal/directories/sync", post(directories::sync))
        .route("/portal/directories/remove", post(directories::remove))
        .route("/portal/health", get(health::page))
        .route("/portal/health/retry", post(health::retry))
        .route("/portal/logs", get(health::logs))
        .route("/portal/logs/download", get(health::download))
        .route("/portal/people", get(people::page))
        .route("/portal/people/add", post(people::add))
        .route("/portal/people/edit", post(people::edit))
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
    let forbidden = |key: &str| (StatusCode::FORBIDDEN, crate::i18n::t(key)).into_response();
    if !same_origin(req.headers()) {
        return Err(forbidden("n-cross-site"));
    }
    if req.uri().path() == "/portal/login" {
        return Ok(req);
    }
    let Some(session) = app.portal.current(&app.store, req.headers()).await else {
        return Err(forbidden("n-session-ended"));
    };
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                crate::i18n::t("n-form-too-large"),
            )
                .into_response()
        })?;
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
        Some(token) if crate::sessions::same_secret(&token, &session.csrf) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(forbidden("n-csrf-refused")),
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

    /// Every notice renders in every language with the arguments the pages give it: no
    /// variable or message reference left unresolved, and the plural forms chosen.
    #[test]
    fn every_notice_renders_in_every_language() {
        use crate::i18n::{Lang, message_ids, text_in};
        use fluent_bundle::FluentValue;
        let args = [
            ("email", FluentValue::from("ann@contoso.com")),
            ("error", FluentValue::from("disk full")),
            ("problem", FluentValue::from("too long")),
            ("label", FluentValue::from("Reception")),
            ("id", FluentValue::from("lab")),
            ("routes", FluentValue::from("1 domain")),
            ("ids", FluentValue::from("default, lab")),
            ("domain", FluentValue::from("fabrikam.com")),
            ("mailbox", FluentValue::from("ann@fabrikam.com")),
            ("key", FluentValue::from("fabrikam.com")),
            ("line", FluentValue::from(4)),
            ("count", FluentValue::from(2)),
            ("total", FluentValue::from(20)),
            ("ok", FluentValue::from(3)),
            ("bad", FluentValue::from(1)),
            ("secs", FluentValue::from(30)),
            ("min", FluentValue::from(12)),
            ("max", FluentValue::from(64)),
        ];
        let (ids, _) = message_ids(Lang::En);
        let notices: Vec<&String> = ids.iter().filter(|k| k.starts_with("n-")).collect();
        assert!(notices.len() > 50, "{}", notices.len());
        for lang in Lang::ALL {
            for key in &notices {
                let text = text_in(lang, key, &args);
                assert!(
                    !text.is_empty() && !text.contains('{') && !text.contains('}'),
                    "{} {key}: {text}",
                    lang.code()
                );
            }
        }
        let one = |lang, key| text_in(lang, key, &[("count", FluentValue::from(1))]);
        assert_eq!(one(Lang::En, "n-routes-domains"), "1 domain");
        assert_eq!(one(Lang::De, "n-routes-mailboxes"), "1 Postfach");
        let two = text_in(
            Lang::It,
            "n-routes-mailboxes",
            &[("count", FluentValue::from(2))],
        );
        assert_eq!(two, "2 caselle");
        let refused = text_in(
            Lang::De,
            "n-import-refused",
            &[("bad", FluentValue::from(3))],
        );
        assert_eq!(
            refused,
            "Es wurde nichts importiert: 3 Zeilen müssen korrigiert werden (oder \
             „ungültige Zeilen überspringen“ ankreuzen)."
        );
        let imported = text_in(
            Lang::En,
            "n-imported",
            &[
                ("count", FluentValue::from(200)),
                ("total", FluentValue::from(209)),
            ],
        );
        assert_eq!(imported, "Imported 200 people; 209 on the watch list now.");
    }
}
