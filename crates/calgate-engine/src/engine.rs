//! The refresh engine: one task that owns the watch list, paces requests to each calendar source,
//! honours back-off and the lockout guard, and feeds the status board.
//!
//! Pacing: with N watched mailboxes, batch size B and interval I, one full batch is sent every
//! I / ceil(N / B) (±10% jitter), so a full refresh costs ceil(N / B) requests spread over the
//! interval. Mailboxes never fetched (a new watch-list entry, the first start) are sent as fast as
//! the concurrency limit and back-off allow: an operator must not wait an interval to see them.
//!
//! Keyed by source: a hybrid Exchange organisation serves some mailboxes from Exchange on
//! premises (EWS) and the others from Exchange Online (Graph), each with its own throttling
//! budget and credentials. So the engine keeps one runner per [`SourceId`], each with its own
//! source, back-off, pacing, credential pause and health, and a [`Routing`] table says which
//! runner serves a mailbox. All runners feed the one status board and the shared counters, and a
//! failure or back-off of one source never delays or marks another source's mailboxes. The
//! single-source gateway only ever sees the default source. All runners live in the one task, so
//! moving a mailbox between them (a routing change) is one step with no race on the board.
//!
//! Several gateways on one database split the fetching by shard ([`calgate_core::shard`]):
//! [`Engine::set_owned_shards`] names the shards this gateway holds leases on, and a runner keeps
//! the other mailboxes watched on the board (their data arrives from the gateway that fetches
//! them) but never sends them. A shard gained is due at its mailboxes' last fetch plus the
//! interval (at once when that has passed), so a takeover neither leaves a mailbox stale for more
//! than an interval nor asks for one twice in an interval. `None` (the default) owns everything.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use calgate_core::Code;
use calgate_core::shard::{Shard, shard_of};
use calgate_core::{Availability, SourceError, StatusOptions};

use crate::backoff::BackOff;
use crate::board::StatusBoard;
use crate::health::{SourceHealth, SourceState};
use crate::notifications::{Keeper, NotificationDesk};
use crate::presence::{PresencePoller, asker};
use crate::routing::{REASON_NO_SOURCE, Routing, SourceId, normalize};
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
    /// With change notifications: how often a mailbox with a live subscription is read anyway
    /// (the safety sweep). Mailboxes without one are read at `refresh_interval`.
    pub sweep_interval: Option<SignedDuration>,
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
            sweep_interval: None,
        }
    }

    /// How old a swept mailbox's data may be before it is unknown: one sweep late, plus the
    /// tolerance polled data has.
    fn swept_stale_after(&self) -> Option<SignedDuration> {
        self.sweep_interval.map(|s| s + self.status.stale_after)
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
    SetWatchList(Vec<String>, FirstFetch),
    Watch(Vec<String>),
    Unwatch(Vec<String>),
    RefreshIfOld(String),
    RetryNow(SourceId),
    Replace(
        SourceId,
        Option<Arc<dyn CalendarSource>>,
        Box<EngineOptions>,
    ),
    Misconfigured(SourceId, String, String, Box<EngineOptions>),
    /// Adds (or replaces) a source; the health cell is the one the handle already reports.
    AddSource(
        SourceId,
        Option<Arc<dyn CalendarSource>>,
        Box<EngineOptions>,
        Arc<Mutex<SourceHealth>>,
    ),
    RemoveSource(SourceId),
    SetRouting(Box<Routing>),
    /// A presence poller asks for the mailboxes its source serves.
    PresenceMailboxes(SourceId, oneshot::Sender<Vec<String>>),
    /// A subscription keeper asks for the mailboxes its source serves.
    WatchedMailboxes(SourceId, oneshot::Sender<Vec<Arc<str>>>),
    /// These mailboxes gained (`true`) or lost a live subscription.
    Subscribed(SourceId, Vec<Arc<str>>, bool),
    /// A notification says these mailboxes changed (at the instant given): read them now.
    Notified(SourceId, Vec<Arc<str>>, Timestamp),
    /// The shards this gateway fetches (`None`: every one).
    SetOwnedShards(Option<Arc<HashSet<Shard>>>),
    /// How many gateways share the sources' concurrency.
    SetLiveInstances(usize),
}

/// Counters for metrics and benchmarks.
#[derive(Debug, Default)]
pub struct EngineCounters {
    pub requests: std::sync::atomic::AtomicU64,
    pub failures: std::sync::atomic::AtomicU64,
    pub mailboxes_fetched: std::sync::atomic::AtomicU64,
    /// Per source id: latency, outcomes, auth failures, back-offs (see [`crate::observe`]).
    pub sources: crate::observe::SourceMetricsRegistry,
}

type HealthCell = Arc<Mutex<SourceHealth>>;

