//! *Health* (the default source's state, its timings, every source in a table, each directory's
//! last sync, mailboxes by freshness, recent errors, "Retry now" and the troubleshooting guidance
//! next to `auth_failed`) and *Logs* (recent entries, level filter, download).

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use serde::Deserialize;

use calgate_engine::{SourceHealth, SourceState};

use super::directories::{DirectoryRow, directory_rows};
use super::guidance::{self, Guidance};
use super::sources::{SourceRow, source_rows};
use super::text::{relative, when};
use super::{AdminSession, Chrome};
use crate::metrics::state_name;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct LogLine {
    /// The line's timestamp as written (RFC 3339, UTC).
    pub time: String,
    /// The same in the site's time zone and the reader's words.
    pub local_time: String,
    pub level: String,
    pub message: String,
    pub fields: String,
    /// The line's error code, when it has one.
    pub code: Option<String>,
    /// A later success of every source ended it, and no source reports its code now.
    pub resolved: bool,
}

/// Log fields that say where in the program a line came from: of no use to an admin.
fn internal_field(key: &str) -> bool {
    key.starts_with("log.") || matches!(key, "target" | "file" | "line" | "module_path")
}

/// The recent warnings and errors: current problems first, then the resolved ones (marked),
/// newest first in each part. A line is resolved when every source has succeeded since it and
/// none reports its code now.
fn recent_problems(app: &AppState) -> Vec<LogLine> {
    let healths = app.engine().health_by_source();
    let current: Vec<String> = healths.iter().filter_map(|(_, h)| h.code.clone()).collect();
    // The earliest of the sources' last successes: a line before it was followed by success
    // everywhere.
    let all_succeeded_since = healths
        .iter()
        .map(|(_, h)| h.last_success)
        .collect::<Option<Vec<Timestamp>>>()
        .and_then(|t| t.into_iter().min());
    let tz = app.options().site_time_zone;
    let now = Timestamp::now();
    let mut lines: Vec<LogLine> = crate::logging::recent(app.store.data_dir(), 400)
        .iter()
        .map(log_line)
        .map(|l| localized(l, &tz, now))
        .filter(|l| l.level == "ERROR" || l.level == "WARN")
        .map(|mut l| {
            let at = l.time.parse::<Timestamp>().ok();
            let still = l.code.as_ref().is_some_and(|c| current.contains(c));
            l.resolved =
                !still && matches!((at, all_succeeded_since), (Some(at), Some(ok)) if at < ok);
            l
        })
        .collect();
    lines.reverse();
    lines.sort_by_key(|l| l.resolved);
    lines.truncate(20);
    lines
}

#[derive(Template, WebTemplate)]
#[template(path = "health.html")]
pub struct HealthPage {
    chrome: Chrome,
    state: &'static str,
    state_words: String,
    since: String,
    code: String,
    message: String,
    last_success: String,
    next_attempt: String,
    guard_holding: bool,
    pending: usize,
    fresh: usize,
    stale: usize,
    error: usize,
    auth_failed: bool,
    causes: Vec<(String, String)>,
    guidance: Option<Guidance>,
    errors: Vec<LogLine>,
    retried: bool,
    /// Every configured source, `default` first.
    sources: Vec<SourceRow>,
    /// Every directory with its last sync (none: no card).
    directories: Vec<DirectoryRow>,
    /// Graph change notifications (none: no source subscribes, no card).
    notifications: Option<crate::api::health::NotificationsView>,
    /// The mailboxes whose last answer was an error, with the cause and what to do.
    failing: Vec<FailingMailbox>,
    times_note: String,
    /// The gateways sharing the PostgreSQL database (none on SQLite: no card).
    cluster: Option<ClusterCard>,
}

/// Several gateways on one database, as Health shows them.
#[derive(Debug)]
pub struct ClusterCard {
    reachable: bool,
    instances: Vec<InstanceRow>,
}

#[derive(Debug)]
pub struct InstanceRow {
    id: String,
    address: String,
    leases: u32,
    heartbeat: String,
    this: bool,
}

fn cluster_card(app: &AppState, tz: &jiff::tz::TimeZone, now: Timestamp) -> Option<ClusterCard> {
    let instances = crate::api::health::InstanceView::of(app)?;
    Some(ClusterCard {
        reachable: app.cluster.as_ref().is_some_and(|c| c.reachable()),
        instances: instances
            .into_iter()
            .map(|i| InstanceRow {
                heartbeat: when(Some(i.heartbeat_at), tz, now),
                id: i.id,
                address: i.address,
                leases: i.leases,
                this: i.this,
            })
            .collect(),
    })
}

