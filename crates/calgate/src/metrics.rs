//! `/metrics` in Prometheus text format.
//!
//! Counters are plain atomics rendered by hand rather than through a global `metrics` recorder:
//! several gateways run in one test process, and a process-wide recorder cannot tell them apart.
//! Labels are bounded (operation, outcome, state); a mailbox address is never a label.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use jiff::Timestamp;

use calgate_engine::{Engine, SourceState};

/// The gateway's own counters.
#[derive(Debug, Default)]
pub struct GatewayMetrics {
    pub sse_clients: AtomicI64,
    pub http_requests: AtomicU64,
    pub auth_rejections: AtomicU64,
}

fn state_name(s: SourceState) -> &'static str {
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
    let _ = writeln!(
        out,
        "# HELP calgate_source_requests_total Requests sent to the calendar source by outcome.\n# TYPE calgate_source_requests_total counter"
    );
    let _ = writeln!(
        out,
        "calgate_source_requests_total{{operation=\"availability\",outcome=\"sent\"}} {requests}"
    );
    let _ = writeln!(
        out,
        "calgate_source_requests_total{{operation=\"availability\",outcome=\"failed\"}} {failures}"
    );
    let _ = writeln!(
        out,
        "# HELP calgate_mailboxes_fetched_total Mailbox availabilities received.\n# TYPE calgate_mailboxes_fetched_total counter\ncalgate_mailboxes_fetched_total {}",
        counters.mailboxes_fetched.load(Ordering::Relaxed)
    );
    let [pending, fresh, stale, error] = engine.board().freshness_counts(now, stale_age);
    let _ = writeln!(
        out,
        "# HELP calgate_mailboxes Watched mailboxes by freshness.\n# TYPE calgate_mailboxes gauge"
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
    let _ = writeln!(
        out,
        "# HELP calgate_source_state The calendar source's state (1 for the current one).\n# TYPE calgate_source_state gauge"
    );
    for s in [
        SourceState::Starting,
        SourceState::Ok,
        SourceState::Degraded,
        SourceState::Throttled,
        SourceState::AuthFailed,
        SourceState::Unreachable,
        SourceState::Misconfigured,
        SourceState::Disabled,
    ] {
        let v = u8::from(health.state == s);
        let _ = writeln!(
            out,
            "calgate_source_state{{state=\"{}\"}} {v}",
            state_name(s)
        );
    }
    let backoff_s = health
        .next_attempt
        .map(|t| t.duration_since(now).as_secs_f64().max(0.0))
        .unwrap_or(0.0);
    let _ = writeln!(
        out,
        "# HELP calgate_backoff_remaining_seconds Seconds until the source may be called again.\n# TYPE calgate_backoff_remaining_seconds gauge\ncalgate_backoff_remaining_seconds {backoff_s}"
    );
    let _ = writeln!(
        out,
        "# HELP calgate_sse_clients Connected stream clients.\n# TYPE calgate_sse_clients gauge\ncalgate_sse_clients {}",
        metrics.sse_clients.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP calgate_http_requests_total API requests served.\n# TYPE calgate_http_requests_total counter\ncalgate_http_requests_total {}",
        metrics.http_requests.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP calgate_api_auth_rejections_total API requests refused for a missing or wrong token.\n# TYPE calgate_api_auth_rejections_total counter\ncalgate_api_auth_rejections_total {}",
        metrics.auth_rejections.load(Ordering::Relaxed)
    );
    out
}
