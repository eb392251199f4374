//! *Sources*: every calendar source with its state, "Retry now", its settings form and
//! removal (after a confirmation; refused while the routing names it; `default` is reset, as it
//! always exists); "Add a source", which leads to the settings form of the new id; and the
//! routing editor (the default source, then rules per domain and per mailbox as
//! `key = source-id` lines). Every change goes through the same state methods as the API.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fluent_bundle::FluentValue;
use jiff::Timestamp;
use serde::Deserialize;

use calgate_engine::SourceState;
use calgate_settings::{DEFAULT_SOURCE_ID, RoutingTable, check_display_name, source_id_problem};

use super::health::{next_attempt_words, state_words};
use super::settings_form::Opt;
use super::text::{choice_label, url_encode, when};
use super::{AdminSession, Chrome, Session, with_notice};
use crate::i18n::{t, t_with};
use crate::metrics::state_name;
use crate::sources::ConfigError;
use crate::state::AppState;

/// One source as the Sources and Health pages list it.
#[derive(Debug, Clone)]
pub struct SourceRow {
    pub id: String,
    pub display_name: String,
    pub provider: String,
    /// The state's stable name (`ok`, `auth_failed`…).
    pub state: &'static str,
    pub state_words: String,
    pub code: String,
    pub message: String,
    pub since: String,
    pub last_success: String,
    pub next_attempt: String,
    /// Which routes name it, in words ("" when none).
    pub routes: String,
    pub is_default: bool,
}

/// Every source, `default` first, with its health as the engine reports it.
pub fn source_rows(app: &AppState) -> Vec<SourceRow> {
    let now = Timestamp::now();
    let tz = app.options().site_time_zone;
    let routing = app.routing();
    crate::api::sources::source_views(app)
        .into_iter()
        .map(|v| {
            // A source saved a moment ago may not have reached the engine yet.
            let h = v
                .health
                .unwrap_or_else(|| calgate_engine::SourceHealth::new(SourceState::Starting, now));
            SourceRow {
                provider: choice_label("provider", v.settings.provider.as_str()),
                state: state_name(h.state),
                state_words: state_words(h.state),
                code: h.code.clone().unwrap_or_default(),
                message: h.message.clone().unwrap_or_default(),
                since: when(Some(h.since), &tz, now),
                last_success: h
                    .last_success
                    .map(|t| when(Some(t), &tz, now))
                    .unwrap_or_else(|| crate::i18n::t("rel-never")),
                next_attempt: next_attempt_words(&h, &tz, now),
                routes: routes_naming(&routing, &v.id),
                is_default: v.id == DEFAULT_SOURCE_ID,
                display_name: v.display_name,
                id: v.id,
            }
        })
        .collect()
}