/// A handle to the running engine. Dropping it stops the engine.
#[derive(Debug)]
pub struct Engine {
    commands: mpsc::UnboundedSender<Command>,
    board: Arc<StatusBoard>,
    /// The default source's health (what the single-source gateway shows).
    health: HealthCell,
    /// Every source's health, kept here so a source added a moment ago is already listed.
    healths: Mutex<BTreeMap<SourceId, HealthCell>>,
    counters: Arc<EngineCounters>,
    desk: Arc<NotificationDesk>,
    task: JoinHandle<()>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Engine {
    /// Starts the engine with an optional default source (none: `disabled`). Every mailbox goes
    /// to the default source until [`Engine::set_routing`] says otherwise.
    pub fn start(source: Option<Arc<dyn CalendarSource>>, options: EngineOptions) -> Engine {
        let now = Timestamp::now();
        let board = Arc::new(StatusBoard::new(options.status));
        let health = Arc::new(Mutex::new(SourceHealth::new(
            starting_state(source.is_some()),
            now,
        )));
        let counters = Arc::new(EngineCounters::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let weak = tx.downgrade();
        let desk = Arc::new(NotificationDesk::new(Box::new(move |id, mailboxes, at| {
            if let Some(tx) = weak.upgrade() {
                let _ = tx.send(Command::Notified(id, mailboxes, at));
            }
        })));
        let mut runner = Runner::new(
            SourceId::default(),
            source,
            options,
            board.clone(),
            health.clone(),
            counters.clone(),
        );
        runner.desk = Some(desk.clone());
        let hub = Hub::new(
            runner,
            board.clone(),
            counters.clone(),
            desk.clone(),
            tx.downgrade(),
        );
        let task = tokio::spawn(hub.run(rx));
        let healths = BTreeMap::from([(SourceId::default(), health.clone())]);
        Engine {
            commands: tx,
            board,
            health,
            healths: Mutex::new(healths),
            counters,
            desk,
            task,
        }
    }

    /// Change notifications: live subscriptions, the counters, and the door the gateway's
    /// notification endpoint hands deliveries to.
    pub fn notifications(&self) -> &Arc<NotificationDesk> {
        &self.desk
    }

    pub fn board(&self) -> &Arc<StatusBoard> {
        &self.board
    }

    pub fn counters(&self) -> &Arc<EngineCounters> {
        &self.counters
    }

    /// The default source's health.
    pub fn health(&self) -> SourceHealth {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every source's health, by id (the default source included).
    pub fn health_by_source(&self) -> Vec<(SourceId, SourceHealth)> {
        self.healths()
            .iter()
            .map(|(id, cell)| {
                let health = cell.lock().unwrap_or_else(|e| e.into_inner()).clone();
                (id.clone(), health)
            })
            .collect()
    }

    fn healths(&self) -> std::sync::MutexGuard<'_, BTreeMap<SourceId, HealthCell>> {
        self.healths.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the whole watch list; everyone new to it is fetched promptly.
    pub fn set_watch_list(&self, emails: Vec<String>) {
        let _ = self
            .commands
            .send(Command::SetWatchList(emails, FirstFetch::Promptly));
    }

    /// The watch list at start, after the last-known data was put back on the board: a mailbox
    /// whose data is younger than the refresh interval is fetched when it falls due, not at
    /// once, so a restart does not send the source a whole refresh in a burst. Call it after
    /// the source is installed (a new source fetches everyone promptly).
    pub fn resume_watch_list(&self, emails: Vec<String>) {
        let _ = self
            .commands
            .send(Command::SetWatchList(emails, FirstFetch::WhenDue));
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

    /// "Retry now" on the default source: forget back-off and try once immediately (also after
    /// a credential failure).
    pub fn retry_now(&self) {
        self.retry_now_for(&SourceId::default());
    }

    /// "Retry now" on one source; the others keep their back-off.
    pub fn retry_now_for(&self, id: &SourceId) {
        let _ = self.commands.send(Command::RetryNow(id.clone()));
    }

    /// Stops using the default source because the settings cannot work; health says why.
    pub fn misconfigure(&self, code: Code, message: &str, options: EngineOptions) {
        let _ = self.commands.send(Command::Misconfigured(
            SourceId::default(),
            code.to_string(),
            message.to_string(),
            Box::new(options),
        ));
    }

    /// Stops using source `id` (given a runner when new) because its settings cannot work;
    /// its health says why.
    pub fn misconfigure_for(
        &self,
        id: SourceId,
        code: Code,
        message: &str,
        options: EngineOptions,
    ) {
        self.replace_source_for(id.clone(), None, options.clone());
        let _ = self.commands.send(Command::Misconfigured(
            id,
            code.to_string(),
            message.to_string(),
            Box::new(options),
        ));
    }

    /// Hot-swaps the default source (new settings or credentials). Requests in flight with the
    /// old one are dropped and their answers ignored; the old credentials are not used again.
    pub fn replace_source(&self, source: Option<Arc<dyn CalendarSource>>, options: EngineOptions) {
        let _ = self.commands.send(Command::Replace(
            SourceId::default(),
            source,
            Box::new(options),
        ));
    }

    /// Hot-swaps one source, as [`Engine::replace_source`] does for the default; a source id
    /// without a runner gets one.
    pub fn replace_source_for(
        &self,
        id: SourceId,
        source: Option<Arc<dyn CalendarSource>>,
        options: EngineOptions,
    ) {
        let health = self.health_cell(&id, source.is_some());
        let _ = self
            .commands
            .send(Command::AddSource(id, source, Box::new(options), health));
    }

    /// Adds a source under `id` (or replaces the one there): mailboxes routed to it move to it.
    /// Its `options` pace it; the board's status options stay those of the default source.
    pub fn add_source(
        &self,
        id: SourceId,
        source: Arc<dyn CalendarSource>,
        options: EngineOptions,
    ) {
        self.replace_source_for(id, Some(source), options);
    }

    /// Removes a source: its requests in flight are dropped, and its mailboxes turn `unknown`
    /// ([`crate::routing::REASON_NO_SOURCE`]) until routed elsewhere or the source comes back.
    /// The default source is never removed, only disabled (it carries [`Engine::health`]): its
    /// mailboxes keep their last data, shown with its age and `unknown` once it outlives the
    /// staleness limit, as with any source switched off in the settings.
    pub fn remove_source(&self, id: &SourceId) {
        if !id.is_default() {
            self.healths().remove(id);
        }
        let _ = self.commands.send(Command::RemoveSource(id.clone()));
    }

    /// The shards whose mailboxes this gateway fetches (`None`: all, the single gateway). The
    /// others stay watched on the board, never sent. A mailbox of a shard gained is due at its
    /// last fetch plus the refresh interval, at once when that has passed or it has none.
    pub fn set_owned_shards(&self, owned: Option<std::collections::BTreeSet<Shard>>) {
        let owned = owned.map(|set| Arc::new(set.into_iter().collect::<HashSet<Shard>>()));
        let _ = self.commands.send(Command::SetOwnedShards(owned));
    }

    /// How many gateways fetch from the same sources: each source's concurrency is divided by
    /// it (at least one request each), so together they send no more at once than one would.
    pub fn set_live_instances(&self, instances: usize) {
        let _ = self
            .commands
            .send(Command::SetLiveInstances(instances.max(1)));
    }

    /// Replaces the routing table: every watched mailbox whose source changes moves to its new
    /// runner, keeping its last data on the board until the new source answers.
    pub fn set_routing(&self, routing: Routing) {
        let _ = self.commands.send(Command::SetRouting(Box::new(routing)));
    }

    /// The health cell of `id`, made (as starting or disabled) when the id is new.
    fn health_cell(&self, id: &SourceId, configured: bool) -> HealthCell {
        let mut healths = self.healths();
        let cell = healths.entry(id.clone()).or_insert_with(|| {
            Arc::new(Mutex::new(SourceHealth::new(
                starting_state(configured),
                Timestamp::now(),
            )))
        });
        cell.clone()
    }
}

/// A source's state until its first answer: starting when it has a source, else disabled.
fn starting_state(configured: bool) -> SourceState {
    if configured {
        SourceState::Starting
    } else {
        SourceState::Disabled
    }
}

/// The engine's task: the routing table and one runner per source, all fed from one loop.
struct Hub {
    board: Arc<StatusBoard>,
    counters: Arc<EngineCounters>,
    routing: Routing,
    runners: BTreeMap<SourceId, Runner>,
    /// Watched mailboxes whose route names a source without a runner (shown `unknown`).
    unrouted: HashSet<String>,
    /// For presence pollers to ask for their mailboxes; weak, so the engine still stops when
    /// its handle is dropped.
    commands: mpsc::WeakUnboundedSender<Command>,
    desk: Arc<NotificationDesk>,
    /// The shards fetched here (`None`: all), handed to every runner.
    owned: Option<Arc<HashSet<Shard>>>,
    /// Gateways sharing the sources' concurrency.
    instances: usize,
}

impl Hub {
    fn new(
        default: Runner,
        board: Arc<StatusBoard>,
        counters: Arc<EngineCounters>,
        desk: Arc<NotificationDesk>,
        commands: mpsc::WeakUnboundedSender<Command>,
    ) -> Hub {
        Hub {
            board,
            counters,
            routing: Routing::new(),
            runners: BTreeMap::from([(SourceId::default(), default)]),
            unrouted: HashSet::new(),
            commands,
            desk,
            owned: None,
            instances: 1,
        }
    }

    /// Starts a subscription keeper for each source that takes change notifications and has
    /// none for its current source; stops those whose source no longer does, deleting their
    /// subscriptions (their mailboxes go back to the refresh interval).
    fn sync_notifications(&mut self) {
        let now = Timestamp::now();
        for (id, runner) in &mut self.runners {
            let wanted = runner
                .source
                .as_ref()
                .filter(|s| s.change_notifications())
                .cloned();
            match wanted {
                Some(source) => {
                    if runner
                        .keeper
                        .as_ref()
                        .is_some_and(|k| k.generation == runner.generation)
                    {
                        continue;
                    }
                    let asking = id.clone();
                    let ask = Box::new({
                        let commands = self.commands.clone();
                        move |reply| {
                            commands.upgrade().is_some_and(|tx| {
                                tx.send(Command::WatchedMailboxes(asking.clone(), reply))
                                    .is_ok()
                            })
                        }
                    });
                    let telling = id.clone();
                    let tell = Box::new({
                        let commands = self.commands.clone();
                        move |mailboxes, on| {
                            commands.upgrade().is_some_and(|tx| {
                                tx.send(Command::Subscribed(telling.clone(), mailboxes, on))
                                    .is_ok()
                            })
                        }
                    });
                    // The old keeper stops before the new one adopts the subscriptions.
                    runner.keeper = None;
                    runner.keeper = Some(Keeper::start(
                        runner.generation,
                        id.clone(),
                        source,
                        self.desk.clone(),
                        ask,
                        tell,
                    ));
                }
                None => {
                    if runner.keeper.take().is_some() {
                        self.desk.release(id);
                        runner.unsubscribe_all(now);
                    }
                }
            }
        }
    }

    /// Starts a presence poller for each source that reads presence and has none for its
    /// current source; stops those whose source no longer reads it, forgetting the presence of
    /// that source's people.
    fn sync_presence(&mut self) {
        let now = Timestamp::now();
        for (id, runner) in &mut self.runners {
            let wanted = runner
                .source
                .as_ref()
                .and_then(|s| s.presence_interval().map(|i| (s.clone(), i)));
            match wanted {
                Some((source, interval)) => {
                    if runner
                        .presence
                        .as_ref()
                        .is_some_and(|p| p.generation == runner.generation)
                    {
                        continue;
                    }
                    let id = id.clone();
                    let ask = asker(self.commands.clone(), move |reply| {
                        Command::PresenceMailboxes(id.clone(), reply)
                    });
                    runner.presence = Some(PresencePoller::start(
                        runner.generation,
                        source,
                        interval,
                        self.board.clone(),
                        ask,
                    ));
                }
                None => {
                    if runner.presence.take().is_some() {
                        let watched: Vec<Mailbox> = runner.watched().cloned().collect();
                        self.board.clear_presence(watched.iter().map(|e| &**e), now);
                    }
                }
            }
        }
    }

    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        self.sync_presence();
        self.sync_notifications();
        loop {
            let now = Timestamp::now();
            self.board.tick(now);
            for runner in self.runners.values_mut() {
                runner.dispatch(now);
            }
            let wake = self.next_wake(now);
            let sleep = tokio::time::sleep(to_std(wake.duration_since(now)));
            let waiting = self.runners.values().any(|r| !r.tasks.is_empty());
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(cmd) => {
                        self.command(cmd);
                        self.sync_presence();
                        self.sync_notifications();
                    }
                    None => return,
                },
                (id, joined) = next_answer(&mut self.runners), if waiting => {
                    if let (Ok(outcome), Some(runner)) = (joined, self.runners.get_mut(&id)) {
                        runner.finish(outcome);
                    }
                    // Take in every answer already here before sending again: a throttling
                    // answer must not wait behind a success and let a request slip out.
                    for runner in self.runners.values_mut() {
                        while let Some(joined) = runner.tasks.try_join_next() {
                            if let Ok(outcome) = joined {
                                runner.finish(outcome);
                            }
                        }
                    }
                }
                _ = sleep => {}
            }
        }
    }

    /// When the loop must wake up next without a command or an answer.
    fn next_wake(&self, now: Timestamp) -> Timestamp {
        let mut wake = now + SignedDuration::from_secs(60);
        if let Some(t) = self.board.next_timer() {
            wake = wake.min(t);
        }
        for runner in self.runners.values() {
            if let Some(at) = runner.next_send(now) {
                wake = wake.min(at);
            }
        }
        wake.max(now + SignedDuration::from_millis(1))
    }

    fn command(&mut self, cmd: Command) {
        let now = Timestamp::now();
        match cmd {
            Command::SetWatchList(emails, first) => {
                let wanted: HashSet<String> = emails.iter().map(|e| normalize(e)).collect();
                for runner in self.runners.values_mut() {
                    runner.keep_only(&wanted);
                }
                let gone: Vec<String> = self
                    .unrouted
                    .iter()
                    .filter(|e| !wanted.contains(*e))
                    .cloned()
                    .collect();
                for email in gone {
                    self.unrouted.remove(&email);
                    self.board.unwatch(&email);
                }
                self.watch(wanted.into_iter().collect(), now, first);
            }
            Command::Watch(emails) => {
                let emails = emails.iter().map(|e| normalize(e)).collect();
                self.watch(emails, now, FirstFetch::Promptly);
            }
            Command::Unwatch(emails) => {
                let mut by_source: BTreeMap<SourceId, Vec<String>> = BTreeMap::new();
                for email in emails {
                    let email = normalize(&email);
                    if self.unrouted.remove(&email) {
                        self.board.unwatch(&email);
                        continue;
                    }
                    let id = self.routing.route(&email).clone();
                    by_source.entry(id).or_default().push(email);
                }
                for (id, emails) in by_source {
                    if let Some(runner) = self.runners.get_mut(&id) {
                        runner.unwatch(emails);
                    }
                }
            }
            Command::RefreshIfOld(email) => {
                let email = normalize(&email);
                let id = self.routing.route(&email);
                if let Some(runner) = self.runners.get_mut(id) {
                    runner.refresh_if_old(&email, now);
                }
            }
            Command::RetryNow(id) => {
                if let Some(runner) = self.runners.get_mut(&id) {
                    runner.retry_now(now);
                }
            }
            Command::Misconfigured(id, code, message, options) => {
                if let Some(runner) = self.runners.get_mut(&id) {
                    runner.replace(None, *options, now);
                    runner.set_health(
                        SourceState::Misconfigured,
                        Some(code),
                        Some(message),
                        None,
                        now,
                    );
                }
            }
            Command::Replace(id, source, options) => {
                if let Some(runner) = self.runners.get_mut(&id) {
                    runner.replace(source, *options, now);
                }
            }
            Command::AddSource(id, source, options, health) => {
                if let Some(runner) = self.runners.get_mut(&id) {
                    runner.replace(source, *options, now);
                    return;
                }
                let mut runner = Runner::new(
                    id.clone(),
                    source,
                    *options,
                    self.board.clone(),
                    health,
                    self.counters.clone(),
                );
                runner.desk = Some(self.desk.clone());
                runner.owned = self.owned.clone();
                runner.instances = self.instances;
                // Mailboxes that waited for this source move in and are fetched promptly.
                let waiting: Vec<String> = self
                    .unrouted
                    .iter()
                    .filter(|e| self.routing.route(e) == &id)
                    .cloned()
                    .collect();
                for email in &waiting {
                    self.unrouted.remove(email);
                }
                runner.watch(waiting, now, FirstFetch::Promptly);
                self.runners.insert(id, runner);
            }
            Command::RemoveSource(id) => {
                if id.is_default() {
                    if let Some(runner) = self.runners.get_mut(&id) {
                        let options = runner.options.clone();
                        runner.replace(None, options, now);
                    }
                    return;
                }
                // Dropping the runner drops its requests in flight and its keeper; its
                // subscriptions are deleted.
                self.desk.release(&id);
                if let Some(mut runner) = self.runners.remove(&id) {
                    for email in runner.release_all() {
                        self.mark_unrouted(email.to_string(), &id, now);
                    }
                }
            }
            Command::WatchedMailboxes(id, reply) => {
                let mailboxes = self
                    .runners
                    .get(&id)
                    .map(|r| r.sending().cloned().collect())
                    .unwrap_or_default();
                let _ = reply.send(mailboxes);
            }
            Command::Subscribed(id, mailboxes, on) => {
                if let Some(runner) = self.runners.get_mut(&id) {
                    runner.set_subscribed(mailboxes, on, now);
                }
            }
            Command::Notified(id, mailboxes, at) => {
                if let Some(runner) = self.runners.get_mut(&id) {
                    runner.notified(mailboxes, at);
                }
            }
            Command::PresenceMailboxes(id, reply) => {
                let mailboxes = self
                    .runners
                    .get(&id)
                    .map(|r| r.sending().map(|e| e.to_string()).collect())
                    .unwrap_or_default();
                let _ = reply.send(mailboxes);
            }
            Command::SetOwnedShards(owned) => {
                self.owned = owned;
                for runner in self.runners.values_mut() {
                    runner.set_owned(self.owned.clone(), now);
                }
            }
            Command::SetLiveInstances(instances) => {
                self.instances = instances;
                for runner in self.runners.values_mut() {
                    runner.instances = instances;
                }
            }
            Command::SetRouting(routing) => {
                self.routing = *routing;
                let mut moving: Vec<String> = Vec::new();
                for (id, runner) in &mut self.runners {
                    let leaving: Vec<Mailbox> = runner
                        .watched()
                        .filter(|e| self.routing.route(e) != id)
                        .cloned()
                        .collect();
                    runner.release(&leaving);
                    moving.extend(leaving.iter().map(|e| e.to_string()));
                }
                moving.extend(self.unrouted.drain());
                self.watch(moving, now, FirstFetch::Promptly);
            }
        }
    }

    /// Hands each new mailbox (normalized) to the runner its route names, or marks it unknown
    /// when that source does not exist.
    fn watch(&mut self, emails: Vec<String>, now: Timestamp, first: FirstFetch) {
        // The single-source gateway's case (100 000 people at once): no sorting by source.
        if self.routing.is_trivial()
            && let Some(runner) = self.runners.get_mut(self.routing.default_source())
        {
            runner.watch(emails, now, first);
            return;
        }
        let mut by_source: BTreeMap<SourceId, Vec<String>> = BTreeMap::new();
        for email in emails {
            let id = self.routing.route(&email);
            if self.runners.contains_key(id) {
                by_source.entry(id.clone()).or_default().push(email);
            } else if !email.is_empty() {
                let id = id.clone();
                self.mark_unrouted(email, &id, now);
            }
        }
        for (id, emails) in by_source {
            if let Some(runner) = self.runners.get_mut(&id) {
                runner.watch(emails, now, first);
            }
        }
    }

    /// A mailbox whose source does not exist: `unknown` with a code naming the missing source,
    /// never `free`, and never a request anywhere.
    fn mark_unrouted(&mut self, email: String, id: &SourceId, now: Timestamp) {
        let window = match self.runners.get(&SourceId::default()) {
            Some(runner) => runner.options.window(now),
            None => EngineOptions::with_interval(SignedDuration::from_mins(5)).window(now),
        };
        let availability = Availability::failed(
            email.clone(),
            window.start,
            window.end,
            now,
            SourceError {
                code: REASON_NO_SOURCE.into(),
                message: format!("routed to calendar source \"{id}\", which is not configured"),
            },
        );
        self.board.update(availability, now);
        self.unrouted.insert(email);
    }
}

/// The next finished request of any runner, with the id of the runner that sent it.
fn next_answer(
    runners: &mut BTreeMap<SourceId, Runner>,
) -> impl Future<Output = (SourceId, Result<Outcome, tokio::task::JoinError>)> + '_ {
    std::future::poll_fn(move |cx| {
        for (id, runner) in runners.iter_mut() {
            if let Poll::Ready(Some(joined)) = runner.tasks.poll_join_next(cx) {
                return Poll::Ready((id.clone(), joined));
            }
        }
        Poll::Pending
    })
}

