//! What an operator sees for a person at an instant: the state and its span, the next free slot,
//! the current event as privacy allows, and the next instant any of that changes.
//!
//! The computation is a sweep over the fetched events. Each event gets a *level* from the status
//! rules (how tentative and working-elsewhere show, whether all-day free events count); where
//! events overlap the highest level wins (OOF > no data > Busy > WorkingElsewhere > Tentative >
//! Free). The window splits into segments of one level; the segment holding `now` gives the state,
//! `since` and `until`, so back-to-back and overlapping events of the same or a busier kind merge.
//! Outside the fetched window, past the staleness limit, or on a source error nothing is known:
//! the state is `Unknown`, never `Free`.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::availability::{Availability, CalendarEvent};
use crate::busy::BusyType;

/// The operator-facing state. `Unknown` is never shown as free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorState {
    Free,
    Tentative,
    Busy,
    Oof,
    WorkingElsewhere,
    Unknown,
}

/// What operators may see of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Privacy {
    StatusOnly,
    #[default]
    Subject,
    SubjectAndLocation,
}

/// How a tentative event shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TentativeRule {
    #[default]
    Tentative,
    Busy,
    Free,
}

/// How a working-elsewhere event shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkingElsewhereRule {
    #[default]
    WorkingElsewhere,
    Free,
    Busy,
}

/// Status rules as data (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRules {
    pub tentative: TentativeRule,
    pub working_elsewhere: WorkingElsewhereRule,
    /// All-day events marked free (holidays, reminders) do not change the state.
    pub ignore_all_day_free: bool,
}

impl Default for StatusRules {
    fn default() -> Self {
        StatusRules {
            tentative: TentativeRule::Tentative,
            working_elsewhere: WorkingElsewhereRule::WorkingElsewhere,
            ignore_all_day_free: true,
        }
    }
}

/// Everything besides the data that decides a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusOptions {
    pub rules: StatusRules,
    pub privacy: Privacy,
    /// Data fetched longer ago than this is not trusted: the state is `Unknown`.
    pub stale_after: SignedDuration,
    /// The shortest gap that counts as a free slot for `next_free`.
    pub min_free: SignedDuration,
}

impl Default for StatusOptions {
    fn default() -> Self {
        StatusOptions {
            rules: StatusRules::default(),
            privacy: Privacy::default(),
            stale_after: SignedDuration::from_mins(15),
            min_free: SignedDuration::from_mins(15),
        }
    }
}

/// The current event as the privacy setting allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub subject: Option<String>,
    pub location: Option<String>,
    pub private: bool,
}

/// The status of a person at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorStatus {
    pub state: OperatorState,
    /// Start of the current state's span (merged over back-to-back and overlapping events).
    pub since: Option<Timestamp>,
    /// End of the current state's span.
    pub until: Option<Timestamp>,
    /// Start of the next free slot of at least `min_free` inside working hours.
    pub next_free: Option<Timestamp>,
    pub event: Option<EventView>,
    /// The next instant at which the state may change: a meeting boundary, or the moment the data
    /// turns stale. The engine re-evaluates then without asking the source.
    pub next_change: Option<Timestamp>,
    /// Why the state is `Unknown`, as a stable code (`NO_DATA`, `STALE`, `OUTSIDE_WINDOW`,
    /// `SOURCE_NO_DATA`, or the source's error code).
    pub unknown_reason: Option<String>,
}

/// `unknown_reason` when there is no availability at all for the person.
pub const REASON_NO_DATA: &str = "NO_DATA";
/// `unknown_reason` when the data is older than `stale_after`.
pub const REASON_STALE: &str = "STALE";
/// `unknown_reason` for an instant outside the fetched window.
pub const REASON_OUTSIDE_WINDOW: &str = "OUTSIDE_WINDOW";
/// `unknown_reason` when the source itself said it has no data for the instant (`NoData`).
pub const REASON_SOURCE_NO_DATA: &str = "SOURCE_NO_DATA";

