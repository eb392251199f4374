//! *Directories*: the directories the watch list is synced from (Entra ID through a Graph
//! source's app credentials, or an LDAP server such as Active Directory). Each is listed with its
//! last sync and the actions Test (the first ten people, mapped), Preview (a dry run), Sync now,
//! Edit and Remove (after a confirmation; its people stay watched, as added by hand). A sync
//! whose removals are held asks for a decision: Confirm removals syncs again with the removals
//! allowed; Cancel changes and records nothing (the next sync holds them again). The add/edit
//! form goes through the API's own parser, so the page and `PUT /api/v1/directories/{id}`
//! accept the same directories.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fluent_bundle::FluentValue;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::{Value, json};

use calgate_settings::directories::{
    AD_DEFAULT_FILTER, DEFAULT_MAX_REMOVAL_SHARE, DEFAULT_SYNC_INTERVAL_S, PLAIN_LDAP_FILTER,
};
use calgate_settings::{AttributeMap, DirectoryKind};
use calgate_store::{ORIGIN_IMPORT, ORIGIN_MANUAL, StoredDirectory};

use super::settings_form::Opt;
use super::text::when;
use super::{AdminSession, Chrome, Session, guidance, with_notice};
use crate::api::directories::{Stored, TEST_PEOPLE, id_problem, parse_body};
use crate::directories::{
    Outcome, Preview, PreviewPerson, SyncError, SyncMode, Trigger, graph_sources, people_of,
};
use crate::i18n::{self, Lang, t, t_with};
use crate::state::AppState;

/// Warnings of one sync listed on the page at most (the count is always shown).
const WARNINGS_SHOWN: usize = 20;

/// An error code with its cause and fix in the reader's language, and the message from below
/// the pages (English).
#[derive(Debug, Clone)]
pub struct ErrorView {
    pub code: String,
    pub message: String,
    pub cause: String,
    pub fix: String,
}

impl ErrorView {
    fn of(code: &str, message: &str) -> ErrorView {
        let g = guidance::for_code(code);
        ErrorView {
            code: code.to_string(),
            message: message.to_string(),
            cause: g.cause,
            fix: g.fix,
        }
    }
}

/// A warning as the page lists it: its code and the reader's words of that code, and the
/// message naming the entry.
#[derive(Debug, Clone)]
pub struct WarningLine {
    pub code: String,
    pub message: String,
}

/// A person as a test or a preview lists them.
#[derive(Debug, Clone)]
pub struct PersonLine {
    pub email: String,
    pub name: String,
    pub extension: String,
    pub source: String,
    /// The fields that change (a preview's updates), in words.
    pub fields: String,
}

/// A sync's outcome, as the list, Health and the result of an action show it.
#[derive(Debug, Clone)]
pub struct SyncView {
    pub at: String,
    /// `ok`, `held` or `failed`.
    pub status: String,
    pub status_words: String,
    pub added: u64,
    pub updated: u64,
    pub removed: u64,
    pub unchanged: u64,
    pub held: u64,
    pub warning_count: usize,
    pub warnings: Vec<WarningLine>,
    pub error: Option<ErrorView>,
    /// A dry run's or held sync's first changes.
    pub adds: Vec<PersonLine>,
    pub updates: Vec<PersonLine>,
    pub removals: Vec<String>,
}

