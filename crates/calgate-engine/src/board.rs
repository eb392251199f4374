//! The live status board: per person the last availability, the status computed from it, and
//! the stream of status changes (numbered, so a client can resume from the last one it saw).
//!
//! Statuses change at meeting boundaries without any request to the source: each person's
//! `next_change` is kept in a timer set, and [`StatusBoard::tick`] recomputes those that are due.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::broadcast;

use calgate_core::{Availability, OperatorStatus, Presence, StatusOptions, compute_status};

use crate::event_id::EventId;

/// How many past changes are kept for `Last-Event-ID` resumption. A client further behind gets
/// a snapshot instead; the history is the board's largest fixed cost (about 0.5 KiB a change).
const HISTORY: usize = 4_096;

/// How trustworthy a person's data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    /// Never fetched yet.
    Pending,
    Fresh,
    /// Older than the refresh interval allows; shown with its age, `unknown` past the limit.
    Stale,
    /// The source reported an error for this mailbox.
    Error,
}

/// One status change, as pushed to stream clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    pub seq: u64,
    pub email: String,
    pub status: OperatorStatus,
    /// Teams presence beside the status (`None`: the person's source reads none).
    pub presence: Option<Presence>,
    pub at: Timestamp,
}

/// What the board knows of one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonEntry {
    /// Shared, so recomputing a status at a boundary or reading a record copies no events.
    pub availability: Option<Arc<Availability>>,
    pub status: OperatorStatus,
    /// Teams presence, kept apart from the calendar status it never changes; boxed, as only
    /// people of a source that reads presence have one.
    pub presence: Option<Box<Presence>>,
    /// Seconds this person's data stays good when not the board's rule: data of a mailbox
    /// whose changes are notified is read only at the safety sweep.
    stale_after_s: Option<std::num::NonZeroU32>,
}

impl PersonEntry {
    /// How old this person's data may be before it is unknown, given the board's rule.
    pub fn stale_after(&self, board_rule: jiff::SignedDuration) -> jiff::SignedDuration {
        self.stale_after_s.map_or(board_rule, |s| {
            jiff::SignedDuration::from_secs(i64::from(s.get()))
        })
    }

    /// The freshness verdict at `now`, under this person's own staleness limit.
    pub fn freshness(&self, now: Timestamp, board_rule: jiff::SignedDuration) -> Freshness {
        freshness(
            self.availability.as_deref(),
            now,
            self.stale_after(board_rule),
        )
    }

    fn options(&self, board: &StatusOptions) -> StatusOptions {
        StatusOptions {
            stale_after: self.stale_after(board.stale_after),
            ..*board
        }
    }
}

fn stale_secs(d: Option<jiff::SignedDuration>) -> Option<std::num::NonZeroU32> {
    d.and_then(|d| u32::try_from(d.as_secs()).ok())
        .and_then(std::num::NonZeroU32::new)
}

#[derive(Debug, Default)]
struct Inner {
    /// Boxed: the table itself stays small when it grows with the watch list. The address is
    /// shared with the timers and the changed set rather than copied into each. Ordered, so a
    /// snapshot is read in pages from where the last page ended.
    people: BTreeMap<Arc<str>, Box<PersonEntry>>,
    /// People whose availability changed since the last [`StatusBoard::take_changed`].
    changed: HashSet<Arc<str>>,
    timers: BTreeSet<(Timestamp, Arc<str>)>,
    seq: u64,
    history: VecDeque<StatusChange>,
    tally: Tally,
}

/// The freshness counts kept up to date as entries change, so counting them (the health
/// endpoint and the metrics, polled often) costs the same with a million people as with ten:
/// walking every entry at each poll made a refresh of N people cost O(N²).
#[derive(Debug, Default)]
struct Tally {
    pending: usize,
    error: usize,
    answered: usize,
    /// Answered people under the caller's staleness rule: how many were fetched at each
    /// instant (a batch shares its instant, so there are about N / 100 keys).
    answered_at: BTreeMap<Timestamp, usize>,
    /// Answered people with their own limit: how many go stale at each instant.
    own_stale_at: BTreeMap<Timestamp, usize>,
}

