//! What each calendar source did, for `/metrics`: how long its requests took, how they ended,
//! how often it refused the credential, and how often it made the engine back off.
//!
//! [`ObservedSource`] wraps a source and records every `fetch` into the [`SourceMetrics`] of its
//! source id. The figures are plain atomics shared through an `Arc` rather than a process-wide
//! recorder: several engines run in one test process and each must count only its own requests.
//! Every label stays bounded: outcome codes come from a fixed vocabulary in the source crates,
//! but a code is still text from a remote answer in places (an Entra `AADSTS` number), so at most
//! [`MAX_OUTCOME_LABELS`] distinct codes are kept and the rest count as `other`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use calgate_core::Availability;

use crate::routing::SourceId;
use crate::source::{CalendarSource, FailureAction, SourceFailure, SourceLimits, Window};

/// Upper bounds (seconds) of the latency buckets. A batch of 100 calendars usually answers in
/// well under a second; the top buckets catch a server slowing down before it times out.
pub const LATENCY_BUCKETS_S: [f64; 9] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Distinct outcome labels kept per source (`ok` included); further codes count as `other`.
pub const MAX_OUTCOME_LABELS: usize = 32;

/// The outcome of a request the source answered.
pub const OUTCOME_OK: &str = "ok";
/// Codes past the label cap, or not shaped like a stable code.
pub const OUTCOME_OTHER: &str = "other";
/// A request dropped before it ended (the source was replaced or its credential refused).
pub const OUTCOME_CANCELLED: &str = "cancelled";

/// The longest code kept as a label.
const MAX_CODE_LEN: usize = 64;

/// A latency histogram with fixed buckets ([`LATENCY_BUCKETS_S`] and `+Inf`).
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    /// Per-bucket (not cumulative) counts; the last one is `+Inf`.
    buckets: [AtomicU64; LATENCY_BUCKETS_S.len() + 1],
    sum_micros: AtomicU64,
}

/// A consistent reading of a [`LatencyHistogram`], cumulative as Prometheus wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// `(upper bound, requests at or below it)` for each finite bucket, in order.
    pub cumulative: Vec<(f64, u64)>,
    /// Every observation (the `+Inf` bucket and `_count`).
    pub count: u64,
    pub sum_seconds: f64,
}

impl LatencyHistogram {
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let index = LATENCY_BUCKETS_S
            .iter()
            .position(|le| seconds <= *le)
            .unwrap_or(LATENCY_BUCKETS_S.len());
        if let Some(bucket) = self.buckets.get(index) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The count is the sum of the buckets read here, so `+Inf` always equals `_count` even
    /// while requests are being recorded.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0u64;
        let mut cumulative = Vec::with_capacity(LATENCY_BUCKETS_S.len());
        for (le, bucket) in LATENCY_BUCKETS_S.iter().zip(&self.buckets) {
            running += bucket.load(Ordering::Relaxed);
            cumulative.push((*le, running));
        }
        let overflow = self.buckets.last().map_or(0, |b| b.load(Ordering::Relaxed));
        HistogramSnapshot {
            cumulative,
            count: running + overflow,
            sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

/// Why a failed request made the engine wait before the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackOffKind {
    /// The server named the wait (`BackOffMilliseconds`, `Retry-After`).
    RetryAfter,
    /// Too many concurrent connections: one request fewer in flight.
    LowerConcurrency,
    /// Anything else transient: exponential back-off with jitter.
    Exponential,
}

impl BackOffKind {
    pub const ALL: [BackOffKind; 3] = [
        BackOffKind::RetryAfter,
        BackOffKind::LowerConcurrency,
        BackOffKind::Exponential,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            BackOffKind::RetryAfter => "retry_after",
            BackOffKind::LowerConcurrency => "lower_concurrency",
            BackOffKind::Exponential => "exponential",
        }
    }

    fn index(self) -> usize {
        match self {
            BackOffKind::RetryAfter => 0,
            BackOffKind::LowerConcurrency => 1,
            BackOffKind::Exponential => 2,
        }
    }