/// A preview's changed fields in words: "name, extension".
fn fields_words(fields: &[String]) -> String {
    fields
        .iter()
        .map(|f| match f.as_str() {
            "name" => t("n-col-name"),
            "extension" => t("n-col-extension"),
            "source" => t("dir-field-source"),
            "id" => t("dir-field-id"),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn person_line(p: PreviewPerson, fields: &[String]) -> PersonLine {
    PersonLine {
        fields: fields_words(fields),
        email: p.email,
        name: p.name,
        extension: p.extension.unwrap_or_default(),
        source: p.source.unwrap_or_default(),
    }
}

/// A sync's status in words.
fn status_words(status: &str) -> String {
    match status {
        "ok" => t("dir-status-ok"),
        "held" => t("dir-status-held"),
        "failed" => t("dir-status-failed"),
        other => other.to_string(),
    }
}

impl SyncView {
    /// The view of a sync's outcome.
    fn of(o: Outcome, tz: &TimeZone, now: Timestamp) -> SyncView {
        let status = o.status().to_string();
        let preview = o.preview.unwrap_or(Preview {
            add: Vec::new(),
            update: Vec::new(),
            remove: Vec::new(),
        });
        SyncView {
            at: when(Some(o.at), tz, now),
            status_words: status_words(&status),
            status,
            added: o.added as u64,
            updated: o.updated as u64,
            removed: o.removed as u64,
            unchanged: o.unchanged as u64,
            held: o.held as u64,
            warning_count: o.warnings.len(),
            warnings: o
                .warnings
                .into_iter()
                .take(WARNINGS_SHOWN)
                .map(|w| WarningLine {
                    code: w.code,
                    message: w.message,
                })
                .collect(),
            error: o.error.map(|e| ErrorView::of(&e.code, &e.message)),
            adds: preview
                .add
                .into_iter()
                .map(|p| person_line(p, &[]))
                .collect(),
            updates: preview
                .update
                .into_iter()
                .map(|u| person_line(u.person, &u.fields))
                .collect(),
            removals: preview.remove,
        }
    }

    /// "3 warnings", for the list.
    pub fn warnings_words(&self) -> String {
        t_with(
            "dir-warnings-count",
            &[("count", FluentValue::from(self.warning_count))],
        )
    }

    /// Whether the preview lists fewer people than it counts.
    pub fn listed_fewer(&self) -> bool {
        (self.adds.len() as u64) < self.added
            || (self.updates.len() as u64) < self.updated
            || (self.removals.len() as u64) < self.removed + self.held
    }
}

/// One directory as the list and Health show it.
#[derive(Debug, Clone)]
pub struct DirectoryRow {
    pub id: String,
    pub name: String,
    /// The name, or the id when it has none.
    pub label: String,
    pub kind_words: String,
    pub syncing: bool,
    pub last: Option<SyncView>,
}

/// A kind of directory in words.
fn kind_words(kind: DirectoryKind) -> String {
    match kind {
        DirectoryKind::Graph => t("dir-kind-graph"),
        DirectoryKind::Ldap => t("dir-kind-ldap"),
    }
}

fn label_of(d: &StoredDirectory) -> String {
    if d.config.name.is_empty() {
        d.id.clone()
    } else {
        d.config.name.clone()
    }
}

fn row_of(app: &AppState, d: &StoredDirectory, tz: &TimeZone, now: Timestamp) -> DirectoryRow {
    DirectoryRow {
        id: d.id.clone(),
        name: d.config.name.clone(),
        label: label_of(d),
        kind_words: kind_words(d.config.kind),
        syncing: app.directories.is_running(&d.id),
        last: d
            .outcome
            .as_ref()
            .and_then(Outcome::from_json)
            .map(|o| SyncView::of(o, tz, now)),
    }
}

/// Every directory with its last sync (Health lists them too).
pub(super) async fn directory_rows(
    app: &AppState,
) -> Result<Vec<DirectoryRow>, calgate_store::StoreError> {
    let tz = app.options().site_time_zone;
    let now = Timestamp::now();
    Ok(app
        .store
        .load_directories()
        .await?
        .iter()
        .map(|d| row_of(app, d, &tz, now))
        .collect())
}

/// The directories' names by id (for the Watch list's origin column).
pub(super) async fn directory_names(app: &AppState) -> HashMap<String, String> {
    app.store
        .load_directories()
        .await
        .unwrap_or_default()
        .iter()
        .map(|d| (d.id.clone(), label_of(d)))
        .collect()
}

/// Where a watched person came from, in words: by hand, an import, or the directory's name.
pub(super) fn origin_words(origin: &str, names: &HashMap<String, String>) -> String {
    match origin {
        ORIGIN_MANUAL => t("dir-origin-manual"),
        ORIGIN_IMPORT => t("dir-origin-import"),
        id => names.get(id).cloned().unwrap_or_else(|| id.to_string()),
    }
}

/// A held sync waiting for the administrator's decision.
#[derive(Debug, Clone)]
pub struct HeldView {
    pub id: String,
    pub title: String,
    pub body: String,
    /// The first people who would leave.
    pub removals: Vec<String>,
}

/// A directory whose removal waits for the administrator's confirmation.
#[derive(Debug, Clone)]
pub struct ConfirmView {
    pub id: String,
    pub label: String,
}

/// The first people a test read answers, or why the read failed.
#[derive(Debug, Clone)]
pub struct TestView {
    pub id: String,
    pub label: String,
    pub people: Vec<PersonLine>,
    pub warnings: Vec<WarningLine>,
    pub error: Option<ErrorView>,
}

/// The answer of Preview or Sync now.
#[derive(Debug, Clone)]
pub struct ResultView {
    /// `preview` or `sync`.
    pub kind: &'static str,
    pub id: String,
    pub title: String,
    pub sync: SyncView,
}

/// One input of the directory form.
#[derive(Debug, Clone, Default)]
pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    pub help: String,
    /// `text`, `number`, `checkbox`, `select`, `textarea` or `password`.
    pub widget: &'static str,
    pub value: String,
    pub checked: bool,
    pub options: Vec<Opt>,
    pub placeholder: String,
    pub error: Option<String>,
    /// A stored password (the password input).
    pub is_set: bool,
    /// A sentence of warning under the input.
    pub warning: String,
    /// Filters a button can put in the input: (label, filter).
    pub presets: Vec<(String, String)>,
    /// The attribute's default name per kind (the placeholder follows the kind).
    pub default_graph: String,
    pub default_ldap: String,
}

/// The add/edit form: what it holds (saved, or as typed; never the password) and its errors.
#[derive(Debug, Clone, Default)]
pub struct FormView {
    /// An existing directory (its id is fixed).
    pub editing: bool,
    pub id: String,
    pub values: HashMap<&'static str, String>,
    pub flags: HashMap<&'static str, bool>,
    pub graph_sources: Vec<String>,
    pub password_set: bool,
    /// By form field name.
    pub errors: BTreeMap<String, String>,
    pub summary: Option<String>,
}

/// The form's inputs (other than the id), by group.
const GRAPH_FIELDS: [&str; 2] = ["source", "group_id"];
const LDAP_FIELDS: [&str; 8] = [
    "url",
    "starttls",
    "allow_insecure_ldap",
    "bind_dn",
    "bind_password",
    "base_dn",
    "filter",
    "extra_ca_pem",
];
const MAPPING_FIELDS: [&str; 4] = ["attr_email", "attr_name", "attr_extension", "attr_source"];
const SCHEDULE_FIELDS: [&str; 2] = ["sync_interval_s", "max_removal_percent"];
const TEXT_FIELDS: [&str; 15] = [
    "name",
    "kind",
    "source",
    "group_id",
    "url",
    "bind_dn",
    "base_dn",
    "filter",
    "extra_ca_pem",
    "attr_email",
    "attr_name",
    "attr_extension",
    "attr_source",
    "sync_interval_s",
    "max_removal_percent",
];
const CHECKBOXES: [&str; 2] = ["starttls", "allow_insecure_ldap"];

/// A share (0.2) as the percent the form shows ("20").
fn percent(share: f64) -> String {
    format!("{}", (share * 1000.0).round() / 10.0)
}

/// "20", "12.5", "12,5", "20 %" as a share; `None` when it is not a percent from 0 to 100.
fn parse_percent(text: &str) -> Option<f64> {
    let text = text.trim().trim_end_matches('%').trim().replace(',', ".");
    text.parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && (0.0..=100.0).contains(p))
        .map(|p| p / 100.0)
}

impl FormView {
    /// The form of a new directory.
    fn blank(graph_sources: Vec<String>) -> FormView {
        let kind = if graph_sources.is_empty() {
            "ldap"
        } else {
            "graph"
        };
        let mut values = HashMap::new();
        values.insert("kind", kind.to_string());
        values.insert("sync_interval_s", DEFAULT_SYNC_INTERVAL_S.to_string());
        values.insert("max_removal_percent", percent(DEFAULT_MAX_REMOVAL_SHARE));
        if let [only] = graph_sources.as_slice() {
            values.insert("source", only.clone());
        }
        FormView {
            values,
            graph_sources,
            ..FormView::default()
        }
    }

    /// The form of a saved directory.
    fn of(d: &StoredDirectory, graph_sources: Vec<String>) -> FormView {
        let c = &d.config;
        let mut values = HashMap::new();
        let mut put = |k: &'static str, v: Option<&String>| {
            if let Some(v) = v {
                values.insert(k, v.clone());
            }
        };
        put("name", Some(&c.name));
        put("source", c.source.as_ref());
        put("group_id", c.group_id.as_ref());
        put("url", c.url.as_ref());
        put("bind_dn", c.bind_dn.as_ref());
        put("base_dn", c.base_dn.as_ref());
        put("filter", c.filter.as_ref());
        put("extra_ca_pem", c.extra_ca_pem.as_ref());
        if let Some(a) = &c.attributes {
            put("attr_email", Some(&a.email));
            put("attr_name", Some(&a.name));
            put("attr_extension", Some(&a.extension));
            put("attr_source", a.source.as_ref());
        }
        values.insert(
            "kind",
            match c.kind {
                DirectoryKind::Graph => "graph",
                DirectoryKind::Ldap => "ldap",
            }
            .to_string(),
        );
        values.insert("sync_interval_s", c.sync_interval_s.to_string());
        values.insert("max_removal_percent", percent(c.max_removal_share));
        let flags = HashMap::from([
            ("starttls", c.starttls),
            ("allow_insecure_ldap", c.allow_insecure_ldap),
        ]);
        FormView {
            editing: true,
            id: d.id.clone(),
            values,
            flags,
            graph_sources,
            password_set: d.bind_password_set,
            ..FormView::default()
        }
    }

    /// The form as it was sent (the password is never sent back).
    fn typed(
        form: &HashMap<String, String>,
        graph_sources: Vec<String>,
        password_set: bool,
    ) -> FormView {
        let values = TEXT_FIELDS
            .iter()
            .filter_map(|k| form.get(*k).map(|v| (*k, v.clone())))
            .collect();
        let flags = CHECKBOXES
            .iter()
            .map(|k| (*k, form.contains_key(*k)))
            .collect();
        FormView {
            editing: form.get("editing").is_some_and(|v| v == "yes"),
            id: form
                .get("id")
                .map(|i| i.trim().to_string())
                .unwrap_or_default(),
            values,
            flags,
            graph_sources,
            password_set,
            ..FormView::default()
        }
    }

    fn value(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }

    pub fn kind(&self) -> String {
        match self.value("kind").as_str() {
            "graph" => "graph".to_string(),
            _ => "ldap".to_string(),
        }
    }

    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }

    /// The id's input.
    pub fn id_field(&self) -> FieldView {
        self.field("id")
    }

    /// The name and the kind.
    pub fn general(&self) -> Vec<FieldView> {
        ["name", "kind"].iter().map(|n| self.field(n)).collect()
    }

    pub fn graph(&self) -> Vec<FieldView> {
        GRAPH_FIELDS.iter().map(|n| self.field(n)).collect()
    }

    pub fn ldap(&self) -> Vec<FieldView> {
        LDAP_FIELDS.iter().map(|n| self.field(n)).collect()
    }

    pub fn mapping(&self) -> Vec<FieldView> {
        MAPPING_FIELDS.iter().map(|n| self.field(n)).collect()
    }

    pub fn schedule(&self) -> Vec<FieldView> {
        SCHEDULE_FIELDS.iter().map(|n| self.field(n)).collect()
    }

    /// One input with its label, help, value as shown and error.
    pub fn field(&self, name: &'static str) -> FieldView {
        let key = |part: &str| format!("dir-f-{}-{part}", name.replace('_', "-"));
        let help = t(&key("help"));
        let mut f = FieldView {
            name,
            label: t(&key("label")),
            help: if help == key("help") {
                String::new()
            } else {
                help
            },
            widget: "text",
            value: if name == "id" {
                self.id.clone()
            } else {
                self.value(name)
            },
            checked: self.flags.get(name).copied().unwrap_or(false),
            error: self.errors.get(name).cloned(),
            ..FieldView::default()
        };
        match name {
            "id" => f.placeholder = "corp".to_string(),
            "name" => f.placeholder = t("dir-f-name-placeholder"),
            "kind" => {
                f.widget = "select";
                let kind = self.kind();
                f.options = [("graph", "dir-kind-graph"), ("ldap", "dir-kind-ldap")]
                    .into_iter()
                    .map(|(value, label)| Opt {
                        value: value.to_string(),
                        label: t(label),
                        selected: kind == value,
                    })
                    .collect();
            }
            "source" => {
                f.widget = "select";
                let current = self.value("source");
                let mut options = vec![Opt {
                    value: String::new(),
                    label: "—".to_string(),
                    selected: current.is_empty(),
                }];
                options.extend(self.graph_sources.iter().map(|id| Opt {
                    value: id.clone(),
                    label: id.clone(),
                    selected: *id == current,
                }));
                if !current.is_empty() && !self.graph_sources.contains(&current) {
                    options.push(Opt {
                        label: t_with(
                            "n-src-not-configured",
                            &[("id", FluentValue::from(current.as_str()))],
                        ),
                        value: current,
                        selected: true,
                    });
                }
                f.options = options;
                if self.graph_sources.is_empty() {
                    f.warning = t("dir-f-source-none");
                }
            }
            "group_id" => f.placeholder = "00000000-0000-0000-0000-000000000000".to_string(),
            "url" => f.placeholder = "ldaps://dc1.contoso.com:636".to_string(),
            "starttls" => f.widget = "checkbox",
            "allow_insecure_ldap" => {
                f.widget = "checkbox";
                f.warning = t("dir-f-allow-insecure-ldap-warning");
            }
            "bind_dn" => f.placeholder = "CN=calgate,OU=Service,DC=contoso,DC=com".to_string(),
            "bind_password" => {
                f.widget = "password";
                f.is_set = self.password_set;
                f.value = String::new();
            }
            "base_dn" => f.placeholder = "DC=contoso,DC=com".to_string(),
            "filter" => {
                f.placeholder = AD_DEFAULT_FILTER.to_string();
                f.presets = vec![
                    (t("dir-preset-ad"), AD_DEFAULT_FILTER.to_string()),
                    (t("dir-preset-plain"), PLAIN_LDAP_FILTER.to_string()),
                ];
            }
            "extra_ca_pem" => {
                f.widget = "textarea";
                f.placeholder = "-----BEGIN CERTIFICATE-----".to_string();
            }
            "attr_email" | "attr_name" | "attr_extension" | "attr_source" => {
                let of = |kind| {
                    let d = AttributeMap::defaults(kind);
                    match name {
                        "attr_email" => d.email,
                        "attr_name" => d.name,
                        "attr_extension" => d.extension,
                        _ => d.source.unwrap_or_default(),
                    }
                };
                f.default_graph = of(DirectoryKind::Graph);
                f.default_ldap = of(DirectoryKind::Ldap);
                f.placeholder = if self.kind() == "graph" {
                    f.default_graph.clone()
                } else {
                    f.default_ldap.clone()
                };
            }
            "sync_interval_s" | "max_removal_percent" => f.widget = "number",
            _ => {}
        }
        f
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "directories.html")]
pub struct DirectoriesPage {
    chrome: Chrome,
    rows: Vec<DirectoryRow>,
    notice: Option<String>,
    error: Option<String>,
    held: Vec<HeldView>,
    confirm: Option<ConfirmView>,
    test: Option<TestView>,
    result: Option<ResultView>,
    form: FormView,
    times_note: String,
}

