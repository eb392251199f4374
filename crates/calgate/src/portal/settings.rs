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
    CalendarSettings, DEFAULT_SOURCE_ID, Provider, check_display_name, fields, source_id_problem,
    validate_json,
};

use super::guidance::{self, Guidance};
use super::settings_form::{Group, Shown, echo, groups, update_from_form, values_from_settings};
use super::text::{choice_label, when};
use super::{AdminSession, Chrome};
use crate::check::TestAnswer;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct WarningView {
    pub code: &'static str,
    pub message: String,
    pub explanation: String,
}

#[derive(Debug, Clone)]
pub struct TestView {
    pub ok: bool,
    pub mailbox: String,
    pub provider: String,
    pub state: String,
    pub until: String,
    pub events_today: String,
    pub code: String,
    pub message: String,
    pub guidance: Option<Guidance>,
    pub elapsed_ms: u64,
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
}

/// The device-code sign-in as the page shows it.
#[derive(Debug, Clone, Default)]
pub struct DeviceView {
    /// `none`, `pending`, `done`, `expired`, `declined` or `failed`.
    pub state: String,
    pub words: String,
    pub user_code: String,
    pub uri: String,
    pub expires: String,
    pub error: Option<String>,
}

/// The device-code sign-in's state in plain words.
pub fn device_view(
    status: &crate::api::signin::DeviceCodeStatus,
    tz: &jiff::tz::TimeZone,
) -> DeviceView {
    let now = Timestamp::now();
    let words = match status.state {
        "pending" => "Waiting for you to enter the code at Microsoft's sign-in page…".to_string(),
        "done" => format!(
            "Signed in{}. calgate reads calendars with this sign-in.",
            status
                .username
                .as_deref()
                .map(|u| format!(" as {u}"))
                .unwrap_or_default()
        ),
        "expired" => "The code expired before it was entered. Start again.".to_string(),
        "declined" => "The sign-in was declined at Microsoft's page.".to_string(),
        "failed" => format!(
            "Entra ID refused the sign-in: {} {}",
            status.code.as_deref().unwrap_or(""),
            status.message.as_deref().unwrap_or("")
        ),
        _ => "Not started.".to_string(),
    };
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
        expires: status
            .pending
            .as_ref()
            .map(|p| when(Some(p.expires_at), tz, now))
            .unwrap_or_default(),
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
                                "no change".to_string()
                            } else {
                                // The fields' labels, as the form shows them.
                                r.fields
                                    .iter()
                                    .map(|f| field_label(f))
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
            errors.insert(DISPLAY_NAME.to_string(), problem);
            None
        }
    };
    let validated = match validate_json(&update, &source.settings) {
        Ok(ok) if errors.is_empty() => Ok(ok),
        Ok(_) => Err(()),
        Err(fields) => {
            for (k, v) in fields.iter() {
                errors.entry(k.to_string()).or_insert_with(|| v.to_string());
            }
            Err(())
        }
    };
    let Ok((settings, warnings)) = validated else {
        let count = errors.len();
        let mut page = SettingsPage::build(&app, &s, &source, provider, echo(&form), errors).await;
        page.errors_summary = Some(format!(
            "Nothing was {}: {count} field{} need{} attention.",
            if testing { "tested" } else { "saved" },
            if count == 1 { "" } else { "s" },
            if count == 1 { "s" } else { "" }
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
        page.warnings = warning_views(&warnings);
        return page.into_response();
    }
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
        page.errors_summary = Some(format!("The database refused the save: {e}"));
        return (StatusCode::SERVICE_UNAVAILABLE, page).into_response();
    }
    let saved = FormSource::of(&app, &source.id);
    let mut page = SettingsPage::saved_values(&app, &s, &saved, provider).await;
    page.saved = true;
    page.warnings = warning_views(&warnings);
    page.into_response()
}

fn warning_views(warnings: &[calgate_settings::Warning]) -> Vec<WarningView> {
    warnings
        .iter()
        .map(|w| WarningView {
            code: w.code.as_str(),
            message: w.message.clone(),
            explanation: guidance::warning_explanation(w.code),
        })
        .collect()
}

/// A changed field's label as the form shows it ("Directory (tenant) ID" for `tenant_id`).
fn field_label(name: &str) -> String {
    match name {
        "display_name" => "Display name".to_string(),
        "deleted" => "source removed".to_string(),
        _ => {
            calgate_settings::field(name).map_or_else(|| name.to_string(), |f| f.label.to_string())
        }
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
        page.errors_summary = Some(format!(
            "The source {} is not saved yet: save its settings, then test the connection.",
            source.id
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
            "Enter the email address of a mailbox to test with.",
            Timestamp::now(),
        )
    } else if let Err(wait) = app.test_limit.take() {
        TestAnswer::failed(
            &mailbox,
            settings.provider.as_str(),
            &Code::TooManyTests.to_string(),
            &format!(
                "At most {} connection tests a minute. Try again in {} s.",
                crate::check::TESTS_PER_WINDOW,
                wait.as_secs().max(1)
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
    TestView {
        ok: answer.ok,
        mailbox: answer.mailbox.clone(),
        provider: choice_label("provider", &answer.provider),
        state: answer
            .status
            .as_ref()
            .map(|st| super::console::state_words(st.state).to_string())
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
        elapsed_ms: answer.elapsed_ms,
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