/// "default source, 2 domains, 1 mailbox": the routes that name `id`, in the reader's language.
fn routes_naming(routing: &RoutingTable, id: &str) -> String {
    let count = |m: &BTreeMap<String, String>| m.values().filter(|v| *v == id).count();
    let plural =
        |n: usize, key: &str| (n > 0).then(|| t_with(key, &[("count", FluentValue::from(n))]));
    [
        (routing.default == id).then(|| t("n-routes-default")),
        plural(count(&routing.domains), "n-routes-domains"),
        plural(count(&routing.mailboxes), "n-routes-mailboxes"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ")
}

/// A source whose removal waits for the admin's confirmation.
#[derive(Debug, Clone)]
pub struct Confirm {
    pub id: String,
    pub is_default: bool,
    /// The routes that still name it (the removal will be refused).
    pub routes: String,
}

/// One refused route as the page shows it.
#[derive(Debug, Clone)]
pub struct RouteError {
    /// The field key (`default`, `domains.fabrikam.com`, `mailboxes.ann@contoso.com`).
    pub field: String,
    pub label: String,
    pub message: String,
}

/// The routing editor's contents: the table in force, or what was typed.
#[derive(Debug, Clone)]
pub struct RoutingForm {
    pub defaults: Vec<Opt>,
    pub domains: String,
    pub mailboxes: String,
    pub errors: Vec<RouteError>,
}

impl RoutingForm {
    fn from_table(table: &RoutingTable, ids: &[String]) -> RoutingForm {
        let lines = |m: &BTreeMap<String, String>| {
            m.iter()
                .map(|(k, v)| format!("{k} = {v}\n"))
                .collect::<String>()
        };
        RoutingForm {
            defaults: default_options(ids, &table.default),
            domains: lines(&table.domains),
            mailboxes: lines(&table.mailboxes),
            errors: Vec::new(),
        }
    }
}

/// The default-source choices: every configured id, plus `current` when it is not one (a
/// refused table keeps what was sent).
fn default_options(ids: &[String], current: &str) -> Vec<Opt> {
    let mut options: Vec<Opt> = ids
        .iter()
        .map(|id| Opt {
            value: id.clone(),
            label: id.clone(),
            selected: id == current,
        })
        .collect();
    if !ids.iter().any(|id| id == current) {
        options.push(Opt {
            value: current.to_string(),
            label: t_with(
                "n-src-not-configured",
                &[("id", FluentValue::from(current))],
            ),
            selected: true,
        });
    }
    options
}

#[derive(Template, WebTemplate)]
#[template(path = "sources.html")]
pub struct SourcesPage {
    chrome: Chrome,
    rows: Vec<SourceRow>,
    ids: String,
    notice: Option<String>,
    error: Option<String>,
    confirm: Option<Confirm>,
    add_id: String,
    add_name: String,
    add_error: Option<String>,
    add_name_error: Option<String>,
    routing: RoutingForm,
}

impl SourcesPage {
    fn build(app: &AppState, s: &Session) -> SourcesPage {
        let rows = source_rows(app);
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        SourcesPage {
            chrome: Chrome::new(s, "sources"),
            ids: ids.join(", "),
            routing: RoutingForm::from_table(&app.routing(), &ids),
            rows,
            notice: None,
            error: None,
            confirm: None,
            add_id: String::new(),
            add_name: String::new(),
            add_error: None,
            add_name_error: None,
        }
    }

    /// "Nothing was saved: 2 routes need attention."
    fn routing_errors_summary(&self) -> String {
        crate::i18n::text_in(
            self.chrome.lang,
            "n-routing-errors",
            &[("count", FluentValue::from(self.routing.errors.len()))],
        )
    }

    /// The page with `error` shown on it, answered with `status`.
    fn refused(app: &AppState, s: &Session, status: StatusCode, error: String) -> Response {
        let mut page = SourcesPage::build(app, s);
        page.error = Some(error);
        (status, page).into_response()
    }
}

/// The answer to a malformed source id in a page's address or form: the Sources page saying
/// why, with 400.
pub fn bad_source(app: &AppState, s: &Session, problem: &str) -> Response {
    SourcesPage::refused(app, s, StatusCode::BAD_REQUEST, no_such_source(problem))
}

fn no_such_source(problem: &str) -> String {
    t_with("n-src-no-such", &[("problem", FluentValue::from(problem))])
}

/// Message `key` about the source `id`.
fn about(key: &str, id: &str) -> String {
    t_with(key, &[("id", FluentValue::from(id))])
}

#[derive(Debug, Deserialize)]
pub struct SourcesQuery {
    #[serde(default)]
    notice: Option<String>,
}

/// `GET /portal/sources`.
pub async fn page(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Query(q): Query<SourcesQuery>,
) -> Response {
    let mut page = SourcesPage::build(&app, &s);
    page.notice = q.notice;
    page.into_response()
}

/// The `id` field of a form, checked: well formed and configured; or the status and why not.
fn configured_id(
    app: &AppState,
    form: &HashMap<String, String>,
) -> Result<String, (StatusCode, String)> {
    let id = form.get("id").map(|i| i.trim()).unwrap_or_default();
    if let Some(problem) = source_id_problem(id) {
        return Err((StatusCode::BAD_REQUEST, no_such_source(&problem)));
    }
    if app.source(id).is_none() {
        return Err((StatusCode::NOT_FOUND, about("n-src-unknown-id", id)));
    }
    Ok(id.to_string())
}

/// `POST /portal/sources/add`: checks the id and display name, then opens the settings form of
/// the new source (its first save creates it).
pub async fn add(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let id = form.get("id").map(|i| i.trim()).unwrap_or_default();
    let name = form.get("display_name").map(String::as_str).unwrap_or("");
    let id_error = match source_id_problem(id) {
        Some(problem) => Some(t_with(
            "n-src-id-refused",
            &[("problem", FluentValue::from(problem))],
        )),
        None if app.source(id).is_some() => Some(about("n-src-id-exists", id)),
        None => None,
    };
    let name = check_display_name(name);
    if id_error.is_none()
        && let Ok(name) = &name
    {
        let mut target = format!("/portal/settings?source={}", url_encode(id));
        if !name.is_empty() {
            target.push_str(&format!("&name={}", url_encode(name)));
        }
        return Redirect::to(&target).into_response();
    }
    let mut page = SourcesPage::build(&app, &s);
    page.add_id = id.to_string();
    page.add_name = form.get("display_name").cloned().unwrap_or_default();
    page.add_error = id_error;
    page.add_name_error = name.err();
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// `POST /portal/sources/remove`: without `confirmed=yes` the page asks first; then removes
/// the source (resets `default`), or says why not.
pub async fn remove(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let id = match configured_id(&app, &form) {
        Ok(id) => id,
        Err((status, why)) => return SourcesPage::refused(&app, &s, status, why),
    };
    let is_default = id == DEFAULT_SOURCE_ID;
    let (in_use, failed) = if is_default {
        ("n-src-reset-in-use", "n-src-reset-failed")
    } else {
        ("n-src-remove-in-use", "n-src-remove-failed")
    };
    if form.get("confirmed").map(String::as_str) != Some("yes") {
        let mut page = SourcesPage::build(&app, &s);
        page.confirm = Some(Confirm {
            routes: routes_naming(&app.routing(), &id),
            id,
            is_default,
        });
        return page.into_response();
    }
    match app.delete_source(&id, &format!("portal:{}", s.user)).await {
        Ok(_) if is_default => with_notice("/portal/sources", &about("n-src-reset-done", &id)),
        Ok(_) => with_notice("/portal/sources", &about("n-src-removed", &id)),
        Err(ConfigError::SourceInUse(_)) => SourcesPage::refused(
            &app,
            &s,
            StatusCode::CONFLICT,
            t_with(
                in_use,
                &[
                    ("id", FluentValue::from(id.as_str())),
                    (
                        "routes",
                        FluentValue::from(routes_naming(&app.routing(), &id)),
                    ),
                ],
            ),
        ),
        Err(e) => SourcesPage::refused(
            &app,
            &s,
            StatusCode::SERVICE_UNAVAILABLE,
            t_with(
                failed,
                &[
                    ("id", FluentValue::from(id.as_str())),
                    ("error", FluentValue::from(e.to_string())),
                ],
            ),
        ),
    }
}

/// `POST /portal/sources/retry`: "Retry now" for one source (the API's action).
pub async fn retry(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let id = match configured_id(&app, &form) {
        Ok(id) => id,
        Err((status, why)) => return SourcesPage::refused(&app, &s, status, why),
    };
    tracing::info!(user = %s.user, source = %id, "retry now requested from the portal");
    match crate::api::sources::retry(State(app.clone()), Path(id.clone())).await {
        Ok(_) => with_notice("/portal/sources", &about("n-src-retry", &id)),
        Err(e) => SourcesPage::refused(&app, &s, e.status, e.message),
    }
}

/// Reads `key = source-id` lines (blank lines and `#` comments skipped). A line without `=`
/// (message `no_equals`, which shows the form of a line) or a key given twice is an error on
/// `field`.
fn parse_routes(
    text: &str,
    field: &str,
    no_equals: &str,
    errors: &mut Vec<RouteError>,
) -> BTreeMap<String, String> {
    let mut routes = BTreeMap::new();
    let mut seen = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let number = ("line", FluentValue::from(n + 1));
        let problem = match line.split_once('=') {
            None => Some(t_with(no_equals, &[number])),
            Some((key, id)) => {
                let key = key.trim();
                if seen.insert(key.to_lowercase()) {
                    routes.insert(key.to_string(), id.trim().to_string());
                    None
                } else {
                    Some(t_with(
                        "n-route-twice",
                        &[number, ("key", FluentValue::from(key))],
                    ))
                }
            }
        };
        if let Some(message) = problem {
            errors.push(RouteError {
                field: field.to_string(),
                label: route_label(field),
                message,
            });
        }
    }
    routes
}

/// A routing field key in words.
fn route_label(key: &str) -> String {
    if let Some(domain) = key.strip_prefix("domains.") {
        t_with("n-route-domain", &[("domain", FluentValue::from(domain))])
    } else if let Some(mailbox) = key.strip_prefix("mailboxes.") {
        t_with(
            "n-route-mailbox",
            &[("mailbox", FluentValue::from(mailbox))],
        )
    } else {
        match key {
            "default" => t("s-default"),
            "domains" => t("s-domains"),
            "mailboxes" => t("s-mailboxes"),
            other => other.to_string(),
        }
    }
}

/// `POST /portal/routing`: replaces the routing table, or shows one message per refused
/// route with what was typed, and saves nothing.
pub async fn save_routing(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let text = |k: &str| form.get(k).cloned().unwrap_or_default();
    let default = text("default").trim().to_string();
    let domains_text = text("domains").replace("\r\n", "\n");
    let mailboxes_text = text("mailboxes").replace("\r\n", "\n");
    let mut errors = Vec::new();
    let table = RoutingTable {
        domains: parse_routes(&domains_text, "domains", "n-route-line-domain", &mut errors),
        mailboxes: parse_routes(
            &mailboxes_text,
            "mailboxes",
            "n-route-line-address",
            &mut errors,
        ),
        default: default.clone(),
    };
    let (status, refusal) = if errors.is_empty() {
        match app
            .save_routing(&table, &format!("portal:{}", s.user))
            .await
        {
            Ok(_) => return with_notice("/portal/sources", &t("n-routing-saved")),
            Err(ConfigError::InvalidRouting(fields)) => {
                errors.extend(fields.iter().map(|(k, v)| RouteError {
                    field: k.to_string(),
                    label: route_label(k),
                    message: v.to_string(),
                }));
                (StatusCode::UNPROCESSABLE_ENTITY, None)
            }
            Err(e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(t_with(
                    "n-routing-not-saved",
                    &[("error", FluentValue::from(e.to_string()))],
                )),
            ),
        }
    } else {
        (StatusCode::UNPROCESSABLE_ENTITY, None)
    };
    let mut page = SourcesPage::build(&app, &s);
    let ids: Vec<String> = page.rows.iter().map(|r| r.id.clone()).collect();
    page.routing = RoutingForm {
        defaults: default_options(&ids, &default),
        domains: domains_text,
        mailboxes: mailboxes_text,
        errors,
    };
    page.error = refusal;
    (status, page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_lines_are_read_with_their_mistakes_named() {
        let mut errors = Vec::new();
        let routes = parse_routes(
            "fabrikam.com = online\n\n# a comment\nno equals sign\nFabrikam.com=onprem\n contoso.com= onprem ",
            "domains",
            "n-route-line-domain",
            &mut errors,
        );
        assert_eq!(routes.len(), 2);
        assert_eq!(routes["contoso.com"], "onprem");
        assert_eq!(routes["fabrikam.com"], "online");
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "line 4: write it as domain = source-id",
                "line 5: Fabrikam.com is listed twice"
            ]
        );
        assert!(errors.iter().all(|e| e.field == "domains"));
    }

    #[test]
    fn routes_naming_a_source_are_counted_in_words() {
        let mut table = RoutingTable::default();
        table.domains.insert("a.com".into(), "lab".into());
        table.domains.insert("b.com".into(), "lab".into());
        table.mailboxes.insert("x@c.com".into(), "lab".into());
        assert_eq!(routes_naming(&table, "lab"), "2 domains, 1 mailbox");
        assert_eq!(routes_naming(&table, "default"), "default source");
        assert_eq!(routes_naming(&table, "other"), "");
        assert_eq!(route_label("domains.fabrikam.com"), "Domain fabrikam.com");
    }
}