/// When a mailbox new to a runner is first fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstFetch {
    /// As soon as the concurrency limit and back-off allow.
    Promptly,
    /// When its last-known data falls due (promptly if there is none, it failed, or it is
    /// older than the refresh interval).
    WhenDue,
}

/// A watched address as the runner keeps it: the board's own allocation, shared by the due
/// set, the due times and the in-flight set instead of copied into each (100 000 people).
type Mailbox = Arc<str>;

type Outcome = (u64, Vec<Mailbox>, Result<Vec<Availability>, SourceFailure>);

/// One source's refresh: its watch list, pacing, back-off, credential pause and health.
struct Runner {
    id: SourceId,
    source: Option<Arc<dyn CalendarSource>>,
    generation: u64,
    options: EngineOptions,
    board: Arc<StatusBoard>,
    health: Arc<Mutex<SourceHealth>>,
    counters: Arc<EngineCounters>,
    backoff: BackOff,
    /// (due, email) for every watched mailbox not in flight.
    due: BTreeSet<(Timestamp, Mailbox)>,
    due_of: HashMap<Mailbox, Timestamp>,
    never_fetched: HashSet<Mailbox>,
    urgent: Vec<Mailbox>,
    in_flight: HashSet<Mailbox>,
    tasks: JoinSet<Outcome>,
    next_slot: Timestamp,
    last_on_demand: Option<Timestamp>,
    /// A credential failure paused the source: only the lockout guard's probe may run.
    paused_for_credentials: bool,
    /// The last answer was a failure: send one request at a time until one succeeds.
    probing: bool,
    /// Reads presence while the source does (see [`Hub::sync_presence`]).
    presence: Option<PresencePoller>,
    /// Keeps a subscription per mailbox while the source takes change notifications.
    keeper: Option<Keeper>,
    /// Where notification delays are counted.
    desk: Option<Arc<NotificationDesk>>,
    /// Mailboxes with a live subscription: read at the sweep interval.
    subscribed: HashSet<Mailbox>,
    /// Notified mailboxes waiting to be read, oldest first, with when the notification came.
    notified: VecDeque<(Mailbox, Timestamp)>,
    /// Notified mailboxes waiting or in flight, with the first notification's arrival.
    notified_at: HashMap<Mailbox, Timestamp>,
    /// Notified while their read was in flight: read again after it (that read may predate
    /// the change).
    renotify: HashMap<Mailbox, Timestamp>,
    /// The shards this gateway fetches (`None`: all).
    owned: Option<Arc<HashSet<Shard>>>,
    /// Watched mailboxes of shards another gateway fetches: on the board, never sent.
    parked: HashSet<Mailbox>,
    /// Mailboxes of a shard gained from another gateway: each goes out when it is due (its
    /// cadence is the other gateway's), never early in a batch of this gateway's own, so no
    /// mailbox is read twice in an interval and none waits for this gateway's next slot.
    held: HashSet<Mailbox>,
    /// Gateways sharing this source's concurrency.
    instances: usize,
}