impl Tally {
    fn count(&mut self, entry: &PersonEntry, add: bool) {
        let slot = match entry.availability.as_deref() {
            None => &mut self.pending,
            Some(a) if a.error.is_some() => &mut self.error,
            Some(a) => {
                if add {
                    self.answered += 1;
                } else {
                    self.answered = self.answered.saturating_sub(1);
                }
                let (map, at) = match entry.stale_after_s {
                    None => (&mut self.answered_at, a.fetched_at),
                    Some(s) => (
                        &mut self.own_stale_at,
                        a.fetched_at
                            .saturating_add(jiff::SignedDuration::from_secs(i64::from(s.get())))
                            .unwrap_or(a.fetched_at),
                    ),
                };
                let n = map.entry(at).or_default();
                if add {
                    *n += 1;
                } else {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        map.remove(&at);
                    }
                }
                return;
            }
        };
        if add {
            *slot += 1;
        } else {
            *slot = slot.saturating_sub(1);
        }
    }

    /// `[pending, fresh, stale, error]` at `now`: stale is what [`freshness`] says, data older
    /// than its limit (the caller's `stale_age`, or the person's own).
    fn counts(&self, now: Timestamp, stale_age: jiff::SignedDuration) -> [usize; 4] {
        let sum = |map: &BTreeMap<Timestamp, usize>, before: Option<Timestamp>| -> usize {
            before.map_or(0, |b| map.range(..b).map(|(_, n)| n).sum())
        };
        let stale = sum(&self.answered_at, now.checked_sub(stale_age).ok())
            + sum(&self.own_stale_at, Some(now));
        [
            self.pending,
            self.answered.saturating_sub(stale),
            stale,
            self.error,
        ]
    }
}

/// The board. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct StatusBoard {
    inner: Mutex<Inner>,
    options: Mutex<StatusOptions>,
    tx: broadcast::Sender<StatusChange>,
    /// Drawn at random for each board: sequence numbers from another process are not ours.
    epoch: u64,
}

/// One page of a snapshot: statuses in address order, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPage {
    /// The last change the board had published when the page was read.
    pub seq: u64,
    pub people: Vec<(Arc<str>, OperatorStatus, Option<Presence>)>,
    /// Whether people follow the last one of this page.
    pub more: bool,
}

