//! *Account*: the administrator changes the portal password. The current password is checked
//! under the same limits as a sign-in (one Argon2 check per request at most); the new one is
//! saved only when every field is right. This browser stays signed in under the new password,
//! while every session of the old one ends.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fluent_bundle::FluentValue;
use secrecy::SecretString;
use serde::Deserialize;

use super::login::signed_in;
use super::{
    AdminSession, Chrome, ClientAddress, Credential, OverHttps, Role, Session, text, with_notice,
};
use crate::i18n::{t, t_with};
use crate::state::AppState;

/// The shortest new password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest the store keeps, in bytes.
const MAX_PASSWORD_BYTES: usize = 1024;
const PAGE: &str = "/portal/account";

/// What is wrong with each field of the form (never the values: passwords are not shown again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswordErrors {
    pub current: Option<String>,
    pub new: Option<String>,
    pub confirm: Option<String>,
}

impl PasswordErrors {
    fn any(&self) -> bool {
        self.current.is_some() || self.new.is_some() || self.confirm.is_some()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    chrome: Chrome,
    /// How this browser signed in, in words.
    signed_in_with: String,
    notice: Option<String>,
    error: Option<String>,
    errors: PasswordErrors,
}

impl AccountPage {
    fn new(s: &Session) -> AccountPage {
        let signed_in_with = match s.credential {
            Credential::Password(_) => t("n-pw-with-password"),
            Credential::Token(_) => t("n-pw-with-token"),
        };
        AccountPage {
            chrome: Chrome::new(s, "account"),
            signed_in_with,
            notice: None,
            error: None,
            errors: PasswordErrors::default(),
        }
    }

    fn refused(s: &Session, status: StatusCode, errors: PasswordErrors) -> Response {
        let mut page = AccountPage::new(s);
        page.error = Some(t("n-pw-not-changed"));
        page.errors = errors;
        (status, page).into_response()
    }

    fn failed(s: &Session, status: StatusCode, why: String) -> Response {
        let mut page = AccountPage::new(s);
        page.error = Some(why);
        (status, page).into_response()
    }
}

/// Message `key` with the store's error as `{ $error }`.
fn db_message(key: &str, e: impl std::fmt::Display) -> String {
    t_with(key, &[("error", FluentValue::from(e.to_string()))])
}

#[derive(Debug, Deserialize)]
pub struct AccountQuery {
    #[serde(default)]
    notice: Option<String>,
}

/// `GET /portal/account`.
pub async fn page(AdminSession(s): AdminSession, Query(q): Query<AccountQuery>) -> Response {
    let mut page = AccountPage::new(&s);
    page.notice = q.notice;
    page.into_response()
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

impl std::fmt::Debug for PasswordForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordForm").finish_non_exhaustive()
    }
}

/// The checks that need no password hash: filled in, long enough, typed twice alike, new.
pub fn check_new_password(current: &str, new: &str, confirm: &str) -> PasswordErrors {
    let mut errors = PasswordErrors::default();
    if current.is_empty() {
        errors.current = Some(t("n-pw-enter-current"));
    }
    if new.chars().count() < MIN_PASSWORD_CHARS {
        errors.new = Some(t_with(
            "n-pw-too-short",
            &[("min", FluentValue::from(MIN_PASSWORD_CHARS))],
        ));
    } else if new.len() > MAX_PASSWORD_BYTES {
        errors.new = Some(t_with(
            "n-pw-too-long",
            &[("max", FluentValue::from(MAX_PASSWORD_BYTES))],
        ));
    } else if new == current {
        errors.new = Some(t("n-pw-same"));
    }
    if errors.new.is_none() && confirm != new {
        errors.confirm = Some(t("n-pw-differ"));
    }
    errors
}

