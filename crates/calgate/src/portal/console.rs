//! The operator console page: a directory with instant search, each person's state as colour,
//! icon and words, and a detail pane. The page itself is a shell; its script reads the JSON API
//! (`/api/v1/people`, `/api/v1/people/{email}`) and the live stream with the session cookie.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::IntoResponse;

use calgate_core::OperatorState;

use super::{AnySession, Chrome};
use crate::state::AppState;

/// The words for a state, as the console and the connection test show it, in the reader's
/// language.
pub fn state_words(state: OperatorState) -> String {
    crate::i18n::t(match state {
        OperatorState::Free => "c-free",
        OperatorState::Tentative => "c-tentative",
        OperatorState::Busy => "c-busy",
        OperatorState::Oof => "c-oof",
        OperatorState::WorkingElsewhere => "c-elsewhere",
        OperatorState::Unknown => "c-unknown-unavailable",
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "console.html")]
pub struct ConsolePage {
    chrome: Chrome,
    site_time_zone: String,
    /// The console script's words in the reader's language, as JSON (an attribute: escaped).
    words: String,
}

/// `GET /console`.
pub async fn page(
    State(app): State<Arc<AppState>>,
    AnySession(s): AnySession,
) -> impl IntoResponse {
    ConsolePage {
        chrome: Chrome::new(&s, "console"),
        site_time_zone: app
            .options()
            .site_time_zone
            .iana_name()
            .unwrap_or("UTC")
            .to_string(),
        words: crate::i18n::messages_json("c-"),
    }
}
