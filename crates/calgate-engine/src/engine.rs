//! The refresh engine: one task that owns the watch list, paces requests to the source, honours
//! back-off and the lockout guard, and feeds the status board.
//!
//! Pacing: with N watched mailboxes, batch size B and interval I, one full batch is sent every
//! I / ceil(N / B) (±10% jitter), so a full refresh costs ceil(N / B) requests spread over the
//! interval. Mailboxes never fetched (a new watch-list entry, the first start) are sent as fast as
//! the concurrency limit and back-off allow: an operator must not wait an interval to see them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use calgate_core::{Availability, SourceError, StatusOptions};

use crate::backoff::BackOff;
use crate::board::StatusBoard;
use crate::health::{SourceHealth, SourceState};
use crate::source::{CalendarSource, FailureAction, SourceFailure, Window};

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How often each mailbox is fetched again.
    pub refresh_interval: SignedDuration,
    /// An operator opening a person whose data is older than this triggers a refresh.
    pub on_demand_after: SignedDuration,
    /// At most one on-demand request per this gap (they are coalesced into one batch).
    pub on_demand_gap: SignedDuration,
    /// The site's time zone: the fetch window starts at the start of the local day.
    pub site_time_zone: jiff::tz::TimeZone,
    /// Days fetched from the start of today.
    pub window_days: i64,
    pub status: StatusOptions,
}

impl EngineOptions {
    /// Defaults for a refresh interval: data turns unknown after three missed refreshes.
    pub fn with_interval(refresh_interval: SignedDuration) -> EngineOptions {
        let status = StatusOptions {
            stale_after: (refresh_interval * 3).max(SignedDuration::from_mins(15)),
            ..StatusOptions::default()
        };
        EngineOptions {
            refresh_interval,
            on_demand_after: (refresh_interval / 2).max(SignedDuration::from_secs(30)),
            on_demand_gap: SignedDuration::from_secs(1),
            site_time_zone: jiff::tz::TimeZone::UTC,
            window_days: 2,
            status,
        }
    }

    /// The fetch window at `now`: start of the local day to `window_days` later.
    /// Local days follow the zone: a day with a clock change is 23 or 25 hours long.
    pub fn window(&self, now: Timestamp) -> Window {
        let days = i8::try_from(self.window_days.clamp(1, 42)).unwrap_or(2);
        let (start, end) = calgate_core::status::local_days(now, &self.site_time_zone, days);
        Window { start, end }
    }
}

enum Command {
    SetWatchList(Vec<String>),
    Watch(Vec<String>),
    Unwatch(Vec<String>),
    RefreshIfOld(String),
    RetryNow,
    Replace(Option<Arc<dyn CalendarSource>>, Box<EngineOptions>),
    Misconfigured(String, String, Box<EngineOptions>),
}

/// Counters for metrics and benchmarks.
#[derive(Debug, Default)]
pub struct EngineCounters {
    pub requests: std::sync::atomic::AtomicU64,
    pub failures: std::sync::atomic::AtomicU64,
    pub mailboxes_fetched: std::sync::atomic::AtomicU64,
}