/// One mailbox that fails, as Health lists it.
#[derive(Debug)]
pub struct FailingMailbox {
    name: String,
    email: String,
    source: String,
    code: String,
    cause: String,
    fix: String,
    since: String,
}

/// Failing mailboxes listed on the page at most (the people list's `?freshness=error` has all).
const FAILING_LISTED: usize = 50;

/// The failing mailboxes, by address, with their reason in words.
async fn failing_mailboxes(app: &AppState, now: Timestamp) -> Vec<FailingMailbox> {
    let tz = app.options().site_time_zone;
    let board = app.engine().board();
    let emails = board.emails_with(
        calgate_engine::Freshness::Error,
        now,
        app.stale_age(),
        FAILING_LISTED,
    );
    let people = app.people_among(&emails).await.unwrap_or_default();
    people
        .into_iter()
        .filter_map(|p| {
            let entry = board.get(&p.email)?;
            let availability = entry.availability.as_deref()?;
            let error = availability.error.as_ref()?;
            let guidance = guidance::for_code(&error.code);
            Some(FailingMailbox {
                name: p.name.clone().unwrap_or_default(),
                source: app.source_of(&p.email),
                code: error.code.clone(),
                cause: guidance.cause,
                fix: guidance.fix,
                since: when(Some(availability.fetched_at), &tz, now),
                email: p.email,
            })
        })
        .collect()
}

/// A source's state in words, in the reader's language.
pub(super) fn state_words(state: SourceState) -> String {
    let key = match state {
        SourceState::Starting => "state-starting",
        SourceState::Ok => "state-ok",
        SourceState::Degraded => "state-degraded",
        SourceState::Throttled => "state-throttled",
        SourceState::AuthFailed => "state-auth-failed",
        SourceState::Unreachable => "state-unreachable",
        SourceState::Misconfigured => "state-misconfigured",
        SourceState::Disabled => "state-disabled",
    };
    crate::i18n::t(key)
}

/// A JSON log line as a row; unknown shapes still show their raw text.
/// A log line's time in the site's zone (the line's own text when it is not a timestamp).
fn localized(mut line: LogLine, tz: &jiff::tz::TimeZone, now: Timestamp) -> LogLine {
    line.local_time = match line.time.parse::<Timestamp>() {
        Ok(at) => super::text::clock(at, tz, now),
        Err(_) => line.time.clone(),
    };
    line
}

fn log_line(v: &serde_json::Value) -> LogLine {
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let fields = v.get("fields");
    let message = fields
        .and_then(|f| f.get("message"))
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_string();
    let code = fields
        .and_then(|f| f.get("code"))
        .and_then(|c| c.as_str())
        .map(str::to_string);
    let rest = fields
        .and_then(|f| f.as_object())
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.as_str() != "message" && !internal_field(k))
                .map(|(k, v)| match v.as_str() {
                    Some(s) => format!("{k}={s}"),
                    None => format!("{k}={v}"),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    LogLine {
        local_time: String::new(),
        time: field("timestamp"),
        level: field("level"),
        message,
        fields: rest,
        code,
        resolved: false,
    }
}

#[derive(Debug, Deserialize)]
pub struct HealthQuery {
    #[serde(default)]
    retried: Option<String>,
}

/// `GET /portal/health`.
pub async fn page(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Query(q): Query<HealthQuery>,
) -> impl IntoResponse {
    let now = Timestamp::now();
    let tz = app.options().site_time_zone;
    let h = app.engine().health();
    let [pending, fresh, stale, error] =
        app.engine().board().freshness_counts(now, app.stale_age());
    let errors = recent_problems(&app);
    let auth_failed = h.state == SourceState::AuthFailed;
    HealthPage {
        chrome: Chrome::new(&s, "health"),
        state: state_name(h.state),
        state_words: state_words(h.state),
        since: when(Some(h.since), &tz, now),
        code: h.code.clone().unwrap_or_default(),
        message: h.message.clone().unwrap_or_default(),
        last_success: h
            .last_success
            .map(|t| when(Some(t), &tz, now))
            .unwrap_or_else(|| crate::i18n::t("rel-never")),
        next_attempt: next_attempt_words(&h, &tz, now),
        guard_holding: auth_failed && h.next_attempt.is_some_and(|t| t > now),
        pending,
        fresh,
        stale,
        error,
        auth_failed,
        causes: if auth_failed {
            guidance::auth_failed_causes()
        } else {
            Vec::new()
        },
        guidance: h.code.as_deref().map(guidance::for_code),
        errors,
        retried: q.retried.is_some(),
        sources: source_rows(&app),
        directories: directory_rows(&app).await.unwrap_or_default(),
        notifications: crate::api::health::NotificationsView::of(app.engine()),
        failing: failing_mailboxes(&app, now).await,
        cluster: cluster_card(&app, &tz, now),
        times_note: times_note(&tz),
    }
}

/// The sentence that says which time zone a page's times are in.
pub(super) fn times_note(tz: &jiff::tz::TimeZone) -> String {
    let zone = tz.iana_name().unwrap_or("UTC").to_string();
    crate::i18n::t_with(
        "date-times-note",
        &[("zone", fluent_bundle::FluentValue::from(zone))],
    )
}

/// When a source sends its next request, in words.
pub(super) fn next_attempt_words(
    h: &SourceHealth,
    tz: &jiff::tz::TimeZone,
    now: Timestamp,
) -> String {
    h.next_attempt
        .map(|t| {
            if t > now {
                when(Some(t), tz, now)
            } else {
                crate::i18n::t_with(
                    "h-due-now",
                    &[("when", fluent_bundle::FluentValue::from(relative(t, now)))],
                )
            }
        })
        .unwrap_or_else(|| crate::i18n::t("h-regular"))
}

/// `POST /portal/health/retry`: forget the back-off and try once now.
pub async fn retry(State(app): State<Arc<AppState>>, AdminSession(s): AdminSession) -> Response {
    tracing::info!(user = %s.user, "retry now requested from the portal");
    // The same action as the API's: lets the held credentials try once, then the engine.
    let _answer = crate::api::signin::retry(State(app.clone())).await;
    Redirect::to("/portal/health?retried=1").into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "logs.html")]