/// `POST /portal/account/password`.
pub async fn change_password(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    ClientAddress(client): ClientAddress,
    OverHttps(secure): OverHttps,
    Form(form): Form<PasswordForm>,
) -> Response {
    let errors = check_new_password(
        &form.current_password,
        &form.new_password,
        &form.confirm_password,
    );
    if errors.any() {
        return AccountPage::refused(&s, StatusCode::UNPROCESSABLE_ENTITY, errors);
    }
    let account = match app.store.admin_username().await {
        Ok(Some(name)) => name,
        Ok(None) => {
            return AccountPage::failed(&s, StatusCode::CONFLICT, t("n-pw-no-admin"));
        }
        Err(e) => {
            return AccountPage::failed(
                &s,
                StatusCode::SERVICE_UNAVAILABLE,
                db_message("n-db-no-answer", e),
            );
        }
    };
    // A wrong current password counts as a failed sign-in of the account.
    let attempt = match app.sign_in_limit.begin(client, Some(&account)) {
        Ok(a) => a,
        Err(wait) => {
            let secs = wait.as_secs().max(1);
            let errors = PasswordErrors {
                current: Some(t_with(
                    "n-pw-too-many",
                    &[("secs", FluentValue::from(secs))],
                )),
                ..PasswordErrors::default()
            };
            let mut resp = AccountPage::refused(&s, StatusCode::TOO_MANY_REQUESTS, errors);
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            return resp;
        }
    };
    let Some(_slot) = app.sign_in_limit.check_slot().await else {
        return AccountPage::failed(&s, StatusCode::SERVICE_UNAVAILABLE, t("n-shutting-down"));
    };
    let current = SecretString::from(form.current_password);
    let old_stamp = match app
        .store
        .verify_admin_password_stamp(&account, &current)
        .await
    {
        Ok(Some(stamp)) => {
            attempt.succeeded();
            stamp
        }
        Ok(None) => {
            attempt.failed();
            tracing::warn!(user = %s.user, %client, "password change refused: wrong current password");
            let errors = PasswordErrors {
                current: Some(t("n-pw-wrong-current")),
                ..PasswordErrors::default()
            };
            return AccountPage::refused(&s, StatusCode::UNPROCESSABLE_ENTITY, errors);
        }
        Err(e) => {
            return AccountPage::failed(
                &s,
                StatusCode::SERVICE_UNAVAILABLE,
                db_message("n-db-no-answer", e),
            );
        }
    };
    let new = SecretString::from(form.new_password);
    let new_stamp = match app.store.set_admin_password(&account, &new).await {
        Ok(stamp) => stamp,
        Err(e) => {
            return AccountPage::failed(
                &s,
                StatusCode::SERVICE_UNAVAILABLE,
                db_message("n-pw-db-refused", e),
            );
        }
    };
    // Every session of the old password ends now (this one too); the others would end at their
    // next request anyway.
    app.portal.end_all(&Credential::Password(old_stamp));
    tracing::info!(user = %s.user, "administrator password changed in the portal");
    let notice = t("n-pw-changed");
    if !matches!(s.credential, Credential::Password(_)) {
        // Signed in with an admin token: that session does not depend on the password.
        return with_notice(PAGE, &notice);
    }
    // The new session holds the stamp of this change (not one read back afterwards, which a
    // second change at the same moment could have replaced).
    let (cookie, _) = app.portal.create(
        Role::Admin,
        &s.user,
        Credential::Password(new_stamp),
        secure,
    );
    signed_in(
        cookie,
        &format!("{PAGE}?notice={}", text::url_encode(&notice)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_password_is_long_typed_twice_and_new() {
        let good = "correct horse battery";
        assert_eq!(
            check_new_password("old-password-1", good, good),
            PasswordErrors::default()
        );
        let e = check_new_password("", good, good);
        assert!(e.current.is_some() && e.new.is_none());
        let e = check_new_password("old", "short", "short");
        assert!(e.new.is_some_and(|m| m.contains("12")));
        assert!(e.confirm.is_none(), "no second error for the same mistake");
        let e = check_new_password(good, good, good);
        assert!(e.new.is_some());
        let e = check_new_password("old-password-1", good, "correct horse battery!");
        assert!(e.confirm.is_some() && e.new.is_none());
        let twelve = "ääääääääääää";
        assert!(
            check_new_password("x", twelve, twelve).new.is_none(),
            "characters, not bytes"
        );
        let huge = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert!(check_new_password("x", &huge, &huge).new.is_some());
    }
}