    /// The back-off a failure starts, as `BackOff` applies it (a configuration failure waits
    /// exponentially like a transient one); a credential failure stops the source until the
    /// lockout guard's probe instead of backing off.
    pub fn of(action: &FailureAction) -> Option<BackOffKind> {
        match action {
            FailureAction::RetryAfter(_) => Some(BackOffKind::RetryAfter),
            FailureAction::LowerConcurrency => Some(BackOffKind::LowerConcurrency),
            FailureAction::Transient | FailureAction::Misconfigured => {
                Some(BackOffKind::Exponential)
            }
            FailureAction::CredentialFailure { .. } => None,
        }
    }
}

/// Everything recorded for one source id (kept across hot-swaps of that source: counters only
/// grow, as Prometheus expects).
#[derive(Debug, Default)]
pub struct SourceMetrics {
    /// The protocol of the source last installed (`ews`, `graph`).
    protocol: Mutex<Option<&'static str>>,
    pub latency: LatencyHistogram,
    outcomes: Mutex<BTreeMap<String, u64>>,
    /// Requests whose credential the source refused.
    pub auth_failures: AtomicU64,
    backoffs: [AtomicU64; 3],
    /// Mailboxes answered with a per-mailbox error inside a successful request.
    pub mailbox_errors: AtomicU64,
    /// Requests sent and not yet answered.
    pub in_flight: AtomicI64,
}

impl SourceMetrics {
    pub fn protocol(&self) -> Option<&'static str> {
        *self.protocol.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_protocol(&self, name: &'static str) {
        *self.protocol.lock().unwrap_or_else(|e| e.into_inner()) = Some(name);
    }

    /// Counts one request outcome under `code`, or under `other` past the label cap.
    pub fn record_outcome(&self, code: &str) {
        let mut outcomes = self.outcomes.lock().unwrap_or_else(|e| e.into_inner());
        let label = if !is_stable_code(code) {
            OUTCOME_OTHER
        } else if outcomes.contains_key(code) || outcomes.len() < MAX_OUTCOME_LABELS {
            code
        } else {
            OUTCOME_OTHER
        };
        match outcomes.get_mut(label) {
            Some(n) => *n += 1,
            None => {
                outcomes.insert(label.to_string(), 1);
            }
        }
    }

    /// Requests by outcome label, sorted by label.
    pub fn outcomes(&self) -> Vec<(String, u64)> {
        self.outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    pub fn record_backoff(&self, kind: BackOffKind) {
        if let Some(n) = self.backoffs.get(kind.index()) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn backoffs(&self, kind: BackOffKind) -> u64 {
        self.backoffs
            .get(kind.index())
            .map_or(0, |n| n.load(Ordering::Relaxed))
    }

    /// Records a request that ended after `elapsed`.
    pub fn record(&self, elapsed: Duration, result: &Result<Vec<Availability>, SourceFailure>) {
        self.latency.observe(elapsed);
        match result {
            Ok(availabilities) => {
                self.record_outcome(OUTCOME_OK);
                let errors = availabilities.iter().filter(|a| a.error.is_some()).count();
                self.mailbox_errors
                    .fetch_add(errors as u64, Ordering::Relaxed);
            }
            Err(failure) => {
                self.record_outcome(&failure.code);
                if matches!(failure.action, FailureAction::CredentialFailure { .. }) {
                    self.auth_failures.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(kind) = BackOffKind::of(&failure.action) {
                    self.record_backoff(kind);
                }
            }
        }
    }
}

/// Stable codes are short identifiers of letters, digits, `_`, `-` and `.` (`EWS_SERVER_BUSY`,
/// `ENTRA_AADSTS50126`, and `ok`); anything else (free text, an address) is not a label.
fn is_stable_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The metrics of every source id the engine has sent a request for (or was asked about).
#[derive(Debug, Default)]
pub struct SourceMetricsRegistry {
    by_source: Mutex<BTreeMap<SourceId, Arc<SourceMetrics>>>,
}

impl SourceMetricsRegistry {
    /// The metrics of `id`, made empty the first time.
    pub fn for_source(&self, id: &SourceId) -> Arc<SourceMetrics> {
        self.by_source
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id.clone())
            .or_default()
            .clone()
    }

    /// Every source's metrics, by id.
    pub fn all(&self) -> Vec<(SourceId, Arc<SourceMetrics>)> {
        self.by_source
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(id, m)| (id.clone(), m.clone()))
            .collect()
    }
}

/// A source whose every request is timed and counted.
pub struct ObservedSource {
    inner: Arc<dyn CalendarSource>,
    metrics: Arc<SourceMetrics>,
}

impl std::fmt::Debug for ObservedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservedSource")
            .field("source", &self.inner.name())
            .finish_non_exhaustive()
    }
}

