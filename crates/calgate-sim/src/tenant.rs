//! The synthetic tenant: people and rooms with their mailboxes' events and out-of-office,
//! generated deterministically from a seed around the current date, plus scripted mailboxes the
//! control API adds or rewrites.
//!
//! A tenant can be generated "as of" another weekday (`Tenant::generate_as`): today's calendar
//! is then drawn as that weekday's, the days around it follow in order, and working hours are
//! turned to match, all on today's real dates. A benchmark thus reads a working day's meetings
//! whatever day it runs on, without any clock being moved.
//!
//! Generation draws from a small SplitMix64 stream per person (seeded from the tenant seed and
//! the person's index), so one person's calendar does not depend on how many others exist and
//! 10 000 people take a fraction of a second. Local times are turned into instants with the
//! person's own Windows zone rules (the same rules the EWS side reports), evaluated once per day
//! at noon: daylight-saving changes happen at night, never inside working hours.

use std::collections::HashMap;

use calgate_core::{
    BusyType, CalendarEvent, OutOfOffice, SerializableTimeZone, Weekday, WorkTimeZone,
    WorkingHours, WorkingPeriod,
};
use calgate_ews::server::zones::{self, KNOWN_ZONES, KnownZone};
use jiff::civil::{Date, DateTime, Time};
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// What a caller may see of a mailbox's calendar (the mailbox's default permission).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreeBusyAccess {
    /// Times, subjects and locations (Detailed views are served).
    Detailed,
    /// Times only (Detailed degrades to FreeBusy).
    FreeBusy,
    /// Nothing (ErrorNoFreeBusyAccess).
    None,
}

/// One person or room of the directory.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub email: String,
    pub name: String,
    pub given_name: String,
    pub surname: String,
    /// The Windows time-zone id (what EWS and Graph speak).
    pub time_zone: String,
    /// The same zone's IANA name.
    pub iana_time_zone: String,
    pub is_room: bool,
    pub free_busy_access: FreeBusyAccess,
    #[serde(skip)]
    pub working_hours: WorkingHours,
    /// The zone's rules, as WorkingHours/TimeZone reports them.
    #[serde(skip)]
    pub zone_rules: SerializableTimeZone,
}

/// One mailbox's calendar.
#[derive(Debug, Clone, Default)]
pub struct Mailbox {
    /// Sorted by start.
    pub events: Vec<CalendarEvent>,
    pub oof: Option<OutOfOffice>,
}

impl Mailbox {
    /// Events overlapping `[start, end)`, with their indexes (the index makes the event id).
    pub fn overlapping(
        &self,
        start: Timestamp,
        end: Timestamp,
    ) -> impl Iterator<Item = (usize, &CalendarEvent)> {
        // Events are sorted by start: skip everything starting at or after `end`. Long events
        // (multi-day out-of-office) may start long before `start`, so the head is scanned.
        let stop = self.events.partition_point(|e| e.start < end);
        self.events
            .get(..stop)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.end > start)
    }

    /// The out-of-office reply in force at `now`, if any.
    pub fn oof_at(&self, now: Timestamp) -> Option<&OutOfOffice> {
        self.oof
            .as_ref()
            .filter(|o| o.start.is_none_or(|s| s <= now) && o.end.is_none_or(|e| now < e))
    }
}

/// The whole directory. `people[i]` owns `mailboxes[i]`.
#[derive(Debug, Clone, Default)]
pub struct Tenant {
    pub people: Vec<Person>,
    pub mailboxes: Vec<Mailbox>,
    pub domain: String,
    index: HashMap<String, usize>,
}

/// SplitMix64: tiny, fast, and good enough for synthetic calendars.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items.get(i).copied().unwrap_or_default()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        &items[i.min(items.len() - 1)]
    }
}

