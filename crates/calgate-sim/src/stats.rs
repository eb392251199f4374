//! Request statistics: by operation and outcome, by credential, auth failures, lockouts,
//! throttled answers, the most requests seen in flight, back-off violations, and Windows sign-ins
//! by the form their tokens took, and what the simulator sent on its own (Graph's validation
//! requests and notifications).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Answered, with an error for the request or some of its items.
    Error,
    AuthFailed,
    Throttled,
    /// A fault injected by the policy (500, truncated body, reset, 403).
    Fault,
}

/// Counters of one credential.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CredentialStats {
    pub requests: u64,
    pub auth_failures: u64,
    pub throttled: u64,
    pub backoff_violations: u64,
}

/// Windows (NTLM) sign-ins that succeeded, by the form of their tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WindowsLogons {
    /// Bare NTLM messages, under `NTLM` or `Negotiate`.
    pub raw: u64,
    /// NTLM inside SPNEGO, under `Negotiate`.
    pub spnego: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: BTreeMap<String, u64>,
    outcomes: BTreeMap<String, BTreeMap<Outcome, u64>>,
    credentials: BTreeMap<String, CredentialStats>,
    auth_failures: u64,
    throttled: u64,
    backoff_violations: u64,
    windows_logons: WindowsLogons,
    outbound: BTreeMap<String, u64>,
    mailbox_requests: BTreeMap<String, u64>,
}

/// The statistics of one simulator run.
#[derive(Debug, Default)]
pub struct Stats {
    counters: Mutex<Counters>,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

/// `GET /_sim/stats`.
#[derive(Debug, Clone, Serialize)]
pub struct StatsSnapshot {
    pub requests: BTreeMap<String, u64>,
    pub outcomes: BTreeMap<String, BTreeMap<Outcome, u64>>,
    pub credentials: BTreeMap<String, CredentialStats>,
    pub auth_failures: u64,
    pub lockouts: u64,
    pub throttled: u64,
    pub in_flight: u64,
    pub max_in_flight: u64,
    pub backoff_violations: u64,
    pub windows_logons: WindowsLogons,
    /// What the simulator sent or did on its own rather than answered: Graph's validation
    /// requests and notifications (sent, failed) and subscriptions that expired. Kept apart
    /// from `requests` so request counts stay the client's.
    pub outbound: BTreeMap<String, u64>,
    /// Availability requests per mailbox (lower case): EWS GetUserAvailability and Graph
    /// getSchedule each count once for every mailbox they name, so a test can prove that no
    /// mailbox was fetched twice.
    pub mailbox_requests: BTreeMap<String, u64>,
}

/// Counts a request as in flight until dropped.
#[derive(Debug)]
pub struct InFlight<'a> {
    stats: &'a Stats,
    /// Requests in flight including this one.
    pub count: u64,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.stats.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Stats {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records one answered request. `credential` is the UPN or app id, `None` when anonymous.
    pub fn record(&self, operation: &str, credential: Option<&str>, outcome: Outcome) {
        let mut c = self.lock();
        *c.requests.entry(operation.to_owned()).or_default() += 1;
        *c.outcomes
            .entry(operation.to_owned())
            .or_default()
            .entry(outcome)
            .or_default() += 1;
        match outcome {
            Outcome::AuthFailed => c.auth_failures += 1,
            Outcome::Throttled => c.throttled += 1,
            _ => {}
        }
        if let Some(name) = credential {
            let entry = c.credentials.entry(name.to_ascii_lowercase()).or_default();
            entry.requests += 1;
            match outcome {
                Outcome::AuthFailed => entry.auth_failures += 1,
                Outcome::Throttled => entry.throttled += 1,
                _ => {}
            }
        }
    }

    /// Records a request that arrived before the back-off advertised to its credential expired.
    pub fn record_backoff_violation(&self, credential: &str) {
        let mut c = self.lock();
        c.backoff_violations += 1;
        c.credentials
            .entry(credential.to_ascii_lowercase())
            .or_default()
            .backoff_violations += 1;
    }

    /// Records a Windows sign-in that succeeded; `spnego` when its tokens were SPNEGO-wrapped.
    pub fn record_windows_logon(&self, spnego: bool) {
        let mut c = self.lock();
        if spnego {
            c.windows_logons.spnego += 1;
        } else {
            c.windows_logons.raw += 1;
        }
    }

    /// Counts one thing the simulator did on its own (`outbound`), such as a notification sent.
    pub fn count_outbound(&self, name: &str, n: u64) {
        if n == 0 {
            return;
        }
        *self.lock().outbound.entry(name.to_owned()).or_default() += n;
    }

    /// Counts one availability request for each of `mailboxes`.
    pub fn count_mailboxes<'a>(&self, mailboxes: impl IntoIterator<Item = &'a str>) {
        let mut c = self.lock();
        for mailbox in mailboxes {
            *c.mailbox_requests
                .entry(mailbox.trim().to_ascii_lowercase())
                .or_default() += 1;
        }
    }

    /// Marks a request in flight; the maximum is kept.
    pub fn enter(&self) -> InFlight<'_> {
        let count = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(count, Ordering::SeqCst);
        InFlight { stats: self, count }
    }

    pub fn snapshot(&self, lockouts: u64) -> StatsSnapshot {
        let c = self.lock();
        StatsSnapshot {
            requests: c.requests.clone(),
            outcomes: c.outcomes.clone(),
            credentials: c.credentials.clone(),
            auth_failures: c.auth_failures,
            lockouts,
            throttled: c.throttled,
            in_flight: self.in_flight.load(Ordering::SeqCst),
            max_in_flight: self.max_in_flight.load(Ordering::SeqCst),
            backoff_violations: c.backoff_violations,
            windows_logons: c.windows_logons,
            outbound: c.outbound.clone(),
            mailbox_requests: c.mailbox_requests.clone(),
        }
    }

    /// Forgets every counter (`DELETE /_sim/stats`), for benchmarks that measure one phase.
    pub fn reset(&self) {
        *self.lock() = Counters::default();
        self.max_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}