pub struct LogsPage {
    chrome: Chrome,
    level: String,
    levels: Vec<(&'static str, bool)>,
    lines: Vec<LogLine>,
    times_note: String,
}

#[derive(Debug, Deserialize)]
pub struct LogsQuery {
    #[serde(default)]
    level: Option<String>,
}

fn severity(level: &str) -> u8 {
    match level {
        "ERROR" => 4,
        "WARN" => 3,
        "INFO" => 2,
        "DEBUG" => 1,
        _ => 0,
    }
}

/// `GET /portal/logs?level=`: the newest entries at or above a level, newest first.
pub async fn logs(
    State(app): State<Arc<AppState>>,
    AdminSession(s): AdminSession,
    Query(q): Query<LogsQuery>,
) -> impl IntoResponse {
    let level = q
        .level
        .map(|l| l.to_ascii_uppercase())
        .filter(|l| severity(l) > 0)
        .unwrap_or_else(|| "INFO".to_string());
    let min = severity(&level);
    let tz = app.options().site_time_zone;
    let now = Timestamp::now();
    let lines = crate::logging::recent(app.store.data_dir(), 2000)
        .iter()
        .map(log_line)
        .map(|l| localized(l, &tz, now))
        .filter(|l| severity(&l.level) >= min)
        .rev()
        .take(300)
        .collect();
    LogsPage {
        chrome: Chrome::new(&s, "logs"),
        levels: ["ERROR", "WARN", "INFO", "DEBUG"]
            .into_iter()
            .map(|l| (l, l == level))
            .collect(),
        level,
        lines,
        times_note: times_note(&tz),
    }
}

/// `GET /portal/logs/download`: every retained log file, oldest first, as one JSON-lines file.
pub async fn download(State(app): State<Arc<AppState>>, AdminSession(_): AdminSession) -> Response {
    let dir = crate::logging::log_dir(app.store.data_dir());
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "log"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut body = Vec::new();
    for f in files {
        if let Ok(bytes) = std::fs::read(&f) {
            body.extend_from_slice(&bytes);
        }
    }
    let name = format!(
        "attachment; filename=\"calgate-logs-{}.jsonl\"",
        Timestamp::now().strftime("%Y%m%dT%H%M%SZ")
    );
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_shows_no_internal_paths_and_keeps_its_code() {
        let line = serde_json::json!({
            "timestamp": "2026-12-03T10:00:00Z", "level": "WARN",
            "fields": {"message": "source request failed", "code": "EWS_CONNECT",
                "log.file": "/home/build/src/engine.rs", "log.line": 42,
                "log.module_path": "calgate_engine::engine", "log.target": "hyper"},
            "target": "calgate_engine::engine"
        });
        let l = log_line(&line);
        assert_eq!(l.message, "source request failed");
        assert_eq!(l.code.as_deref(), Some("EWS_CONNECT"));
        assert_eq!(l.fields, "code=EWS_CONNECT");
        assert!(!l.resolved);
    }
}
