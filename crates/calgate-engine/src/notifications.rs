//! Change notifications: a subscription per watched mailbox, so a source can say the moment a
//! calendar changed instead of the engine reading every calendar each interval.
//!
//! Two parts. The [`NotificationDesk`] (one per engine) knows every live subscription by its
//! id, the mailbox it watches and the random `clientState` it was given; the gateway hands it
//! what arrives at its notification endpoint, and it trusts a notification only when both the
//! id and the `clientState` are its own (compared in constant time), then asks the engine to
//! read that mailbox now. A keeper task per source that subscribes (like the presence poller)
//! keeps the subscriptions in step with the source's watch list: it subscribes new mailboxes
//! (as many at once as the source allows), deletes those no longer watched, renews each at
//! three quarters of the lifetime the server granted (the server's expiry is read, never
//! assumed), and acts on lifecycle events: `reauthorizationRequired` renews,
//! `subscriptionRemoved` subscribes again and reads the mailbox, `missed` reads it.
//!
//! The subscriptions of a source live in the desk, not in the task: a source rebuilt with the
//! same scope (service, application, notification address) keeps them; one whose scope changed,
//! was removed, or stopped notifying has its old subscriptions deleted with the old source. At a
//! keeper's first round, subscriptions the server lists for the source that this process did
//! not make (left by an earlier run) are deleted.
//!
//! A mailbox without a working subscription is simply read at the refresh interval, as
//! without notifications; the runner reads subscribed mailboxes at the slower safety sweep.
//!
//! With several gateways on one database ([`NotificationDesk::set_shared`]), Graph may post a
//! notification to any of them, while only the gateway that made a subscription knows it. A
//! desk then hands back what it does not know, as the subscription id and a SHA-256 digest of
//! the `clientState` (never the value), for the gateway to pass to the others; each takes in
//! what it holds ([`NotificationDesk::receive_forwarded`]) and ignores the rest. Graph's
//! validation request for a subscription one gateway makes may reach another too: a keeper
//! about to subscribe says so through the desk's hook ([`NotificationDesk::on_creating`]), the
//! gateway tells the others, and their desks answer validations for a short while
//! ([`NotificationDesk::peer_creating`]). A shared desk also leaves the server's list alone at
//! start: another gateway's subscriptions are there.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::observe::LatencyHistogram;
use crate::routing::SourceId;
use crate::source::{CalendarSource, FailureAction, Renewed, SourceFailure};

/// How often a keeper looks at the watch list when nothing else wakes it.
const ROUND: SignedDuration = SignedDuration::from_secs(2);

/// Subscriptions made (or deleted) between two looks at pauses and lifecycle events.
const CHUNK: usize = 200;

/// A refused or failed subscription of one mailbox is tried again after this, doubling up to
/// [`MAX_RETRY`].
const FIRST_RETRY: SignedDuration = SignedDuration::from_secs(30);
const MAX_RETRY: SignedDuration = SignedDuration::from_hours(1);

/// After a refused credential or a configuration that cannot work, nothing is subscribed for
/// this long (the calendar runner's health says why).
const REFUSED_PAUSE: SignedDuration = SignedDuration::from_mins(10);

/// A renewal that failed for another reason is tried again after this.
const RENEW_RETRY: SignedDuration = SignedDuration::from_mins(1);

/// After another gateway says it makes subscriptions, validations are answered this long.
const PEER_CREATING: SignedDuration = SignedDuration::from_secs(15);

/// A gateway that has just told the others waits this long before its first request, so the
/// one that may receive Graph's validation has heard it.
const ANNOUNCE_SETTLE: std::time::Duration = std::time::Duration::from_millis(200);

/// Random bytes of a `clientState` (hex: 64 characters, within Graph's 128).
const CLIENT_STATE_BYTES: usize = 32;

/// A lifecycle event of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifecycle {
    /// Renew the subscription now.
    ReauthorizationRequired,
    /// The server removed it: subscribe again and read the mailbox.
    SubscriptionRemoved,
    /// Notifications were lost: read the mailbox.
    Missed,
}

/// One notification as the gateway read it off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub subscription_id: String,
    pub client_state: Option<String>,
    /// `None`: a change notification.
    pub lifecycle: Option<Lifecycle>,
}

/// What the desk made of a delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    pub accepted: usize,
    pub dropped: usize,
    /// Notifications of subscriptions this desk does not hold, for the other gateways (only
    /// when the desk is shared).
    pub forward: Vec<Forwarded>,
}

/// A notification passed between gateways: the `clientState` only as a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    pub subscription_id: String,
    /// Lower-case hex SHA-256 of the `clientState` as received (empty when it had none).
    pub client_state_sha256: String,
    pub lifecycle: Option<Lifecycle>,
}