/// What a private event's subject reads as, whatever the privacy level.
pub const PRIVATE_SUBJECT: &str = "Private appointment";

/// How much of an event the operator sees, after the status rules. Ordered by overlap
/// precedence; `NoData` ranks below OOF only, so an unknown slot is never hidden by a weaker kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Free,
    Tentative,
    WorkingElsewhere,
    Busy,
    NoData,
    Oof,
}

impl Level {
    const COUNT: usize = 6;

    fn index(self) -> usize {
        self as usize
    }

    fn from_index(i: usize) -> Level {
        match i {
            0 => Level::Free,
            1 => Level::Tentative,
            2 => Level::WorkingElsewhere,
            3 => Level::Busy,
            4 => Level::NoData,
            _ => Level::Oof,
        }
    }

    fn state(self) -> OperatorState {
        match self {
            Level::Free => OperatorState::Free,
            Level::Tentative => OperatorState::Tentative,
            Level::WorkingElsewhere => OperatorState::WorkingElsewhere,
            Level::Busy => OperatorState::Busy,
            Level::NoData => OperatorState::Unknown,
            Level::Oof => OperatorState::Oof,
        }
    }
}

impl StatusRules {
    /// The level an event counts at, or `None` when the rules ignore it. Busy and OOF are never
    /// weakened by any rule, and `NoData` never becomes free.
    fn level(&self, event: &CalendarEvent) -> Option<Level> {
        if event.end <= event.start {
            return None;
        }
        Some(match event.busy_type {
            BusyType::Free if event.is_all_day && self.ignore_all_day_free => return None,
            BusyType::Free => Level::Free,
            BusyType::Tentative => match self.tentative {
                TentativeRule::Tentative => Level::Tentative,
                TentativeRule::Busy => Level::Busy,
                TentativeRule::Free => Level::Free,
            },
            BusyType::WorkingElsewhere => match self.working_elsewhere {
                WorkingElsewhereRule::WorkingElsewhere => Level::WorkingElsewhere,
                WorkingElsewhereRule::Busy => Level::Busy,
                WorkingElsewhereRule::Free => Level::Free,
            },
            BusyType::Busy => Level::Busy,
            BusyType::Oof => Level::Oof,
            BusyType::NoData => Level::NoData,
        })
    }

    /// How an event shows to operators under these rules (`None`: the rules ignore it).
    pub fn shows_as(&self, event: &CalendarEvent) -> Option<OperatorState> {
        self.level(event).map(Level::state)
    }
}

impl EventView {
    /// What the privacy level lets an operator see of an event; `None` for status only.
    pub fn of(event: &CalendarEvent, privacy: Privacy) -> Option<EventView> {
        if privacy == Privacy::StatusOnly {
            return None;
        }
        if event.is_private {
            return Some(EventView {
                subject: Some(PRIVATE_SUBJECT.to_string()),
                location: None,
                private: true,
            });
        }
        Some(EventView {
            subject: event.subject.as_deref().map(str::to_owned),
            location: match privacy {
                Privacy::SubjectAndLocation => event.location.as_deref().map(str::to_owned),
                _ => None,
            },
            private: false,
        })
    }
}

/// An event the rules keep: its span, level and position in the source list.
#[derive(Debug, Clone, Copy)]
struct Counted {
    start: Timestamp,
    end: Timestamp,
    level: Level,
    index: usize,
}

/// A stretch of the window with one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    start: Timestamp,
    end: Timestamp,
    level: Level,
}