impl DirectoriesPage {
    async fn build(app: &AppState, s: &Session) -> DirectoriesPage {
        let (rows, error) = match directory_rows(app).await {
            Ok(rows) => (rows, None),
            Err(e) => (Vec::new(), Some(store_words(e))),
        };
        let held = rows
            .iter()
            .filter_map(|r| {
                let last = r.last.as_ref().filter(|l| l.status == "held")?;
                let args = [
                    ("id", FluentValue::from(r.label.as_str())),
                    ("count", FluentValue::from(last.held)),
                ];
                Some(HeldView {
                    id: r.id.clone(),
                    title: t_with("dir-held-title", &args),
                    body: t_with("dir-held-body", &args),
                    removals: last.removals.clone(),
                })
            })
            .collect();
        let tz = app.options().site_time_zone;
        DirectoriesPage {
            chrome: Chrome::new(s, "directories"),
            rows,
            notice: None,
            error,
            held,
            confirm: None,
            test: None,
            result: None,
            form: FormView::blank(graph_sources(app)),
            times_note: super::health::times_note(&tz),
        }
    }

    /// The page with `error` shown on it, answered with `status`.
    async fn refused(app: &AppState, s: &Session, status: StatusCode, error: String) -> Response {
        let mut page = DirectoriesPage::build(app, s).await;
        page.error = Some(error);
        (status, page).into_response()
    }