impl Forwarded {
    /// One line: `id digest lifecycle` (`-` for a change notification).
    pub fn to_line(&self) -> String {
        let lifecycle = match self.lifecycle {
            None => "-",
            Some(Lifecycle::ReauthorizationRequired) => "reauthorizationRequired",
            Some(Lifecycle::SubscriptionRemoved) => "subscriptionRemoved",
            Some(Lifecycle::Missed) => "missed",
        };
        format!(
            "{} {} {lifecycle}",
            self.subscription_id, self.client_state_sha256
        )
    }

    /// Reads [`Forwarded::to_line`]'s form; `None` for anything else.
    pub fn from_line(line: &str) -> Option<Forwarded> {
        let mut parts = line.split(' ');
        let (id, digest, lifecycle) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || id.is_empty() || id.len() > 256 {
            return None;
        }
        let lifecycle = match lifecycle {
            "-" => None,
            "reauthorizationRequired" => Some(Lifecycle::ReauthorizationRequired),
            "subscriptionRemoved" => Some(Lifecycle::SubscriptionRemoved),
            "missed" => Some(Lifecycle::Missed),
            _ => return None,
        };
        Some(Forwarded {
            subscription_id: id.to_owned(),
            client_state_sha256: digest.to_owned(),
            lifecycle,
        })
    }
}

