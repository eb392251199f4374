//! The cost of the operator status: 100 000 people with 10 events each, all evaluated at one
//! instant, as the engine does when it recomputes the whole board. Run with
//! `cargo bench -p calgate-core`; the per-item figure is the cost of one person's status.

use std::sync::Arc;

use calgate_core::{
    Availability, BusyType, CalendarEvent, OperatorState, SerializableTimeZone, StatusOptions,
    Weekday, WorkTimeZone, WorkingHours, WorkingPeriod, compute_status,
};
use divan::Bencher;
use divan::counter::ItemsCount;
use jiff::{SignedDuration, Timestamp};

const PEOPLE: usize = 100_000;
const EVENTS_PER_PERSON: usize = 10;

fn main() {
    divan::main();
}

/// A small deterministic generator (no dependency, same tenant every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

fn window_start() -> Timestamp {
    "2026-11-26T23:00:00Z".parse().expect("timestamp")
}

fn at_min(minutes: u64) -> Timestamp {
    window_start()
        .checked_add(SignedDuration::from_mins(
            i64::try_from(minutes).unwrap_or(0),
        ))
        .expect("in range")
}

/// The zones people's working hours come in, in the three shapes sources use.
fn zones() -> Vec<WorkTimeZone> {
    vec![
        WorkTimeZone::Iana("Europe/Rome".into()),
        WorkTimeZone::Iana("America/New_York".into()),
        WorkTimeZone::Windows("W. Europe Standard Time".into()),
        WorkTimeZone::Rules(SerializableTimeZone::from_iana("Europe/London", 2026).expect("rules")),
    ]
}

/// `people` mailboxes, each with a two-day window holding `EVENTS_PER_PERSON` events on a
/// 15-minute grid (back-to-back and overlapping ones included) and weekday working hours.
fn tenant(people: usize, with_working_hours: bool) -> Vec<Availability> {
    let mut rng = Lcg(0x5eed);
    let zones = zones();
    let kinds = [
        BusyType::Busy,
        BusyType::Busy,
        BusyType::Busy,
        BusyType::Tentative,
        BusyType::Free,
        BusyType::Oof,
        BusyType::WorkingElsewhere,
    ];
    (0..people)
        .map(|i| {
            let events = (0..EVENTS_PER_PERSON)
                .map(|_| {
                    let start = rng.next(2 * 96 - 8) * 15;
                    let len = (1 + rng.next(8)) * 15;
                    let kind = kinds[usize::try_from(rng.next(kinds.len() as u64)).unwrap_or(0)];
                    let mut e = CalendarEvent::new(at_min(start), at_min(start + len), kind);
                    e.subject = Some(format!("Meeting {}", rng.next(1000)).into());
                    e.location = Some("Room 3".into());
                    e.is_private = rng.next(10) == 0;
                    e.is_meeting = true;
                    e
                })
                .collect();
            Availability {
                mailbox: format!("person{i}@contoso.com"),
                window_start: window_start(),
                window_end: at_min(2 * 24 * 60),
                events,
                working_hours: with_working_hours.then(|| {
                    Arc::new(WorkingHours {
                        time_zone: zones[i % zones.len()].clone(),
                        periods: vec![WorkingPeriod {
                            days: vec![
                                Weekday::Mon,
                                Weekday::Tue,
                                Weekday::Wed,
                                Weekday::Thu,
                                Weekday::Fri,
                            ],
                            start_minute: 9 * 60,
                            end_minute: 18 * 60,
                        }],
                    })
                }),
                out_of_office: None,
                fetched_at: window_start(),
                error: None,
            }
        })
        .collect()
}

fn board(bencher: Bencher, with_working_hours: bool) {
    let people = tenant(PEOPLE, with_working_hours);
    // Friday 10:10 UTC: mid-morning, most people between or inside meetings.
    let now = at_min(11 * 60 + 10);
    let options = StatusOptions {
        stale_after: SignedDuration::from_hours(48),
        ..StatusOptions::default()
    };
    bencher.counter(ItemsCount::new(people.len())).bench(|| {
        people
            .iter()
            .map(|a| compute_status(Some(a), now, &options))
            .filter(|s| s.state != OperatorState::Free && s.next_free.is_some())
            .count()
    });
}

/// The whole board, people with working hours in four zones (IANA, Windows name, EWS rules).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn status_100k_people_10_events_with_working_hours(bencher: Bencher) {
    board(bencher, true);
}

/// The whole board without working hours (any time counts for `next_free`).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn status_100k_people_10_events_no_working_hours(bencher: Bencher) {
    board(bencher, false);
}