    fn label(&self, id: &str) -> String {
        self.rows
            .iter()
            .find(|r| r.id == id)
            .map_or_else(|| id.to_string(), |r| r.label.clone())
    }
}

/// A store error in the reader's words (the store's own words inside).
fn store_words(e: calgate_store::StoreError) -> String {
    t_with(
        "n-db-refused",
        &[("error", FluentValue::from(e.to_string()))],
    )
}

/// Message `key` about the directory `id`.
fn about(key: &str, id: &str) -> String {
    t_with(key, &[("id", FluentValue::from(id))])
}

#[derive(Debug, Deserialize)]
pub struct DirectoriesQuery {
    #[serde(default)]
    notice: Option<String>,
    /// Opens the form of this directory.
    #[serde(default)]
    edit: Option<String>,
    /// The held removals of this directory were left held (Cancel).
    #[serde(default)]
    kept: Option<String>,
}

/// `GET /portal/directories`.
pub async fn page(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Query(q): Query<DirectoriesQuery>,
) -> Response {
    let mut page = DirectoriesPage::build(&app, &s).await;
    page.notice = q.notice;
    if let Some(id) = q.kept
        && page.held.iter().any(|h| h.id == id)
    {
        // Cancel: nothing runs and nothing is recorded; the question is left for later.
        page.held.retain(|h| h.id != id);
        page.notice = Some(about("dir-held-kept", &page.label(&id)));
    }
    if let Some(id) = q.edit {
        match app.store.load_directory(&id).await {
            Ok(Some(d)) => page.form = FormView::of(&d, graph_sources(&app)),
            Ok(None) => page.error = Some(about("dir-unknown", &id)),
            Err(e) => page.error = Some(store_words(e)),
        }
    }
    page.into_response()
}