/// Lower-case hex SHA-256 of a `clientState`.
fn digest(client_state: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(client_state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Counters for `/metrics` and Health.
#[derive(Debug, Default)]
pub struct NotificationCounters {
    /// Notifications read off deliveries (change and lifecycle).
    pub received: AtomicU64,
    pub accepted: AtomicU64,
    /// Dropped: a `clientState` that is not the subscription's.
    pub dropped_client_state: AtomicU64,
    /// Dropped: a subscription id this process does not hold.
    pub dropped_unknown: AtomicU64,
    /// Passed to the other gateways (a shared desk that does not hold the subscription).
    pub forwarded: AtomicU64,
    /// Deliveries refused whole: not JSON, no `value` list.
    pub dropped_malformed: AtomicU64,
    /// Deliveries refused whole: over the size limit.
    pub dropped_too_large: AtomicU64,
    pub validations_answered: AtomicU64,
    /// Validation requests while no subscription was being made.
    pub validations_refused: AtomicU64,
    pub lifecycle_reauthorization: AtomicU64,
    pub lifecycle_removed: AtomicU64,
    pub lifecycle_missed: AtomicU64,
    pub created: AtomicU64,
    pub create_failures: AtomicU64,
    pub renewed: AtomicU64,
    pub renew_failures: AtomicU64,
    pub deleted: AtomicU64,
    /// Subscriptions the server no longer knew (expired or removed) when renewed.
    pub lost: AtomicU64,
    /// From a notification's arrival to the new data on the board.
    pub delay: LatencyHistogram,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A subscription the desk holds for one mailbox.
#[derive(Debug, Clone)]
struct Held {
    id: String,
    expires: Timestamp,
    renew_at: Timestamp,
}

/// The subscriptions of one source id, and the source that made them (which deletes them if
/// its successor's scope differs).
struct Holdings {
    scope: String,
    source: Arc<dyn CalendarSource>,
    subs: HashMap<Arc<str>, Held>,
    /// The keeper serving them (lifecycle events go there).
    keeper: Option<mpsc::UnboundedSender<KeeperMsg>>,
}

/// Who a subscription id belongs to.
#[derive(Debug, Clone)]
struct Registered {
    source: SourceId,
    mailbox: Arc<str>,
    client_state: String,
}

#[derive(Default)]
struct Table {
    by_id: HashMap<String, Registered>,
    holdings: HashMap<SourceId, Holdings>,
}

/// Reads mailboxes now: (source, mailboxes, when the notification arrived).
pub(crate) type ReadNow = Box<dyn Fn(SourceId, Vec<Arc<str>>, Timestamp) + Send + Sync>;

/// The engine's record of live subscriptions and its door for notifications.
pub struct NotificationDesk {
    table: Mutex<Table>,
    /// Several gateways share the database (see the module's notes).
    shared: std::sync::atomic::AtomicBool,
    /// Subscription requests on their way: a validation request is expected only meanwhile.
    creating: AtomicUsize,
    /// Another gateway of a shared database makes subscriptions until then (ms since the epoch).
    peer_creating_until: std::sync::atomic::AtomicI64,
    /// When this desk last told the others it makes subscriptions (ms since the epoch).
    announced_at: std::sync::atomic::AtomicI64,
    /// Tells the other gateways that this one makes subscriptions now.
    announce_creating: Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
    pub counters: NotificationCounters,
    read_now: ReadNow,
}

impl std::fmt::Debug for NotificationDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationDesk")
            .field("active", &self.active())
            .finish_non_exhaustive()
    }
}

impl NotificationDesk {
    pub(crate) fn new(read_now: ReadNow) -> NotificationDesk {
        NotificationDesk {
            table: Mutex::new(Table::default()),
            shared: std::sync::atomic::AtomicBool::new(false),
            creating: AtomicUsize::new(0),
            peer_creating_until: std::sync::atomic::AtomicI64::new(0),
            announced_at: std::sync::atomic::AtomicI64::new(0),
            announce_creating: Mutex::new(None),
            counters: NotificationCounters::default(),
            read_now,
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the desk as one of several gateways' (see the module's notes).
    pub fn set_shared(&self, shared: bool) {
        self.shared.store(shared, Ordering::SeqCst);
    }

    fn is_shared(&self) -> bool {
        self.shared.load(Ordering::SeqCst)
    }

    /// How a shared desk tells the other gateways it is about to make subscriptions.
    pub fn on_creating(&self, announce: Box<dyn Fn() + Send + Sync>) {
        *self
            .announce_creating
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(announce);
    }

    /// Another gateway makes subscriptions: validation requests are expected for a while.
    pub fn peer_creating(&self) {
        let until = (Timestamp::now() + PEER_CREATING).as_millisecond();
        self.peer_creating_until.fetch_max(until, Ordering::SeqCst);
    }

    /// Tells the others (at most every few seconds) that this gateway makes subscriptions;
    /// `true` when it told them just now.
    fn announce_creating(&self) -> bool {
        if !self.is_shared() {
            return false;
        }
        let now = Timestamp::now().as_millisecond();
        let last = self.announced_at.load(Ordering::SeqCst);
        if now - last < (PEER_CREATING / 3).as_millis() as i64 {
            return false;
        }
        self.announced_at.store(now, Ordering::SeqCst);
        let hook = self
            .announce_creating
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match hook.as_ref() {
            Some(announce) => {
                announce();
                true
            }
            None => false,
        }
    }

    /// Live subscriptions, all sources together.
    pub fn active(&self) -> usize {
        self.table().by_id.len()
    }

    /// Live subscriptions per source id.
    pub fn active_by_source(&self) -> Vec<(SourceId, usize)> {
        let table = self.table();
        let mut out: Vec<(SourceId, usize)> = table
            .holdings
            .iter()
            .map(|(id, h)| (id.clone(), h.subs.len()))
            .collect();
        out.sort();
        out
    }

    /// Whether a validation request can be ours: only while a subscription is being made (the
    /// server validates the notification address before it answers the request). Counted.
    pub fn expecting_validation(&self) -> bool {
        let peers =
            Timestamp::now().as_millisecond() < self.peer_creating_until.load(Ordering::SeqCst);
        let expected = self.creating.load(Ordering::SeqCst) > 0 || peers;
        bump(if expected {
            &self.counters.validations_answered
        } else {
            &self.counters.validations_refused
        });
        expected
    }

    /// A delivery refused whole (not readable, or too large); counted.
    pub fn refuse_delivery(&self, too_large: bool) {
        bump(if too_large {
            &self.counters.dropped_too_large
        } else {
            &self.counters.dropped_malformed
        });
    }

    /// Takes in the notifications of one delivery: those whose subscription and `clientState`
    /// are ours are acted on, the others dropped and counted.
    pub fn receive(&self, items: Vec<Incoming>, at: Timestamp) -> Receipt {
        let shared = self.is_shared();
        let checked = items
            .into_iter()
            .map(|item| {
                bump(&self.counters.received);
                let proof = Proof::Value(item.client_state.clone().unwrap_or_default());
                (item, proof)
            })
            .collect();
        self.take_in(
            checked,
            at,
            if shared {
                Unknown::Forward
            } else {
                Unknown::Drop
            },
        )
    }

    /// Takes in what another gateway passed on: the notifications of subscriptions this desk
    /// holds are acted on (their digest checked); the others are not this gateway's business.
    pub fn receive_forwarded(&self, items: Vec<Forwarded>, at: Timestamp) -> Receipt {
        let checked = items
            .into_iter()
            .map(|f| {
                let item = Incoming {
                    subscription_id: f.subscription_id,
                    client_state: None,
                    lifecycle: f.lifecycle,
                };
                (item, Proof::Digest(f.client_state_sha256))
            })
            .collect();
        self.take_in(checked, at, Unknown::Ignore)
    }

    fn take_in(&self, items: Vec<(Incoming, Proof)>, at: Timestamp, unknown: Unknown) -> Receipt {
        let mut receipt = Receipt::default();
        let mut reads: HashMap<SourceId, Vec<Arc<str>>> = HashMap::new();
        {
            let table = self.table();
            for (item, proof) in items {
                let Some(reg) = table.by_id.get(&item.subscription_id) else {
                    match unknown {
                        Unknown::Drop => {
                            bump(&self.counters.dropped_unknown);
                            receipt.dropped += 1;
                        }
                        Unknown::Forward => {
                            bump(&self.counters.forwarded);
                            let digest = match &proof {
                                Proof::Value(v) if !v.is_empty() => digest(v),
                                _ => String::new(),
                            };
                            receipt.forward.push(Forwarded {
                                subscription_id: item.subscription_id,
                                client_state_sha256: digest,
                                lifecycle: item.lifecycle,
                            });
                        }
                        Unknown::Ignore => {}
                    }
                    continue;
                };
                if matches!(unknown, Unknown::Ignore) {
                    bump(&self.counters.received);
                }
                let state_ok = match &proof {
                    Proof::Value(v) => !v.is_empty() && same_secret(v, &reg.client_state),
                    Proof::Digest(d) => same_secret(d, &digest(&reg.client_state)),
                };
                if !state_ok {
                    bump(&self.counters.dropped_client_state);
                    receipt.dropped += 1;
                    continue;
                }
                bump(&self.counters.accepted);
                receipt.accepted += 1;
                let keeper = table
                    .holdings
                    .get(&reg.source)
                    .and_then(|h| h.keeper.as_ref());
                let read = match item.lifecycle {
                    None => true,
                    Some(Lifecycle::ReauthorizationRequired) => {
                        bump(&self.counters.lifecycle_reauthorization);
                        if let Some(k) = keeper {
                            let _ = k.send(KeeperMsg::Renew(reg.mailbox.clone()));
                        }
                        false
                    }
                    Some(Lifecycle::SubscriptionRemoved) => {
                        bump(&self.counters.lifecycle_removed);
                        if let Some(k) = keeper {
                            let _ = k.send(KeeperMsg::Removed(
                                reg.mailbox.clone(),
                                item.subscription_id.clone(),
                            ));
                        }
                        true
                    }
                    Some(Lifecycle::Missed) => {
                        bump(&self.counters.lifecycle_missed);
                        true
                    }
                };
                if read {
                    reads
                        .entry(reg.source.clone())
                        .or_default()
                        .push(reg.mailbox.clone());
                }
            }
        }
        for (source, mailboxes) in reads {
            (self.read_now)(source, mailboxes, at);
        }
        receipt
    }

    /// Makes `source` the owner of the id's subscriptions: the same scope keeps them, another
    /// has the old ones deleted with the old source. Returns the keeper's inbox.
    fn adopt(
        self: &Arc<Self>,
        id: &SourceId,
        source: &Arc<dyn CalendarSource>,
    ) -> mpsc::UnboundedReceiver<KeeperMsg> {
        let (tx, rx) = mpsc::unbounded_channel();
        let scope = source.subscription_scope();
        let mut table = self.table();
        let old = table.holdings.remove(id);
        let subs = match old {
            Some(h) if h.scope == scope => h.subs,
            Some(h) => {
                self.delete_all_locked(&mut table, h);
                HashMap::new()
            }
            None => HashMap::new(),
        };
        table.holdings.insert(
            id.clone(),
            Holdings {
                scope,
                source: source.clone(),
                subs,
                keeper: Some(tx),
            },
        );
        rx
    }

    /// The id's source stopped notifying or is gone: its subscriptions are deleted.
    pub(crate) fn release(self: &Arc<Self>, id: &SourceId) {
        let mut table = self.table();
        if let Some(h) = table.holdings.remove(id) {
            self.delete_all_locked(&mut table, h);
        }
    }

    /// Forgets every subscription of `holdings` at once and deletes them on the server in the
    /// background, with the source that made them.
    fn delete_all_locked(self: &Arc<Self>, table: &mut Table, holdings: Holdings) {
        let ids: Vec<String> = holdings.subs.into_values().map(|h| h.id).collect();
        for id in &ids {
            table.by_id.remove(id);
        }
        if ids.is_empty() {
            return;
        }
        let source = holdings.source;
        let desk = Arc::downgrade(self);
        let task = delete_each(source, ids, desk);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(task);
        }
    }
}

/// Deletes subscriptions with `source`, as many at once as it allows, counting those deleted
/// while the desk is still there.
async fn delete_each(
    source: Arc<dyn CalendarSource>,
    ids: Vec<String>,
    desk: std::sync::Weak<NotificationDesk>,
) {
    let limit = source.limits().max_in_flight.max(1);
    let deleted = futures::stream::iter(ids)
        .map(|id| {
            let source = source.clone();
            async move { source.unsubscribe(&id).await.is_ok() }
        })
        .buffer_unordered(limit)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    if let Some(desk) = desk.upgrade() {
        desk.counters
            .deleted
            .fetch_add(deleted as u64, Ordering::Relaxed);
    }
}

/// How a notification proves it is Graph's.
enum Proof {
    /// The `clientState` as Graph sent it (empty: none).
    Value(String),
    /// Its digest, as another gateway passed it on.
    Digest(String),
}

/// What to do with a notification of a subscription the desk does not hold.
#[derive(Clone, Copy)]
enum Unknown {
    /// Count it dropped (a gateway alone).
    Drop,
    /// Hand it back for the other gateways (a shared desk).
    Forward,
    /// Leave it (passed on by another gateway: one of the others holds it, or nobody does).
    Ignore,
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn new_client_state() -> String {
    let mut bytes = [0u8; CLIENT_STATE_BYTES];
    rand::rng().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the desk tells a keeper.
#[derive(Debug)]
pub(crate) enum KeeperMsg {
    Renew(Arc<str>),
    /// The server removed this subscription (id) of the mailbox.
    Removed(Arc<str>, String),
}

/// Asks the engine's task for the mailboxes of the keeper's source.
pub(crate) type AskWatched = Box<dyn Fn(oneshot::Sender<Vec<Arc<str>>>) -> bool + Send + Sync>;

/// Tells the engine which mailboxes gained (`true`) or lost a subscription.
pub(crate) type TellSubscribed = Box<dyn Fn(Vec<Arc<str>>, bool) -> bool + Send + Sync>;

/// A running keeper; dropping it stops the task (the subscriptions stay with the desk).
#[derive(Debug)]
pub(crate) struct Keeper {
    pub(crate) generation: u64,
    task: JoinHandle<()>,
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Keeper {
    pub(crate) fn start(
        generation: u64,
        id: SourceId,
        source: Arc<dyn CalendarSource>,
        desk: Arc<NotificationDesk>,
        ask: AskWatched,
        tell: TellSubscribed,
    ) -> Keeper {
        let inbox = desk.adopt(&id, &source);
        let state = KeeperState {
            id,
            source,
            desk,
            ask,
            tell,
            retry: HashMap::new(),
            paused_until: None,
        };
        let task = tokio::spawn(state.run(inbox));
        Keeper { generation, task }
    }
}

/// A mailbox whose subscription failed: when to try again, and the wait after that.
#[derive(Debug, Clone, Copy)]
struct Retry {
    at: Timestamp,
    next_wait: SignedDuration,
}

struct KeeperState {
    id: SourceId,
    source: Arc<dyn CalendarSource>,
    desk: Arc<NotificationDesk>,
    ask: AskWatched,
    tell: TellSubscribed,
    retry: HashMap<Arc<str>, Retry>,
    /// Nothing is subscribed or renewed before this (a server's wait, a refused credential).
    paused_until: Option<Timestamp>,
}

/// Counts a subscription request on its way for as long as it lives.
struct Creating<'a>(&'a AtomicUsize);

impl<'a> Creating<'a> {
    fn new(count: &'a AtomicUsize) -> Creating<'a> {
        count.fetch_add(1, Ordering::SeqCst);
        Creating(count)
    }
}

impl Drop for Creating<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl KeeperState {
    async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<KeeperMsg>) {
        // Another gateway's subscriptions are on the server's list too.
        if !self.desk.is_shared() {
            self.delete_leftovers().await;
        }
        loop {
            let now = Timestamp::now();
            let Some(watched) = self.watched().await else {
                return;
            };
            if !self.paused(now) {
                self.forget_unwatched(&watched).await;
                self.subscribe_new(&watched, &mut inbox).await;
                self.renew_due().await;
            }
            let wake = self.next_wake(Timestamp::now());
            let sleep = tokio::time::sleep(to_std(wake.duration_since(Timestamp::now())));
            tokio::select! {
                msg = inbox.recv() => match msg {
                    Some(msg) => self.handle(msg).await,
                    None => return,
                },
                _ = sleep => {}
            }
        }
    }

    fn paused(&self, now: Timestamp) -> bool {
        self.paused_until.is_some_and(|t| now < t)
    }

    async fn watched(&self) -> Option<Vec<Arc<str>>> {
        let (tx, rx) = oneshot::channel();
        if !(self.ask)(tx) {
            return None;
        }
        rx.await.ok()
    }

    /// Deletes what the server lists for this source that this process did not make.
    async fn delete_leftovers(&mut self) {
        let listed = match self.source.listed_subscriptions().await {
            Ok(listed) => listed,
            Err(failure) => {
                tracing::warn!(
                    source = %self.id,
                    code = %failure.code,
                    message = %failure.message,
                    "subscriptions left by an earlier run not listed"
                );
                return;
            }
        };
        let leftover: Vec<String> = {
            let table = self.desk.table();
            listed
                .into_iter()
                .filter(|id| !table.by_id.contains_key(id))
                .collect()
        };
        if leftover.is_empty() {
            return;
        }
        tracing::info!(
            source = %self.id,
            count = leftover.len(),
            "deleting subscriptions left by an earlier run"
        );
        delete_each(self.source.clone(), leftover, Arc::downgrade(&self.desk)).await;
    }

    fn limit(&self) -> usize {
        self.source.limits().max_in_flight.max(1)
    }

    /// Deletes the subscriptions of mailboxes no longer watched.
    async fn forget_unwatched(&mut self, watched: &[Arc<str>]) {
        let wanted: HashSet<&str> = watched.iter().map(|m| &**m).collect();
        self.retry.retain(|m, _| wanted.contains(&**m));
        let gone: Vec<(Arc<str>, String)> = {
            let mut table = self.desk.table();
            let Some(h) = table.holdings.get_mut(&self.id) else {
                return;
            };
            let gone: Vec<Arc<str>> = h
                .subs
                .keys()
                .filter(|m| !wanted.contains(&***m))
                .cloned()
                .collect();
            let gone: Vec<(Arc<str>, String)> = gone
                .into_iter()
                .filter_map(|m| h.subs.remove(&m).map(|held| (m, held.id)))
                .collect();
            for (_, id) in &gone {
                table.by_id.remove(id);
            }
            gone
        };
        if gone.is_empty() {
            return;
        }
        let ids = gone.into_iter().map(|(_, id)| id).collect();
        delete_each(self.source.clone(), ids, Arc::downgrade(&self.desk)).await;
    }

    /// Subscribes watched mailboxes that have no subscription and are not waiting to retry,
    /// a chunk at a time (a pause or a lifecycle event is looked at between chunks).
    async fn subscribe_new(
        &mut self,
        watched: &[Arc<str>],
        inbox: &mut mpsc::UnboundedReceiver<KeeperMsg>,
    ) {
        let now = Timestamp::now();
        let missing: Vec<Arc<str>> = {
            let table = self.desk.table();
            let held = table.holdings.get(&self.id).map(|h| &h.subs);
            watched
                .iter()
                .filter(|m| held.is_none_or(|subs| !subs.contains_key(*m)))
                .filter(|m| self.retry.get(*m).is_none_or(|r| r.at <= now))
                .cloned()
                .collect()
        };
        for chunk in missing.chunks(CHUNK) {
            if self.paused(Timestamp::now()) {
                return;
            }
            if self.desk.announce_creating() {
                tokio::time::sleep(ANNOUNCE_SETTLE).await;
            }
            let results = self.subscribe_chunk(chunk).await;
            let mut made = Vec::new();
            for (mailbox, client_state, result) in results {
                match result {
                    Ok(sub) => {
                        bump(&self.desk.counters.created);
                        self.retry.remove(&mailbox);
                        if self.hold(&mailbox, client_state, sub.id, sub.expires) {
                            made.push(mailbox);
                        }
                    }
                    Err(failure) => {
                        bump(&self.desk.counters.create_failures);
                        self.failed(&mailbox, &failure);
                    }
                }
            }
            if !made.is_empty() && !(self.tell)(made, true) {
                return;
            }
            while let Ok(msg) = inbox.try_recv() {
                self.handle(msg).await;
            }
        }
    }

    async fn subscribe_chunk(
        &self,
        chunk: &[Arc<str>],
    ) -> Vec<(
        Arc<str>,
        String,
        Result<crate::source::Subscription, SourceFailure>,
    )> {
        let limit = self.limit();
        let source = self.source.clone();
        let desk = self.desk.clone();
        futures::stream::iter(chunk.iter().cloned())
            .map(|mailbox| {
                let source = source.clone();
                let desk = desk.clone();
                async move {
                    let client_state = new_client_state();
                    let result = {
                        let _creating = Creating::new(&desk.creating);
                        source.subscribe(&mailbox, &client_state).await
                    };
                    (mailbox, client_state, result)
                }
            })
            .buffer_unordered(limit)
            .collect()
            .await
    }

    /// Records a subscription the server accepted. `false` when the source's holdings are gone
    /// (the source was removed meanwhile): the subscription is deleted again.
    fn hold(
        &self,
        mailbox: &Arc<str>,
        client_state: String,
        id: String,
        expires: Timestamp,
    ) -> bool {
        let now = Timestamp::now();
        let mut table = self.desk.table();
        let Some(h) = table.holdings.get_mut(&self.id) else {
            let source = self.source.clone();
            tokio::spawn(async move {
                let _ = source.unsubscribe(&id).await;
            });
            return false;
        };
        let held = Held {
            id: id.clone(),
            expires,
            renew_at: renew_at(now, expires),
        };
        if let Some(old) = h.subs.insert(mailbox.clone(), held) {
            table.by_id.remove(&old.id);
        }
        table.by_id.insert(
            id,
            Registered {
                source: self.id.clone(),
                mailbox: mailbox.clone(),
                client_state,
            },
        );
        true
    }

    /// A failed subscription or renewal: a server's wait or a refused credential pauses the
    /// keeper; anything else is retried for that mailbox later, doubling.
    fn failed(&mut self, mailbox: &Arc<str>, failure: &SourceFailure) {
        let now = Timestamp::now();
        match &failure.action {
            FailureAction::RetryAfter(wait) => {
                self.pause(now + (*wait).max(SignedDuration::from_secs(1)));
            }
            FailureAction::CredentialFailure { .. } => self.pause(now + REFUSED_PAUSE),
            FailureAction::Misconfigured
            | FailureAction::Transient
            | FailureAction::LowerConcurrency => {}
        }
        let retry = self.retry.entry(mailbox.clone()).or_insert(Retry {
            at: now,
            next_wait: FIRST_RETRY,
        });
        retry.at = now + retry.next_wait;
        retry.next_wait = (retry.next_wait * 2).min(MAX_RETRY);
        tracing::warn!(
            source = %self.id,
            code = %failure.code,
            message = %failure.message,
            "a calendar subscription was not made; that mailbox is read at the refresh interval"
        );
    }

    fn pause(&mut self, until: Timestamp) {
        if self.paused_until.is_none_or(|t| t < until) {
            self.paused_until = Some(until);
        }
    }

    /// Renews every subscription whose time has come.
    async fn renew_due(&mut self) {
        let now = Timestamp::now();
        let due: Vec<Arc<str>> = {
            let table = self.desk.table();
            match table.holdings.get(&self.id) {
                Some(h) => h
                    .subs
                    .iter()
                    .filter(|(_, held)| held.renew_at <= now)
                    .map(|(m, _)| m.clone())
                    .collect(),
                None => return,
            }
        };
        for chunk in due.chunks(CHUNK) {
            if self.paused(Timestamp::now()) {
                return;
            }
            let limit = self.limit();
            let work: Vec<(Arc<str>, String)> = {
                let table = self.desk.table();
                let Some(h) = table.holdings.get(&self.id) else {
                    return;
                };
                chunk
                    .iter()
                    .filter_map(|m| h.subs.get(m).map(|held| (m.clone(), held.id.clone())))
                    .collect()
            };
            let source = self.source.clone();
            let results: Vec<(Arc<str>, String, Result<Renewed, SourceFailure>)> =
                futures::stream::iter(work)
                    .map(|(mailbox, id)| {
                        let source = source.clone();
                        async move {
                            let result = source.renew(&id).await;
                            (mailbox, id, result)
                        }
                    })
                    .buffer_unordered(limit)
                    .collect()
                    .await;
            for (mailbox, id, result) in results {
                self.renewed(&mailbox, &id, result);
            }
        }
    }

    fn renewed(&mut self, mailbox: &Arc<str>, id: &str, result: Result<Renewed, SourceFailure>) {
        let now = Timestamp::now();
        match result {
            Ok(Renewed::Until(expires)) => {
                bump(&self.desk.counters.renewed);
                let mut table = self.desk.table();
                if let Some(held) = table
                    .holdings
                    .get_mut(&self.id)
                    .and_then(|h| h.subs.get_mut(mailbox))
                    .filter(|held| held.id == id)
                {
                    held.expires = expires;
                    held.renew_at = renew_at(now, expires);
                }
            }
            Ok(Renewed::Gone) => {
                bump(&self.desk.counters.lost);
                self.lose(mailbox, id);
            }
            Err(failure) => {
                bump(&self.desk.counters.renew_failures);
                let expired = {
                    let mut table = self.desk.table();
                    match table
                        .holdings
                        .get_mut(&self.id)
                        .and_then(|h| h.subs.get_mut(mailbox))
                        .filter(|held| held.id == id)
                    {
                        Some(held) if held.expires <= now => true,
                        Some(held) => {
                            held.renew_at = (now + RENEW_RETRY).min(held.expires);
                            false
                        }
                        None => false,
                    }
                };
                if matches!(
                    failure.action,
                    FailureAction::RetryAfter(_) | FailureAction::CredentialFailure { .. }
                ) {
                    self.failed(mailbox, &failure);
                }
                if expired {
                    bump(&self.desk.counters.lost);
                    self.lose(mailbox, id);
                }
            }
        }
    }

    /// A subscription that no longer exists: forgotten, the engine told (the mailbox goes back
    /// to the refresh interval) and the mailbox read now, since changes may have gone unheard.
    /// The next round subscribes it again.
    fn lose(&mut self, mailbox: &Arc<str>, id: &str) {
        self.forget_held(mailbox, id);
        (self.desk.read_now)(self.id.clone(), vec![mailbox.clone()], Timestamp::now());
    }

    /// Forgets subscription `id` of the mailbox (if it is still the one held) and tells the
    /// engine the mailbox has none; the next round subscribes it again.
    fn forget_held(&mut self, mailbox: &Arc<str>, id: &str) {
        {
            let mut table = self.desk.table();
            if let Some(h) = table.holdings.get_mut(&self.id)
                && h.subs.get(mailbox).is_some_and(|held| held.id == id)
            {
                h.subs.remove(mailbox);
            }
            table.by_id.remove(id);
        }
        self.retry.remove(mailbox);
        (self.tell)(vec![mailbox.clone()], false);
    }

    async fn handle(&mut self, msg: KeeperMsg) {
        match msg {
            KeeperMsg::Renew(mailbox) => {
                let id = {
                    let table = self.desk.table();
                    table
                        .holdings
                        .get(&self.id)
                        .and_then(|h| h.subs.get(&mailbox))
                        .map(|held| held.id.clone())
                };
                if let Some(id) = id {
                    let result = self.source.renew(&id).await;
                    self.renewed(&mailbox, &id, result);
                }
            }
            KeeperMsg::Removed(mailbox, id) => {
                bump(&self.desk.counters.lost);
                // The desk has asked for the read already.
                self.forget_held(&mailbox, &id);
            }
        }
    }

    /// The next renewal, a retry, or the next look at the watch list.
    fn next_wake(&self, now: Timestamp) -> Timestamp {
        let mut wake = now + ROUND;
        if let Some(until) = self.paused_until.filter(|t| *t > now) {
            return wake.max(until);
        }
        let table = self.desk.table();
        if let Some(h) = table.holdings.get(&self.id) {
            for held in h.subs.values() {
                wake = wake.min(held.renew_at);
            }
        }
        wake.max(now + SignedDuration::from_millis(50))
    }
}

/// Renewal at three quarters of the lifetime left, never later than a second before the end.
fn renew_at(now: Timestamp, expires: Timestamp) -> Timestamp {
    let left = expires.duration_since(now);
    let at = now + left * 3 / 4;
    at.min(expires - SignedDuration::from_secs(1)).max(now)
}

fn to_std(d: SignedDuration) -> std::time::Duration {
    std::time::Duration::try_from(d).unwrap_or(std::time::Duration::from_millis(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A desk holding one subscription of `a@x.test`, counting the reads it asks for.
    fn desk_with_one(shared: bool) -> (NotificationDesk, Arc<AtomicUsize>) {
        let reads = Arc::new(AtomicUsize::new(0));
        let counted = reads.clone();
        let desk = NotificationDesk::new(Box::new(move |_, mailboxes, _| {
            counted.fetch_add(mailboxes.len(), Ordering::SeqCst);
        }));
        desk.set_shared(shared);
        desk.table().by_id.insert(
            "sub-1".to_owned(),
            Registered {
                source: SourceId::default(),
                mailbox: Arc::from("a@x.test"),
                client_state: "secret-state".to_owned(),
            },
        );
        (desk, reads)
    }

    fn incoming(id: &str, state: Option<&str>) -> Incoming {
        Incoming {
            subscription_id: id.to_owned(),
            client_state: state.map(str::to_owned),
            lifecycle: None,
        }
    }

    #[test]
    fn a_gateway_alone_drops_what_it_does_not_hold_and_reads_what_it_does() {
        let (desk, reads) = desk_with_one(false);
        let now = Timestamp::now();
        let r = desk.receive(
            vec![
                incoming("sub-1", Some("secret-state")),
                incoming("sub-1", Some("guessed")),
                incoming("sub-1", None),
                incoming("sub-2", Some("secret-state")),
            ],
            now,
        );
        assert_eq!((r.accepted, r.dropped), (1, 3));
        assert!(r.forward.is_empty());
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert_eq!(desk.counters.dropped_client_state.load(Ordering::SeqCst), 2);
        assert_eq!(desk.counters.dropped_unknown.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_shared_desk_passes_on_what_it_does_not_hold_as_a_digest() {
        let (mine, my_reads) = desk_with_one(true);
        let (other, _) = desk_with_one(true);
        other.table().by_id.clear();
        let now = Timestamp::now();
        // Graph posted to the other gateway.
        let r = other.receive(
            vec![
                incoming("sub-1", Some("secret-state")),
                incoming("sub-1", Some("guessed")),
            ],
            now,
        );
        assert_eq!((r.accepted, r.dropped), (0, 0));
        assert_eq!(r.forward.len(), 2);
        let lines: Vec<String> = r.forward.iter().map(Forwarded::to_line).collect();
        assert!(
            lines.iter().all(|l| !l.contains("secret-state")),
            "{lines:?}"
        );
        let back: Vec<Forwarded> = lines
            .iter()
            .filter_map(|l| Forwarded::from_line(l))
            .collect();
        assert_eq!(back, r.forward);
        // The gateway that holds the subscription acts on the right digest only.
        let r = mine.receive_forwarded(back, now);
        assert_eq!((r.accepted, r.dropped), (1, 1));
        assert_eq!(my_reads.load(Ordering::SeqCst), 1);
        // One it does not hold either is not its business.
        let stranger = Forwarded {
            subscription_id: "sub-9".to_owned(),
            client_state_sha256: digest("x"),
            lifecycle: Some(Lifecycle::Missed),
        };
        let r = mine.receive_forwarded(vec![stranger], now);
        assert_eq!((r.accepted, r.dropped), (0, 0));
        assert!(Forwarded::from_line("only two").is_none());
        assert!(Forwarded::from_line("a b c d").is_none());
        assert!(Forwarded::from_line("a b dance").is_none());
    }

    #[test]
    fn secrets_compare_by_value_only() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }

    #[test]
    fn client_states_are_random_hex_within_graphs_limit() {
        let a = new_client_state();
        let b = new_client_state();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn renewal_comes_at_three_quarters_of_the_lifetime_granted() {
        let now: Timestamp = "2026-12-03T10:00:00Z".parse().expect("time");
        let week = now + SignedDuration::from_hours(168);
        assert_eq!(renew_at(now, week), now + SignedDuration::from_hours(126));
        let short = now + SignedDuration::from_secs(4);
        assert_eq!(renew_at(now, short), now + SignedDuration::from_secs(3));
        let tiny = now + SignedDuration::from_millis(1_200);
        assert_eq!(renew_at(now, tiny), now + SignedDuration::from_millis(200));
        assert_eq!(renew_at(now, now - SignedDuration::from_secs(5)), now);
    }
}
