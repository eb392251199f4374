//! `/metrics` in Prometheus text format.
//!
//! Counters are plain atomics rendered by hand rather than through a global `metrics` recorder:
//! several gateways run in one test process, and a process-wide recorder cannot tell them apart.
//! Labels are bounded (operation, outcome, state, source id); a mailbox address is never a label.
//!
//! The unlabelled series are the gateway's totals over all sources (requests, mailboxes) and the
//! default source's state and back-off, as they were before sources had ids; the `source="…"`
//! series give the picture per source (ids are chosen by an administrator, so they are escaped
//! as the text format asks).

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use jiff::Timestamp;

use calgate_engine::observe::{BackOffKind, SourceMetrics};
use calgate_engine::{Engine, SourceHealth, SourceId, SourceState};

/// The gateway's own counters.
#[derive(Debug, Default)]
pub struct GatewayMetrics {
    pub sse_clients: AtomicI64,
    pub http_requests: AtomicU64,
    pub auth_rejections: AtomicU64,
    /// Directory syncs by directory id: how many ended ok, held or failed, the people they
    /// added, updated and removed, and when the last one ended (Unix seconds).
    directories: std::sync::Mutex<std::collections::BTreeMap<String, DirectoryCounts>>,
}

/// One directory's sync counters.
#[derive(Debug, Default, Clone, Copy)]
struct DirectoryCounts {
    ok: u64,
    held: u64,
    failed: u64,
    added: u64,
    updated: u64,
    removed: u64,
    last_sync_s: i64,
}

impl GatewayMetrics {
    /// Counts a sync of directory `id` that wrote (not a dry run).
    pub fn record_directory_sync(&self, id: &str, outcome: &crate::directories::Outcome) {
        let mut all = self.directories.lock().unwrap_or_else(|e| e.into_inner());
        let c = all.entry(id.to_string()).or_default();
        match outcome.status() {
            "ok" => c.ok += 1,
            "held" => c.held += 1,
            _ => c.failed += 1,
        }
        c.added += outcome.added as u64;
        c.updated += outcome.updated as u64;
        c.removed += outcome.removed as u64;
        c.last_sync_s = outcome.at.as_second();
    }