/// Splits `[window_start, window_end)` into maximal segments of one level (the highest level of
/// the events covering them; `Free` where none does).
fn segments(counted: &[Counted], window_start: Timestamp, window_end: Timestamp) -> Vec<Segment> {
    let mut points: Vec<(Timestamp, bool, Level)> = Vec::with_capacity(counted.len() * 2);
    for c in counted {
        let (s, e) = (c.start.max(window_start), c.end.min(window_end));
        if s < e {
            points.push((s, true, c.level));
            points.push((e, false, c.level));
        }
    }
    points.sort_unstable_by_key(|p| p.0);
    let mut active = [0u32; Level::COUNT];
    let top = |active: &[u32; Level::COUNT]| {
        active
            .iter()
            .rposition(|n| *n > 0)
            .map_or(Level::Free, Level::from_index)
    };
    let mut out: Vec<Segment> = Vec::new();
    let push = |out: &mut Vec<Segment>, start: Timestamp, end: Timestamp, level: Level| {
        if start >= end {
            return;
        }
        match out.last_mut() {
            Some(last) if last.level == level && last.end == start => last.end = end,
            _ => out.push(Segment { start, end, level }),
        }
    };
    let mut cursor = window_start;
    for (at, opens, level) in points {
        if at > cursor {
            push(&mut out, cursor, at, top(&active));
            cursor = at;
        }
        let n = &mut active[level.index()];
        *n = if opens {
            n.saturating_add(1)
        } else {
            n.saturating_sub(1)
        };
    }
    push(&mut out, cursor, window_end, top(&active));
    out
}

/// The events the rules keep, in source order.
fn counted_events(availability: &Availability, rules: &StatusRules) -> Vec<Counted> {
    availability
        .events
        .iter()
        .enumerate()
        .filter_map(|(index, e)| {
            rules.level(e).map(|level| Counted {
                start: e.start,
                end: e.end,
                level,
                index,
            })
        })
        .collect()
}

/// The position (in the source list) of the event that decides the state at `at`: the highest
/// level covering it, then the earliest start, then the first listed.
fn deciding_event(counted: &[Counted], at: Timestamp) -> Option<usize> {
    counted
        .iter()
        .filter(|c| c.start <= at && at < c.end)
        .max_by(|a, b| {
            a.level
                .cmp(&b.level)
                .then(b.start.cmp(&a.start))
                .then(b.index.cmp(&a.index))
        })
        .map(|c| c.index)
}

fn unknown(
    reason: &str,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    next_change: Option<Timestamp>,
) -> OperatorStatus {
    OperatorStatus {
        state: OperatorState::Unknown,
        since,
        until,
        next_free: None,
        event: None,
        next_change,
        unknown_reason: Some(reason.to_string()),
    }
}