impl StatusBoard {
    pub fn new(options: StatusOptions) -> StatusBoard {
        let (tx, _) = broadcast::channel(4096);
        StatusBoard {
            inner: Mutex::new(Inner::default()),
            options: Mutex::new(options),
            tx,
            epoch: rand::random(),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map half-updated in a way that matters
        // more than stopping the service would.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn options(&self) -> StatusOptions {
        *self.options.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the status options (privacy, rules, limits) and recomputes everyone.
    pub fn set_options(&self, options: StatusOptions, now: Timestamp) {
        *self.options.lock().unwrap_or_else(|e| e.into_inner()) = options;
        let mut inner = self.inner();
        let emails: Vec<Arc<str>> = inner.people.keys().cloned().collect();
        for email in emails {
            self.recompute_locked(&mut inner, &options, &email, now);
        }
    }

    /// Subscribes to changes published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<StatusChange> {
        self.tx.subscribe()
    }

    /// The sequence number of the last published change.
    pub fn last_seq(&self) -> u64 {
        self.inner().seq
    }

    /// The stream id of change `seq` of this board.
    pub fn event_id(&self, seq: u64) -> EventId {
        EventId {
            epoch: self.epoch,
            seq,
        }
    }

    /// Changes after `id`, or `None` when the board cannot resume from it: an id of another
    /// board (a restart), one it never gave out, or changes no longer all kept. The client gets
    /// a snapshot then, never silence.
    pub fn changes_since(&self, id: EventId) -> Option<Vec<StatusChange>> {
        if id.epoch != self.epoch {
            return None;
        }
        let seq = id.seq;
        let inner = self.inner();
        if seq > inner.seq {
            return None;
        }
        if seq == inner.seq {
            return Some(Vec::new());
        }
        let oldest = inner.history.front().map(|c| c.seq)?;
        if seq + 1 < oldest {
            return None;
        }
        Some(
            inner
                .history
                .iter()
                .filter(|c| c.seq > seq)
                .cloned()
                .collect(),
        )
    }

    /// Makes sure a person is on the board (as unknown until fetched); a new person's first
    /// status is published like any change, so stream clients learn of them.
    /// Returns the board's key for the person, for the engine to share.
    pub fn watch(&self, email: &str, now: Timestamp) -> Arc<str> {
        if let Some((key, _)) = self.inner().people.get_key_value(email) {
            return key.clone();
        }
        let status = compute_status(None, now, &self.options());
        self.store(email, None, status, now).0
    }

    /// Removes a person from the board.
    pub fn unwatch(&self, email: &str) {
        let mut inner = self.inner();
        if let Some((key, entry)) = inner.people.remove_entry(email) {
            inner.tally.count(&entry, false);
            if let Some(at) = entry.status.next_change {
                inner.timers.remove(&(at, key));
            }
        }
    }

    /// Stores a freshly fetched availability and publishes the status if it changed.
    pub fn update(&self, availability: Availability, now: Timestamp) {
        self.put(availability, now, true, None);
    }

    /// Like [`StatusBoard::update`], with this person's own staleness limit (`None`: the
    /// board's rule).
    pub fn update_for(
        &self,
        availability: Availability,
        now: Timestamp,
        stale_after: Option<jiff::SignedDuration>,
    ) {
        self.put(availability, now, true, stale_secs(stale_after));
    }

    /// Puts back an availability saved before a restart. Like [`StatusBoard::update`], except
    /// that it is not marked for saving again: it is already on disk.
    pub fn restore(&self, availability: Availability, now: Timestamp) {
        self.put(availability, now, false, None);
    }

    /// Puts availability another gateway fetched (read back from the shared database) on the
    /// board of a person watched here, when it is newer than what the board holds; a status
    /// change is published to this board's stream like any other. Not marked for saving: it
    /// is in the database already. Returns whether it was taken.
    pub fn share(&self, availability: Availability, now: Timestamp) -> bool {
        let newer = self
            .inner()
            .people
            .get(availability.mailbox.as_str())
            .is_some_and(|p| {
                p.availability
                    .as_ref()
                    .is_none_or(|a| a.fetched_at < availability.fetched_at)
            });
        if newer {
            self.put(availability, now, false, None);
        }
        newer
    }

    fn put(
        &self,
        mut availability: Availability,
        now: Timestamp,
        to_save: bool,
        stale_after_s: Option<std::num::NonZeroU32>,
    ) {
        // Kept for a whole interval: without the parser's growth slack (a third of the events'
        // memory at 100 000 people).
        availability.events.shrink_to_fit();
        let mut options = self.options();
        if let Some(s) = stale_after_s {
            options.stale_after = jiff::SignedDuration::from_secs(i64::from(s.get()));
        }
        let status = compute_status(Some(&availability), now, &options);
        let availability = Arc::new(availability);
        let mut inner = self.inner();
        let (key, _) = self.store_locked(
            &mut inner,
            &availability.mailbox,
            Some(availability.clone()),
            status,
            now,
        );
        let Inner { people, tally, .. } = &mut *inner;
        if let Some(entry) = people.get_mut(&*key)
            && entry.stale_after_s != stale_after_s
        {
            tally.count(entry, false);
            entry.stale_after_s = stale_after_s;
            tally.count(entry, true);
        }
        if to_save {
            inner.changed.insert(key);
        }
    }

    /// The availabilities stored since the last call (for the warm-restart save), and forgets
    /// them; `put_back` returns them to the set when the save failed.
    pub fn take_changed(&self) -> Vec<Arc<Availability>> {
        let mut inner = self.inner();
        let emails: Vec<Arc<str>> = inner.changed.drain().collect();
        emails
            .iter()
            .filter_map(|e| inner.people.get(e).and_then(|p| p.availability.clone()))
            .collect()
    }

    /// Marks people as changed again (their save failed).
    pub fn put_back(&self, emails: impl IntoIterator<Item = String>) {
        let mut inner = self.inner();
        for email in emails {
            // The board's own key when the person is still watched: no second copy.
            let key = match inner.people.get_key_value(email.as_str()) {
                Some((key, _)) => key.clone(),
                None => continue,
            };
            inner.changed.insert(key);
        }
    }

    /// Recomputes every person whose `next_change` has come. Returns how many changed.
    pub fn tick(&self, now: Timestamp) -> usize {
        let options = self.options();
        let mut inner = self.inner();
        let due: Vec<Arc<str>> = inner
            .timers
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, e)| e.clone())
            .collect();
        due.iter()
            .filter(|e| self.recompute_locked(&mut inner, &options, e, now))
            .count()
    }

    /// The earliest pending status change.
    pub fn next_timer(&self) -> Option<Timestamp> {
        self.inner().timers.first().map(|(at, _)| *at)
    }

    /// One person's entry. A status whose `next_change` has passed (a meeting boundary, or the
    /// data outliving its limit) is brought up to date first: a reader never gets a status past
    /// its end because the engine's loop has not come round to it yet (a busy machine).
    pub fn get(&self, email: &str) -> Option<PersonEntry> {
        let now = Timestamp::now();
        let options = self.options();
        let mut inner = self.inner();
        let due = inner
            .people
            .get(email)?
            .status
            .next_change
            .is_some_and(|at| at <= now);
        if due {
            self.recompute_locked(&mut inner, &options, email, now);
        }
        inner.people.get(email).map(|p| PersonEntry::clone(p))
    }

    /// Up to `limit` statuses of people after `after` in address order (from the first when
    /// `None`), statuses past their end brought up to date first, as in [`StatusBoard::get`].
    /// A page holds only its own people, so a snapshot of a large board never sits in memory
    /// whole; a person changed while the pages are read is sent again as a change.
    pub fn snapshot_page(&self, after: Option<&str>, limit: usize) -> SnapshotPage {
        self.tick(Timestamp::now());
        let inner = self.inner();
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut range = inner
            .people
            .range::<str, _>((start, Bound::Unbounded))
            .map(|(e, p)| (e.clone(), p.status.clone(), p.presence.as_deref().cloned()));
        let people: Vec<_> = range.by_ref().take(limit).collect();
        let more = range.next().is_some();
        SnapshotPage {
            seq: inner.seq,
            people,
            more,
        }
    }

    /// Stores presences read now and publishes those an operator would see change (a person
    /// new to presence included). People no longer watched are skipped.
    pub fn set_presence(&self, read: impl IntoIterator<Item = (String, Presence)>, now: Timestamp) {
        let mut inner = self.inner();
        for (email, presence) in read {
            let Some(entry) = inner.people.get_mut(email.as_str()) else {
                continue;
            };
            let changed = entry
                .presence
                .as_deref()
                .is_none_or(|p| p.differs_from(&presence));
            entry.presence = Some(Box::new(presence));
            if changed {
                let status = entry.status.clone();
                let presence = entry.presence.as_deref().cloned();
                self.publish_locked(&mut inner, &email, status, presence, now);
            }
        }
    }

    /// Turns presence read before `older_than` to unknown (reads keep failing), publishing it.
    pub fn expire_presence(&self, emails: &[String], older_than: Timestamp, now: Timestamp) {
        let stale: Vec<(String, Presence)> = {
            let inner = self.inner();
            emails
                .iter()
                .filter(|e| {
                    inner.people.get(e.as_str()).is_some_and(|p| {
                        p.presence
                            .as_deref()
                            .is_some_and(|p| p.is_known() && p.as_of < older_than)
                    })
                })
                .map(|e| (e.clone(), Presence::unknown(now)))
                .collect()
        };
        self.set_presence(stale, now);
    }

    /// Forgets these people's presence (their source stopped reading it), publishing it.
    pub fn clear_presence<'a>(&self, emails: impl IntoIterator<Item = &'a str>, now: Timestamp) {
        let mut inner = self.inner();
        for email in emails {
            let Some(entry) = inner.people.get_mut(email) else {
                continue;
            };
            if entry.presence.take().is_some() {
                let status = entry.status.clone();
                self.publish_locked(&mut inner, email, status, None, now);
            }
        }
    }

    /// Every person's last availability (for persistence).
    pub fn availabilities(&self) -> Vec<Arc<Availability>> {
        self.inner()
            .people
            .values()
            .filter_map(|p| p.availability.clone())
            .collect()
    }

    /// When a person's data was fetched and whether it is an answer rather than an error
    /// (`None`: never fetched).
    pub fn get_fetched(&self, email: &str) -> Option<(Timestamp, bool)> {
        self.inner().people.get(email).and_then(|p| {
            p.availability
                .as_ref()
                .map(|a| (a.fetched_at, a.error.is_none()))
        })
    }

    /// When each watched person's data was fetched (`None`: never).
    pub fn fetched_at(&self, email: &str) -> Option<Timestamp> {
        self.get_fetched(email).map(|(at, _)| at)
    }

    /// Counts of people by freshness at `now` given the staleness age.
    pub fn freshness_counts(&self, now: Timestamp, stale_age: jiff::SignedDuration) -> [usize; 4] {
        self.inner().tally.counts(now, stale_age)
    }

    /// The addresses whose data has freshness `want` at `now`, in address order, at most
    /// `limit` (the failing or stale mailboxes an admin must look at).
    pub fn emails_with(
        &self,
        want: Freshness,
        now: Timestamp,
        stale_age: jiff::SignedDuration,
        limit: usize,
    ) -> Vec<String> {
        let inner = self.inner();
        inner
            .people
            .iter()
            .filter(|(_, p)| p.freshness(now, stale_age) == want)
            .take(limit)
            .map(|(email, _)| email.to_string())
            .collect()
    }

    /// Recomputes one person's status from the data the board holds. Read and write happen under
    /// the caller's one lock: an answer stored meanwhile by the engine is never replaced by the
    /// older data, and a person unwatched meanwhile is not put back.
    fn recompute_locked(
        &self,
        inner: &mut Inner,
        options: &StatusOptions,
        email: &str,
        now: Timestamp,
    ) -> bool {
        let (availability, options) = match inner.people.get(email) {
            Some(p) => (p.availability.clone(), p.options(options)),
            None => return false,
        };
        let status = compute_status(availability.as_deref(), now, &options);
        self.store_locked(inner, email, availability, status, now).1
    }

    fn store(
        &self,
        email: &str,
        availability: Option<Arc<Availability>>,
        status: OperatorStatus,
        now: Timestamp,
    ) -> (Arc<str>, bool) {
        let mut inner = self.inner();
        self.store_locked(&mut inner, email, availability, status, now)
    }

    /// Stores a person's data and status, publishes the status if an operator would see a
    /// difference. Returns the board's key for the person and whether it was published.
    fn store_locked(
        &self,
        inner: &mut Inner,
        email: &str,
        availability: Option<Arc<Availability>>,
        status: OperatorStatus,
        now: Timestamp,
    ) -> (Arc<str>, bool) {
        let (key, changed) = match inner.people.get_key_value(email) {
            Some((key, previous)) => {
                let key = key.clone();
                if let Some(at) = previous.status.next_change {
                    inner.timers.remove(&(at, key.clone()));
                }
                (key, visible_change(&previous.status, &status))
            }
            None => (Arc::<str>::from(email), true),
        };
        if let Some(at) = status.next_change {
            inner.timers.insert((at, key.clone()));
        }
        let published = changed.then(|| status.clone());
        let Inner { people, tally, .. } = &mut *inner;
        let presence = match people.get_mut(email) {
            Some(entry) => {
                tally.count(entry, false);
                entry.availability = availability;
                entry.status = status;
                tally.count(entry, true);
                entry.presence.as_deref().cloned()
            }
            None => {
                let entry = Box::new(PersonEntry {
                    availability,
                    status,
                    presence: None,
                    stale_after_s: None,
                });
                tally.count(&entry, true);
                people.insert(key.clone(), entry);
                None
            }
        };
        if let Some(status) = published {
            self.publish_locked(inner, email, status, presence, now);
        }
        (key, changed)
    }

    /// Numbers a change, keeps it for resumption and sends it to stream clients.
    fn publish_locked(
        &self,
        inner: &mut Inner,
        email: &str,
        status: OperatorStatus,
        presence: Option<Presence>,
        now: Timestamp,
    ) {
        inner.seq += 1;
        let change = StatusChange {
            seq: inner.seq,
            email: email.to_string(),
            status,
            presence,
            at: now,
        };
        inner.history.push_back(change.clone());
        if inner.history.len() > HISTORY {
            inner.history.pop_front();
        }
        // No receivers is fine: nobody is listening.
        let _ = self.tx.send(change);
    }
}

