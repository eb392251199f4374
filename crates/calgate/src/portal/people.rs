//! *Watch list*: search, add, edit (name and extension; the address is the key), remove, where
//! each person came from (by hand, an import, a directory), and an import
//! (`email,name,extension` per line, pasted or read from a chosen CSV file by the page's script)
//! with a preview and per-row errors before anything is saved.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fluent_bundle::FluentValue;
use serde::Deserialize;

use super::{AdminSession, Chrome, with_notice};
use crate::i18n::{t, t_with};
use calgate_engine::Freshness;

use crate::state::AppState;
use crate::view::Person;
use crate::view::looks_like_email;

/// People listed at once on the page.
const PAGE_SIZE: usize = 200;

#[derive(Debug, Clone)]
pub struct ImportRow {
    pub line: usize,
    pub email: String,
    pub name: String,
    pub extension: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "people.html")]
pub struct PeoplePage {
    chrome: Chrome,
    query: String,
    /// The state filter (`fresh`, `stale`, `error`, `pending`; empty: everyone).
    state: String,
    people: Vec<PersonRow>,
    total: u64,
    notice: Option<String>,
    error: Option<String>,
    import_text: String,
    preview: Vec<ImportRow>,
    preview_ok: usize,
    preview_bad: usize,
    /// The person being edited, when the edit form is open.
    edit: Option<EditView>,
}

/// The edit form of one person: what it holds and what is wrong with it.
#[derive(Debug, Clone, Default)]
pub struct EditView {
    pub email: String,
    pub name: String,
    pub extension: String,
    pub errors: PersonErrors,
}

/// What is wrong with a person's name or extension (the rules of `PUT /api/v1/people`, and no
/// spaces in an extension, as the import says).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonErrors {
    pub name: Option<String>,
    pub extension: Option<String>,
}

impl PersonErrors {
    fn first(&self) -> Option<&str> {
        self.name.as_deref().or(self.extension.as_deref())
    }
}

/// Checks a person's name and extension (already trimmed; `None` when empty).
pub fn check_person(email: &str, name: Option<&str>, extension: Option<&str>) -> PersonErrors {
    use crate::api::people::{MAX_EXTENSION, MAX_NAME, fits};
    let mut errors = PersonErrors::default();
    let at_most = |max: usize| t_with("n-person-too-long", &[("max", FluentValue::from(max))]);
    if !fits(name, MAX_NAME) {
        errors.name = Some(at_most(MAX_NAME));
    } else if name.is_none() && email.chars().count() > MAX_NAME {
        errors.name = Some(t("n-person-name-needed"));
    }
    if !fits(extension, MAX_EXTENSION) {
        errors.extension = Some(at_most(MAX_EXTENSION));
    } else if extension.is_some_and(|x| x.chars().any(char::is_whitespace)) {
        errors.extension = Some(t("n-person-ext-spaces"));
    }
    errors
}

/// One watched person as the list shows them, with their data's state in words.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub email: String,
    pub name: Option<String>,
    pub extension: Option<String>,
    /// `fresh`, `stale`, `error` or `pending`.
    pub state: &'static str,
    pub state_words: String,
    /// The address as a query parameter (the Edit link).
    pub key: String,
    /// `manual`, `import` or the id of the directory that syncs the person.
    pub origin: String,
    /// The origin in words (a directory by its name).
    pub origin_words: String,
}

#[derive(Debug, Deserialize)]
pub struct PeopleQuery {
    #[serde(default)]
    q: Option<String>,
    /// Only people whose data is in this state.
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    notice: Option<String>,
    /// Opens the edit form of this person.
    #[serde(default)]
    edit: Option<String>,
}

/// Message `key` about the person `email`.
fn about(key: &str, email: &str) -> String {
    t_with(key, &[("email", FluentValue::from(email))])
}

/// Why the store refused, for the page: a refused input as the store words it, anything else
/// as a refusal of the database (logged as the API logs it).
fn store_message(e: calgate_store::StoreError) -> String {
    let invalid_input = matches!(e, calgate_store::StoreError::InvalidInput { .. });
    let shown = e.to_string();
    let api = crate::api::store_error(e);
    if invalid_input {
        api.message
    } else {
        t_with("n-db-refused-op", &[("error", FluentValue::from(shown))])
    }
}

impl PeoplePage {
    /// "12 valid, 1 with errors." (the import preview).
    fn preview_summary(&self) -> String {
        crate::i18n::text_in(
            self.chrome.lang,
            "n-import-summary",
            &[
                ("ok", FluentValue::from(self.preview_ok)),
                ("bad", FluentValue::from(self.preview_bad)),
            ],
        )
    }

    /// "Showing the first 200; search to find others."
    fn showing_first(&self) -> String {
        crate::i18n::text_in(
            self.chrome.lang,
            "n-person-first",
            &[("count", FluentValue::from(self.people.len()))],
        )
    }

    async fn build(app: &AppState, s: &super::Session, query: &str) -> PeoplePage {
        PeoplePage::filtered(app, s, query, None).await
    }

