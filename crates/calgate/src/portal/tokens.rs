//! *API tokens*: create one for a console or a script (its secret is shown once, then only its
//! hash is kept), list them with their last use, revoke.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fluent_bundle::FluentValue;
use jiff::Timestamp;
use secrecy::ExposeSecret;
use serde::Deserialize;

use calgate_store::ApiRole;

use super::text::when;
use super::{AdminSession, Chrome, with_notice};
use crate::i18n::{t, t_with};
use crate::state::AppState;

/// Message `key` with the store's error as `{ $error }`.
fn db_message(key: &str, e: impl std::fmt::Display) -> String {
    t_with(key, &[("error", FluentValue::from(e.to_string()))])
}

#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: String,
    pub label: String,
    pub role: &'static str,
    pub created: String,
    pub last_used: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "tokens.html")]
pub struct TokensPage {
    chrome: Chrome,
    tokens: Vec<TokenRow>,
    notice: Option<String>,
    error: Option<String>,
    /// A token just created: shown on this answer only.
    created: Option<(String, String)>,
}

#[derive(Debug, Deserialize)]
pub struct TokensQuery {
    #[serde(default)]
    notice: Option<String>,
}

async fn build(app: &AppState, s: &super::Session) -> TokensPage {
    let now = Timestamp::now();
    let tz = app.options().site_time_zone;
    let (tokens, error) = match app.store.list_api_tokens().await {
        Ok(list) => (
            list.into_iter()
                .map(|t| TokenRow {
                    id: t.id.to_string(),
                    label: t.label,
                    role: t.role.as_str(),
                    created: when(Some(t.created_at), &tz, now),
                    last_used: t
                        .last_used_at
                        .map(|u| when(Some(u), &tz, now))
                        .unwrap_or_else(|| crate::i18n::t("rel-never")),
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(db_message("n-db-no-answer", e))),
    };
    TokensPage {
        chrome: Chrome::new(s, "tokens"),
        tokens,
        notice: None,
        error,
        created: None,
    }
}

/// `GET /portal/tokens`.
pub async fn page(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Query(q): Query<TokensQuery>,
) -> impl IntoResponse {
    let mut page = build(&app, &s).await;
    page.notice = q.notice;
    page
}

/// `POST /portal/tokens/create`: answers with the secret, once.
pub async fn create(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let label = form
        .get("label")
        .map(|l| l.trim().to_string())
        .unwrap_or_default();
    let role = form
        .get("role")
        .and_then(|r| ApiRole::parse(r))
        .unwrap_or(ApiRole::Console);
    if label.is_empty() || label.len() > 100 {
        let mut page = build(&app, &s).await;
        page.error = Some(t("n-token-label"));
        return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    }
    match app.store.create_api_token(role, &label).await {
        Ok(new) => {
            tracing::info!(label = %label, role = role.as_str(), user = %s.user, "API token created");
            let mut page = build(&app, &s).await;
            page.created = Some((label, new.secret.expose_secret().to_string()));
            page.into_response()
        }
        Err(e) => {
            let mut page = build(&app, &s).await;
            page.error = Some(db_message("n-db-refused", e));
            (StatusCode::SERVICE_UNAVAILABLE, page).into_response()
        }
    }
}

/// `POST /portal/tokens/revoke`.
pub async fn revoke(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let id = form.get("id").cloned().unwrap_or_default();
    let notice = match uuid::Uuid::parse_str(id.trim()) {
        Ok(id) => match crate::tokens::revoke(&app.store, &id.to_string()).await {
            Ok(token) => {
                // Its sessions end now, this one too when it was signed in with it.
                app.portal.end_all(&super::Credential::Token(token.id));
                tracing::info!(label = %token.label, user = %s.user, "API token revoked in the portal");
                t_with(
                    "n-token-revoked",
                    &[("label", FluentValue::from(token.label))],
                )
            }
            Err(crate::tokens::FindError::Store(e)) => db_message("n-db-refused", e),
            Err(_) => t("n-token-gone"),
        },
        Err(_) => t("n-token-gone"),
    };
    with_notice("/portal/tokens", &notice)
}