const GIVEN: &[&str] = &[
    "Anna", "Luca", "Sofia", "Marco", "Giulia", "Jonas", "Emma", "Noah", "Mia", "Liam", "Olivia",
    "Lukas", "Hannah", "Elias", "Lea", "Paul", "Clara", "Felix", "Marie", "David", "Sara", "Tomas",
    "Ingrid", "Pierre", "Chloe", "Hugo", "Nina", "Oskar", "Alma", "Erik", "Yuki", "Kenji", "Priya",
    "Arjun", "Fatima", "Omar", "Grace", "Henry", "Chen", "Wei", "Lucia", "Mateo", "Elena", "Ivan",
    "Olga", "Jakub", "Zofia", "Aoife", "Sean", "Freya",
];
const SURNAMES: &[&str] = &[
    "Rossi",
    "Bianchi",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Dubois",
    "Martin",
    "Bernard",
    "García",
    "Martínez",
    "López",
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Evans",
    "Nielsen",
    "Jensen",
    "Hansen",
    "Larsen",
    "Andersson",
    "Johansson",
    "Virtanen",
    "Korhonen",
    "Novak",
    "Horvat",
    "Kowalski",
    "Nowak",
    "Tanaka",
    "Suzuki",
    "Sato",
    "Patel",
    "Sharma",
    "Khan",
    "Murphy",
    "O'Brien",
    "Kelly",
    "Walsh",
    "Costa",
    "Silva",
    "Ferreira",
    "Ivanova",
    "Petrov",
    "De Vries",
    "Janssen",
    "Bakker",
];
const SUBJECTS: &[&str] = &[
    "Budget review",
    "Project sync",
    "Customer call",
    "R&D sync",
    "Sprint planning",
    "Design review",
    "Interview",
    "Quarterly <draft> review",
    "Vendor meeting",
    "Training",
    "Architecture board",
    "Sales pipeline",
    "Release readiness",
    "Lunch with partners",
    "Workshop",
];
const LOCATIONS: &[&str] = &[
    "Room 1.01",
    "Room 2.14",
    "Board room",
    "Microsoft Teams Meeting",
    "Cafeteria",
    "Customer site",
    "",
];
const OOF_MESSAGES: &[&str] = &[
    "<div>I am out of the office and will reply when I am back. For urgent matters please call the front desk.</div>",
    "<div>On holiday with limited access to e-mail. Your message will not be forwarded.</div>",
    "<p>I'm attending a conference this week &amp; will answer after my return.</p>",
];

/// Zone mix of the synthetic company (indexes into `KNOWN_ZONES`, weights in percent).
const ZONE_MIX: &[(&str, u64)] = &[
    ("W. Europe Standard Time", 45),
    ("Romance Standard Time", 10),
    ("GMT Standard Time", 10),
    ("Central Europe Standard Time", 5),
    ("FLE Standard Time", 5),
    ("Eastern Standard Time", 10),
    ("Pacific Standard Time", 5),
    ("India Standard Time", 4),
    ("Tokyo Standard Time", 3),
    ("AUS Eastern Standard Time", 3),
];

fn pick_zone(rng: &mut Rng) -> &'static KnownZone {
    let mut roll = rng.below(100);
    for (id, weight) in ZONE_MIX {
        if roll < *weight {
            return zones::find_zone(id).unwrap_or(&KNOWN_ZONES[0]);
        }
        roll -= weight;
    }
    &KNOWN_ZONES[0]
}

/// Days before and after today that generated calendars cover.
const DAYS_BEFORE: i64 = 2;
const DAYS_AFTER: i64 = 8;

fn slug(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'ü' | 'ú' => Some('u'),
            'í' => Some('i'),
            'á' | 'ä' | 'å' => Some('a'),
            'ó' | 'ö' | 'ø' => Some('o'),
            'é' | 'è' => Some('e'),
            'ñ' => Some('n'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            ' ' | '-' => Some('-'),
            _ => None,
        })
        .collect()
}

/// Converts local minutes of a day to an instant with a fixed bias (`UTC = local + bias`).
fn at(day_start_naive_utc: Timestamp, minute: i64, bias: i32) -> Timestamp {
    day_start_naive_utc
        .checked_add(SignedDuration::from_mins(minute + i64::from(bias)))
        .unwrap_or(day_start_naive_utc)
}