/// Notifications that arrive within this window go out together (up to a full batch).
const NOTIFY_COALESCE: SignedDuration = SignedDuration::from_millis(250);

impl Runner {
    fn new(
        id: SourceId,
        source: Option<Arc<dyn CalendarSource>>,
        options: EngineOptions,
        board: Arc<StatusBoard>,
        health: Arc<Mutex<SourceHealth>>,
        counters: Arc<EngineCounters>,
    ) -> Runner {
        let max = source.as_ref().map_or(1, |s| s.limits().max_in_flight);
        Runner {
            id,
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
            presence: None,
            keeper: None,
            desk: None,
            subscribed: HashSet::new(),
            notified: VecDeque::new(),
            notified_at: HashMap::new(),
            renotify: HashMap::new(),
            owned: None,
            parked: HashSet::new(),
            held: HashSet::new(),
            instances: 1,
        }
    }

    /// Whether this gateway fetches `email` (a normalized address).
    fn owns(&self, email: &str) -> bool {
        self.owned
            .as_ref()
            .is_none_or(|owned| owned.contains(&shard_of(email)))
    }

    /// Requests allowed in flight: the back-off's concurrency divided among the gateways
    /// sharing the source, at least one.
    fn concurrency(&self) -> usize {
        (self.backoff.concurrency() / self.instances.max(1)).max(1)
    }

    /// New owned shards: mailboxes of shards lost are parked (a request in flight finishes);
    /// those of shards gained keep the other gateway's cadence when it read them less than an
    /// interval ago (due at that read plus the interval), else go first in line.
    fn set_owned(&mut self, owned: Option<Arc<HashSet<Shard>>>, now: Timestamp) {
        self.owned = owned;
        let losing: Vec<Mailbox> = self
            .due_of
            .keys()
            .filter(|e| !self.owns(e))
            .cloned()
            .collect();
        for email in losing {
            self.park(email);
        }
        let gaining: Vec<Mailbox> = self
            .parked
            .iter()
            .filter(|e| self.owns(e))
            .cloned()
            .collect();
        let interval = self.options.refresh_interval;
        for email in gaining {
            self.parked.remove(&email);
            match self.board.get_fetched(&email) {
                Some((at, true)) if at + interval > now => {
                    self.held.insert(email.clone());
                    self.schedule(email, at + interval);
                }
                // Overdue, failed or never fetched: first in line, then in this gateway's own
                // cadence.
                _ => {
                    self.never_fetched.insert(email.clone());
                    self.schedule(email, now);
                }
            }
        }
    }

    /// Takes a mailbox out of every queue and keeps it watched, unsent.
    fn park(&mut self, email: Mailbox) {
        if let Some((key, at)) = self.due_of.remove_entry(&email) {
            self.due.remove(&(at, key));
        }
        self.never_fetched.remove(&email);
        self.held.remove(&email);
        self.urgent.retain(|e| *e != email);
        if self.notified_at.remove(&email).is_some() {
            self.notified.retain(|(e, _)| *e != email);
        }
        self.renotify.remove(&email);
        self.parked.insert(email);
    }

    /// When the first mailbox gained from another gateway falls due (looked for among the first
    /// few thousand due; beyond them, a look again in a second).
    fn next_held(&self, now: Timestamp) -> Option<Timestamp> {
        if self.held.is_empty() {
            return None;
        }
        let mut looked = 0usize;
        for (at, email) in &self.due {
            if self.held.contains(email) {
                return Some(*at);
            }
            looked += 1;
            if looked >= 4_096 {
                return Some(now + SignedDuration::from_secs(1));
            }
        }
        None
    }

    /// The mailboxes this runner sends (waiting or in flight), parked ones left out.
    fn sending(&self) -> impl Iterator<Item = &Mailbox> {
        self.due_of.keys().chain(self.in_flight.iter())
    }

    /// Mailboxes that gained or lost a live subscription. One that lost it is due again
    /// within the refresh interval (it was being read at the slower sweep).
    fn set_subscribed(&mut self, mailboxes: Vec<Arc<str>>, on: bool, now: Timestamp) {
        for mailbox in mailboxes {
            if on {
                if let Some((key, _)) = self.due_of.get_key_value(&*mailbox) {
                    self.subscribed.insert(key.clone());
                } else if let Some(key) = self.in_flight.get(&*mailbox) {
                    self.subscribed.insert(key.clone());
                }
            } else if self.subscribed.remove(&*mailbox) {
                self.poll_again(&mailbox, now);
            }
        }
    }

    /// Every subscription ended (notifications switched off or the source gone).
    fn unsubscribe_all(&mut self, now: Timestamp) {
        let all: Vec<Mailbox> = self.subscribed.drain().collect();
        for mailbox in all {
            self.poll_again(&mailbox, now);
        }
    }