/// The `id` field of a form.
fn form_id(form: &HashMap<String, String>) -> String {
    form.get("id")
        .map(|i| i.trim().to_string())
        .unwrap_or_default()
}

/// Why an action on a directory did not run, in words, with its status.
fn sync_refusal(e: SyncError) -> (StatusCode, String) {
    match e {
        SyncError::NotFound(id) => (StatusCode::NOT_FOUND, about("dir-unknown", &id)),
        SyncError::Running(id) => (StatusCode::CONFLICT, about("dir-running", &id)),
        SyncError::Store(e) => (StatusCode::SERVICE_UNAVAILABLE, store_words(e)),
    }
}

/// `POST /portal/directories/test`: the first ten people the directory lists, mapped, or why
/// it could not be read; changes nothing.
pub async fn test(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let id = form_id(&form);
    let read = match app.test_directory(&id, TEST_PEOPLE).await {
        Ok(read) => read,
        Err(e) => {
            let (status, why) = sync_refusal(e);
            return DirectoriesPage::refused(&app, &s, status, why).await;
        }
    };
    let people = people_of(&read);
    let mut warnings: Vec<WarningLine> = read
        .warnings
        .iter()
        .map(|w| WarningLine {
            code: w.code.to_string(),
            message: w.message.clone(),
        })
        .collect();
    // A read that failed answers nobody and says why in its one warning.
    let error = (people.is_empty() && !warnings.is_empty()).then(|| {
        let first = warnings.remove(0);
        ErrorView::of(&first.code, &first.message)
    });
    let mut page = DirectoriesPage::build(&app, &s).await;
    page.test = Some(TestView {
        label: page.label(&id),
        id,
        people: people
            .into_iter()
            .map(|e| PersonLine {
                email: e.email,
                name: e.name,
                extension: e.extension.unwrap_or_default(),
                source: e.source.unwrap_or_default(),
                fields: String::new(),
            })
            .collect(),
        warnings,
        error,
    });
    page.into_response()
}

/// `POST /portal/directories/preview`: a dry run: what a sync would add, change and remove.
pub async fn preview(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let id = form_id(&form);
    let mode = SyncMode {
        dry_run: true,
        confirm_removals: false,
    };
    run(&app, &s, &id, mode).await
}

/// `POST /portal/directories/sync`: syncs now (`confirm_removals=yes` lets held removals go)
/// and shows the outcome.
pub async fn sync(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let id = form_id(&form);
    let mode = SyncMode {
        dry_run: false,
        confirm_removals: form.get("confirm_removals").is_some_and(|v| v == "yes"),
    };
    tracing::info!(
        user = %s.user,
        directory = %id,
        confirm_removals = mode.confirm_removals,
        "directory sync requested from the portal"
    );
    run(&app, &s, &id, mode).await
}