fn naive_utc(date: Date) -> Timestamp {
    date.to_datetime(Time::midnight())
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The instant of local midnight starting `date` under `tz`.
pub fn local_midnight(tz: &SerializableTimeZone, date: Date) -> Timestamp {
    zones::from_local(tz, date.to_datetime(Time::midnight()))
}

fn event(
    start: Timestamp,
    end: Timestamp,
    busy_type: BusyType,
    subject: &str,
    location: &str,
) -> CalendarEvent {
    CalendarEvent {
        start,
        end,
        busy_type,
        // Shared texts, as the gateway keeps them: the tenant repeats a few dozen.
        subject: Some(calgate_core::intern::intern(subject)),
        location: (!location.is_empty()).then(|| calgate_core::intern::intern(location)),
        is_private: false,
        is_all_day: false,
        is_recurring: false,
        is_meeting: true,
    }
}

struct Generated {
    person: Person,
    mailbox: Mailbox,
}

/// Days to add to a generated (virtual) weekday to get the real one: 0 when today is generated
/// as itself.
fn weekday_shift(today: Date, as_weekday: Option<Weekday>) -> i64 {
    as_weekday.map_or(0, |w| i64::from(today.weekday().since(w.to_jiff())))
}

/// The weekday `shift` days after `day`.
fn add_days(day: Weekday, shift: i64) -> Weekday {
    Weekday::from_jiff(day.to_jiff().wrapping_add(shift))
}

/// One person. `shift` is `weekday_shift`: the calendar of `date` is drawn as the calendar of
/// the weekday `shift` days earlier, and the working days are moved `shift` days later.
fn generate_one(seed: u64, i: usize, domain: &str, today: Date, shift: i64) -> Generated {
    let mut rng = Rng(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    rng.next();
    let zone = pick_zone(&mut rng);
    let rules = zone.serializable();
    let is_room = i % 40 == 39;
    let (given, surname, name, local) = if is_room {
        let floor = 1 + (i / 40) % 9;
        let number = i / 40 / 9 + 1;
        let name = format!("Room {floor}.{number:02}");
        (
            String::new(),
            String::new(),
            name,
            format!("room-{floor}-{number:02}"),
        )
    } else {
        let g = rng.pick_str(GIVEN);
        let s = rng.pick_str(SURNAMES);
        // The index keeps addresses unique without a collision pass.
        let local = format!("{}.{}", slug(g), slug(s));
        (g.to_owned(), s.to_owned(), format!("{g} {s}"), local)
    };
    let start_minute: u16 = if is_room {
        7 * 60
    } else {
        *rng.pick(&[420u16, 480, 510, 540])
    };
    let end_minute: u16 = if is_room {
        19 * 60
    } else {
        start_minute + *rng.pick(&[480u16, 510, 540])
    };
    let part_time = !is_room && rng.chance(10);
    let days: Vec<Weekday> = if part_time {
        vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu]
    } else {
        vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]
    };
    let access = match rng.below(100) {
        0..=1 => FreeBusyAccess::None,
        2..=7 => FreeBusyAccess::FreeBusy,
        _ => FreeBusyAccess::Detailed,
    };
    let has_standup = !is_room && rng.chance(50);
    let standup_minute = i64::from(start_minute) + 30;
    let one_on_one_day = *rng.pick(&[Weekday::Tue, Weekday::Wed, Weekday::Thu]);
    let manager = format!("{} {}", rng.pick_str(GIVEN), rng.pick_str(SURNAMES));
    let one_on_one = format!("1:1 with {manager}");

    // Multi-day out-of-office for about one person in ten.
    let oof_days = (!is_room && rng.chance(10)).then(|| {
        let first = i64::try_from(rng.below(10)).unwrap_or(0) - 3;
        let len = 1 + i64::try_from(rng.below(6)).unwrap_or(0);
        (first, len)
    });

    let mut events = Vec::with_capacity(64);
    let mut oof = None;
    if let Some((first, len)) = oof_days {
        let first_day = today.checked_add(first.days()).unwrap_or(today);
        let last_day = first_day.checked_add(len.days()).unwrap_or(first_day);
        let start = local_midnight(&rules, first_day);
        let end = local_midnight(&rules, last_day);
        let mut e = event(start, end, BusyType::Oof, "Out of office", "");
        e.is_all_day = true;
        e.is_meeting = false;
        events.push(e);
        oof = Some(OutOfOffice {
            message: Some(rng.pick_str(OOF_MESSAGES).to_owned()),
            start: Some(start),
            end: Some(end),
        });
    }

    for offset in -DAYS_BEFORE..=DAYS_AFTER {
        let Ok(date) = today.checked_add(offset.days()) else {
            continue;
        };
        // The weekday whose calendar this date gets (its own unless generated as of another).
        let weekday = add_days(Weekday::from_jiff(date.weekday()), -shift);
        if !days.contains(&weekday) {
            continue;
        }
        if let Some((first, len)) = oof_days
            && offset >= first
            && offset < first + len
        {
            continue;
        }
        let noon = zones::from_local(&rules, date.to_datetime(Time::constant(12, 0, 0, 0)));
        let bias = zones::bias_at(&rules, noon);
        let base = naive_utc(date);
        let wh_start = i64::from(start_minute);
        let wh_end = i64::from(end_minute);

        if !is_room && rng.chance(3) {
            let mut e = event(
                local_midnight(&rules, date),
                local_midnight(&rules, date.tomorrow().unwrap_or(date)),
                if rng.chance(50) {
                    BusyType::WorkingElsewhere
                } else {
                    BusyType::Busy
                },
                "Offsite day",
                "",
            );
            e.is_all_day = true;
            e.is_meeting = false;
            events.push(e);
            continue;
        }
        if has_standup {
            let mut e = event(
                at(base, standup_minute, bias),
                at(base, standup_minute + 15, bias),
                BusyType::Busy,
                "Team standup",
                "Microsoft Teams Meeting",
            );
            e.is_recurring = true;
            events.push(e);
        }
        if !is_room && weekday == one_on_one_day {
            let mut e = event(
                at(base, 14 * 60, bias),
                at(base, 14 * 60 + 30, bias),
                BusyType::Busy,
                &one_on_one,
                "",
            );
            e.is_recurring = true;
            events.push(e);
        }
        let meetings = if is_room {
            2 + rng.below(4)
        } else {
            rng.below(5)
        };
        for _ in 0..meetings {
            let slots = ((wh_end - wh_start - 60) / 30).max(1);
            let start = wh_start + 30 + 30 * i64::try_from(rng.below(slots as u64)).unwrap_or(0);
            let duration = 30 * (1 + i64::try_from(rng.below(3)).unwrap_or(0));
            let busy_type = match rng.below(100) {
                0..=74 => BusyType::Busy,
                75..=89 => BusyType::Tentative,
                90..=93 => BusyType::WorkingElsewhere,
                _ => BusyType::Free,
            };
            let private = !is_room && rng.chance(8);
            let subject = if private {
                "Private appointment"
            } else if is_room {
                "Booked"
            } else {
                rng.pick_str(SUBJECTS)
            };
            let mut e = event(
                at(base, start, bias),
                at(base, start + duration, bias),
                busy_type,
                subject,
                if is_room { "" } else { rng.pick_str(LOCATIONS) },
            );
            e.is_private = private;
            e.is_meeting = !private;
            events.push(e);
            // Back-to-back blocks: a few meetings that follow each other without a gap.
            if !is_room && rng.chance(15) {
                let mut t = start + duration;
                for _ in 0..2 {
                    if t + 30 > wh_end {
                        break;
                    }
                    events.push(event(
                        at(base, t, bias),
                        at(base, t + 30, bias),
                        BusyType::Busy,
                        rng.pick_str(SUBJECTS),
                        rng.pick_str(LOCATIONS),
                    ));
                    t += 30;
                }
            }
        }
    }
    events.sort_by_key(|e| (e.start, e.end));
    let days: Vec<Weekday> = days.into_iter().map(|d| add_days(d, shift)).collect();
    let email = format!("{local}@{domain}");
    Generated {
        person: Person {
            email,
            name,
            given_name: given,
            surname,
            time_zone: zone.id.to_owned(),
            iana_time_zone: zone.iana.to_owned(),
            is_room,
            free_busy_access: access,
            working_hours: WorkingHours {
                time_zone: WorkTimeZone::Windows(zone.id.to_owned()),
                periods: vec![WorkingPeriod {
                    days,
                    start_minute,
                    end_minute,
                }],
            },
            zone_rules: rules,
        },
        mailbox: Mailbox { events, oof },
    }
}