    /// Brings a mailbox's next read within the refresh interval.
    fn poll_again(&mut self, mailbox: &str, now: Timestamp) {
        let limit = now + self.options.refresh_interval;
        if let Some((key, at)) = self.due_of.get_key_value(mailbox)
            && *at > limit
        {
            let key = key.clone();
            self.schedule(key, limit);
        }
    }

    /// A notification says these mailboxes changed: each is read soon, together with others
    /// notified within a short window; one being read right now is read again after.
    fn notified(&mut self, mailboxes: Vec<Arc<str>>, at: Timestamp) {
        for mailbox in mailboxes {
            if let Some(key) = self.in_flight.get(&*mailbox) {
                self.renotify.entry(key.clone()).or_insert(at);
            } else if let Some((key, _)) = self.due_of.get_key_value(&*mailbox)
                && !self.notified_at.contains_key(key)
            {
                let key = key.clone();
                self.notified_at.insert(key.clone(), at);
                self.notified.push_back((key, at));
            }
        }
    }

    /// The next batch of notified mailboxes, once a full batch is waiting or the oldest has
    /// waited the coalescing window.
    fn notified_batch(&mut self, now: Timestamp, batch_size: usize) -> Vec<Mailbox> {
        let ready = self.notified.len() >= batch_size
            || self
                .notified
                .front()
                .is_some_and(|(_, at)| *at + NOTIFY_COALESCE <= now);
        let mut batch = Vec::new();
        if !ready {
            return batch;
        }
        while batch.len() < batch_size {
            let Some((email, _)) = self.notified.pop_front() else {
                break;
            };
            if self.take(&email) {
                batch.push(email);
            }
        }
        batch
    }

    /// When the waiting notified mailboxes go out.
    fn notified_send_at(&self, now: Timestamp, batch_size: usize) -> Option<Timestamp> {
        if self.notified.len() >= batch_size {
            return Some(now);
        }
        self.notified.front().map(|(_, at)| *at + NOTIFY_COALESCE)
    }

    /// How long until a mailbox just read is read again.
    fn interval_for(&self, email: &str) -> SignedDuration {
        match self.options.sweep_interval {
            Some(sweep) if self.subscribed.contains(email) => sweep,
            _ => self.options.refresh_interval,
        }
    }

    /// After a read of a notified mailbox: the delay from notification to new data is counted,
    /// and a notification that came while it was read sends it again.
    fn notified_read(&mut self, email: &Mailbox, now: Timestamp) {
        if let Some(at) = self.notified_at.remove(email)
            && let Some(desk) = &self.desk
        {
            desk.counters
                .delay
                .observe(to_std(now.duration_since(at).max(SignedDuration::ZERO)));
        }
        if let Some(at) = self.renotify.remove(email) {
            self.notified_at.insert(email.clone(), at);
            self.notified.push_back((email.clone(), at));
        }
    }

    /// Every mailbox this runner serves (waiting, in flight, or parked for another gateway).
    fn watched(&self) -> impl Iterator<Item = &Mailbox> {
        self.sending().chain(self.parked.iter())
    }

    /// Unwatches every mailbox not in `wanted`.
    fn keep_only(&mut self, wanted: &HashSet<String>) {
        let gone: Vec<Mailbox> = self
            .watched()
            .filter(|e| !wanted.contains(&***e))
            .cloned()
            .collect();
        for email in gone {
            self.forget(&email);
            self.board.unwatch(&email);
        }
    }

    fn refresh_if_old(&mut self, email: &str, now: Timestamp) {
        let old = self
            .board
            .fetched_at(email)
            .is_none_or(|at| now.duration_since(at) > self.options.on_demand_after);
        let Some((key, _)) = self.due_of.get_key_value(email) else {
            return;
        };
        if old && !self.urgent.contains(key) {
            self.urgent.push(key.clone());
        }
    }

    fn retry_now(&mut self, now: Timestamp) {
        self.backoff.reset();
        self.probing = false;
        self.paused_for_credentials = false;
        self.next_slot = now;
    }

    /// Abandons every request in flight (their answers are ignored by generation) and puts
    /// their mailboxes back in line.
    fn drop_in_flight(&mut self, now: Timestamp) {
        self.tasks.abort_all();
        self.generation += 1;
        let returning: Vec<Mailbox> = self.in_flight.drain().collect();
        for email in returning {
            self.requeue(email, now);
        }
    }

    fn replace(
        &mut self,
        source: Option<Arc<dyn CalendarSource>>,
        options: EngineOptions,
        now: Timestamp,
    ) {
        // Drop everything sent with the old source.
        self.drop_in_flight(now);
        self.options = options;
        // The board's status options are the default source's: one board, one set of rules.
        if self.id.is_default() {
            self.board.set_options(self.options.status, now);
        }
        let max = source.as_ref().map_or(1, |s| s.limits().max_in_flight);
        self.backoff = BackOff::new(max);
        self.paused_for_credentials = false;
        self.probing = false;
        self.next_slot = now;
        let state = starting_state(source.is_some());
        self.source = source;
        self.set_health(state, None, None, None, now);
        // Everyone is fetched promptly with the new source, in this gateway's own cadence.
        self.held.clear();
        let all: Vec<Mailbox> = self.due_of.keys().cloned().collect();
        for email in all {
            self.schedule(email.clone(), now);
            self.never_fetched.insert(email);
        }
    }

    /// Stops serving these mailboxes but leaves their last data on the board: they are moving
    /// to another source, which replaces it when it answers. An answer still in flight for them
    /// is ignored.
    fn release(&mut self, emails: &[Mailbox]) {
        for email in emails {
            self.forget(email);
        }
        // Presence is this source's: the next source may read none.
        if self.presence.is_some() {
            self.board
                .clear_presence(emails.iter().map(|e| &**e), Timestamp::now());
        }
    }

    /// Stops serving every mailbox; returns them.
    fn release_all(&mut self) -> Vec<Mailbox> {
        let all: Vec<Mailbox> = self.watched().cloned().collect();
        self.release(&all);
        all
    }

    fn forget(&mut self, email: &str) {
        if let Some((key, at)) = self.due_of.remove_entry(email) {
            self.due.remove(&(at, key));
        }
        self.never_fetched.remove(email);
        self.subscribed.remove(email);
        self.notified_at.remove(email);
        self.renotify.remove(email);
        self.notified.retain(|(e, _)| &**e != email);
        self.urgent.retain(|e| &**e != email);
        self.in_flight.remove(email);
        self.parked.remove(email);
        self.held.remove(email);
    }

    /// Starts serving these mailboxes (normalized addresses).
    fn watch(&mut self, emails: Vec<String>, now: Timestamp, first: FirstFetch) {
        let interval = self.options.refresh_interval;
        for email in emails {
            if email.is_empty()
                || self.due_of.contains_key(email.as_str())
                || self.in_flight.contains(email.as_str())
                || self.parked.contains(email.as_str())
            {
                continue;
            }
            let key = self.board.watch(&email, now);
            let due = match first {
                FirstFetch::Promptly => None,
                FirstFetch::WhenDue => self
                    .board
                    .get_fetched(&key)
                    .filter(|(at, ok)| *ok && now.duration_since(*at) < interval)
                    .map(|(at, _)| at + interval),
            };
            match due {
                Some(at) => self.schedule(key, at),
                None => {
                    self.never_fetched.insert(key.clone());
                    self.schedule(key, now);
                }
            }
        }
    }

    /// Stops serving these mailboxes (normalized addresses) and takes them off the board.
    fn unwatch(&mut self, emails: Vec<String>) {
        for email in emails {
            self.forget(&email);
            self.board.unwatch(&email);
        }
    }

    fn schedule(&mut self, email: Mailbox, at: Timestamp) {
        if !self.owns(&email) {
            self.park(email);
            return;
        }
        if let Some(old) = self.due_of.insert(email.clone(), at) {
            self.due.remove(&(old, email.clone()));
        }
        self.due.insert((at, email));
    }

    /// Puts a mailbox whose request did not complete back in line: due now, and still first in
    /// line if it has never been fetched (a failed first fetch keeps its priority, so it goes out
    /// as soon as the back-off ends rather than at the next pacing slot).
    fn requeue(&mut self, email: Mailbox, now: Timestamp) {
        if self.board.fetched_at(&email).is_none() {
            self.never_fetched.insert(email.clone());
        }
        // A notified mailbox keeps its place among the notified.
        if let Some(at) = self.notified_at.get(&email) {
            self.notified.push_back((email.clone(), *at));
        }
        self.schedule(email, now);
    }

