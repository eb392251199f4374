//! Signing in and out of the pages: the administrator with the password (Argon2, through the
//! sign-in limits), an operator with a console API token; and where a sign-in goes next (our own
//! pages only).

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fluent_bundle::FluentValue;
use serde::Deserialize;

use super::{ClientAddress, Credential, OverHttps, Role};
use crate::i18n::{t, t_with};
use crate::state::AppState;

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
    lang: crate::i18n::Lang,
}

impl LoginPage {
    fn t(&self, key: &str) -> String {
        crate::i18n::text_in(self.lang, key, &[])
    }

    fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        crate::i18n::Lang::ALL
            .into_iter()
            .map(|l| (l.code(), l.name(), l == self.lang))
            .collect()
    }
}

#[derive(Debug, Deserialize)]
pub struct LanguageQuery {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: Option<String>,
}

/// `GET /portal/language?lang=it&next=/console`: the reader's language, kept in a cookie for a
/// year (it overrides the browser's wish); an unknown tag changes nothing.
pub async fn choose_language(
    OverHttps(secure): OverHttps,
    Query(q): Query<LanguageQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    let mut resp = Redirect::to(&next).into_response();
    if let Some(lang) = crate::i18n::Lang::parse(&q.lang) {
        let cookie = format!(
            "{}={}; Path=/; Max-Age=31536000; SameSite=Lax{}",
            crate::i18n::LANG_COOKIE,
            lang.code(),
            if secure { "; Secure" } else { "" }
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    resp
}

/// Where a sign-in goes when `next` is missing or not acceptable.
const DEFAULT_NEXT: &str = "/portal/settings";

/// Only our own pages are followed after sign-in (no open redirect): a path under `/portal/`
/// or `/console`, made of plain URL characters only (no backslash, control character, space,
/// tab or `//`, which browsers may read as another host), at most 512 bytes.
fn safe_next(next: Option<&str>) -> String {
    let Some(n) = next else {
        return DEFAULT_NEXT.to_string();
    };
    let path = n.split(['?', '#']).next().unwrap_or_default();
    let ours = path == "/console"
        || path.starts_with("/console/")
        || path == "/portal"
        || path.starts_with("/portal/");
    let plain = n
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-_.~?=&%+:@!$'()*,;".contains(&b));
    if ours && plain && n.len() <= 512 && !n.contains("//") && !path.contains("/../") {
        n.to_string()
    } else {
        DEFAULT_NEXT.to_string()
    }
}

/// A user name as it may be shown or logged: at most 64 characters, controls dropped.
fn shown_user(name: &str) -> String {
    let mut shown: String = name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    if name.trim().chars().count() > 64 {
        shown.push('…');
    }
    shown
}

/// `GET /portal/login`.
pub async fn page(Query(q): Query<LoginQuery>) -> impl IntoResponse {
    LoginPage {
        next: safe_next(q.next.as_deref()),
        error: None,
        username: crate::state::ADMIN_USER.to_string(),
        lang: crate::i18n::current(),
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

/// `POST /portal/login`: the administrator's password or a console token.
pub async fn sign_in(
    State(app): State<Arc<AppState>>,
    ClientAddress(client): ClientAddress,
    OverHttps(secure): OverHttps,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let username = shown_user(&form.username);
    let refuse = |status: StatusCode, why: String| {
        (
            status,
            LoginPage {
                next: next.clone(),
                error: Some(why),
                username: username.clone(),
                lang: crate::i18n::current(),
            },
        )
            .into_response()
    };
    // An operator signs in with a console API token (which names no account); the
    // administrator with the password.
    let with_token = !form.token.trim().is_empty();
    let account = (!with_token).then_some(form.username.as_str());
    let attempt = match app.sign_in_limit.begin(client, account) {
        Ok(a) => a,
        Err(wait) => {
            let secs = wait.as_secs().max(1);
            let mut resp = refuse(
                StatusCode::TOO_MANY_REQUESTS,
                t_with("n-login-too-many", &[("secs", FluentValue::from(secs))]),
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            return resp;
        }
    };
    if with_token {
        return match app.store.verify_api_token(form.token.trim()).await {
            Ok(Some(t)) => {
                attempt.succeeded();
                let role = match t.role {
                    calgate_store::ApiRole::Admin => Role::Admin,
                    _ => Role::Console,
                };
                let (cookie, _) = app.portal.create(
                    role,
                    &format!("token:{}", t.label),
                    Credential::Token(t.id),
                    secure,
                );
                tracing::info!(label = %t.label, "signed in to the pages with an API token");
                let target = if role == Role::Console {
                    "/console".to_string()
                } else {
                    next.clone()
                };
                signed_in(cookie, &target)
            }
            Ok(None) => {
                attempt.failed();
                tracing::warn!(%client, "portal sign-in with a wrong token refused");
                refuse(StatusCode::UNAUTHORIZED, t("n-login-bad-token"))
            }
            Err(e) => refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                t_with(
                    "n-db-no-answer",
                    &[("error", FluentValue::from(e.to_string()))],
                ),
            ),
        };
    }
    // Argon2 needs ~19 MiB a check: a few at a time, the rest wait their turn.
    let Some(_slot) = app.sign_in_limit.check_slot().await else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, t("n-shutting-down"));
    };
    let password = secrecy::SecretString::from(form.password);
    match app
        .store
        .verify_admin_password_stamp(&form.username, &password)
        .await
    {
        Ok(Some(stamp)) => {
            attempt.succeeded();
            let (cookie, _) = app.portal.create(
                Role::Admin,
                form.username.trim(),
                Credential::Password(stamp),
                secure,
            );
            tracing::info!(user = %username, "administrator signed in");
            signed_in(cookie, &next)
        }
        Ok(None) => {
            attempt.failed();
            tracing::warn!(user = %username, %client, "portal sign-in refused");
            refuse(StatusCode::UNAUTHORIZED, t("n-login-wrong"))
        }
        Err(e) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            t_with(
                "n-db-no-answer",
                &[("error", FluentValue::from(e.to_string()))],
            ),
        ),
    }
}

pub(super) fn signed_in(cookie: String, target: &str) -> Response {
    let mut resp = Redirect::to(target).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `POST /portal/logout`.
pub async fn sign_out(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    app.portal.end(&headers);
    let mut resp = Redirect::to("/portal/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(crate::sessions::CLEAR_COOKIE),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_pages_are_followed_after_sign_in() {
        for ok in [
            "/console",
            "/portal/people?notice=Saved%20it",
            "/portal/health",
            "/portal/settings?provider=ews&x=1",
        ] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "//evil.example/x",
            "https://evil.example/",
            "/\\evil.example",
            "/\t/evil.example/",
            "/\t\t/evil.example/",
            "/portal/\n/x",
            "/portal/x\r\nSet-Cookie: a=b",
            "/portal//evil.example",
            "/portal/../../evil",
            "/api/v1/people",
            "/consoleevil",
            "/portal evil",
            "",
            "evil.example",
        ] {
            assert_eq!(safe_next(Some(bad)), DEFAULT_NEXT, "{bad:?}");
        }
        assert_eq!(
            safe_next(Some(&format!("/portal/{}", "a".repeat(600)))),
            DEFAULT_NEXT
        );
        assert_eq!(safe_next(None), DEFAULT_NEXT);
    }

    #[test]
    fn a_user_name_is_shown_and_logged_short() {
        assert_eq!(shown_user(" admin "), "admin");
        let long = "x".repeat(1_500_000);
        let shown = shown_user(&long);
        assert_eq!(shown.chars().count(), 65);
        assert!(shown.ends_with('…'));
        assert_eq!(shown_user("a\nb"), "ab");
    }
}