impl Tenant {
    /// Generates `count` people deterministically from `seed`, with calendars around `now`
    /// (from two days before to eight days after the current UTC date).
    pub fn generate(seed: u64, count: usize, domain: &str, now: Timestamp) -> Tenant {
        Tenant::generate_as(seed, count, domain, now, None)
    }

    /// As `generate`, but with today's (UTC) calendar drawn as the calendar of `as_weekday`:
    /// with `Some(Weekday::Thu)` today and tomorrow hold a Thursday's and a Friday's meetings
    /// whatever day it is, and each person's working days are moved along with them (a
    /// Monday–Friday week becomes, on a Saturday, Wednesday–Sunday). Every instant stays on the
    /// real dates. `None`, or today's own weekday, is `generate`.
    pub fn generate_as(
        seed: u64,
        count: usize,
        domain: &str,
        now: Timestamp,
        as_weekday: Option<Weekday>,
    ) -> Tenant {
        let today = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        let shift = weekday_shift(today, as_weekday);
        let mut tenant = Tenant {
            people: Vec::with_capacity(count),
            mailboxes: Vec::with_capacity(count),
            domain: domain.to_owned(),
            index: HashMap::with_capacity(count),
        };
        for i in 0..count {
            let mut g = generate_one(seed, i, domain, today, shift);
            if tenant.index.contains_key(&g.person.email) {
                // Common names repeat: later namesakes get their index in the address.
                let (local, domain) = g
                    .person
                    .email
                    .split_once('@')
                    .unwrap_or((&g.person.email, domain));
                g.person.email = format!("{local}.{i}@{domain}");
            }
            tenant.push(g.person, g.mailbox);
        }
        tenant
    }