    /// Forgets a deleted directory's series.
    pub fn forget_directory(&self, id: &str) {
        self.directories
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

fn render_directories(out: &mut String, metrics: &GatewayMetrics) {
    let all = metrics
        .directories
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if all.is_empty() {
        return;
    }
    family(
        out,
        "calgate_directory_syncs_total",
        "counter",
        "Directory syncs by how they ended: ok, held (removals wait for confirmation) or failed.",
    );
    for (id, c) in &all {
        let id = escape_label(id);
        for (status, n) in [("ok", c.ok), ("held", c.held), ("failed", c.failed)] {
            let _ = writeln!(
                out,
                "calgate_directory_syncs_total{{directory=\"{id}\",status=\"{status}\"}} {n}"
            );
        }
    }
    family(
        out,
        "calgate_directory_changes_total",
        "counter",
        "Watched people a directory's syncs added, updated and removed.",
    );
    for (id, c) in &all {
        let id = escape_label(id);
        for (change, n) in [
            ("added", c.added),
            ("updated", c.updated),
            ("removed", c.removed),
        ] {
            let _ = writeln!(
                out,
                "calgate_directory_changes_total{{directory=\"{id}\",change=\"{change}\"}} {n}"
            );
        }
    }
    family(
        out,
        "calgate_directory_last_sync_timestamp_seconds",
        "gauge",
        "When a directory's last sync ended (Unix time).",
    );
    for (id, c) in &all {
        let _ = writeln!(
            out,
            "calgate_directory_last_sync_timestamp_seconds{{directory=\"{}\"}} {}",
            escape_label(id),
            c.last_sync_s
        );
    }
}

const STATES: [SourceState; 8] = [
    SourceState::Starting,
    SourceState::Ok,
    SourceState::Degraded,
    SourceState::Throttled,
    SourceState::AuthFailed,
    SourceState::Unreachable,
    SourceState::Misconfigured,
    SourceState::Disabled,
];

/// The one operation the sources perform today (EWS GetUserAvailability, Graph getSchedule).
const OPERATION: &str = "availability";

/// A source state's name, as in the API and the pages (`auth_failed`).
pub(crate) fn state_name(s: SourceState) -> &'static str {
    match s {
        SourceState::Starting => "starting",
        SourceState::Ok => "ok",
        SourceState::Degraded => "degraded",
        SourceState::Throttled => "throttled",
        SourceState::AuthFailed => "auth_failed",
        SourceState::Unreachable => "unreachable",
        SourceState::Misconfigured => "misconfigured",
        SourceState::Disabled => "disabled",
    }
}

/// Renders every metric.
pub fn render(
    metrics: &GatewayMetrics,
    engine: &Engine,
    now: Timestamp,
    stale_age: jiff::SignedDuration,
) -> String {
    let mut out = String::new();
    let counters = engine.counters();
    let requests = counters.requests.load(Ordering::Relaxed);
    let failures = counters.failures.load(Ordering::Relaxed);
    family(
        &mut out,
        "calgate_source_requests_total",
        "counter",
        "Requests to all calendar sources: every one sent, and those of them that failed.",
    );
    let _ = writeln!(
        out,
        "calgate_source_requests_total{{operation=\"{OPERATION}\",outcome=\"sent\"}} {requests}"
    );
    let _ = writeln!(
        out,
        "calgate_source_requests_total{{operation=\"{OPERATION}\",outcome=\"failed\"}} {failures}"
    );
    single(
        &mut out,
        "calgate_mailboxes_fetched_total",
        "counter",
        "Mailbox availabilities received.",
        counters.mailboxes_fetched.load(Ordering::Relaxed),
    );
    let [pending, fresh, stale, error] = engine.board().freshness_counts(now, stale_age);
    family(
        &mut out,
        "calgate_mailboxes",
        "gauge",
        "Watched mailboxes by freshness.",
    );
    for (name, n) in [
        ("pending", pending),
        ("fresh", fresh),
        ("stale", stale),
        ("error", error),
    ] {
        let _ = writeln!(out, "calgate_mailboxes{{freshness=\"{name}\"}} {n}");
    }
    let health = engine.health();
    family(
        &mut out,
        "calgate_source_state",
        "gauge",
        "The calendar source's state (1 for the current one).",
    );
    for s in STATES {
        let v = u8::from(health.state == s);
        let _ = writeln!(
            out,
            "calgate_source_state{{state=\"{}\"}} {v}",
            state_name(s)
        );
    }
    single(
        &mut out,
        "calgate_backoff_remaining_seconds",
        "gauge",
        "Seconds until the source may be called again.",
        backoff_remaining(&health, now),
    );
    single(
        &mut out,
        "calgate_sse_clients",
        "gauge",
        "Connected stream clients.",
        metrics.sse_clients.load(Ordering::Relaxed),
    );
    single(
        &mut out,
        "calgate_http_requests_total",
        "counter",
        "API requests served.",
        metrics.http_requests.load(Ordering::Relaxed),
    );
    single(
        &mut out,
        "calgate_api_auth_rejections_total",
        "counter",
        "API requests refused for a missing or wrong token.",
        metrics.auth_rejections.load(Ordering::Relaxed),
    );
    render_sources(&mut out, engine, now);
    render_directories(&mut out, metrics);
    render_notifications(&mut out, engine);
    out
}

/// Graph change notifications: subscriptions, deliveries, what was dropped and why, and the
/// delay from a notification to the new data. Written only once any source subscribes.
fn render_notifications(out: &mut String, engine: &Engine) {
    let desk = engine.notifications();
    let active = desk.active_by_source();
    if active.is_empty() {
        return;
    }
    let c = &desk.counters;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    family(
        out,
        "calgate_notification_subscriptions",
        "gauge",
        "Live change-notification subscriptions per source.",
    );
    for (id, n) in &active {
        let _ = writeln!(
            out,
            "calgate_notification_subscriptions{{source=\"{}\"}} {n}",
            escape_label(id.as_str())
        );
    }
    family(
        out,
        "calgate_notification_subscription_changes_total",
        "counter",
        "Subscriptions created, renewed, deleted and lost (gone when renewed), and failed \
         creations and renewals.",
    );
    for (change, n) in [
        ("created", load(&c.created)),
        ("create_failed", load(&c.create_failures)),
        ("renewed", load(&c.renewed)),
        ("renew_failed", load(&c.renew_failures)),
        ("deleted", load(&c.deleted)),
        ("lost", load(&c.lost)),
    ] {
        let _ = writeln!(
            out,
            "calgate_notification_subscription_changes_total{{change=\"{change}\"}} {n}"
        );
    }
    family(
        out,
        "calgate_notifications_total",
        "counter",
        "Notifications received and how they ended: accepted, or dropped for a wrong \
         clientState or an unknown subscription, or passed to the other gateways of a shared \
         database; deliveries refused whole as malformed or too large.",
    );
    for (outcome, n) in [
        ("received", load(&c.received)),
        ("accepted", load(&c.accepted)),
        ("dropped_client_state", load(&c.dropped_client_state)),
        ("dropped_unknown_subscription", load(&c.dropped_unknown)),
        ("forwarded", load(&c.forwarded)),
        ("refused_malformed", load(&c.dropped_malformed)),
        ("refused_too_large", load(&c.dropped_too_large)),
    ] {
        let _ = writeln!(
            out,
            "calgate_notifications_total{{outcome=\"{outcome}\"}} {n}"
        );
    }
    family(
        out,
        "calgate_notification_lifecycle_events_total",
        "counter",
        "Lifecycle events received, by kind.",
    );
    for (event, n) in [
        (
            "reauthorization_required",
            load(&c.lifecycle_reauthorization),
        ),
        ("subscription_removed", load(&c.lifecycle_removed)),
        ("missed", load(&c.lifecycle_missed)),
    ] {
        let _ = writeln!(
            out,
            "calgate_notification_lifecycle_events_total{{event=\"{event}\"}} {n}"
        );
    }
    family(
        out,
        "calgate_notification_validations_total",
        "counter",
        "Validation requests answered, and refused because no subscription was being made.",
    );
    for (outcome, n) in [
        ("answered", load(&c.validations_answered)),
        ("refused", load(&c.validations_refused)),
    ] {
        let _ = writeln!(
            out,
            "calgate_notification_validations_total{{outcome=\"{outcome}\"}} {n}"
        );
    }
    family(
        out,
        "calgate_notification_delay_seconds",
        "histogram",
        "Time from a notification's arrival to the mailbox's new data on the board.",
    );
    let h = c.delay.snapshot();
    for (le, n) in &h.cumulative {
        let _ = writeln!(
            out,
            "calgate_notification_delay_seconds_bucket{{le=\"{le}\"}} {n}"
        );
    }
    let _ = writeln!(
        out,
        "calgate_notification_delay_seconds_bucket{{le=\"+Inf\"}} {}\n\
         calgate_notification_delay_seconds_sum {}\n\
         calgate_notification_delay_seconds_count {}",
        h.count, h.sum_seconds, h.count
    );
}

/// Escapes a label value for the Prometheus text format (backslash, double quote, newline).
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Writes a family's HELP and TYPE lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Writes a family of one unlabelled sample.
fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    family(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// Seconds until a source may be called again (0 when it may be called now).
fn backoff_remaining(health: &SourceHealth, now: Timestamp) -> f64 {
    health
        .next_attempt
        .map(|t| t.duration_since(now).as_secs_f64().max(0.0))
        .unwrap_or(0.0)
}

/// Every source's health and request figures, labelled by source id.
fn render_sources(out: &mut String, engine: &Engine, now: Timestamp) {
    let healths = engine.health_by_source();
    let registry = &engine.counters().sources;
    // Every configured source is listed even before its first request (zero counts); a source
    // removed since keeps its counters, which only grow.
    for (id, _) in &healths {
        registry.for_source(id);
    }
    let sources: Vec<(String, std::sync::Arc<SourceMetrics>)> = registry
        .all()
        .into_iter()
        .map(|(id, m)| (escape_label(id.as_str()), m))
        .collect();
    let healths: Vec<(String, SourceHealth)> = healths
        .into_iter()
        .map(|(id, h): (SourceId, SourceHealth)| (escape_label(id.as_str()), h))
        .collect();

    family(
        out,
        "calgate_source_info",
        "gauge",
        "Each calendar source and its protocol (ews, graph; unknown before its first request).",
    );
    for (id, m) in &sources {
        let protocol = m.protocol().unwrap_or("unknown");
        let _ = writeln!(
            out,
            "calgate_source_info{{source=\"{id}\",protocol=\"{protocol}\"}} 1"
        );
    }
    family(
        out,
        "calgate_source_health_state",
        "gauge",
        "Each calendar source's state (1 for the current one).",
    );
    for (id, health) in &healths {
        for s in STATES {
            let v = u8::from(health.state == s);
            let _ = writeln!(
                out,
                "calgate_source_health_state{{source=\"{id}\",state=\"{}\"}} {v}",
                state_name(s)
            );
        }
    }
    family(
        out,
        "calgate_source_backoff_remaining_seconds",
        "gauge",
        "Seconds until each source may be called again.",
    );
    for (id, health) in &healths {
        let _ = writeln!(
            out,
            "calgate_source_backoff_remaining_seconds{{source=\"{id}\"}} {}",
            backoff_remaining(health, now)
        );
    }
    family(
        out,
        "calgate_source_request_duration_seconds",
        "histogram",
        "Time from sending a request to the source to its answer (failures included).",
    );
    for (id, m) in &sources {
        let h = m.latency.snapshot();
        let labels = format!("source=\"{id}\",operation=\"{OPERATION}\"");
        for (le, n) in &h.cumulative {
            let _ = writeln!(
                out,
                "calgate_source_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "calgate_source_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n\
             calgate_source_request_duration_seconds_sum{{{labels}}} {}\n\
             calgate_source_request_duration_seconds_count{{{labels}}} {}",
            h.count, h.sum_seconds, h.count
        );
    }
    family(
        out,
        "calgate_source_responses_total",
        "counter",
        "Requests to each source by outcome: ok, the failure's stable code, other, cancelled.",
    );
    for (id, m) in &sources {
        for (outcome, n) in m.outcomes() {
            let _ = writeln!(
                out,
                "calgate_source_responses_total{{source=\"{id}\",operation=\"{OPERATION}\",outcome=\"{}\"}} {n}",
                escape_label(&outcome)
            );
        }
    }
    family(
        out,
        "calgate_source_auth_failures_total",
        "counter",
        "Requests whose credential the source refused.",
    );
    for (id, m) in &sources {
        let _ = writeln!(
            out,
            "calgate_source_auth_failures_total{{source=\"{id}\"}} {}",
            m.auth_failures.load(Ordering::Relaxed)
        );
    }
    family(
        out,
        "calgate_source_backoffs_total",
        "counter",
        "Failed requests that made the engine back off, by kind (retry_after: the server named \
         the wait; lower_concurrency: too many connections; exponential: other transient errors).",
    );
    for (id, m) in &sources {
        for kind in BackOffKind::ALL {
            let _ = writeln!(
                out,
                "calgate_source_backoffs_total{{source=\"{id}\",kind=\"{}\"}} {}",
                kind.label(),
                m.backoffs(kind)
            );
        }
    }
    family(
        out,
        "calgate_source_mailbox_errors_total",
        "counter",
        "Mailboxes a source answered with an error of their own inside a successful request.",
    );
    for (id, m) in &sources {
        let _ = writeln!(
            out,
            "calgate_source_mailbox_errors_total{{source=\"{id}\"}} {}",
            m.mailbox_errors.load(Ordering::Relaxed)
        );
    }
    family(
        out,
        "calgate_source_requests_in_flight",
        "gauge",
        "Requests sent to each source and not yet answered.",
    );
    for (id, m) in &sources {
        let _ = writeln!(
            out,
            "calgate_source_requests_in_flight{{source=\"{id}\"}} {}",
            m.in_flight.load(Ordering::Relaxed)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use calgate_engine::EngineOptions;
    use jiff::SignedDuration;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("plain-id"), "plain-id");
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    /// Splits a sample line into its series (name and labels) and value; `None` when the line
    /// is not one.
    fn sample(line: &str) -> Option<(&str, f64)> {
        let (series, value) = line.rsplit_once(' ')?;
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().ok()?,
        };
        Some((series, value))
    }

    #[tokio::test]
    async fn every_source_is_rendered_with_an_escaped_id_and_the_text_format_holds() {
        let options = EngineOptions::with_interval(SignedDuration::from_secs(300));
        let engine = Engine::start(None, options.clone());
        let odd = SourceId::new("on\"prem\\1");
        engine.replace_source_for(odd, None, options);
        let text = render(
            &GatewayMetrics::default(),
            &engine,
            Timestamp::now(),
            SignedDuration::from_mins(15),
        );

        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(sample(line).is_some(), "not a sample line: {line:?}");
        }
        // One HELP and one TYPE per family, however many sources there are.
        let mut helps: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# HELP "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        let all = helps.len();
        helps.sort_unstable();
        helps.dedup();
        assert_eq!(helps.len(), all, "a family is described twice");

        for id in ["default", "on\\\"prem\\\\1"] {
            let state =
                format!("calgate_source_health_state{{source=\"{id}\",state=\"disabled\"}} 1");
            assert!(text.contains(&state), "{state} missing:\n{text}");
            let count = format!(
                "calgate_source_request_duration_seconds_count{{source=\"{id}\",operation=\"availability\"}} 0"
            );
            assert!(text.contains(&count), "{count} missing:\n{text}");
            let inf = format!(
                "calgate_source_request_duration_seconds_bucket{{source=\"{id}\",operation=\"availability\",le=\"+Inf\"}} 0"
            );
            assert!(text.contains(&inf), "{inf} missing:\n{text}");
            for kind in ["retry_after", "lower_concurrency", "exponential"] {
                let backoff =
                    format!("calgate_source_backoffs_total{{source=\"{id}\",kind=\"{kind}\"}} 0");
                assert!(text.contains(&backoff), "{backoff} missing:\n{text}");
            }
        }
        // The default source's unlabelled series are still there.
        assert!(text.contains("calgate_source_state{state=\"disabled\"} 1"));
        assert!(text.contains("calgate_backoff_remaining_seconds 0"));
    }

    #[tokio::test]
    async fn recorded_requests_show_up_per_source() {
        let engine = Engine::start(
            None,
            EngineOptions::with_interval(SignedDuration::from_secs(300)),
        );
        let m = engine.counters().sources.for_source(&SourceId::default());
        m.latency.observe(std::time::Duration::from_millis(70));
        m.latency.observe(std::time::Duration::from_millis(700));
        m.record_outcome("ok");
        m.record_outcome("EWS_SERVER_BUSY");
        m.record_backoff(BackOffKind::RetryAfter);
        let text = render(
            &GatewayMetrics::default(),
            &engine,
            Timestamp::now(),
            SignedDuration::from_mins(15),
        );
        let value = |series: &str| {
            text.lines()
                .filter_map(sample)
                .find(|(s, _)| *s == series)
                .map(|(_, v)| v)
        };
        let labels = "source=\"default\",operation=\"availability\"";
        assert_eq!(
            value(&format!(
                "calgate_source_request_duration_seconds_bucket{{{labels},le=\"0.05\"}}"
            )),
            Some(0.0)
        );
        assert_eq!(
            value(&format!(
                "calgate_source_request_duration_seconds_bucket{{{labels},le=\"0.1\"}}"
            )),
            Some(1.0)
        );
        assert_eq!(
            value(&format!(
                "calgate_source_request_duration_seconds_bucket{{{labels},le=\"1\"}}"
            )),
            Some(2.0)
        );
        assert_eq!(
            value(&format!(
                "calgate_source_request_duration_seconds_count{{{labels}}}"
            )),
            Some(2.0)
        );
        let sum = value(&format!(
            "calgate_source_request_duration_seconds_sum{{{labels}}}"
        ));
        assert!(sum.is_some_and(|s| (s - 0.77).abs() < 1e-6), "{sum:?}");
        assert_eq!(
            value(&format!(
                "calgate_source_responses_total{{{labels},outcome=\"EWS_SERVER_BUSY\"}}"
            )),
            Some(1.0)
        );
        assert_eq!(
            value("calgate_source_backoffs_total{source=\"default\",kind=\"retry_after\"}"),
            Some(1.0)
        );
    }
}