async fn run(app: &AppState, s: &Session, id: &str, mode: SyncMode) -> Response {
    let outcome = match app.sync_directory(id, mode, Trigger::Admin).await {
        Ok(outcome) => outcome,
        Err(e) => {
            let (status, why) = sync_refusal(e);
            return DirectoriesPage::refused(app, s, status, why).await;
        }
    };
    let tz = app.options().site_time_zone;
    let mut view = SyncView::of(outcome, &tz, Timestamp::now());
    let mut page = DirectoriesPage::build(app, s).await;
    let label = page.label(id);
    let counts = [
        ("id", FluentValue::from(label.as_str())),
        ("added", FluentValue::from(view.added)),
        ("updated", FluentValue::from(view.updated)),
        ("removed", FluentValue::from(view.removed)),
        ("held", FluentValue::from(view.held)),
        ("unchanged", FluentValue::from(view.unchanged)),
    ];
    let (kind, title) = if mode.dry_run {
        // A dry run changed nothing: its status says what a sync would do.
        view.status_words = match view.status.as_str() {
            "ok" => t("dir-preview-ok"),
            "held" => t("dir-preview-would-hold"),
            _ => view.status_words.clone(),
        };
        ("preview", t_with("dir-preview-title", &counts))
    } else {
        ("sync", t_with("dir-outcome-title", &counts))
    };
    match (&view.error, mode.dry_run) {
        (Some(e), _) => {
            page.error = Some(t_with(
                if mode.dry_run {
                    "dir-preview-failed"
                } else {
                    "dir-sync-failed"
                },
                &[
                    ("id", FluentValue::from(label.as_str())),
                    ("cause", FluentValue::from(e.cause.as_str())),
                ],
            ));
        }
        (None, false) if view.held > 0 => page.notice = Some(t_with("dir-synced-held", &counts)),
        (None, false) => page.notice = Some(t_with("dir-synced", &counts)),
        (None, true) => {}
    }
    page.result = Some(ResultView {
        kind,
        id: id.to_string(),
        title,
        sync: view,
    });
    page.into_response()
}

/// `POST /portal/directories/remove`: without `confirmed=yes` the page asks first; then removes
/// the directory (its people stay watched, as added by hand).
pub async fn remove(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let id = form_id(&form);
    let stored = match app.store.load_directory(&id).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            return DirectoriesPage::refused(
                &app,
                &s,
                StatusCode::NOT_FOUND,
                about("dir-unknown", &id),
            )
            .await;
        }
        Err(e) => {
            return DirectoriesPage::refused(
                &app,
                &s,
                StatusCode::SERVICE_UNAVAILABLE,
                store_words(e),
            )
            .await;
        }
    };
    if form.get("confirmed").map(String::as_str) != Some("yes") {
        let mut page = DirectoriesPage::build(&app, &s).await;
        page.confirm = Some(ConfirmView {
            label: label_of(&stored),
            id,
        });
        return page.into_response();
    }
    match app
        .store
        .delete_directory(&id, &format!("portal:{}", s.user))
        .await
    {
        Ok(true) => {
            tracing::info!(user = %s.user, directory = %id, "directory deleted from the portal");
            crate::cluster::announce(&app, crate::cluster::Changed::Directories).await;
            with_notice(
                "/portal/directories",
                &about("dir-removed", &label_of(&stored)),
            )
        }
        Ok(false) => with_notice("/portal/directories", &about("dir-unknown", &id)),
        Err(e) => {
            DirectoriesPage::refused(&app, &s, StatusCode::SERVICE_UNAVAILABLE, store_words(e))
                .await
        }
    }
}

/// The form as the API's `PUT` body, and the refusals of what the API would not see (numbers
/// that are not numbers, a percent out of range), by form field.
fn body_of(
    form: &HashMap<String, String>,
    stored_password: bool,
) -> (Value, BTreeMap<String, String>) {
    let text = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let opt = |k: &str| Some(text(k)).filter(|v| !v.is_empty());
    let mut errors = BTreeMap::new();
    let kind = if text("kind") == "graph" {
        DirectoryKind::Graph
    } else {
        DirectoryKind::Ldap
    };
    let interval = text("sync_interval_s").parse::<u32>().unwrap_or_else(|_| {
        errors.insert("sync_interval_s".to_string(), t("dir-err-interval"));
        DEFAULT_SYNC_INTERVAL_S
    });
    let share = parse_percent(&text("max_removal_percent")).unwrap_or_else(|| {
        errors.insert("max_removal_percent".to_string(), t("dir-err-percent"));
        DEFAULT_MAX_REMOVAL_SHARE
    });
    let mut body = json!({
        "kind": kind,
        "name": text("name"),
        "sync_interval_s": interval,
        "max_removal_share": share,
    });
    let defaults = AttributeMap::defaults(kind);
    let attributes = AttributeMap {
        email: opt("attr_email").unwrap_or_else(|| defaults.email.clone()),
        name: opt("attr_name").unwrap_or_else(|| defaults.name.clone()),
        extension: opt("attr_extension").unwrap_or_else(|| defaults.extension.clone()),
        source: opt("attr_source"),
    };
    if attributes != defaults {
        body["attributes"] = json!(attributes);
    }
    // Only the chosen kind's fields are saved; a Graph directory keeps no bind password.
    match kind {
        DirectoryKind::Graph => {
            body["source"] = json!(opt("source"));
            body["group_id"] = json!(opt("group_id"));
            if stored_password {
                body["bind_password"] = Value::Null;
            }
        }
        DirectoryKind::Ldap => {
            for k in ["url", "bind_dn", "base_dn", "filter", "extra_ca_pem"] {
                body[k] = json!(opt(k));
            }
            body["starttls"] = json!(form.contains_key("starttls"));
            body["allow_insecure_ldap"] = json!(form.contains_key("allow_insecure_ldap"));
            if form.contains_key("clear_bind_password") {
                body["bind_password"] = Value::Null;
            } else if let Some(p) = form.get("bind_password").filter(|p| !p.is_empty()) {
                body["bind_password"] = json!(p);
            }
        }
    }
    if let Value::Object(map) = &mut body {
        // Absent, not null: null would mean "clear" to the parser only for the password.
        map.retain(|k, v| k == "bind_password" || !v.is_null());
    }
    (body, errors)
}

