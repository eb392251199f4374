//! *Calendar Integration Settings*: the form, built row by row from the settings crate's field
//! table, saved through the same validator as the API, with inline field errors and the
//! warnings explained; and *Test connection* for one mailbox. One source at a time:
//! `?source=ID` (a hidden field in the posts), `default` without it; an id not saved yet is
//! created by its first save.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;

use calgate_core::Code;
use calgate_settings::{
    CalendarSettings, DEFAULT_SOURCE_ID, FieldKind, Provider, RECOMMENDED_MIN_REFRESH_INTERVAL_S,
    WarningCode, check_display_name, fields, source_id_problem, validate_json,
};
use fluent_bundle::FluentValue;

use super::guidance::{self, Guidance};
use super::settings_form::{
    Group, Shown, echo, error_words, field_label, groups, update_from_form, values_from_settings,
};
use super::text::{choice_label, when};
use super::{AdminSession, Chrome};
use crate::check::TestAnswer;
use crate::i18n::{t, t_with};
use crate::state::AppState;

/// A piece of a sentence that carries markup: plain text, or the place of a marked-up value
/// (`kind` names which).
#[derive(Debug, Clone)]
pub struct Segment {
    /// `text`, or the name of the value that goes here.
    pub kind: &'static str,
    pub text: String,
}