/// A handle to the running engine. Dropping it stops the engine.
#[derive(Debug)]
pub struct Engine {
    commands: mpsc::UnboundedSender<Command>,
    board: Arc<StatusBoard>,
    health: Arc<Mutex<SourceHealth>>,
    counters: Arc<EngineCounters>,
    task: JoinHandle<()>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Engine {
    /// Starts the engine with an optional source (none: `disabled`).
    pub fn start(source: Option<Arc<dyn CalendarSource>>, options: EngineOptions) -> Engine {
        let now = Timestamp::now();
        let board = Arc::new(StatusBoard::new(options.status));
        let state = if source.is_some() {
            SourceState::Starting
        } else {
            SourceState::Disabled
        };
        let health = Arc::new(Mutex::new(SourceHealth::new(state, now)));
        let counters = Arc::new(EngineCounters::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let runner = Runner::new(
            source,
            options,
            board.clone(),
            health.clone(),
            counters.clone(),
        );
        let task = tokio::spawn(runner.run(rx));
        Engine {
            commands: tx,
            board,
            health,
            counters,
            task,
        }
    }

    pub fn board(&self) -> &Arc<StatusBoard> {
        &self.board
    }

    pub fn counters(&self) -> &Arc<EngineCounters> {
        &self.counters
    }

    pub fn health(&self) -> SourceHealth {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the whole watch list.
    pub fn set_watch_list(&self, emails: Vec<String>) {
        let _ = self.commands.send(Command::SetWatchList(emails));
    }

    /// Adds mailboxes (fetched promptly).
    pub fn watch(&self, emails: Vec<String>) {
        let _ = self.commands.send(Command::Watch(emails));
    }

    pub fn unwatch(&self, emails: Vec<String>) {
        let _ = self.commands.send(Command::Unwatch(emails));
    }

    /// An operator opened this person: refresh if the data is old (coalesced, rate-limited).
    pub fn refresh_if_old(&self, email: &str) {
        let _ = self.commands.send(Command::RefreshIfOld(email.to_string()));
    }

    /// "Retry now": forget back-off and try once immediately (also after a credential failure).
    pub fn retry_now(&self) {
        let _ = self.commands.send(Command::RetryNow);
    }

    /// Hot-swaps the source (new settings or credentials). Requests in flight with the old one
    /// are dropped and their answers ignored; the old credentials are not used again.
    /// Stops using any source because the settings cannot work; health says why.
    pub fn misconfigure(&self, code: &str, message: &str, options: EngineOptions) {
        let _ = self.commands.send(Command::Misconfigured(
            code.to_string(),
            message.to_string(),
            Box::new(options),
        ));
    }

    pub fn replace_source(&self, source: Option<Arc<dyn CalendarSource>>, options: EngineOptions) {
        let _ = self
            .commands
            .send(Command::Replace(source, Box::new(options)));
    }
}

type Outcome = (u64, Vec<String>, Result<Vec<Availability>, SourceFailure>);

struct Runner {
    source: Option<Arc<dyn CalendarSource>>,
    generation: u64,
    options: EngineOptions,
    board: Arc<StatusBoard>,
    health: Arc<Mutex<SourceHealth>>,
    counters: Arc<EngineCounters>,
    backoff: BackOff,
    /// (due, email) for every watched mailbox not in flight.
    due: BTreeSet<(Timestamp, String)>,
    due_of: HashMap<String, Timestamp>,
    never_fetched: HashSet<String>,
    urgent: Vec<String>,
    in_flight: HashSet<String>,
    tasks: JoinSet<Outcome>,
    next_slot: Timestamp,
    last_on_demand: Option<Timestamp>,
    /// A credential failure paused the source: only the lockout guard's probe may run.
    paused_for_credentials: bool,
    /// The last answer was a failure: send one request at a time until one succeeds.
    probing: bool,
}

impl Runner {
    fn new(
        source: Option<Arc<dyn CalendarSource>>,
        options: EngineOptions,
        board: Arc<StatusBoard>,
        health: Arc<Mutex<SourceHealth>>,
        counters: Arc<EngineCounters>,
    ) -> Runner {
        let max = source.as_ref().map_or(1, |s| s.limits().max_in_flight);
        Runner {
            source,
            generation: 0,
            options,
            board,
            health,
            counters,
            backoff: BackOff::new(max),
            due: BTreeSet::new(),
            due_of: HashMap::new(),
            never_fetched: HashSet::new(),
            urgent: Vec::new(),
            in_flight: HashSet::new(),
            tasks: JoinSet::new(),
            next_slot: Timestamp::now(),
            last_on_demand: None,
            paused_for_credentials: false,
            probing: false,
        }
    }

    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        loop {
            let now = Timestamp::now();
            self.board.tick(now);
            self.dispatch(now);
            let wake = self.next_wake(now);
            let sleep = tokio::time::sleep(to_std(wake.duration_since(now)));
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.command(cmd),
                    None => return,
                },
                Some(joined) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    if let Ok(outcome) = joined {
                        self.finish(outcome);
                    }
                    // Take in every answer already here before sending again: a throttling
                    // answer must not wait behind a success and let a request slip out.
                    while let Some(joined) = self.tasks.try_join_next() {
                        if let Ok(outcome) = joined {
                            self.finish(outcome);
                        }
                    }
                }
                _ = sleep => {}
            }
        }
    }

    fn command(&mut self, cmd: Command) {
        let now = Timestamp::now();
        match cmd {
            Command::SetWatchList(emails) => {
                let wanted: HashSet<String> = emails.iter().map(|e| normalize(e)).collect();
                let current: Vec<String> = self.due_of.keys().cloned().collect();
                let gone: Vec<String> = current
                    .into_iter()
                    .chain(self.in_flight.iter().cloned())
                    .filter(|e| !wanted.contains(e))
                    .collect();
                self.unwatch(gone);
                self.watch(wanted.into_iter().collect(), now);
            }
            Command::Watch(emails) => self.watch(emails, now),
            Command::Unwatch(emails) => self.unwatch(emails),
            Command::RefreshIfOld(email) => {
                let email = normalize(&email);
                let old = self
                    .board
                    .fetched_at(&email)
                    .is_none_or(|at| now.duration_since(at) > self.options.on_demand_after);
                if old && self.due_of.contains_key(&email) && !self.urgent.contains(&email) {
                    self.urgent.push(email);
                }
            }
            Command::RetryNow => {
                self.backoff.reset();
                self.probing = false;
                self.paused_for_credentials = false;
                self.next_slot = now;
            }
            Command::Misconfigured(code, message, options) => {
                self.command(Command::Replace(None, options));
                self.set_health(
                    SourceState::Misconfigured,
                    Some(code),
                    Some(message),
                    None,
                    now,
                );
            }
            Command::Replace(source, options) => {
                // Drop everything sent with the old source; its answers are ignored by generation.
                self.tasks.abort_all();
                self.generation += 1;
                let returning: Vec<String> = self.in_flight.drain().collect();
                for email in returning {
                    self.requeue(email, now);
                }
                self.options = *options;
                self.board.set_options(self.options.status, now);
                let max = source.as_ref().map_or(1, |s| s.limits().max_in_flight);
                self.backoff = BackOff::new(max);
                self.paused_for_credentials = false;
                self.probing = false;
                self.next_slot = now;
                let state = if source.is_some() {
                    SourceState::Starting
                } else {
                    SourceState::Disabled
                };
                self.source = source;
                self.set_health(state, None, None, None, now);
                // Everyone is fetched promptly with the new source.
                let all: Vec<String> = self.due_of.keys().cloned().collect();
                for email in all {
                    self.schedule(email.clone(), now);
                    self.never_fetched.insert(email);
                }
            }
        }
    }

    fn watch(&mut self, emails: Vec<String>, now: Timestamp) {
        for email in emails {
            let email = normalize(&email);
            if email.is_empty()
                || self.due_of.contains_key(&email)
                || self.in_flight.contains(&email)
            {
                continue;
            }
            self.board.watch(&email, now);
            self.never_fetched.insert(email.clone());
            self.schedule(email, now);
        }
    }

    fn unwatch(&mut self, emails: Vec<String>) {
        for email in emails {
            let email = normalize(&email);
            if let Some(at) = self.due_of.remove(&email) {
                self.due.remove(&(at, email.clone()));
            }
            self.never_fetched.remove(&email);
            self.urgent.retain(|e| e != &email);
            self.in_flight.remove(&email);
            self.board.unwatch(&email);
        }
    }

    fn schedule(&mut self, email: String, at: Timestamp) {
        if let Some(old) = self.due_of.insert(email.clone(), at) {
            self.due.remove(&(old, email.clone()));
        }
        self.due.insert((at, email));
    }

    /// Puts a mailbox whose request did not complete back in line: due now, and still first in
    /// line if it has never been fetched (a failed first fetch keeps its priority, so it goes out
    /// as soon as the back-off ends rather than at the next pacing slot).
    fn requeue(&mut self, email: String, now: Timestamp) {
        if self.board.fetched_at(&email).is_none() {
            self.never_fetched.insert(email.clone());
        }
        self.schedule(email, now);
    }

    fn take(&mut self, email: &str) -> bool {
        match self.due_of.remove(email) {
            Some(at) => {
                self.due.remove(&(at, email.to_string()));
                true
            }
            None => false,
        }
    }

    /// Slot spacing: the interval divided by the number of full batches.
    fn spacing(&self, batch_size: usize) -> SignedDuration {
        let watched = self.due_of.len() + self.in_flight.len();
        let batches = watched.div_ceil(batch_size.max(1)).max(1);
        self.options.refresh_interval / i32::try_from(batches).unwrap_or(i32::MAX)
    }

    fn dispatch(&mut self, now: Timestamp) {
        let Some(source) = self.source.clone() else {
            return;
        };
        let limits = source.limits();
        // After a failure, one request goes alone until an answer says the server is well again.
        let allowed = if self.probing {
            1
        } else {
            self.backoff.concurrency()
        };
        while self.tasks.len() < allowed && self.backoff.allows(now) {
            let batch = self.next_batch(now, limits.batch_size);
            if batch.is_empty() {
                return;
            }
            self.send(source.clone(), batch, now);
            if self.paused_for_credentials {
                // The lockout guard's single probe: one request, then wait for its answer.
                return;
            }
        }
    }

    /// Picks the next batch: never-fetched and on-demand mailboxes first (promptly), then the
    /// earliest-due mailboxes when the pacing slot has come.
    fn next_batch(&mut self, now: Timestamp, batch_size: usize) -> Vec<String> {
        let mut batch = Vec::new();
        let on_demand_ok = self
            .last_on_demand
            .is_none_or(|t| now.duration_since(t) >= self.options.on_demand_gap);
        if !self.urgent.is_empty() && on_demand_ok {
            let urgent: Vec<String> = self.urgent.drain(..).collect();
            for email in urgent {
                if batch.len() < batch_size && self.take(&email) {
                    batch.push(email);
                } else if !self.in_flight.contains(&email) && self.due_of.contains_key(&email) {
                    self.urgent.push(email);
                }
            }
            if !batch.is_empty() {
                self.last_on_demand = Some(now);
            }
        }
        if batch.len() < batch_size && !self.never_fetched.is_empty() {
            let fresh: Vec<String> = self
                .never_fetched
                .iter()
                .filter(|e| self.due_of.contains_key(*e))
                .take(batch_size - batch.len())
                .cloned()
                .collect();
            for email in fresh {
                self.never_fetched.remove(&email);
                if self.take(&email) {
                    batch.push(email);
                }
            }
        }
        if !batch.is_empty() {
            return batch;
        }
        let earliest_due = self.due.first().is_some_and(|(at, _)| *at <= now);
        if earliest_due && now >= self.next_slot {
            // Spacing counts the whole watch list, before this batch leaves the due set.
            let spacing = self.spacing(batch_size);
            while batch.len() < batch_size {
                let Some((_, email)) = self.due.pop_first() else {
                    break;
                };
                self.due_of.remove(&email);
                batch.push(email);
            }
            let jitter = rand::rng().random_range(0.9..1.1);
            let ms = (spacing.as_millis() as f64 * jitter) as i64;
            // Slots follow each other at the spacing even when this loop wakes late (a busy
            // machine), so a full round still takes one interval; after an idle spell at most one
            // slot is caught up, never a burst.
            let step = SignedDuration::from_millis(ms);
            self.next_slot = (self.next_slot + step).max(now - spacing + step);
        }
        batch
    }

    fn send(&mut self, source: Arc<dyn CalendarSource>, batch: Vec<String>, now: Timestamp) {
        for email in &batch {
            self.in_flight.insert(email.clone());
        }
        let window = self.options.window(now);
        let generation = self.generation;
        self.counters
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.tasks.spawn(async move {
            let result = source.fetch(&batch, window).await;
            (generation, batch, result)
        });
    }

    fn finish(&mut self, (generation, batch, result): Outcome) {
        let now = Timestamp::now();
        if generation != self.generation {
            return;
        }
        let still_watched: Vec<String> = batch
            .into_iter()
            .filter(|e| self.in_flight.remove(e))
            .collect();
        match result {
            Ok(availabilities) => {
                self.backoff.on_success(now);
                self.probing = false;
                self.paused_for_credentials = false;
                let mut by_mailbox: HashMap<String, Availability> = availabilities
                    .into_iter()
                    .map(|a| (normalize(&a.mailbox), a))
                    .collect();
                let mut errors = 0usize;
                let window = self.options.window(now);
                for email in still_watched {
                    let availability = by_mailbox.remove(&email).unwrap_or_else(|| {
                        Availability::failed(
                            email.clone(),
                            window.start,
                            window.end,
                            now,
                            SourceError {
                                code: "SOURCE_MISSING_ANSWER".into(),
                                message: "the source answered without this mailbox".into(),
                            },
                        )
                    });
                    if availability.error.is_some() {
                        errors += 1;
                    }
                    // The board is keyed by the watch list's spelling of the address.
                    let mut availability = availability;
                    availability.mailbox.clone_from(&email);
                    self.board.update(availability, now);
                    self.counters
                        .mailboxes_fetched
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let next = now + self.options.refresh_interval;
                    self.schedule(email, next);
                }
                let state = if errors > 0 {
                    SourceState::Degraded
                } else {
                    SourceState::Ok
                };
                let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
                health.last_success = Some(now);
                let (code, message) = if errors > 0 {
                    (
                        Some("SOURCE_MAILBOX_ERRORS".to_string()),
                        Some(format!("{errors} mailbox(es) in the last batch failed")),
                    )
                } else {
                    (None, None)
                };
                // An answer to a request sent before a throttling answer arrived does not end
                // the back-off: while it runs, health stays `throttled` with its end.
                let backing_off = self.backoff.not_before().filter(|t| *t > now);
                match backing_off {
                    Some(until) if health.state == SourceState::Throttled => {
                        health.next_attempt = Some(until);
                    }
                    _ => health.set(state, code, message, None, now),
                }
            }
            Err(failure) => {
                self.counters
                    .failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(code = %failure.code, message = %failure.message, "source request failed");
                let until = self.backoff.on_failure(&failure.action, now);
                self.probing = true;
                let state = match &failure.action {
                    FailureAction::CredentialFailure { .. } => {
                        // Everything else in flight used the same credential: drop it now.
                        self.tasks.abort_all();
                        self.generation += 1;
                        let returning: Vec<String> = self.in_flight.drain().collect();
                        for email in returning {
                            self.requeue(email, now);
                        }
                        self.paused_for_credentials = true;
                        SourceState::AuthFailed
                    }
                    FailureAction::RetryAfter(_) | FailureAction::LowerConcurrency => {
                        SourceState::Throttled
                    }
                    FailureAction::Misconfigured => SourceState::Misconfigured,
                    FailureAction::Transient if failure.unreachable => SourceState::Unreachable,
                    FailureAction::Transient => SourceState::Degraded,
                };
                for email in still_watched {
                    self.requeue(email, now);
                }
                let next = until.filter(|t| *t != Timestamp::MAX);
                self.set_health(state, Some(failure.code), Some(failure.message), next, now);
            }
        }
    }

    fn set_health(
        &self,
        state: SourceState,
        code: Option<String>,
        message: Option<String>,
        next_attempt: Option<Timestamp>,
        now: Timestamp,
    ) {
        self.health.lock().unwrap_or_else(|e| e.into_inner()).set(
            state,
            code,
            message,
            next_attempt,
            now,
        );
    }

    /// When the loop must wake up next without a command or an answer.
    fn next_wake(&self, now: Timestamp) -> Timestamp {
        let mut wake = now + SignedDuration::from_secs(60);
        if let Some(t) = self.board.next_timer() {
            wake = wake.min(t);
        }
        if self.source.is_some() && self.tasks.len() < self.backoff.concurrency() {
            let mut send_at = self.due.first().map(|(at, _)| (*at).max(self.next_slot));
            if !self.never_fetched.is_empty() {
                send_at = Some(now);
            }
            if !self.urgent.is_empty() {
                let gap_end = self
                    .last_on_demand
                    .map_or(now, |t| t + self.options.on_demand_gap);
                send_at = Some(send_at.map_or(gap_end, |s| s.min(gap_end)));
            }
            if let Some(mut at) = send_at {
                if let Some(nb) = self.backoff.not_before() {
                    at = at.max(nb);
                }
                wake = wake.min(at);
            }
        }
        wake.max(now + SignedDuration::from_millis(1))
    }
}

fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

fn to_std(d: SignedDuration) -> std::time::Duration {
    std::time::Duration::try_from(d).unwrap_or(std::time::Duration::from_millis(1))
}