    fn take(&mut self, email: &str) -> bool {
        match self.due_of.remove_entry(email) {
            Some((key, at)) => {
                self.due.remove(&(at, key));
                true
            }
            None => false,
        }
    }

    /// Slot spacing: the interval divided by the number of full batches. With a safety sweep,
    /// the batches that fall due per second count the swept mailboxes at the sweep interval
    /// and the others at the refresh interval, so a sweep goes out in full batches too.
    fn spacing(&self, batch_size: usize) -> SignedDuration {
        let watched = self.due_of.len() + self.in_flight.len();
        let swept = match self.options.sweep_interval {
            Some(_) => self.subscribed.len().min(watched),
            None => 0,
        };
        match self.options.sweep_interval {
            Some(sweep) if swept > 0 => {
                let polled = (watched - swept) as f64;
                let per_second = polled / self.options.refresh_interval.as_secs_f64().max(1.0)
                    + swept as f64 / sweep.as_secs_f64().max(1.0);
                let spacing = batch_size.max(1) as f64 / per_second.max(f64::MIN_POSITIVE);
                SignedDuration::from_secs_f64(spacing.min(sweep.as_secs_f64()))
            }
            _ => {
                let batches = watched.div_ceil(batch_size.max(1)).max(1);
                self.options.refresh_interval / i32::try_from(batches).unwrap_or(i32::MAX)
            }
        }
    }