/// Message `key` in the reader's language cut where the values named in `marked` go (the
/// template puts each in its own markup, such as a link or `<code>`), with plain `args`.
fn segments(key: &str, marked: &[&'static str], args: &[(&str, FluentValue<'_>)]) -> Vec<Segment> {
    // Private-use characters stand in for the marked values while the sentence is formatted.
    let marker = |i: usize| char::from_u32(0xE000 + i as u32).unwrap_or('\u{E000}');
    let mut all: Vec<(&str, FluentValue<'_>)> = args.to_vec();
    for (i, name) in marked.iter().enumerate() {
        all.push((name, FluentValue::from(marker(i).to_string())));
    }
    let text = t_with(key, &all);
    let mut out = Vec::new();
    let mut plain = String::new();
    for c in text.chars() {
        match marked.iter().enumerate().find(|(i, _)| marker(*i) == c) {
            Some((_, name)) => {
                if !plain.is_empty() {
                    out.push(Segment {
                        kind: "text",
                        text: std::mem::take(&mut plain),
                    });
                }
                out.push(Segment {
                    kind: name,
                    text: String::new(),
                });
            }
            None => plain.push(c),
        }
    }
    if !plain.is_empty() {
        out.push(Segment {
            kind: "text",
            text: plain,
        });
    }
    out
}

#[derive(Debug, Clone)]
pub struct WarningView {
    pub code: &'static str,
    /// The warning in the reader's language.
    pub message: String,
    pub explanation: String,
}

#[derive(Debug, Clone)]
pub struct TestView {
    pub ok: bool,
    /// The outcome in one sentence: connected, or failed, for whom and how fast.
    pub verdict: String,
    pub state: String,
    pub until: String,
    pub events_today: String,
    pub code: String,
    pub message: String,
    pub guidance: Option<Guidance>,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    chrome: Chrome,
    /// The source this form configures.
    source_id: String,
    /// The display name as shown in its input (saved, or as typed).
    source_name: String,
    name_error: Option<String>,
    is_default: bool,
    /// Not saved yet: the first save creates it.
    is_new: bool,
    provider: String,
    groups: Vec<Group>,
    errors_summary: Option<String>,
    other_errors: Vec<(String, String)>,
    saved: bool,
    warnings: Vec<WarningView>,
    test: Option<TestView>,
    /// The test ran with the form's values, not the saved ones.
    tested_unsaved: bool,
    test_mailbox: String,
    mailboxes: Vec<String>,
    /// The latest saves: when, who, which fields (never values).
    history: Vec<(String, String, String)>,
    device: DeviceView,
    /// "Source `id`", cut around the id.
    source_title: Vec<Segment>,
    /// The display name's help, cut around the source's id.
    name_help: Vec<Segment>,
    /// Why another source has no device-code sign-in, cut around `default`.
    device_only: Vec<Segment>,
}

/// The device-code sign-in as the page shows it.
#[derive(Debug, Clone, Default)]
pub struct DeviceView {
    /// `none`, `pending`, `done`, `expired`, `declined` or `failed`.
    pub state: String,
    pub words: String,
    pub user_code: String,
    pub uri: String,
    /// "Open the link and enter the code before …", cut around the link (`uri`) and the code.
    pub open: Vec<Segment>,
    pub error: Option<String>,
}

/// The device-code sign-in's state in plain words.
pub fn device_view(
    status: &crate::api::signin::DeviceCodeStatus,
    tz: &jiff::tz::TimeZone,
) -> DeviceView {
    let now = Timestamp::now();
    let words = match status.state {
        "pending" => t("set-device-pending"),
        "done" => match status.username.as_deref() {
            Some(user) => t_with("set-device-done-as", &[("user", FluentValue::from(user))]),
            None => t("set-device-done"),
        },
        "expired" => t("set-device-expired"),
        "declined" => t("set-device-declined"),
        "failed" => t_with(
            "set-device-failed",
            &[
                (
                    "code",
                    FluentValue::from(status.code.as_deref().unwrap_or("")),
                ),
                (
                    "message",
                    FluentValue::from(status.message.as_deref().unwrap_or("")),
                ),
            ],
        )
        .trim_end()
        .to_string(),
        _ => t("set-device-none"),
    };
    let expires = status
        .pending
        .as_ref()
        .map(|p| when(Some(p.expires_at), tz, now))
        .unwrap_or_default();
    let open = segments(
        "set-device-open",
        &["uri", "code"],
        &[("expires", FluentValue::from(expires))],
    );
    DeviceView {
        state: status.state.to_string(),
        words,
        user_code: status
            .pending
            .as_ref()
            .map(|p| p.user_code.clone())
            .unwrap_or_default(),
        uri: status
            .pending
            .as_ref()
            .map(|p| p.verification_uri.clone())
            .unwrap_or_default(),
        open,
        error: None,
    }
}

/// The source a settings form is for.
#[derive(Debug, Clone)]
pub struct FormSource {
    pub id: String,
    pub display_name: String,
    pub settings: CalendarSettings,
    /// Not saved yet: the first save creates it.
    pub is_new: bool,
}

impl FormSource {
    /// The source named by a `source` parameter (absent or empty: `default`); an id not
    /// configured yet is a new source with the default settings. A malformed id is refused
    /// with the reason.
    pub fn resolve(app: &AppState, raw: Option<&str>) -> Result<FormSource, String> {
        let id = raw.map(str::trim).filter(|id| !id.is_empty());
        let id = id.unwrap_or(DEFAULT_SOURCE_ID);
        match source_id_problem(id) {
            Some(problem) => Err(problem),
            None => Ok(FormSource::of(app, id)),
        }
    }

    /// Source `id` as configured, or a new one with the default settings.
    fn of(app: &AppState, id: &str) -> FormSource {
        match app.source(id) {
            Some(s) => FormSource {
                id: s.id,
                display_name: s.display_name,
                settings: s.settings,
                is_new: false,
            },
            None => FormSource {
                id: id.to_string(),
                display_name: String::new(),
                settings: CalendarSettings::default(),
                is_new: true,
            },
        }
    }

    fn is_default(&self) -> bool {
        self.id == DEFAULT_SOURCE_ID
    }
}

/// The form's name for the display name (not a settings field).
const DISPLAY_NAME: &str = "display_name";

impl SettingsPage {
    /// The form filled with the saved settings of `source`, for `provider`.
    async fn saved_values(
        app: &Arc<AppState>,
        session: &super::Session,
        source: &FormSource,
        provider: Provider,
    ) -> SettingsPage {
        let (mut values, _) = values_from_settings(&source.settings);
        values.insert(DISPLAY_NAME.to_string(), source.display_name.clone());
        SettingsPage::build(app, session, source, provider, values, BTreeMap::new()).await
    }

    async fn build(
        app: &Arc<AppState>,
        session: &super::Session,
        source: &FormSource,
        provider: Provider,
        values: HashMap<String, String>,
        mut errors: BTreeMap<String, String>,
    ) -> SettingsPage {
        let (_, set) = values_from_settings(&source.settings);
        let name_error = errors.remove(DISPLAY_NAME);
        let source_name = values.get(DISPLAY_NAME).cloned().unwrap_or_default();
        let known: Vec<String> = fields()
            .iter()
            .map(|f| f.name.to_string())
            .chain(std::iter::once("status_rules".to_string()))
            .collect();
        let other_errors = errors
            .iter()
            .filter(|(k, _)| !known.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mailboxes = app
            .search_people("", 50)
            .await
            .map_err(crate::api::store_error)
            .map(|people| people.into_iter().map(|p| p.email).collect())
            .unwrap_or_default();
        let now = Timestamp::now();
        let tz = app.options().site_time_zone;
        let history = app
            .store
            .recent_source_audit(&source.id, 8)
            .await
            .map(|rows| {
                rows.into_iter()
                    .map(|r| {
                        (
                            when(Some(r.at), &tz, now),
                            r.actor,
                            if r.fields.is_empty() {
                                t("set-history-no-change")
                            } else {
                                // The fields' labels, as the form shows them.
                                r.fields
                                    .iter()
                                    .map(|f| changed_label(f))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let status = crate::api::signin::device_code_status(State(app.clone())).await;
        let device = device_view(&status.0, &tz);
        SettingsPage {
            device,
            history,
            source_title: segments("set-source-title", &["id"], &[]),
            name_help: segments("set-display-name-help", &["id"], &[]),
            device_only: segments("set-device-only", &["id"], &[]),
            chrome: Chrome::new(
                session,
                if source.is_default() {
                    "settings"
                } else {
                    "sources"
                },
            ),
            source_id: source.id.clone(),
            source_name,
            name_error,
            is_default: source.is_default(),
            is_new: source.is_new,
            provider: provider.as_str().to_string(),
            groups: groups(
                Shown {
                    provider,
                    values: &values,
                    device_code: source.is_default(),
                },
                &set,
                &errors,
            ),
            errors_summary: None,
            other_errors,
            saved: false,
            warnings: Vec::new(),
            test: None,
            tested_unsaved: false,
            test_mailbox: String::new(),
            mailboxes,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SettingsQuery {
    /// The source to configure (`default` when absent).
    #[serde(default)]
    source: Option<String>,
    /// A display name to start a new source's form with (from "Add a source").
    #[serde(default)]
    name: Option<String>,
}

/// `GET /portal/settings?source=ID`: the form of one source (`default` without the parameter).
pub async fn page(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Query(q): Query<SettingsQuery>,
) -> Response {
    let source = match FormSource::resolve(&app, q.source.as_deref()) {
        Ok(source) => source,
        Err(problem) => return super::sources::bad_source(&app, &s, &problem),
    };
    let provider = source.settings.provider;
    let mut page = SettingsPage::saved_values(&app, &s, &source, provider).await;
    if source.is_new
        && let Some(name) = q.name.as_deref().and_then(|n| check_display_name(n).ok())
    {
        page.source_name = name;
    }
    page.into_response()
}

/// `POST /portal/settings`: validate, save, apply; or show the field errors and save nothing.
pub async fn save(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let source = match FormSource::resolve(&app, form.get("source").map(String::as_str)) {
        Ok(source) => source,
        Err(problem) => return super::sources::bad_source(&app, &s, &problem),
    };
    let provider = form
        .get("provider")
        .and_then(|p| Provider::parse(p))
        .unwrap_or(source.settings.provider);
    // Without script, "Show fields" re-renders the form for the chosen provider.
    if form.get("_action").map(String::as_str) == Some("switch") {
        return SettingsPage::build(&app, &s, &source, provider, echo(&form), BTreeMap::new())
            .await
            .into_response();
    }
    let (update, mut errors) = update_from_form(&form, provider, source.is_default());
    let testing = form.get("_action").map(String::as_str) == Some("test");
    // Absent (a form of an older page): the saved name is kept.
    let display_name = match form.get(DISPLAY_NAME).map(|n| check_display_name(n)) {
        None => None,
        Some(Ok(name)) => Some(name),
        Some(Err(problem)) => {
            errors.insert(DISPLAY_NAME.to_string(), error_words(&problem));
            None
        }
    };
    let validated = match validate_json(&update, &source.settings) {
        Ok(ok) if errors.is_empty() => Ok(ok),
        Ok(_) => Err(()),
        Err(fields) => {
            for (k, v) in fields.iter() {
                errors
                    .entry(k.to_string())
                    .or_insert_with(|| error_words(v));
            }
            Err(())
        }
    };
    let Ok((settings, warnings)) = validated else {
        let count = errors.len();
        let mut page = SettingsPage::build(&app, &s, &source, provider, echo(&form), errors).await;
        page.errors_summary = Some(t_with(
            if testing {
                "set-nothing-tested"
            } else {
                "set-nothing-saved"
            },
            &[("count", FluentValue::from(count))],
        ));
        return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    };
    // "Test connection" tests what the form holds now, saves nothing, and keeps the form filled.
    if testing {
        let mailbox = form.get("mailbox").map(String::as_str).unwrap_or("");
        let mut page =
            SettingsPage::build(&app, &s, &source, provider, echo(&form), BTreeMap::new()).await;
        let answer = run_test(&app, &source.id, &settings, mailbox).await;
        page.test_mailbox = answer.mailbox.clone();
        page.test = Some(test_view(&app, &answer));
        page.tested_unsaved = true;
        page.warnings = warning_views(&warnings, &settings);
        return page.into_response();
    }
    let warnings = warning_views(&warnings, &settings);
    if let Err(e) = app
        .save_source(
            &source.id,
            display_name.as_deref(),
            settings,
            &format!("portal:{}", s.user),
        )
        .await
    {
        let mut page =
            SettingsPage::build(&app, &s, &source, provider, echo(&form), BTreeMap::new()).await;
        page.errors_summary = Some(t_with(
            "set-db-refused",
            &[("error", FluentValue::from(e.to_string()))],
        ));
        return (StatusCode::SERVICE_UNAVAILABLE, page).into_response();
    }
    let saved = FormSource::of(&app, &source.id);
    let mut page = SettingsPage::saved_values(&app, &s, &saved, provider).await;
    page.saved = true;
    page.warnings = warnings;
    page.into_response()
}

fn warning_views(
    warnings: &[calgate_settings::Warning],
    settings: &CalendarSettings,
) -> Vec<WarningView> {
    warnings
        .iter()
        .map(|w| WarningView {
            code: w.code.as_str(),
            message: warning_words(w, settings),
            explanation: guidance::warning_explanation(w.code),
        })
        .collect()
}

/// A warning in the reader's language, by its code; the values in it come from the settings it
/// was given for (or, for the URL fields it names, from its English text). The English message
/// when a value cannot be found.
fn warning_words(w: &calgate_settings::Warning, settings: &CalendarSettings) -> String {
    let english = || w.message.clone();
    match w.code {
        WarningCode::BothAuthEnabled => t("set-warn-both-auth"),
        WarningCode::BasicAuthExchangeOnline => t("set-warn-basic-online"),
        WarningCode::EwsOnlineRetirement => t("set-warn-ews-retirement"),
        WarningCode::WindowsAuthOrder => {
            let Some(auth) = settings.ews_auth() else {
                return english();
            };
            let order = [
                (auth.modern, "set-auth-modern"),
                (auth.windows, "set-auth-windows"),
                (auth.basic, "set-auth-basic"),
            ]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, key)| t(key))
            .reduce(|first, next| {
                t_with(
                    "set-auth-then",
                    &[
                        ("first", FluentValue::from(first)),
                        ("next", FluentValue::from(next)),
                    ],
                )
            })
            .unwrap_or_default();
            t_with(
                "set-warn-windows-order",
                &[("order", FluentValue::from(order))],
            )
        }
        WarningCode::RefreshIntervalLow => t_with(
            "set-warn-refresh-low",
            &[
                (
                    "interval",
                    FluentValue::from(settings.refresh_interval_s.to_string()),
                ),
                (
                    "min",
                    FluentValue::from(RECOMMENDED_MIN_REFRESH_INTERVAL_S.to_string()),
                ),
            ],
        ),
        WarningCode::EwsUrlUnusualPath => match &settings.ews_url {
            Some(url) => t_with(
                "set-warn-ews-path",
                &[("path", FluentValue::from(url.path().to_string()))],
            ),
            None => english(),
        },
        WarningCode::InsecureHttp | WarningCode::LocalTarget => {
            // The URL fields the warning names, in its order.
            let mut named: Vec<(usize, String)> = fields()
                .iter()
                .filter(|f| matches!(f.kind, FieldKind::Url))
                .filter_map(|f| w.message.find(f.label).map(|at| (at, field_label(f))))
                .collect();
            if named.is_empty() {
                return english();
            }
            named.sort();
            let count = named.len();
            let names: Vec<String> = named.into_iter().map(|(_, label)| label).collect();
            t_with(
                if w.code == WarningCode::InsecureHttp {
                    "set-warn-insecure-http"
                } else {
                    "set-warn-local-target"
                },
                &[
                    ("fields", FluentValue::from(names.join(", "))),
                    ("count", FluentValue::from(count)),
                ],
            )
        }
    }
}

/// A changed field's label as the form shows it ("Directory (tenant) ID" for `tenant_id`).
fn changed_label(name: &str) -> String {
    match name {
        "display_name" => t("set-display-name"),
        "deleted" => t("set-history-removed"),
        _ => calgate_settings::field(name).map_or_else(|| name.to_string(), field_label),
    }
}

/// `POST /portal/settings/test`: one real request for one mailbox with the saved settings of
/// the form's source.
pub async fn test(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let source = match FormSource::resolve(&app, form.get("source").map(String::as_str)) {
        Ok(source) => source,
        Err(problem) => return super::sources::bad_source(&app, &s, &problem),
    };
    let mailbox = form
        .get("mailbox")
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let settings = source.settings.clone();
    let mut page = SettingsPage::saved_values(&app, &s, &source, settings.provider).await;
    page.test_mailbox = mailbox.clone();
    if source.is_new {
        page.errors_summary = Some(t_with(
            "set-test-not-saved",
            &[("id", FluentValue::from(source.id.clone()))],
        ));
        return (StatusCode::CONFLICT, page).into_response();
    }
    let answer = run_test(&app, &source.id, &settings, &mailbox).await;
    page.test_mailbox = answer.mailbox.clone();
    page.test = Some(test_view(&app, &answer));
    page.into_response()
}

/// A connection test of `settings` (source `id`) against `mailbox`, within the tests-per-minute
/// limit. Without a mailbox: the first watched person the source serves (the service account
/// often has no mailbox of its own).
async fn run_test(
    app: &AppState,
    id: &str,
    settings: &calgate_settings::CalendarSettings,
    mailbox: &str,
) -> TestAnswer {
    let mut mailbox = mailbox.trim().to_ascii_lowercase();
    if mailbox.is_empty()
        && let Ok(Some(first)) = app.first_watched_of(id).await
    {
        mailbox = first;
    }
    let answer = if !crate::view::looks_like_email(&mailbox) {
        TestAnswer::failed(
            &mailbox,
            settings.provider.as_str(),
            &Code::InvalidMailbox.to_string(),
            &t("set-test-need-mailbox"),
            Timestamp::now(),
        )
    } else if let Err(wait) = app.test_limit.take() {
        TestAnswer::failed(
            &mailbox,
            settings.provider.as_str(),
            &Code::TooManyTests.to_string(),
            &t_with(
                "set-test-limit",
                &[
                    (
                        "max",
                        FluentValue::from(crate::check::TESTS_PER_WINDOW.to_string()),
                    ),
                    ("wait", FluentValue::from(wait.as_secs().max(1).to_string())),
                ],
            ),
            Timestamp::now(),
        )
    } else {
        crate::check::run(settings, &app.sign_in, &app.options(), &mailbox).await
    };
    tracing::info!(
        source = %id,
        mailbox = %answer.mailbox,
        ok = answer.ok,
        code = answer.code.as_deref().unwrap_or(""),
        elapsed_ms = answer.elapsed_ms,
        "connection test"
    );
    answer
}

/// A test's answer as the page shows it.
fn test_view(app: &AppState, answer: &TestAnswer) -> TestView {
    let tz = app.options().site_time_zone;
    let now = Timestamp::now();
    let provider = choice_label("provider", &answer.provider);
    let ms = FluentValue::from(answer.elapsed_ms.to_string());
    let mailbox = FluentValue::from(answer.mailbox.clone());
    let verdict = if answer.ok {
        t_with(
            "set-test-connected",
            &[
                ("provider", FluentValue::from(provider)),
                ("mailbox", mailbox),
                ("ms", ms),
            ],
        )
    } else {
        t_with("set-test-failed", &[("mailbox", mailbox), ("ms", ms)])
    };
    TestView {
        ok: answer.ok,
        verdict,
        state: answer
            .status
            .as_ref()
            .map(|st| super::console::state_words(st.state))
            .unwrap_or_default(),
        until: answer
            .status
            .as_ref()
            .and_then(|st| st.until)
            .map(|u| when(Some(u), &tz, now))
            .unwrap_or_default(),
        events_today: answer
            .events_today
            .map(|n| n.to_string())
            .unwrap_or_default(),
        code: answer.code.clone().unwrap_or_default(),
        message: answer.message.clone().unwrap_or_default(),
        guidance: answer.code.as_deref().map(guidance::for_code),
    }
}

/// `POST /portal/signin/device-code`: starts the device-code sign-in with the saved tenant and
/// application (the same code path as the API), then shows the code on the settings page.
pub async fn start_device_code(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
) -> Response {
    match crate::api::signin::start_device_code(State(app.clone())).await {
        Ok(_) => {
            tracing::info!(user = %s.user, "device-code sign-in started from the portal");
            axum::response::Redirect::to("/portal/settings#device-code").into_response()
        }
        Err(e) => {
            let source = FormSource::of(&app, DEFAULT_SOURCE_ID);
            let provider = source.settings.provider;
            let mut page = SettingsPage::saved_values(&app, &s, &source, provider).await;
            page.device.error = Some(format!("{} ({})", e.message, e.code));
            (e.status, page).into_response()
        }
    }
}

/// `GET /portal/signin/device-code`: the state for the page's script to follow.
pub async fn device_code_state(
    State(app): State<Arc<AppState>>,
    AdminSession(_): AdminSession,
) -> Response {
    let status = crate::api::signin::device_code_status(State(app.clone())).await;
    let view = device_view(&status.0, &app.options().site_time_zone);
    axum::Json(serde_json::json!({"state": view.state, "words": view.words})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{self, Lang};
    use calgate_core::OperatorState;
    use calgate_settings::Warning;
    use serde_json::json;

    fn validated(update: serde_json::Value) -> (CalendarSettings, Vec<Warning>) {
        validate_json(&update, &CalendarSettings::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    const TENANT: &str = "4b6c0d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e";
    const CLIENT: &str = "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d";

    /// Office 365 with both grants: three warnings.
    fn office365() -> serde_json::Value {
        json!({
            "provider": "office365",
            "grant_basic_auth": true,
            "grant_modern_auth": true,
            "tenant_id": TENANT,
            "client_id": CLIENT,
            "username": "svc@contoso.com",
            "password": "Passw0rd-Passw0rd",
        })
    }

    /// Settings that give every warning between them.
    fn warned() -> Vec<(CalendarSettings, Vec<Warning>)> {
        let exchange = |extra: serde_json::Value| {
            let mut base = json!({
                "provider": "exchange",
                "grant_basic_auth": true,
                "username": "CONTOSO\\svc",
                "password": "Passw0rd-Passw0rd",
                "ews_url": "https://mail.contoso.com/EWS/Exchange.asmx",
            });
            if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
                base.extend(extra.clone());
            }
            validated(base)
        };
        vec![
            validated(office365()),
            exchange(json!({"grant_windows_auth": true})),
            exchange(json!({"refresh_interval_s": 30, "ews_url": "https://mail.contoso.com/owa"})),
            exchange(json!({
                "grant_modern_auth": true,
                "tenant_id": TENANT,
                "client_id": CLIENT,
                "allow_insecure_http": true,
                "ews_url": "http://mail.contoso.com/EWS/Exchange.asmx",
                "authority_host": "http://login.contoso.com",
            })),
            exchange(json!({"ews_url": "https://127.0.0.1/EWS/Exchange.asmx"})),
        ]
    }

    #[tokio::test]
    async fn warnings_are_worded_by_code_the_same_in_english_and_translated_elsewhere() {
        let cases = warned();
        let mut codes: Vec<&str> = cases
            .iter()
            .flat_map(|(_, w)| w.iter().map(|w| w.code.as_str()))
            .collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 8, "every warning occurs: {codes:?}");
        for (settings, warnings) in &cases {
            for w in warnings {
                assert_eq!(warning_words(w, settings), w.message, "English");
                for lang in [Lang::It, Lang::De, Lang::Fr, Lang::Es] {
                    let words = i18n::scope(lang, async { warning_words(w, settings) }).await;
                    assert_ne!(words, w.message, "{} in {}", w.code.as_str(), lang.code());
                }
            }
        }
        let (settings, warnings) = &cases[3];
        let insecure = warnings
            .iter()
            .find(|w| w.code == WarningCode::InsecureHttp)
            .expect("insecure_http");
        let german = i18n::scope(Lang::De, async { warning_words(insecure, settings) }).await;
        assert!(
            german.starts_with("EWS-URL, Entra ID-Autoritätshost verwenden"),
            "{german}"
        );
        let order = warnings
            .iter()
            .chain(&cases[1].1)
            .find(|w| w.code == WarningCode::WindowsAuthOrder)
            .expect("windows_auth_order");
        let italian = i18n::scope(Lang::It, async { warning_words(order, &cases[1].0) }).await;
        assert!(
            italian.contains("nell'ordine Windows, poi Basic"),
            "{italian}"
        );
    }

    /// The whole page as a save with warnings and a connection test show it, in the current
    /// language.
    fn sample_page() -> String {
        let (settings, warnings) = validated(office365());
        let (values, set) = values_from_settings(&settings);
        let errors = BTreeMap::from([(
            "ews_url".to_string(),
            error_words("must start with https://"),
        )]);
        let chrome = Chrome {
            csrf: "csrf".to_string(),
            user: "admin".to_string(),
            admin: true,
            active: "settings",
            lang: i18n::current(),
        };
        let page = SettingsPage {
            chrome,
            source_id: "default".to_string(),
            source_name: "Head office".to_string(),
            name_error: None,
            is_default: true,
            is_new: false,
            provider: "office365".to_string(),
            groups: groups(
                Shown {
                    provider: Provider::Office365,
                    values: &values,
                    device_code: true,
                },
                &set,
                &errors,
            ),
            errors_summary: Some(t_with(
                "set-nothing-tested",
                &[("count", FluentValue::from(1))],
            )),
            other_errors: Vec::new(),
            saved: true,
            warnings: warning_views(&warnings, &settings),
            test: Some(TestView {
                ok: true,
                verdict: t_with(
                    "set-test-connected",
                    &[
                        (
                            "provider",
                            FluentValue::from(choice_label("provider", "exchange")),
                        ),
                        ("mailbox", FluentValue::from("ann@contoso.com")),
                        ("ms", FluentValue::from("120")),
                    ],
                ),
                state: super::super::console::state_words(OperatorState::Busy),
                until: "14:30".to_string(),
                events_today: "3".to_string(),
                code: String::new(),
                message: String::new(),
                guidance: None,
            }),
            tested_unsaved: true,
            test_mailbox: "ann@contoso.com".to_string(),
            mailboxes: Vec::new(),
            history: vec![(
                "14:00".to_string(),
                "portal:admin".to_string(),
                changed_label("tenant_id"),
            )],
            device: DeviceView {
                state: "pending".to_string(),
                words: t("set-device-pending"),
                user_code: "ABCD-EFGH".to_string(),
                uri: "https://microsoft.com/devicelogin".to_string(),
                open: segments(
                    "set-device-open",
                    &["uri", "code"],
                    &[("expires", FluentValue::from("14:45"))],
                ),
                error: None,
            },
            source_title: segments("set-source-title", &["id"], &[]),
            name_help: segments("set-display-name-help", &["id"], &[]),
            device_only: segments("set-device-only", &["id"], &[]),
        };
        page.render().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_page_in_english_reads_as_before() {
        let html = sample_page();
        for words in [
            "Calendar Integration Settings",
            "Source <code>default</code> — Head office",
            "Its id, <code>default</code>, is what the routing names and does not change.",
            "Directory (tenant) ID",
            "Tentative events show as",
            "Exchange on-premises",
            "Both Basic and modern authentication are granted.",
            "Nothing was tested: 1 field needs attention.",
            "must start with https://",
            "✔ Connected: Exchange on-premises answered for ann@contoso.com in 120 ms.",
            "In a meeting until 14:30",
            "enter the code <code class=\"secret\" id=\"device-user-code\">ABCD-EFGH</code> before 14:45.",
            "set — leave empty to keep",
            "portal:admin: Directory (tenant) ID",
        ] {
            assert!(html.contains(words), "{words}");
        }
    }

    #[tokio::test]
    async fn the_page_speaks_german_and_italian() {
        let expected = [
            (
                Lang::De,
                vec![
                    "Einstellungen der Kalenderintegration",
                    "Quelle <code>default</code>",
                    "Verzeichnis-ID (Mandant)",
                    "Vorläufige Termine erscheinen als",
                    "Exchange lokal",
                    "Es wurde nichts getestet: ein Feld muss korrigiert werden.",
                    "muss mit https:// beginnen",
                    "Verbunden: Exchange lokal hat für ann@contoso.com in 120 ms geantwortet.",
                    "In einer Besprechung bis 14:30",
                    "den Code <code class=\"secret\" id=\"device-user-code\">ABCD-EFGH</code> ein.",
                    "Verbindung testen",
                    "Anmeldung mit Gerätecode",
                    "leer lassen",
                ],
            ),
            (
                Lang::It,
                vec![
                    "Impostazioni dell",
                    "Origine <code>default</code>",
                    "ID della directory (tenant)",
                    "Gli eventi provvisori appaiono come",
                    "Exchange locale",
                    "Non è stato provato nulla: un campo richiede attenzione.",
                    "deve iniziare con https://",
                    "Connesso: Exchange locale ha risposto per ann@contoso.com in 120 ms.",
                    "In riunione fino a 14:30",
                    "inserisci il codice <code class=\"secret\" id=\"device-user-code\">ABCD-EFGH</code> entro 14:45.",
                    "Prova la connessione",
                    "Accesso con codice dispositivo",
                    "lascia vuoto",
                ],
            ),
        ];
        for (lang, words) in expected {
            let html = i18n::scope(lang, async { sample_page() }).await;
            for w in words {
                assert!(html.contains(w), "{}: {w}", lang.code());
            }
            // No English label of a translated field is left.
            for spec in fields() {
                let key = super::super::settings_form::field_key(spec.name, "label");
                if i18n::text_in(lang, &key, &[]) != spec.label {
                    assert!(
                        !html.contains(spec.label),
                        "{}: {}",
                        lang.code(),
                        spec.label
                    );
                }
            }
            for english in [
                "Calendar Integration Settings",
                "Calendar source",
                "Refresh and privacy",
                "Advanced connection settings",
                "Tentative events show as",
                "Working elsewhere shows as",
                "Ignore all-day events marked free",
                "Display name",
                "Test connection",
                "Recent changes",
                "Device-code sign-in",
                "Nothing was",
                "Warning:",
                "leave empty to keep",
                "Status now",
                "Exchange on-premises",
                "Both Basic and modern",
                "must start with",
            ] {
                assert!(!html.contains(english), "{}: {english}", lang.code());
            }
        }
    }
}