/// The instant the data turns stale.
fn stale_at(availability: &Availability, options: &StatusOptions) -> Timestamp {
    availability
        .fetched_at
        .checked_add(options.stale_after)
        .unwrap_or(if options.stale_after.is_negative() {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
}

/// Computes what the operator sees for `availability` at `now`.
///
/// - `state`, `since`, `until`: the segment of one state holding `now`, clipped to the fetched
///   window (`until` is the window's end when the state lasts that long).
/// - `event`: the event deciding the state, as `options.privacy` allows.
/// - `next_free`: the earliest instant at or after `now` that starts at least `min_free` of free
///   time inside working hours (the person's zone; any time when none are known), within the
///   window. It equals `now` when the person is free now for long enough.
/// - `next_change`: the first instant after `now` at which the state or the shown event changes,
///   the window ends, or the data turns stale. Until then the status stays as computed (apart
///   from `next_free` tracking `now` while free).
/// - `Unknown` with a reason for missing, failed, stale data and instants outside the window.
pub fn compute_status(
    availability: Option<&Availability>,
    now: Timestamp,
    options: &StatusOptions,
) -> OperatorStatus {
    let Some(availability) = availability else {
        return unknown(REASON_NO_DATA, None, None, None);
    };
    if let Some(error) = &availability.error {
        return unknown(&error.code, None, None, None);
    }
    let stale_at = stale_at(availability, options);
    if now >= stale_at {
        return unknown(REASON_STALE, Some(stale_at), None, None);
    }
    let (window_start, window_end) = (availability.window_start, availability.window_end);
    if now < window_start {
        return unknown(
            REASON_OUTSIDE_WINDOW,
            None,
            Some(window_start),
            Some(window_start.min(stale_at)),
        );
    }
    if now >= window_end {
        return unknown(
            REASON_OUTSIDE_WINDOW,
            Some(window_end),
            None,
            Some(stale_at),
        );
    }

    let counted = counted_events(availability, &options.rules);
    let segments = segments(&counted, window_start, window_end);
    let Some(current) = segments
        .iter()
        .find(|s| s.start <= now && now < s.end)
        .copied()
    else {
        // Unreachable for a window holding `now`; answer unknown rather than guess.
        return unknown(REASON_OUTSIDE_WINDOW, None, None, Some(stale_at));
    };

    let view_of = |index: Option<usize>| {
        index
            .and_then(|i| availability.events.get(i))
            .and_then(|e| EventView::of(e, options.privacy))
    };
    let deciding = deciding_event(&counted, now);
    let event = view_of(deciding);
    let mut next_change = current.end.min(stale_at);
    if options.privacy != Privacy::StatusOnly {
        let mut boundaries: Vec<Timestamp> = counted
            .iter()
            .flat_map(|c| [c.start, c.end])
            .filter(|t| *t > now && *t < next_change)
            .collect();
        boundaries.sort_unstable();
        boundaries.dedup();
        // The same deciding event shows the same; only another event can change the view.
        let changes = |t: &Timestamp| {
            let other = deciding_event(&counted, *t);
            other != deciding && view_of(other) != event
        };
        if let Some(t) = boundaries.into_iter().find(changes) {
            next_change = t;
        }
    }

    // Out of office outranks everything, so an absence known to run past the fetched window
    // runs on: its real start and end, not the window's edges.
    let (mut since, mut until) = (current.start, current.end);
    if current.level == Level::Oof {
        if until == window_end {
            until = oof_reach(&counted, window_end, Direction::Later);
        }
        if since == window_start {
            since = oof_reach(&counted, window_start, Direction::Earlier);
        }
    }

    OperatorStatus {
        state: current.level.state(),
        since: Some(since),
        until: Some(until),
        next_free: next_free(availability, &segments, now, options.min_free),
        event,
        next_change: Some(next_change),
        unknown_reason: (current.level == Level::NoData).then(|| REASON_SOURCE_NO_DATA.to_string()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Earlier,
    Later,
}

/// How far out-of-office events reach from `edge` of the window: following OOF events that
/// touch or overlap one another, the latest end (or earliest start) of the chain.
fn oof_reach(counted: &[Counted], edge: Timestamp, direction: Direction) -> Timestamp {
    let mut reach = edge;
    loop {
        let further = counted
            .iter()
            .filter(|c| c.level == Level::Oof && c.start <= reach && reach <= c.end)
            .map(|c| match direction {
                Direction::Later => c.end,
                Direction::Earlier => c.start,
            })
            .filter(|t| match direction {
                Direction::Later => *t > reach,
                Direction::Earlier => *t < reach,
            })
            .reduce(|a, b| match direction {
                Direction::Later => a.max(b),
                Direction::Earlier => a.min(b),
            });
        match further {
            Some(t) => reach = t,
            None => return reach,
        }
    }
}

/// See [`compute_status`]: the first `min_free` of free time inside working hours from `now`.
fn next_free(
    availability: &Availability,
    segments: &[Segment],
    now: Timestamp,
    min_free: SignedDuration,
) -> Option<Timestamp> {
    let end = availability.window_end;
    let working = availability
        .working_hours
        .as_ref()
        .filter(|h| h.is_defined())
        .and_then(|h| Some((h, h.time_zone.resolve().ok()?)))
        .map(|(h, zone)| h.intervals(&zone, now, end))
        .unwrap_or_else(|| vec![(now, end)]);
    let free = segments
        .iter()
        .filter(|s| s.level == Level::Free && s.end > now)
        .map(|s| (s.start.max(now), s.end));
    for (fs, fe) in free {
        for &(ws, we) in &working {
            let (s, e) = (fs.max(ws), fe.min(we));
            if s < e && e.duration_since(s) >= min_free {
                return Some(s);
            }
        }
    }
    None
}

/// Whether the operator can trust the data, as SPEC §4's freshness verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    Fresh,
    Stale,
    Error,
}

/// The freshness of a person's data at `now` (`Stale` when there is none yet).
pub fn freshness(
    availability: Option<&Availability>,
    now: Timestamp,
    options: &StatusOptions,
) -> Freshness {
    match availability {
        None => Freshness::Stale,
        Some(a) if a.error.is_some() => Freshness::Error,
        Some(a) if now >= stale_at(a, options) => Freshness::Stale,
        Some(_) => Freshness::Fresh,
    }
}

/// One appointment of the operator's day, as privacy allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub start: Timestamp,
    pub end: Timestamp,
    /// What the calendar says.
    pub busy_type: BusyType,
    /// What the status rules make of it.
    pub shows_as: OperatorState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub private: bool,
    pub all_day: bool,
}

/// The appointments that touch the local day (in `site_zone`) holding `now`, sorted by start,
/// with events the rules ignore left out and details cut to the privacy level. Empty when the
/// source reported an error. Entries keep their real start and end, even past the day.
pub fn today(
    availability: &Availability,
    now: Timestamp,
    site_zone: &TimeZone,
    options: &StatusOptions,
) -> Vec<TimelineEntry> {
    if availability.error.is_some() {
        return Vec::new();
    }
    let (day_start, day_end) = local_days(now, site_zone, 1);
    let mut entries: Vec<TimelineEntry> = availability
        .events
        .iter()
        .filter(|e| e.start < day_end && e.end > day_start)
        .filter_map(|e| {
            let shows_as = options.rules.shows_as(e)?;
            let view = EventView::of(e, options.privacy);
            Some(TimelineEntry {
                start: e.start,
                end: e.end,
                busy_type: e.busy_type,
                shows_as,
                subject: view.as_ref().and_then(|v| v.subject.clone()),
                location: view.as_ref().and_then(|v| v.location.clone()),
                private: e.is_private,
                all_day: e.is_all_day,
            })
        })
        .collect();
    entries.sort_by_key(|e| (e.start, e.end));
    entries
}

/// The fetch window the engine asks sources for: from the start of the local day holding `now`
/// (in the site's zone) to the start of the local day two days later. Day starts follow the zone
/// (a 23- or 25-hour day where clocks change).
pub fn day_window(now: Timestamp, site_zone: &TimeZone) -> (Timestamp, Timestamp) {
    local_days(now, site_zone, 2)
}

/// `[start of the local day holding now, start of the local day `days` later)`; at the far ends
/// of the time scale, where that cannot be computed, `now` and `now + days × 24 h`.
pub fn local_days(now: Timestamp, zone: &TimeZone, days: i8) -> (Timestamp, Timestamp) {
    let today = zone.to_datetime(now).date();
    let start_of = |d: jiff::civil::Date| {
        zone.to_ambiguous_timestamp(d.to_datetime(Time::midnight()))
            .compatible()
            .ok()
    };
    let later = today
        .checked_add(jiff::Span::new().days(days))
        .ok()
        .and_then(start_of);
    match (start_of(today), later) {
        (Some(s), Some(e)) if s <= now && now < e => (s, e),
        _ => (
            now,
            now.saturating_add(SignedDuration::from_hours(24 * i64::from(days)))
                .unwrap_or(Timestamp::MAX),
        ),
    }
}

#[cfg(test)]
mod tests;