/// The form field an API field's error belongs to.
fn form_field(api_field: &str) -> &str {
    match api_field {
        "attributes.email" => "attr_email",
        "attributes.name" => "attr_name",
        "attributes.extension" => "attr_extension",
        "attributes.source" => "attr_source",
        "max_removal_share" => "max_removal_percent",
        other => other,
    }
}

/// The catalogue keys of the directory validator's messages, by their English text
/// (`dir-err-*` in the English catalogue; a test feeds the validator the usual mistakes and
/// checks each message is found here).
fn error_keys() -> &'static HashMap<String, String> {
    static KEYS: OnceLock<HashMap<String, String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let (ids, _) = i18n::message_ids(Lang::En);
        ids.into_iter()
            .filter(|id| id.starts_with("dir-err-"))
            .map(|id| (i18n::text_in(Lang::En, &id, &[]), id))
            .collect()
    })
}

/// A field error in the reader's language (the validator words its messages in English).
fn error_words(field: &str, message: &str) -> String {
    match field {
        "sync_interval_s" => return t("dir-err-interval"),
        "max_removal_share" => return t("dir-err-percent"),
        "bind_password" if message.starts_with("a string of at most") => {
            return t("dir-err-password-long");
        }
        _ => {}
    }
    if let Some(id) = message
        .strip_prefix("no Graph source has the id ")
        .map(|id| id.trim_matches('"'))
    {
        return about("dir-err-no-graph-source", id);
    }
    match error_keys().get(message) {
        Some(key) => t(key),
        None => message.to_string(),
    }
}