    fn dispatch(&mut self, now: Timestamp) {
        let Some(source) = self.source.clone() else {
            return;
        };
        let limits = source.limits();
        // After a failure, one request goes alone until an answer says the server is well again.
        let allowed = if self.probing { 1 } else { self.concurrency() };
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
    fn next_batch(&mut self, now: Timestamp, batch_size: usize) -> Vec<Mailbox> {
        let batch = self.notified_batch(now, batch_size);
        if !batch.is_empty() {
            return batch;
        }
        let mut batch = Vec::new();
        let on_demand_ok = self
            .last_on_demand
            .is_none_or(|t| now.duration_since(t) >= self.options.on_demand_gap);
        if !self.urgent.is_empty() && on_demand_ok {
            let urgent: Vec<Mailbox> = self.urgent.drain(..).collect();
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
            let fresh: Vec<Mailbox> = self
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
        if batch.len() < batch_size && !self.held.is_empty() {
            let ready: Vec<Mailbox> = self
                .due
                .iter()
                .take_while(|(at, _)| *at <= now)
                .filter(|(_, e)| self.held.contains(e))
                .take(batch_size - batch.len())
                .map(|(_, e)| e.clone())
                .collect();
            for email in ready {
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
            let mut not_yet = Vec::new();
            while batch.len() < batch_size {
                let Some((at, email)) = self.due.pop_first() else {
                    break;
                };
                // A mailbox gained from another gateway keeps its own time.
                if at > now && self.held.contains(&email) {
                    not_yet.push((at, email));
                    continue;
                }
                self.due_of.remove(&email);
                batch.push(email);
            }
            self.due.extend(not_yet);
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

    fn send(&mut self, source: Arc<dyn CalendarSource>, batch: Vec<Mailbox>, now: Timestamp) {
        for email in &batch {
            self.in_flight.insert(email.clone());
        }
        let window = self.options.window(now);
        let generation = self.generation;
        self.counters
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Every request of every source is timed and counted under this runner's source id.
        let metrics = self.counters.sources.for_source(&self.id);
        let source = crate::observe::ObservedSource::new(source, metrics);
        self.tasks.spawn(async move {
            let names: Vec<String> = batch.iter().map(|e| e.to_string()).collect();
            let result = source.fetch(&names, window).await;
            (generation, batch, result)
        });
    }

    fn finish(&mut self, (generation, batch, result): Outcome) {
        let now = Timestamp::now();
        if generation != self.generation {
            return;
        }
        let still_watched: Vec<Mailbox> = batch
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
                let mut refusals = 0usize;
                let window = self.options.window(now);
                for email in still_watched {
                    let availability = by_mailbox.remove(&*email).unwrap_or_else(|| {
                        Availability::failed(
                            email.to_string(),
                            window.start,
                            window.end,
                            now,
                            SourceError {
                                code: Code::SourceMissingAnswer.into(),
                                message: "the source answered without this mailbox".into(),
                            },
                        )
                    });
                    if let Some(error) = &availability.error {
                        errors += 1;
                        if Code::parse(&error.code).is_some_and(|c| c.is_mailbox_refusal()) {
                            refusals += 1;
                        }
                    }
                    // The board is keyed by the watch list's spelling of the address.
                    let mut availability = availability;
                    if *availability.mailbox != *email {
                        availability.mailbox = email.to_string();
                    }
                    // Swept data stays good until one sweep is missed.
                    let stale_after = self
                        .subscribed
                        .contains(&email)
                        .then(|| self.options.swept_stale_after())
                        .flatten();
                    self.board.update_for(availability, now, stale_after);
                    self.counters
                        .mailboxes_fetched
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let next = now + self.interval_for(&email);
                    self.notified_read(&email, now);
                    self.schedule(email, next);
                }
                // Mailboxes that refuse the service account (or do not exist) are their own
                // matter: the source works, with a warning; other mailbox failures degrade it.
                let state = if errors > refusals {
                    SourceState::Degraded
                } else {
                    SourceState::Ok
                };
                let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
                health.last_success = Some(now);
                let (code, message) = if errors > refusals {
                    (
                        Some(Code::SourceMailboxErrors.into()),
                        Some(format!("{errors} mailbox(es) in the last batch failed")),
                    )
                } else if refusals > 0 {
                    (
                        Some(Code::SourceMailboxErrors.into()),
                        Some(format!(
                            "working; {refusals} mailbox(es) in the last batch refuse the service \
                             account or are unknown to the server (see the people listed with \
                             errors)"
                        )),
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
                        self.drop_in_flight(now);
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

    /// When this runner wants to send next (`None`: nothing to send, or no room in flight).
    fn next_send(&self, now: Timestamp) -> Option<Timestamp> {
        // The same limit `dispatch` applies: while a probe is out nothing else may go, so the
        // loop must not wake to try (it would spin until the probe's answer).
        let allowed = if self.probing || self.paused_for_credentials {
            1
        } else {
            self.concurrency()
        };
        if self.source.is_none() || self.tasks.len() >= allowed {
            return None;
        }
        let mut send_at = self.due.first().map(|(at, _)| (*at).max(self.next_slot));
        if !self.never_fetched.is_empty() {
            send_at = Some(now);
        }
        if let Some(at) = self.next_held(now) {
            send_at = Some(send_at.map_or(at, |s| s.min(at)));
        }
        let batch_size = self.source.as_ref().map_or(1, |s| s.limits().batch_size);
        if let Some(at) = self.notified_send_at(now, batch_size) {
            send_at = Some(send_at.map_or(at, |s| s.min(at)));
        }
        if !self.urgent.is_empty() {
            let gap_end = self
                .last_on_demand
                .map_or(now, |t| t + self.options.on_demand_gap);
            send_at = Some(send_at.map_or(gap_end, |s| s.min(gap_end)));
        }
        send_at.map(|at| match self.backoff.not_before() {
            Some(nb) => at.max(nb),
            None => at,
        })
    }
}

fn to_std(d: SignedDuration) -> std::time::Duration {
    std::time::Duration::try_from(d).unwrap_or(std::time::Duration::from_millis(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use calgate_core::OperatorState;

    /// Waits until `email` shows `state` with `reason` on the board (the engine works on its own
    /// task), or fails with what it shows.
    async fn wait_for(
        engine: &Engine,
        email: &str,
        state: OperatorState,
        reason: Option<&str>,
    ) -> Option<PersonEntryView> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let entry = engine.board().get(email);
            let seen = entry.as_ref().map(|e| PersonEntryView {
                state: e.status.state,
                reason: e.status.unknown_reason.clone(),
                error: e
                    .availability
                    .as_ref()
                    .and_then(|a| a.error.as_ref().map(|x| x.message.clone())),
            });
            if seen
                .as_ref()
                .is_some_and(|s| s.state == state && s.reason.as_deref() == reason)
            {
                return seen;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{email}: wanted {state:?}/{reason:?}, board shows {seen:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    #[derive(Debug)]
    struct PersonEntryView {
        state: OperatorState,
        reason: Option<String>,
        error: Option<String>,
    }

    fn options() -> EngineOptions {
        EngineOptions::with_interval(SignedDuration::from_secs(300))
    }

    #[tokio::test]
    async fn a_mailbox_routed_to_a_missing_source_is_unknown_with_a_clear_code() {
        let engine = Engine::start(None, options());
        engine.set_routing(Routing::new().with_domain("onprem.example.com", "onprem"));
        engine.watch(vec![
            "Ann@OnPrem.example.com".into(),
            "bob@contoso.com".into(),
        ]);
        let ann = wait_for(
            &engine,
            "ann@onprem.example.com",
            OperatorState::Unknown,
            Some(REASON_NO_SOURCE),
        )
        .await;
        let message = ann.and_then(|a| a.error).unwrap_or_default();
        assert!(
            message.contains("\"onprem\""),
            "names the source: {message}"
        );
        // The default source (disabled here) holds the other one: not fetched, so no data.
        wait_for(
            &engine,
            "bob@contoso.com",
            OperatorState::Unknown,
            Some(calgate_core::status::REASON_NO_DATA),
        )
        .await;
        assert_eq!(
            engine
                .counters()
                .requests
                .load(std::sync::atomic::Ordering::Relaxed),
            0
        );

        // Unwatching an unrouted mailbox takes it off the board.
        engine.unwatch(vec!["ann@onprem.example.com".into()]);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while engine.board().get("ann@onprem.example.com").is_some() {
            assert!(std::time::Instant::now() < deadline, "still on the board");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Every request's mailboxes, in the order the requests were made.
    type Calls = Arc<Mutex<Vec<Vec<String>>>>;

    /// A source that notes the mailboxes of every request and answers each mailbox with
    /// `events`; with a gate, only once the test opens it. One request at a time, so the order
    /// of the notes is the order in which requests were sent.
    struct Counting {
        calls: Calls,
        events: Vec<calgate_core::CalendarEvent>,
        gate: Option<Arc<tokio::sync::Semaphore>>,
    }

    impl CalendarSource for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }

        fn limits(&self) -> crate::source::SourceLimits {
            crate::source::SourceLimits {
                batch_size: 10,
                max_in_flight: 1,
            }
        }

        fn fetch<'a>(
            &'a self,
            mailboxes: &'a [String],
            window: Window,
        ) -> futures::future::BoxFuture<'a, Result<Vec<Availability>, SourceFailure>> {
            self.calls
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(mailboxes.to_vec());
            Box::pin(async move {
                if let Some(gate) = &self.gate {
                    let _ = gate.acquire().await;
                }
                let now = Timestamp::now();
                Ok(mailboxes
                    .iter()
                    .map(|m| Availability {
                        mailbox: m.clone(),
                        window_start: window.start,
                        window_end: window.end,
                        events: self.events.clone(),
                        working_hours: None,
                        out_of_office: None,
                        fetched_at: now,
                        error: None,
                    })
                    .collect())
            })
        }
    }

    fn counting(
        events: Vec<calgate_core::CalendarEvent>,
        gate: Option<Arc<tokio::sync::Semaphore>>,
    ) -> (Arc<dyn CalendarSource>, Calls) {
        let calls = Calls::default();
        let source = Counting {
            calls: calls.clone(),
            events,
            gate,
        };
        (Arc::new(source), calls)
    }

    /// How many requests so far named `email`.
    fn asked(calls: &Calls, email: &str) -> usize {
        calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|c| c.iter().any(|m| m == email))
            .count()
    }

    /// Waits until `calls` named `email` at least `n` times.
    async fn wait_asked(calls: &Calls, email: &str, n: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while asked(calls, email) < n {
            assert!(
                std::time::Instant::now() < deadline,
                "{email} asked {} times, wanted {n}: {:?}",
                asked(calls, email),
                calls.lock().unwrap_or_else(|e| e.into_inner())
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// What a warm restart puts back: an answer fetched `age` ago (or a failed one).
    fn saved(mailbox: &str, age: SignedDuration, failed: bool) -> Availability {
        let now = Timestamp::now();
        let window = options().window(now);
        let mut a = Availability {
            mailbox: mailbox.into(),
            window_start: window.start,
            window_end: window.end,
            events: Vec::new(),
            working_hours: None,
            out_of_office: None,
            fetched_at: now - age,
            error: None,
        };
        if failed {
            a.error = Some(Box::new(SourceError {
                code: "EWS_SERVER_BUSY".into(),
                message: "busy".into(),
            }));
        }
        a
    }

    #[tokio::test]
    async fn after_a_restart_only_old_or_failed_data_is_fetched_at_once() {
        let (source, calls) = counting(Vec::new(), None);
        let engine = Engine::start(Some(source), options());
        let minute = SignedDuration::from_mins(1);
        let now = Timestamp::now();
        let young = saved("young@contoso.com", minute, false);
        let young_at = young.fetched_at;
        engine.board().restore(young, now);
        engine
            .board()
            .restore(saved("old@contoso.com", minute * 10, false), now);
        engine
            .board()
            .restore(saved("failed@contoso.com", minute, true), now);
        engine.resume_watch_list(vec![
            "young@contoso.com".into(),
            "old@contoso.com".into(),
            "failed@contoso.com".into(),
            "new@contoso.com".into(),
        ]);
        for email in ["old@contoso.com", "failed@contoso.com", "new@contoso.com"] {
            wait_asked(&calls, email, 1).await;
        }
        // Its data is a minute old with a five-minute interval: due in four minutes.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(asked(&calls, "young@contoso.com"), 0, "{calls:?}");
        assert_eq!(
            engine.board().fetched_at("young@contoso.com"),
            Some(young_at),
            "the saved answer is served meanwhile"
        );

        // A new watch-list entry or a settings change fetches promptly as before.
        let (source, calls) = counting(Vec::new(), None);
        engine.replace_source(Some(source), options());
        wait_asked(&calls, "young@contoso.com", 1).await;
    }

    #[tokio::test]
    async fn a_moved_mailbox_keeps_its_last_data_until_the_new_source_answers() {
        // The default refreshes every 200 ms: were it still serving a mailbox that has moved,
        // it would ask for it again within a few hundred milliseconds.
        let fast = EngineOptions::with_interval(SignedDuration::from_millis(200));
        let (default, default_calls) = counting(Vec::new(), None);
        let engine = Engine::start(Some(default), fast);
        // The new source says busy, but only when the test lets it answer.
        let now = Timestamp::now();
        let meeting = calgate_core::CalendarEvent {
            start: now - SignedDuration::from_mins(10),
            end: now + SignedDuration::from_hours(2),
            busy_type: calgate_core::BusyType::Busy,
            subject: Some("Migration".into()),
            location: None,
            is_private: false,
            is_all_day: false,
            is_recurring: false,
            is_meeting: true,
        };
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let (online_source, online_calls) = counting(vec![meeting], Some(gate.clone()));
        let online = SourceId::new("online");
        engine.add_source(online.clone(), online_source, options());

        engine.watch(vec!["dee@contoso.com".into()]);
        wait_for(&engine, "dee@contoso.com", OperatorState::Free, None).await;
        wait_asked(&default_calls, "dee@contoso.com", 1).await;

        // Moved to a source that has not answered yet: the board keeps the last data.
        engine.set_routing(Routing::new().with_mailbox("dee@contoso.com", online.clone()));
        engine.watch(vec!["other@contoso.com".into()]);
        // A later watch is processed after the routing change: the move has happened.
        wait_for(&engine, "other@contoso.com", OperatorState::Free, None).await;
        wait_asked(&online_calls, "dee@contoso.com", 1).await;
        let kept = wait_for(&engine, "dee@contoso.com", OperatorState::Free, None).await;
        assert!(kept.is_some_and(|k| k.error.is_none()));
        let kept_at = engine.board().fetched_at("dee@contoso.com");
        assert!(kept_at.is_some());
        // The default goes on refreshing what it still serves (three more rounds), and never
        // asks for the moved mailbox once the first request after the move has gone out.
        wait_asked(&default_calls, "other@contoso.com", 3).await;
        let calls = default_calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let after_move = calls
            .iter()
            .position(|c| c.iter().any(|m| m == "other@contoso.com"))
            .unwrap_or(calls.len());
        assert!(
            calls[after_move..]
                .iter()
                .all(|c| !c.iter().any(|m| m == "dee@contoso.com")),
            "the default still asks for the moved mailbox: {calls:?}"
        );
        assert_eq!(asked(&online_calls, "dee@contoso.com"), 1);
        assert_eq!(asked(&online_calls, "other@contoso.com"), 0);
        assert_eq!(engine.board().fetched_at("dee@contoso.com"), kept_at);
        wait_for(&engine, "dee@contoso.com", OperatorState::Free, None).await;

        // The new source answers: its data replaces the kept data.
        gate.add_permits(100);
        wait_for(&engine, "dee@contoso.com", OperatorState::Busy, None).await;
        assert!(engine.board().fetched_at("dee@contoso.com") > kept_at);

        // Routed to a source id that does not exist: unknown, never the old status.
        engine.set_routing(Routing::new().with_mailbox("dee@contoso.com", "gone"));
        wait_for(
            &engine,
            "dee@contoso.com",
            OperatorState::Unknown,
            Some(REASON_NO_SOURCE),
        )
        .await;
    }

    #[tokio::test]
    async fn removing_a_source_turns_its_mailboxes_unknown_and_drops_its_health() {
        let engine = Engine::start(None, options());
        let onprem = SourceId::new("onprem");
        // A source id with a runner but no source configured yet: listed as disabled.
        engine.replace_source_for(onprem.clone(), None, options());
        engine.set_routing(Routing::new().with_mailbox("cy@contoso.com", onprem.clone()));
        engine.set_watch_list(vec!["cy@contoso.com".into()]);
        let ids: Vec<String> = engine
            .health_by_source()
            .into_iter()
            .map(|(id, h)| format!("{id}:{:?}", h.state))
            .collect();
        assert_eq!(ids, ["default:Disabled", "onprem:Disabled"]);
        wait_for(
            &engine,
            "cy@contoso.com",
            OperatorState::Unknown,
            Some(calgate_core::status::REASON_NO_DATA),
        )
        .await;

        engine.remove_source(&onprem);
        assert_eq!(engine.health_by_source().len(), 1);
        wait_for(
            &engine,
            "cy@contoso.com",
            OperatorState::Unknown,
            Some(REASON_NO_SOURCE),
        )
        .await;
        // Routed back to the default: it leaves the "no source" state for the default's
        // runner, which keeps its last word until it answers; a new watch list drops it.
        engine.set_routing(Routing::new());
        engine.set_watch_list(Vec::new());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while engine.board().get("cy@contoso.com").is_some() {
            assert!(std::time::Instant::now() < deadline, "still on the board");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // The default source is only ever disabled, never removed.
        engine.remove_source(&SourceId::default());
        assert_eq!(engine.health_by_source().len(), 1);
        assert_eq!(engine.health().state, SourceState::Disabled);
    }

    /// The shards of `mailboxes` split in two: those of even shards and the others.
    fn halves(mailboxes: &[String]) -> (std::collections::BTreeSet<Shard>, usize) {
        let even: std::collections::BTreeSet<Shard> = (0..calgate_core::shard::SHARDS)
            .filter(|s| s % 2 == 0)
            .collect();
        let in_even = mailboxes
            .iter()
            .filter(|m| even.contains(&shard_of(m)))
            .count();
        (even, in_even)
    }

    #[tokio::test]
    async fn two_engines_with_disjoint_shards_fetch_each_mailbox_once_and_keep_the_rest_watched() {
        let mailboxes: Vec<String> = (0..40).map(|i| format!("p{i}@contoso.com")).collect();
        let (even, in_even) = halves(&mailboxes);
        assert!(
            in_even > 5 && in_even < 35,
            "both halves hold some: {in_even}"
        );
        let odd: std::collections::BTreeSet<Shard> = (0..calgate_core::shard::SHARDS)
            .filter(|s| !even.contains(s))
            .collect();
        let (source_a, calls_a) = counting(Vec::new(), None);
        let (source_b, calls_b) = counting(Vec::new(), None);
        let a = Engine::start(Some(source_a), options());
        let b = Engine::start(Some(source_b), options());
        a.set_owned_shards(Some(even.clone()));
        b.set_owned_shards(Some(odd));
        a.set_watch_list(mailboxes.clone());
        b.set_watch_list(mailboxes.clone());
        for m in &mailboxes {
            if even.contains(&shard_of(m)) {
                wait_asked(&calls_a, m, 1).await;
            } else {
                wait_asked(&calls_b, m, 1).await;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        for m in &mailboxes {
            assert_eq!(asked(&calls_a, m) + asked(&calls_b, m), 1, "{m}");
            // Every mailbox is on both boards; the one that did not fetch it shows no data yet.
            assert!(
                a.board().get(m).is_some() && b.board().get(m).is_some(),
                "{m}"
            );
        }
        // Owning nothing: nothing more is sent, even promptly for a new person.
        a.set_owned_shards(Some(std::collections::BTreeSet::new()));
        a.watch(vec!["new.person@contoso.com".into()]);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(asked(&calls_a, "new.person@contoso.com"), 0);
        assert!(a.board().get("new.person@contoso.com").is_some());
        // Owning everything again (`None`): what was never fetched here nor has data goes out.
        a.set_owned_shards(None);
        wait_asked(&calls_a, "new.person@contoso.com", 1).await;
    }

    #[tokio::test]
    async fn a_gained_shard_is_due_at_its_last_fetch_plus_the_interval() {
        let (source, calls) = counting(Vec::new(), None);
        let engine = Engine::start(Some(source), options());
        engine.set_owned_shards(Some(std::collections::BTreeSet::new()));
        let minute = SignedDuration::from_mins(1);
        let now = Timestamp::now();
        // What the other gateway fetched and this one received through the database.
        engine
            .board()
            .restore(saved("young@contoso.com", minute, false), now);
        engine
            .board()
            .restore(saved("old@contoso.com", minute * 10, false), now);
        engine
            .board()
            .restore(saved("failed@contoso.com", minute, true), now);
        let all = [
            "young@contoso.com",
            "old@contoso.com",
            "failed@contoso.com",
            "never@contoso.com",
        ];
        engine.set_watch_list(all.iter().map(|s| s.to_string()).collect());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(calls.lock().unwrap_or_else(|e| e.into_inner()).is_empty());

        // The other gateway is gone: this one takes every shard.
        engine.set_owned_shards(None);
        for email in ["old@contoso.com", "failed@contoso.com", "never@contoso.com"] {
            wait_asked(&calls, email, 1).await;
        }
        // Fetched a minute ago with a five-minute interval: not before four minutes, even
        // though the others went out in a batch with room to spare.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(asked(&calls, "young@contoso.com"), 0, "{calls:?}");
    }

    /// A source that counts the requests in flight at once, answering after a short wait.
    struct Parallel {
        now: std::sync::atomic::AtomicUsize,
        most: std::sync::atomic::AtomicUsize,
    }

    impl CalendarSource for Parallel {
        fn name(&self) -> &'static str {
            "parallel"
        }

        fn limits(&self) -> crate::source::SourceLimits {
            crate::source::SourceLimits {
                batch_size: 1,
                max_in_flight: 4,
            }
        }

        fn fetch<'a>(
            &'a self,
            mailboxes: &'a [String],
            window: Window,
        ) -> futures::future::BoxFuture<'a, Result<Vec<Availability>, SourceFailure>> {
            use std::sync::atomic::Ordering::SeqCst;
            let n = self.now.fetch_add(1, SeqCst) + 1;
            self.most.fetch_max(n, SeqCst);
            Box::pin(async move {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                self.now.fetch_sub(1, SeqCst);
                Ok(mailboxes
                    .iter()
                    .map(|m| Availability {
                        mailbox: m.clone(),
                        window_start: window.start,
                        window_end: window.end,
                        events: Vec::new(),
                        working_hours: None,
                        out_of_office: None,
                        fetched_at: Timestamp::now(),
                        error: None,
                    })
                    .collect())
            })
        }
    }

    #[tokio::test]
    async fn the_concurrency_is_divided_among_the_live_instances() {
        use std::sync::atomic::Ordering::SeqCst;
        let mailboxes: Vec<String> = (0..40).map(|i| format!("q{i}@contoso.com")).collect();
        for (instances, most) in [(1, 4), (2, 2), (3, 1)] {
            let source = Arc::new(Parallel {
                now: 0.into(),
                most: 0.into(),
            });
            let engine = Engine::start(Some(source.clone()), options());
            engine.set_live_instances(instances);
            engine.set_watch_list(mailboxes.clone());
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while engine.counters().mailboxes_fetched.load(SeqCst) < 40 {
                assert!(std::time::Instant::now() < deadline, "not all fetched");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            assert_eq!(source.most.load(SeqCst), most, "{instances} instance(s)");
        }
    }
}