/// Whether an operator would see a difference (`next_change` alone is internal).
fn visible_change(a: &OperatorStatus, b: &OperatorStatus) -> bool {
    a.state != b.state
        || a.since != b.since
        || a.until != b.until
        || a.next_free != b.next_free
        || a.event != b.event
        || a.unknown_reason != b.unknown_reason
}

/// The freshness verdict for one person's data.
pub fn freshness(
    availability: Option<&Availability>,
    now: Timestamp,
    stale_age: jiff::SignedDuration,
) -> Freshness {
    match availability {
        None => Freshness::Pending,
        Some(a) if a.error.is_some() => Freshness::Error,
        Some(a) if now.duration_since(a.fetched_at) > stale_age => Freshness::Stale,
        Some(_) => Freshness::Fresh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No events at all: free, until the data outlives its limit.
    fn no_events(fetched_at: Timestamp) -> Availability {
        Availability {
            mailbox: "a@contoso.com".into(),
            window_start: fetched_at - jiff::SignedDuration::from_hours(1),
            window_end: fetched_at + jiff::SignedDuration::from_hours(24),
            events: Vec::new(),
            working_hours: None,
            out_of_office: None,
            fetched_at,
            error: None,
        }
    }

    #[test]
    fn a_reader_never_gets_a_status_past_its_end_without_a_tick() {
        let stale_after = jiff::SignedDuration::from_millis(300);
        let options = StatusOptions {
            stale_after,
            ..StatusOptions::default()
        };
        let board = StatusBoard::new(options);
        let now = Timestamp::now();
        board.update(no_events(now), now);
        let fresh = board.get("a@contoso.com").expect("entry");
        assert_eq!(fresh.status.state, calgate_core::OperatorState::Free);
        std::thread::sleep(std::time::Duration::from_millis(400));
        // No tick ran: the read itself must not serve the expired `free`.
        let later = board.get("a@contoso.com").expect("entry");
        assert_eq!(later.status.state, calgate_core::OperatorState::Unknown);
        let page = board.snapshot_page(None, 10);
        assert_eq!(page.people[0].1.state, calgate_core::OperatorState::Unknown);
    }

    fn person(n: usize) -> String {
        format!("p{n:03}@contoso.com")
    }

    #[test]
    fn presence_is_published_on_change_only_and_never_touches_the_status() {
        let board = StatusBoard::new(StatusOptions::default());
        let now = Timestamp::now();
        board.update(no_events(now), now);
        let status = board.get("a@contoso.com").expect("entry").status;
        let mut changes = board.subscribe();
        let seq = board.last_seq();
        let email = || "a@contoso.com".to_string();
        board.set_presence([(email(), Presence::new("Busy", "InACall", now))], now);
        let change = changes.try_recv().expect("a change");
        assert_eq!(change.seq, seq + 1);
        assert_eq!(change.status, status, "the status is untouched");
        assert_eq!(change.presence.expect("presence").activity, "InACall");
        // Read again with nothing new: no event.
        let later = now + jiff::SignedDuration::from_secs(30);
        board.set_presence([(email(), Presence::new("Busy", "InACall", later))], later);
        assert!(changes.try_recv().is_err());
        let entry = board.get("a@contoso.com").expect("entry");
        assert_eq!(entry.presence.expect("presence").as_of, later);
        assert_eq!(entry.status, status);
        // A status change carries the presence along.
        board.update(no_events(later), later);
        if let Ok(change) = changes.try_recv() {
            assert_eq!(change.presence.expect("presence").activity, "InACall");
        }
        // Old presence turns unknown, never available; cleared presence is absent.
        board.expire_presence(
            &[email()],
            later + jiff::SignedDuration::from_secs(1),
            later,
        );
        let entry = board.get("a@contoso.com").expect("entry");
        assert!(!entry.presence.expect("presence").is_known());
        board.clear_presence(["a@contoso.com"], later);
        assert!(
            board
                .get("a@contoso.com")
                .expect("entry")
                .presence
                .is_none()
        );
        // Nobody unwatched gets presence.
        board.set_presence([("b@contoso.com".to_string(), Presence::unknown(now))], now);
        assert!(board.get("b@contoso.com").is_none());
        let page = board.snapshot_page(None, 10);
        assert_eq!(page.people.len(), 1);
    }

    /// The kept counts agree with a walk over every entry, through new people, answers,
    /// errors, own limits, re-fetches and removals, at instants either side of each limit.
    #[test]
    fn freshness_counts_match_a_walk_over_every_entry() {
        let board = StatusBoard::new(StatusOptions::default());
        let t0 = Timestamp::now();
        let secs = jiff::SignedDuration::from_secs;
        let walk = |now: Timestamp, stale_age: jiff::SignedDuration| {
            let inner = board.inner();
            let mut counts = [0usize; 4];
            for p in inner.people.values() {
                counts[p.freshness(now, stale_age) as usize] += 1;
            }
            counts
        };
        let check = |label: &str| {
            for offset in [0, 59, 60, 61, 119, 120, 121, 600] {
                for age in [60, 120] {
                    let now = t0 + secs(offset);
                    assert_eq!(
                        board.freshness_counts(now, secs(age)),
                        walk(now, secs(age)),
                        "{label}: at +{offset} s, stale after {age} s"
                    );
                }
            }
        };
        for n in 0..12 {
            board.watch(&person(n), t0);
        }
        check("all pending");
        for n in 0..8 {
            let mut a = no_events(t0 + secs(n as i64 % 3));
            a.mailbox = person(n);
            if n % 4 == 0 {
                a.error = Some(Box::new(calgate_core::SourceError {
                    code: "EWS_TEST".into(),
                    message: "test".into(),
                }));
            }
            match n % 3 {
                0 => board.update(a, t0),
                1 => board.update_for(a, t0, Some(secs(90))),
                _ => board.update_for(a, t0, None),
            }
        }
        check("answers, errors and own limits");
        let mut again = no_events(t0 + secs(30));
        again.mailbox = person(1);
        board.update(again, t0);
        board.unwatch(&person(2));
        board.unwatch(&person(11));
        check("a re-fetch and removals");
    }

    #[test]
    fn a_snapshot_is_read_in_pages_in_address_order() {
        let board = StatusBoard::new(StatusOptions::default());
        let now = Timestamp::now();
        for n in (0..25).rev() {
            board.watch(&person(n), now);
        }
        let mut seen = Vec::new();
        let mut after: Option<Arc<str>> = None;
        loop {
            let page = board.snapshot_page(after.as_deref(), 10);
            assert!(page.people.len() <= 10);
            assert_eq!(page.seq, 25, "each watch published one change");
            seen.extend(page.people.iter().map(|(e, _, _)| e.to_string()));
            after = page.people.last().map(|(e, _, _)| e.clone());
            if !page.more {
                break;
            }
        }
        let expected: Vec<String> = (0..25).map(person).collect();
        assert_eq!(seen, expected);
        let empty = StatusBoard::new(StatusOptions::default()).snapshot_page(None, 10);
        assert!(empty.people.is_empty() && !empty.more);
    }

    #[test]
    fn only_ids_of_this_board_that_it_gave_out_resume() {
        let board = StatusBoard::new(StatusOptions::default());
        let now = Timestamp::now();
        for n in 0..3 {
            board.watch(&person(n), now);
        }
        let resumed = board.changes_since(board.event_id(1)).expect("resumable");
        assert_eq!(
            resumed.iter().map(|c| c.seq).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert_eq!(board.changes_since(board.event_id(3)), Some(Vec::new()));
        // An id from before a restart (another board), or one never given out: a snapshot.
        let restarted = StatusBoard::new(StatusOptions::default());
        restarted.watch(&person(0), now);
        assert_ne!(restarted.event_id(1), board.event_id(1));
        assert_eq!(restarted.changes_since(board.event_id(1)), None);
        assert_eq!(restarted.changes_since(board.event_id(0)), None);
        assert_eq!(board.changes_since(board.event_id(4)), None);
    }

    #[test]
    fn shared_availability_is_published_when_newer_and_only_for_people_watched_here() {
        let board = StatusBoard::new(StatusOptions::default());
        let now = Timestamp::now();
        // Not watched here: left alone.
        assert!(!board.share(no_events(now), now));
        assert!(board.get("a@contoso.com").is_none());
        board.watch("a@contoso.com", now);
        let mut changes = board.subscribe();
        assert!(board.share(no_events(now), now));
        let change = changes.try_recv().expect("published");
        assert_eq!(change.status.state, calgate_core::OperatorState::Free);
        assert!(board.take_changed().is_empty(), "not saved again");
        // An older or equal copy never replaces what the board holds.
        let older = now - jiff::SignedDuration::from_secs(5);
        assert!(!board.share(no_events(older), now));
        assert!(!board.share(no_events(now), now));
        assert_eq!(board.fetched_at("a@contoso.com"), Some(now));
    }
}