/// `POST /portal/directories/save`: creates or replaces a directory through the API's parser,
/// or shows the form again with one message per refused field (nothing saved; the password is
/// not kept).
pub async fn save(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let graph = graph_sources(&app);
    let id = form_id(&form);
    let editing = form.get("editing").is_some_and(|v| v == "yes");
    let mut errors = BTreeMap::new();
    let existing = match id_problem(&id) {
        Some(problem) => {
            errors.insert(
                "id".to_string(),
                t_with("dir-id-refused", &[("problem", FluentValue::from(problem))]),
            );
            None
        }
        None => match app.store.load_directory(&id).await {
            Ok(existing) => existing,
            Err(e) => {
                return DirectoriesPage::refused(
                    &app,
                    &s,
                    StatusCode::SERVICE_UNAVAILABLE,
                    store_words(e),
                )
                .await;
            }
        },
    };
    match (&existing, editing) {
        (Some(_), false) => {
            errors.insert("id".to_string(), about("dir-id-exists", &id));
        }
        (None, true) if !errors.contains_key("id") => {
            errors.insert("id".to_string(), about("dir-unknown", &id));
        }
        _ => {}
    }
    let stored_password = existing.as_ref().is_some_and(|d| d.bind_password_set);
    let (body, typed_errors) = body_of(&form, stored_password);
    errors.extend(typed_errors);
    let mut other = None;
    match parse_body(body, Stored::of(existing.as_ref()), &graph) {
        Ok((config, password)) if errors.is_empty() => {
            let created = existing.is_none();
            return match app
                .store
                .save_directory(&id, &config, password, &format!("portal:{}", s.user))
                .await
            {
                Ok(_) => {
                    tracing::info!(
                        user = %s.user,
                        directory = %id,
                        kind = ?config.kind,
                        "directory saved from the portal"
                    );
                    crate::cluster::announce(&app, crate::cluster::Changed::Directories).await;
                    let key = if created { "dir-created" } else { "dir-saved" };
                    with_notice("/portal/directories", &about(key, &id))
                }
                Err(e) => {
                    DirectoriesPage::refused(
                        &app,
                        &s,
                        StatusCode::SERVICE_UNAVAILABLE,
                        store_words(e),
                    )
                    .await
                }
            };
        }
        Ok(_) => {}
        Err(fields) => {
            for (k, v) in fields.iter() {
                if k == "body" {
                    other = Some(v.to_string());
                    continue;
                }
                errors
                    .entry(form_field(k).to_string())
                    .or_insert_with(|| error_words(k, v));
            }
        }
    }
    let mut page = DirectoriesPage::build(&app, &s).await;
    let mut view = FormView::typed(&form, graph, stored_password);
    let mut summary = t_with(
        "set-nothing-saved",
        &[("count", FluentValue::from(errors.len().max(1)))],
    );
    if let Some(other) = other {
        summary.push(' ');
        summary.push_str(&other);
    }
    if form.get("bind_password").is_some_and(|p| !p.is_empty()) {
        summary.push(' ');
        summary.push_str(&t("dir-password-retype"));
    }
    view.summary = Some(summary);
    view.errors = errors;
    page.form = view;
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calgate_settings::DirectoryConfig;

    #[test]
    fn percents_are_read_as_written_in_any_of_the_languages() {
        assert_eq!(parse_percent("20"), Some(0.2));
        assert_eq!(parse_percent(" 12,5 % "), Some(0.125));
        assert_eq!(parse_percent("100"), Some(1.0));
        assert_eq!(parse_percent("101"), None);
        assert_eq!(parse_percent("-1"), None);
        assert_eq!(parse_percent("NaN"), None);
        assert_eq!(parse_percent("twenty"), None);
        assert_eq!(percent(0.2), "20");
        assert_eq!(percent(0.07), "7");
        assert_eq!(percent(0.125), "12.5");
    }

    /// The form's body: only the chosen kind's fields, the attributes only when they differ
    /// from the kind's defaults, the password only when typed or cleared.
    #[test]
    fn the_form_becomes_the_apis_body() {
        let form: HashMap<String, String> = [
            ("kind", "ldap"),
            ("name", " Corp "),
            ("url", "ldaps://dc1:636"),
            ("base_dn", "dc=example,dc=org"),
            ("bind_dn", "cn=reader,dc=example,dc=org"),
            ("bind_password", " secret "),
            ("group_id", "ignored for LDAP"),
            ("attr_email", "mail"),
            ("attr_extension", "ipPhone"),
            ("sync_interval_s", "900"),
            ("max_removal_percent", "25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (body, errors) = body_of(&form, false);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            body["bind_password"], " secret ",
            "a password is taken as typed"
        );
        assert!(body.get("group_id").is_none(), "{body}");
        assert_eq!(body["attributes"]["extension"], "ipPhone");
        assert_eq!(body["attributes"]["name"], "displayName");
        assert_eq!(body["max_removal_share"], 0.25);
        let (config, _) = parse_body(body, Stored::default(), &[]).expect("valid");
        assert_eq!(config.name, "Corp");
        assert_eq!(config.sync_interval_s, 900);

        let mut graph = form.clone();
        graph.insert("kind".into(), "graph".into());
        graph.insert("source".into(), "online".into());
        graph.remove("attr_extension");
        graph.insert("max_removal_percent".into(), "half".into());
        let (body, errors) = body_of(&graph, true);
        assert!(
            body.get("url").is_none() && body.get("attributes").is_none(),
            "{body}"
        );
        assert!(
            body["bind_password"].is_null(),
            "a Graph directory keeps no password"
        );
        assert!(errors.contains_key("max_removal_percent"));
    }

    /// Every input of the form has a label in the catalogues.
    #[test]
    fn every_input_has_a_label() {
        let form = FormView::blank(vec!["online".into()]);
        let inputs: Vec<FieldView> = std::iter::once(form.id_field())
            .chain(form.general())
            .chain(form.graph())
            .chain(form.ldap())
            .chain(form.mapping())
            .chain(form.schedule())
            .collect();
        assert_eq!(inputs.len(), 19);
        for f in inputs {
            assert!(!f.label.starts_with("dir-f-"), "{}: {}", f.name, f.label);
            assert!(!f.help.starts_with("dir-f-"), "{}: {}", f.name, f.help);
        }
        assert_eq!(form.field("source").options[1].label, "online");
        assert!(
            form.field("source").options[1].selected,
            "the one Graph source"
        );
    }

    /// Every message the directory validator gives for the usual mistakes has words in the
    /// catalogues.
    #[tokio::test]
    async fn every_validator_message_has_words() {
        let bad: Vec<serde_json::Value> = vec![
            json!({"kind": "ldap", "url": "http://dc1", "bind_dn": "cn=x", "filter": "mail=*",
                   "attributes": {"email": "m a i l", "name": "n", "extension": "e"}}),
            json!({"kind": "ldap", "url": "ldap://dc1", "base_dn": "dc=x", "name": "x".repeat(65)}),
            json!({"kind": "ldap", "url": "ldaps://dc1", "starttls": true, "base_dn": "dc=x",
                   "bind_dn": "x".repeat(5000)}),
            json!({"kind": "graph", "group_id": "not-a-guid"}),
            json!({"kind": "graph", "source": "nowhere"}),
        ];
        let mut seen = 0;
        for b in bad {
            let config: DirectoryConfig = serde_json::from_value(b).expect("config");
            let errors = config.checked(false, &[]).expect_err("refused");
            for (field, message) in errors.iter() {
                let (f, m) = (field.to_string(), message.to_string());
                let words = i18n::scope(Lang::De, async move { error_words(&f, &m) }).await;
                assert_ne!(words, message, "{field}: {message:?} has no dir-err- key");
                seen += 1;
            }
        }
        assert!(seen >= 10, "{seen}");
    }

    /// Every page message renders in every language with the arguments the page gives it.
    #[test]
    fn every_message_renders_in_every_language() {
        let args = [
            ("id", FluentValue::from("corp")),
            ("problem", FluentValue::from("too long")),
            ("cause", FluentValue::from("refused")),
            ("count", FluentValue::from(3)),
            ("added", FluentValue::from(1)),
            ("updated", FluentValue::from(2)),
            ("removed", FluentValue::from(0)),
            ("held", FluentValue::from(180)),
            ("unchanged", FluentValue::from(7)),
        ];
        let (ids, _) = i18n::message_ids(Lang::En);
        let ours: Vec<&String> = ids.iter().filter(|k| k.starts_with("dir-")).collect();
        assert!(ours.len() > 60, "{}", ours.len());
        for lang in Lang::ALL {
            for key in &ours {
                let text = i18n::text_in(lang, key, &args);
                assert!(
                    !text.is_empty() && !text.contains('{') && !text.contains('}'),
                    "{} {key}: {text}",
                    lang.code()
                );
            }
        }
        let one = i18n::text_in(
            Lang::En,
            "dir-warnings-count",
            &[("count", FluentValue::from(1))],
        );
        assert_eq!(one, "1 warning");
    }
}