    /// Adds a person (a scripted mailbox) to the directory, replacing one with the same address.
    pub fn push(&mut self, person: Person, mailbox: Mailbox) {
        let key = person.email.to_ascii_lowercase();
        if let Some(&i) = self.index.get(&key) {
            if let (Some(p), Some(m)) = (self.people.get_mut(i), self.mailboxes.get_mut(i)) {
                *p = person;
                *m = mailbox;
            }
            return;
        }
        self.index.insert(key, self.people.len());
        self.people.push(person);
        self.mailboxes.push(mailbox);
    }

    /// A scripted person: UTC, Monday–Friday 09:00–17:00, full details visible.
    pub fn scripted_person(email: &str) -> Person {
        let local = email.split('@').next().unwrap_or(email);
        let zone = zones::find_zone("UTC").unwrap_or(&KNOWN_ZONES[0]);
        Person {
            email: email.to_owned(),
            name: local.to_owned(),
            given_name: local.to_owned(),
            surname: String::new(),
            time_zone: zone.id.to_owned(),
            iana_time_zone: zone.iana.to_owned(),
            is_room: false,
            free_busy_access: FreeBusyAccess::Detailed,
            working_hours: WorkingHours {
                time_zone: WorkTimeZone::Windows(zone.id.to_owned()),
                periods: vec![WorkingPeriod {
                    days: vec![
                        Weekday::Mon,
                        Weekday::Tue,
                        Weekday::Wed,
                        Weekday::Thu,
                        Weekday::Fri,
                    ],
                    start_minute: 540,
                    end_minute: 1020,
                }],
            },
            zone_rules: zone.serializable(),
        }
    }

    /// The index of a person by SMTP address, case-insensitively.
    pub fn find(&self, email: &str) -> Option<usize> {
        self.index.get(&email.to_ascii_lowercase()).copied()
    }

    pub fn person(&self, email: &str) -> Option<&Person> {
        self.find(email).and_then(|i| self.people.get(i))
    }

    pub fn mailbox(&self, email: &str) -> Option<&Mailbox> {
        self.find(email).and_then(|i| self.mailboxes.get(i))
    }

    pub fn mailbox_mut(&mut self, email: &str) -> Option<&mut Mailbox> {
        self.find(email).and_then(|i| self.mailboxes.get_mut(i))
    }

    pub fn person_mut(&mut self, email: &str) -> Option<&mut Person> {
        self.find(email).and_then(|i| self.people.get_mut(i))
    }
}