    async fn filtered(
        app: &AppState,
        s: &super::Session,
        query: &str,
        state: Option<Freshness>,
    ) -> PeoplePage {
        let people = match state {
            None => app.search_people(query, PAGE_SIZE).await,
            Some(want) => app.people_in_state(query, want, PAGE_SIZE).await,
        }
        .map_err(crate::api::store_error)
        .unwrap_or_default();
        PeoplePage {
            chrome: Chrome::new(s, "people"),
            query: query.to_string(),
            state: state.map(freshness_name).unwrap_or_default().to_string(),
            people: rows(app, people, &super::directories::directory_names(app).await),
            total: app.store.count_people().await.unwrap_or(0),
            notice: None,
            error: None,
            import_text: String::new(),
            preview: Vec::new(),
            preview_ok: 0,
            preview_bad: 0,
            edit: None,
        }
    }

    /// The page (unfiltered) with `error` shown on it, answered with `status`.
    async fn refused(
        app: &AppState,
        s: &super::Session,
        status: StatusCode,
        error: String,
    ) -> Response {
        let mut page = PeoplePage::build(app, s, "").await;
        page.error = Some(error);
        (status, page).into_response()
    }

    /// The page again, saying why the store refused the change (logged as the API logs it).
    async fn store_refused(
        app: &AppState,
        s: &super::Session,
        e: calgate_store::StoreError,
    ) -> Response {
        PeoplePage::refused(app, s, StatusCode::SERVICE_UNAVAILABLE, store_message(e)).await
    }
}

/// `GET /portal/people?q=`.
pub async fn page(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Query(q): Query<PeopleQuery>,
) -> Response {
    let state = q.state.as_deref().and_then(parse_freshness);
    let mut page = PeoplePage::filtered(&app, &s, q.q.as_deref().unwrap_or(""), state).await;
    page.notice = q.notice;
    if let Some(email) = q.edit.map(|e| e.trim().to_lowercase()) {
        match app.person(&email).await {
            Ok(Some(p)) => {
                page.edit = Some(EditView {
                    email: p.email,
                    name: p.name.unwrap_or_default(),
                    extension: p.extension.unwrap_or_default(),
                    errors: PersonErrors::default(),
                });
            }
            Ok(None) => page.error = Some(about("n-person-not-watched", &email)),
            Err(e) => page.error = Some(store_message(e)),
        }
    }
    page.into_response()
}

fn parse_freshness(s: &str) -> Option<Freshness> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn freshness_name(f: Freshness) -> &'static str {
    match f {
        Freshness::Pending => "pending",
        Freshness::Fresh => "fresh",
        Freshness::Stale => "stale",
        Freshness::Error => "error",
    }
}

/// The people with their data's state in words (the error's cause for a failing mailbox).
fn rows(app: &AppState, people: Vec<Person>, names: &HashMap<String, String>) -> Vec<PersonRow> {
    let now = jiff::Timestamp::now();
    let stale_age = app.stale_age();
    let board = app.engine().board();
    people
        .into_iter()
        .map(|p| {
            let entry = board.get(&p.email);
            let availability = entry.as_ref().and_then(|e| e.availability.as_deref());
            let f = entry
                .as_ref()
                .map_or(Freshness::Pending, |e| e.freshness(now, stale_age));
            let state_words = match f {
                Freshness::Pending => t("p-not-read"),
                Freshness::Fresh => t("p-current"),
                Freshness::Stale => t("p-not-current"),
                Freshness::Error => availability
                    .and_then(|a| a.error.as_ref())
                    .map(|e| super::guidance::for_code(&e.code).cause)
                    .unwrap_or_else(|| t("n-person-failed")),
            };
            let origin = p
                .origin
                .unwrap_or_else(|| calgate_store::ORIGIN_MANUAL.to_string());
            PersonRow {
                origin_words: super::directories::origin_words(&origin, names),
                origin,
                key: super::text::url_encode(&p.email),
                email: p.email,
                name: p.name,
                extension: p.extension,
                state: freshness_name(f),
                state_words,
            }
        })
        .collect()
}