impl ObservedSource {
    pub fn new(inner: Arc<dyn CalendarSource>, metrics: Arc<SourceMetrics>) -> ObservedSource {
        metrics.set_protocol(inner.name());
        ObservedSource { inner, metrics }
    }
}

/// Counts a request in flight until it ends; a request dropped before its answer (the engine
/// aborted it) counts as `cancelled`.
struct InFlight<'a> {
    metrics: &'a SourceMetrics,
    done: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
        if !self.done {
            self.metrics.record_outcome(OUTCOME_CANCELLED);
        }
    }
}

impl CalendarSource for ObservedSource {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn limits(&self) -> SourceLimits {
        self.inner.limits()
    }

    fn fetch<'a>(
        &'a self,
        mailboxes: &'a [String],
        window: Window,
    ) -> BoxFuture<'a, Result<Vec<Availability>, SourceFailure>> {
        Box::pin(async move {
            self.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
            let mut guard = InFlight {
                metrics: &self.metrics,
                done: false,
            };
            let started = Instant::now();
            let result = self.inner.fetch(mailboxes, window).await;
            self.metrics.record(started.elapsed(), &result);
            guard.done = true;
            result
        })
    }

    fn presence_interval(&self) -> Option<jiff::SignedDuration> {
        self.inner.presence_interval()
    }

    fn presence<'a>(
        &'a self,
        mailboxes: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<calgate_core::Presence>, SourceFailure>> {
        self.inner.presence(mailboxes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::{SignedDuration, Timestamp};

    #[test]
    fn histogram_buckets_are_cumulative_and_inf_equals_count() {
        let h = LatencyHistogram::default();
        for ms in [10, 50, 51, 300, 900, 4_000, 45_000] {
            h.observe(Duration::from_millis(ms));
        }
        let s = h.snapshot();
        let at = |le: f64| {
            s.cumulative
                .iter()
                .find(|(b, _)| (*b - le).abs() < 1e-9)
                .map(|(_, n)| *n)
        };
        // 10 ms and exactly 50 ms fall in le=0.05 (bounds are inclusive).
        assert_eq!(at(0.05), Some(2));
        assert_eq!(at(0.1), Some(3));
        assert_eq!(at(0.25), Some(3));
        assert_eq!(at(0.5), Some(4));
        assert_eq!(at(1.0), Some(5));
        assert_eq!(at(5.0), Some(6));
        assert_eq!(at(30.0), Some(6));
        // 45 s is only in +Inf.
        assert_eq!(s.count, 7);
        let expected = (10 + 50 + 51 + 300 + 900 + 4_000 + 45_000) as f64 / 1000.0;
        assert!((s.sum_seconds - expected).abs() < 1e-6, "{}", s.sum_seconds);
        assert!(s.cumulative.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn outcome_labels_are_capped_and_the_rest_fold_into_other() {
        let m = SourceMetrics::default();
        m.record_outcome(OUTCOME_OK);
        for i in 0..100 {
            m.record_outcome(&format!("EWS_CODE_{i}"));
        }
        // A known label still counts under its own name after the cap is reached.
        m.record_outcome(OUTCOME_OK);
        m.record_outcome("EWS_CODE_0");
        let outcomes = m.outcomes();
        let named: Vec<&(String, u64)> = outcomes
            .iter()
            .filter(|(k, _)| k != OUTCOME_OTHER)
            .collect();
        assert_eq!(named.len(), MAX_OUTCOME_LABELS);
        let get = |k: &str| outcomes.iter().find(|(l, _)| l == k).map(|(_, n)| *n);
        assert_eq!(get(OUTCOME_OK), Some(2));
        assert_eq!(get("EWS_CODE_0"), Some(2));
        // ok + 31 codes kept; 69 folded.
        assert_eq!(
            get(OUTCOME_OTHER),
            Some(100 - (MAX_OUTCOME_LABELS as u64 - 1))
        );
        let total: u64 = outcomes.iter().map(|(_, n)| n).sum();
        assert_eq!(total, 103);
    }

    #[test]
    fn text_that_is_not_a_stable_code_is_never_a_label() {
        let m = SourceMetrics::default();
        m.record_outcome("bad\"label\n{x}");
        m.record_outcome("");
        m.record_outcome(&"A".repeat(MAX_CODE_LEN + 1));
        assert_eq!(m.outcomes(), vec![(OUTCOME_OTHER.to_string(), 3)]);
    }

    /// Answers every request with the same result; `None`: never answers.
    struct Scripted(Option<Result<Vec<Availability>, SourceFailure>>);

    impl CalendarSource for Scripted {
        fn name(&self) -> &'static str {
            "scripted"
        }
        fn limits(&self) -> SourceLimits {
            SourceLimits {
                batch_size: 10,
                max_in_flight: 1,
            }
        }
        fn fetch<'a>(
            &'a self,
            _mailboxes: &'a [String],
            _window: Window,
        ) -> BoxFuture<'a, Result<Vec<Availability>, SourceFailure>> {
            match self.0.clone() {
                Some(answer) => Box::pin(async move { answer }),
                None => Box::pin(futures::future::pending()),
            }
        }
    }

    fn window() -> Window {
        let start = Timestamp::UNIX_EPOCH;
        Window {
            start,
            end: start + SignedDuration::from_hours(48),
        }
    }

    #[tokio::test]
    async fn failures_count_by_action_and_credential_refusals_count_as_auth_failures() {
        let metrics = Arc::new(SourceMetrics::default());
        let failures = [
            SourceFailure::new(
                "EWS_SERVER_BUSY",
                "busy",
                FailureAction::RetryAfter(SignedDuration::from_secs(5)),
            ),
            SourceFailure::new(
                "EWS_EXCEEDED_CONNECTION_COUNT",
                "too many",
                FailureAction::LowerConcurrency,
            ),
            SourceFailure::new("EWS_HTTP_503", "down", FailureAction::Transient),
            // The engine waits exponentially after a configuration failure too.
            SourceFailure::new(
                "EWS_INVALID_SERVER_VERSION",
                "version refused",
                FailureAction::Misconfigured,
            ),
            SourceFailure::new(
                "ENTRA_AADSTS50126",
                "refused",
                FailureAction::CredentialFailure { next_attempt: None },
            ),
        ];
        for failure in failures {
            let source =
                ObservedSource::new(Arc::new(Scripted(Some(Err(failure)))), metrics.clone());
            assert!(source.fetch(&["a@x".into()], window()).await.is_err());
        }
        let now = Timestamp::UNIX_EPOCH;
        let bad = Availability::failed(
            "b@x",
            now,
            now,
            now,
            calgate_core::SourceError {
                code: "EWS_MAILBOX_NOT_FOUND".into(),
                message: "no such mailbox".into(),
            },
        );
        let ok = ObservedSource::new(Arc::new(Scripted(Some(Ok(vec![bad])))), metrics.clone());
        assert_eq!(ok.name(), "scripted");
        assert!(ok.fetch(&["b@x".into()], window()).await.is_ok());

        assert_eq!(metrics.latency.snapshot().count, 6);
        assert_eq!(metrics.auth_failures.load(Ordering::Relaxed), 1);
        assert_eq!(metrics.backoffs(BackOffKind::RetryAfter), 1);
        assert_eq!(metrics.backoffs(BackOffKind::LowerConcurrency), 1);
        assert_eq!(metrics.backoffs(BackOffKind::Exponential), 2);
        assert_eq!(metrics.mailbox_errors.load(Ordering::Relaxed), 1);
        assert_eq!(metrics.in_flight.load(Ordering::Relaxed), 0);
        assert_eq!(metrics.protocol(), Some("scripted"));
        let outcomes = metrics.outcomes();
        for code in [
            "EWS_SERVER_BUSY",
            "EWS_EXCEEDED_CONNECTION_COUNT",
            "EWS_HTTP_503",
            "EWS_INVALID_SERVER_VERSION",
            "ENTRA_AADSTS50126",
            OUTCOME_OK,
        ] {
            assert!(
                outcomes.iter().any(|(k, n)| k == code && *n == 1),
                "{code}: {outcomes:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_request_dropped_before_its_answer_counts_as_cancelled() {
        let metrics = Arc::new(SourceMetrics::default());
        let source = ObservedSource::new(Arc::new(Scripted(None)), metrics.clone());
        let mailboxes = vec!["a@x".to_string()];
        let attempt = tokio::time::timeout(
            Duration::from_millis(20),
            source.fetch(&mailboxes, window()),
        )
        .await;
        assert!(attempt.is_err(), "the request never ends");
        assert_eq!(metrics.in_flight.load(Ordering::Relaxed), 0);
        assert_eq!(metrics.latency.snapshot().count, 0);
        assert_eq!(metrics.outcomes(), vec![(OUTCOME_CANCELLED.to_string(), 1)]);
    }

    #[tokio::test]
    async fn the_engine_counts_each_source_under_its_own_id() {
        use crate::engine::{Engine, EngineOptions};
        use crate::routing::Routing;

        let options = EngineOptions::with_interval(SignedDuration::from_secs(300));
        let engine = Engine::start(
            Some(Arc::new(Scripted(Some(Ok(Vec::new()))))),
            options.clone(),
        );
        // The on-premises source is busy for ten minutes: exactly one request, then it waits.
        let busy = SourceFailure::new(
            "EWS_SERVER_BUSY",
            "busy",
            FailureAction::RetryAfter(SignedDuration::from_mins(10)),
        );
        let onprem = SourceId::new("onprem");
        engine.add_source(onprem.clone(), Arc::new(Scripted(Some(Err(busy)))), options);
        engine.set_routing(Routing::new().with_domain("onprem.example.com", "onprem"));
        engine.watch(vec![
            "ann@onprem.example.com".into(),
            "bob@contoso.com".into(),
        ]);
        let registry = &engine.counters().sources;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let answered: Vec<u64> = registry
                .all()
                .iter()
                .map(|(_, m)| m.latency.snapshot().count)
                .collect();
            if answered == [1, 1] {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "answers per source: {answered:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let default = registry.for_source(&SourceId::default());
        let onprem = registry.for_source(&onprem);
        assert_eq!(default.outcomes(), vec![(OUTCOME_OK.to_string(), 1)]);
        assert_eq!(default.backoffs(BackOffKind::RetryAfter), 0);
        assert_eq!(onprem.outcomes(), vec![("EWS_SERVER_BUSY".to_string(), 1)]);
        assert_eq!(onprem.backoffs(BackOffKind::RetryAfter), 1);
        assert_eq!(onprem.protocol(), Some("scripted"));
    }

    #[test]
    fn the_registry_hands_out_one_metrics_per_source() {
        let registry = SourceMetricsRegistry::default();
        let a = registry.for_source(&SourceId::default());
        let b = registry.for_source(&SourceId::default());
        assert!(Arc::ptr_eq(&a, &b));
        registry.for_source(&SourceId::new("onprem"));
        assert_eq!(registry.all().len(), 2);
    }
}