/// Local wall-clock time of an instant in a person's zone (for display and tests).
pub fn local_time(person: &Person, at: Timestamp) -> DateTime {
    zones::to_local(&person.zone_rules, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_varied() {
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().expect("ts");
        let a = Tenant::generate(7, 400, "contoso.com", now);
        let b = Tenant::generate(7, 400, "contoso.com", now);
        assert_eq!(a.people.len(), 400);
        for (x, y) in a.mailboxes.iter().zip(&b.mailboxes) {
            assert_eq!(x.events, y.events);
        }
        let all: Vec<&CalendarEvent> = a.mailboxes.iter().flat_map(|m| &m.events).collect();
        for kind in [
            BusyType::Busy,
            BusyType::Tentative,
            BusyType::Oof,
            BusyType::WorkingElsewhere,
            BusyType::Free,
        ] {
            assert!(all.iter().any(|e| e.busy_type == kind), "no {kind:?} event");
        }
        assert!(all.iter().any(|e| e.is_private));
        assert!(all.iter().any(|e| e.is_all_day));
        assert!(all.iter().any(|e| e.is_recurring));
        assert!(all.iter().all(|e| e.start < e.end));
        assert!(a.people.iter().any(|p| p.is_room));
        assert!(a.mailboxes.iter().any(|m| m.oof.is_some()));
        let zones: std::collections::HashSet<_> = a.people.iter().map(|p| &p.time_zone).collect();
        assert!(zones.len() >= 5);
        let emails: std::collections::HashSet<_> = a.people.iter().map(|p| &p.email).collect();
        assert_eq!(emails.len(), 400, "addresses are unique");
        let c = Tenant::generate(8, 400, "contoso.com", now);
        assert_ne!(a.mailboxes[5].events, c.mailboxes[5].events);
    }

    #[test]
    fn meetings_sit_inside_working_hours_in_the_owners_zone() {
        let now: Timestamp = "2026-07-01T10:00:00Z".parse().expect("ts");
        let t = Tenant::generate(3, 200, "contoso.com", now);
        for (p, m) in t.people.iter().zip(&t.mailboxes) {
            let wh = &p.working_hours.periods[0];
            for e in m.events.iter().filter(|e| !e.is_all_day) {
                let local = local_time(p, e.start);
                let minute = i64::from(local.hour()) * 60 + i64::from(local.minute());
                assert!(
                    minute >= i64::from(wh.start_minute) && minute < i64::from(wh.end_minute),
                    "{} {} starts at {local}",
                    p.email,
                    e.subject.as_deref().unwrap_or_default()
                );
            }
        }
    }

    /// Events starting on one UTC date.
    fn events_on(t: &Tenant, date: &str) -> usize {
        let start: Timestamp = format!("{date}T00:00:00Z").parse().expect("ts");
        let end = start + SignedDuration::from_hours(24);
        t.mailboxes
            .iter()
            .flat_map(|m| &m.events)
            .filter(|e| start <= e.start && e.start < end)
            .count()
    }

    #[test]
    fn a_tenant_generated_as_of_thursday_has_working_days_on_a_weekend() {
        // Saturday 28 November 2026, generated as if it were a Thursday.
        let saturday: Timestamp = "2026-11-28T10:00:00Z".parse().expect("ts");
        let plain = Tenant::generate(5, 300, "contoso.com", saturday);
        let shifted = Tenant::generate_as(5, 300, "contoso.com", saturday, Some(Weekday::Thu));
        // A weekend has no meetings (only the odd out-of-office starting at a local midnight).
        let weekend = events_on(&plain, "2026-11-28");
        let (sat, sun) = (
            events_on(&shifted, "2026-11-28"),
            events_on(&shifted, "2026-11-29"),
        );
        // A real Thursday and Friday of the same tenant, for the density.
        let thursday: Timestamp = "2026-12-03T10:00:00Z".parse().expect("ts");
        let real = Tenant::generate(5, 300, "contoso.com", thursday);
        let (thu, fri) = (
            events_on(&real, "2026-12-03"),
            events_on(&real, "2026-12-04"),
        );
        assert!(sat > 300 && sun > 300, "{sat} and {sun} events");
        assert!(weekend * 20 < sat, "{weekend} events on a plain Saturday");
        for (got, want) in [(sat, thu), (sun, fri)] {
            assert!(
                got * 10 > want * 8 && got * 10 < want * 12,
                "{got} against {want}"
            );
        }
        // Working hours move with the calendar: Monday–Friday becomes Wednesday–Sunday, and
        // every timed meeting falls on a working day of its owner.
        for (p, m) in shifted.people.iter().zip(&shifted.mailboxes) {
            let days = &p.working_hours.periods[0].days;
            assert!(days.contains(&Weekday::Sat), "{}: {days:?}", p.email);
            assert!(!days.contains(&Weekday::Mon), "{}: {days:?}", p.email);
            for e in m.events.iter().filter(|e| !e.is_all_day) {
                let day = Weekday::from_jiff(local_time(p, e.start).date().weekday());
                assert!(days.contains(&day), "{} meets on {day:?}", p.email);
            }
        }
    }

    #[test]
    fn generating_as_of_todays_own_weekday_changes_nothing() {
        let thursday: Timestamp = "2026-12-03T10:00:00Z".parse().expect("ts");
        let a = Tenant::generate(9, 200, "contoso.com", thursday);
        let b = Tenant::generate_as(9, 200, "contoso.com", thursday, Some(Weekday::Thu));
        for (x, y) in a.mailboxes.iter().zip(&b.mailboxes) {
            assert_eq!(x.events, y.events);
        }
        for (x, y) in a.people.iter().zip(&b.people) {
            assert_eq!(x.working_hours, y.working_hours);
        }
    }
}