fn clean(s: Option<&String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// `POST /portal/people/add`.
pub async fn add(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let email = form
        .get("email")
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_default();
    if !looks_like_email(&email) {
        return PeoplePage::refused(
            &app,
            &s,
            StatusCode::UNPROCESSABLE_ENTITY,
            t("n-person-not-email"),
        )
        .await;
    }
    let person = Person {
        email: email.clone(),
        name: clean(form.get("name")),
        extension: clean(form.get("extension")),
        origin: None,
    };
    let errors = check_person(&email, person.name.as_deref(), person.extension.as_deref());
    if let Some(problem) = errors.first() {
        return PeoplePage::refused(
            &app,
            &s,
            StatusCode::UNPROCESSABLE_ENTITY,
            t_with(
                "n-person-not-added",
                &[
                    ("email", FluentValue::from(email.as_str())),
                    ("problem", FluentValue::from(problem)),
                ],
            ),
        )
        .await;
    }
    match app.upsert_people(vec![person]).await {
        Ok(_) => with_notice("/portal/people", &about("n-person-added", &email)),
        Err(e) => PeoplePage::store_refused(&app, &s, e).await,
    }
}

/// `POST /portal/people/edit`: a new name and extension for someone already watched, saved
/// through the same state method as the API (the person stays watched); nothing is saved when
/// a field is wrong.
pub async fn edit(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let email = form
        .get("email")
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_default();
    match app.person(&email).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return with_notice("/portal/people", &about("n-person-edit-gone", &email));
        }
        Err(e) => return PeoplePage::store_refused(&app, &s, e).await,
    }
    let person = Person {
        email: email.clone(),
        name: clean(form.get("name")),
        extension: clean(form.get("extension")),
        origin: None,
    };
    let errors = check_person(&email, person.name.as_deref(), person.extension.as_deref());
    if errors.first().is_some() {
        let mut page = PeoplePage::build(&app, &s, "").await;
        page.error = Some(about("n-person-edit-refused", &email));
        page.edit = Some(EditView {
            email,
            name: form.get("name").cloned().unwrap_or_default(),
            extension: form.get("extension").cloned().unwrap_or_default(),
            errors,
        });
        return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    }
    match app.upsert_people(vec![person]).await {
        Ok(_) => {
            tracing::info!(user = %s.user, "watched person edited in the portal");
            with_notice("/portal/people", &about("n-person-saved", &email))
        }
        Err(e) => PeoplePage::store_refused(&app, &s, e).await,
    }
}

/// `POST /portal/people/remove`.
pub async fn remove(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let email = form
        .get("email")
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_default();
    match app.delete_person(&email).await {
        Ok(true) => with_notice("/portal/people", &about("n-person-removed", &email)),
        Ok(false) => with_notice("/portal/people", &about("n-person-remove-gone", &email)),
        Err(e) => PeoplePage::store_refused(&app, &s, e).await,
    }
}

/// Reads a pasted or uploaded import (see [`crate::import`]), each row's problem in words.
pub fn parse_import(text: &str) -> Vec<ImportRow> {
    crate::import::read(text)
        .into_iter()
        .map(|r| ImportRow {
            line: r.line,
            email: r.email,
            name: r.name,
            extension: r.extension,
            error: r.problem.map(|p| t(p.message_key())),
        })
        .collect()
}

/// `POST /portal/people/import`: `_action=preview` shows what would happen; `_action=import`
/// saves the valid rows (when every row is valid, or when told to skip the invalid ones).
pub async fn import(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let text = form.get("rows").cloned().unwrap_or_default();
    let rows = parse_import(&text);
    let bad = rows.iter().filter(|r| r.error.is_some()).count();
    let ok = rows.len() - bad;
    let importing = form.get("_action").map(String::as_str) == Some("import");
    let skip_bad = form.contains_key("skip_invalid");
    if importing && ok > 0 && (bad == 0 || skip_bad) {
        let people: Vec<Person> = rows
            .into_iter()
            .filter(|r| r.error.is_none())
            .map(|r| Person {
                email: r.email,
                name: (!r.name.is_empty()).then_some(r.name),
                extension: (!r.extension.is_empty()).then_some(r.extension),
                origin: None,
            })
            .collect();
        return match app.import_people(people).await {
            Ok(total) => with_notice(
                "/portal/people",
                &t_with(
                    "n-imported",
                    &[
                        ("count", FluentValue::from(ok)),
                        ("total", FluentValue::from(total)),
                    ],
                ),
            ),
            Err(e) => PeoplePage::store_refused(&app, &s, e).await,
        };
    }
    let mut page = PeoplePage::build(&app, &s, "").await;
    if importing && bad > 0 && !skip_bad {
        page.error = Some(t_with(
            "n-import-refused",
            &[("bad", FluentValue::from(bad))],
        ));
    } else if rows.is_empty() {
        page.error = Some(t("n-import-empty"));
    }
    page.import_text = text;
    page.preview = rows;
    page.preview_ok = ok;
    page.preview_bad = bad;
    page.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_lines_are_checked_one_by_one() {
        let rows = parse_import(
            "email,name,extension\nann@contoso.com, Ann Lee ,2001\nnot-an-email,X,1\n\
             bob@contoso.com,Bob,2002\nann@contoso.com,Ann again,2003\n",
        );
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].name, "Ann Lee");
        assert!(rows[0].error.is_none());
        assert_eq!(rows[1].error.as_deref(), Some("not an email address"));
        assert_eq!(rows[2].extension, "2002");
        assert_eq!(rows[3].error.as_deref(), Some("listed twice"));
    }

    #[test]
    fn a_name_and_extension_are_checked_as_the_api_does() {
        let ok = check_person("ann@contoso.com", Some("Ann Lee"), Some("2001"));
        assert_eq!(ok, PersonErrors::default());
        assert!(
            check_person("ann@contoso.com", None, None)
                .first()
                .is_none()
        );
        let e = check_person("ann@contoso.com", Some("Ann"), Some("20 01"));
        assert!(e.extension.is_some() && e.name.is_none());
        let e = check_person("ann@contoso.com", Some("Ann\u{7}"), Some(&"9".repeat(33)));
        assert!(e.name.is_some() && e.extension.is_some());
    }
}
