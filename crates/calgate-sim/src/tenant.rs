//! The synthetic tenant: people and rooms with their mailboxes' events and out-of-office,
//! generated deterministically from a seed around the current date, plus scripted mailboxes the
//! control API adds or rewrites.
//!
//! It is also the directory Graph lists: every person has a directory object id, an enabled or
//! disabled account, a mail address or none, phones and on-premises extension attributes; a
//! few groups nest one another; and every change (a person added, changed or removed) takes a
//! new directory version, so `/users/delta` can tell what changed since a delta token. A
//! generated tenant has a disabled account in every fifty people (index 7, 57, …) and an
//! account without a listed mail address in every fifty (index 23, 73, …); these are drawn from
//! the index, not the random stream, so the calendars stay as they were.
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

use std::collections::{BTreeMap, HashMap};

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
    /// The directory object id (a GUID), stable across renames; given by the tenant when empty.
    pub id: String,
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
    /// What the directory lists beyond name and address.
    pub directory: DirectoryFields,
    /// The directory version of the last change to this person (0: as generated).
    #[serde(skip)]
    pub changed: u64,
}

/// A person's directory properties as Graph lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DirectoryFields {
    pub account_enabled: bool,
    /// Whether `mail` is listed (false: an account whose `mail` is null; the mailbox still
    /// answers under its address, which stays the user principal name).
    pub mail_listed: bool,
    /// `businessPhones` (the first one is the extension an operator dials).
    pub business_phones: Vec<String>,
    pub mobile_phone: Option<String>,
    /// `onPremisesExtensionAttributes`: `extensionAttribute1`…`15` (index 0 is number 1).
    pub extension_attributes: [Option<String>; 15],
    pub department: Option<String>,
}

impl DirectoryFields {
    /// An enabled account with a listed mail address and nothing else.
    pub fn enabled() -> DirectoryFields {
        DirectoryFields {
            account_enabled: true,
            mail_listed: true,
            ..DirectoryFields::default()
        }
    }
}

/// The directory object id of the generated person at `index` (Graph user ids are GUIDs).
pub fn user_id(index: usize) -> String {
    format!("00000000-0000-4000-8000-{:012x}", index + 1)
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Member {
    /// A person, by directory id.
    User { id: String },
    /// A nested group, by id.
    Group { id: String },
    /// An organizational contact (an outside address in the directory, not a user).
    Contact {
        id: String,
        name: String,
        mail: String,
    },
}

/// A security group of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub members: Vec<Member>,
}

/// The id of the generated "Front desk" group: some people, the nested "Support" group (which
/// nests "Support leads"), a disabled account and an outside contact among its members.
pub const FRONT_DESK_GROUP_ID: &str = "6b2a0f1e-7c3d-4e5f-9a0b-000000000001";
pub const SUPPORT_GROUP_ID: &str = "6b2a0f1e-7c3d-4e5f-9a0b-000000000002";
pub const SUPPORT_LEADS_GROUP_ID: &str = "6b2a0f1e-7c3d-4e5f-9a0b-000000000003";

/// A person the directory no longer lists, as `/users/delta` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub id: String,
    /// The directory version of the removal.
    pub version: u64,
    /// Deleted for good (`deleted`), rather than to the recycle bin (`changed`).
    pub permanent: bool,
}

/// One mailbox's calendar.
#[derive(Debug, Clone, Default)]
pub struct Mailbox {
    /// Sorted by start.
    pub events: Vec<CalendarEvent>,
    pub oof: Option<OutOfOffice>,
    /// Teams presence (availability, activity) as set through the control API; `None` is
    /// Graph's `Available`/`Available`.
    pub presence: Option<(String, String)>,
}

impl Mailbox {
    /// The presence Graph answers for this person.
    pub fn presence(&self) -> (&str, &str) {
        match &self.presence {
            Some((availability, activity)) => (availability, activity),
            None => ("Available", "Available"),
        }
    }

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
    pub groups: Vec<Group>,
    /// Bumped by every change of the directory; people's `changed` and removals carry it.
    pub directory_version: u64,
    /// People removed, in the order removed.
    pub removals: Vec<Removal>,
    /// Delta tokens carry it: a new value expires every token given out before.
    pub delta_epoch: u32,
    index: HashMap<String, usize>,
    /// Lower-cased directory id → index, in id order (delta and member pages follow it).
    by_id: BTreeMap<String, usize>,
    /// The next index a directory id is minted from (ids are never given twice).
    next_index: usize,
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
    let directory = generated_directory_fields(i, is_room);
    Generated {
        person: Person {
            id: user_id(i),
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
            directory,
            changed: 0,
        },
        mailbox: Mailbox {
            events,
            oof,
            presence: None,
        },
    }
}

const DEPARTMENTS: &[&str] = &["Sales", "Support", "Finance", "Engineering", "Operations"];

/// The directory side of the generated person at `index`, drawn from the index alone (the
/// random stream draws the calendars and must not shift).
fn generated_directory_fields(index: usize, is_room: bool) -> DirectoryFields {
    let mut extension_attributes: [Option<String>; 15] = Default::default();
    if !is_room {
        extension_attributes[0] = Some(format!("{}", 5000 + index));
    }
    DirectoryFields {
        account_enabled: index % 50 != 7,
        mail_listed: index % 50 != 23,
        business_phones: if is_room {
            Vec::new()
        } else {
            vec![format!("{}", 2000 + index)]
        },
        mobile_phone: (!is_room && index.is_multiple_of(3))
            .then(|| format!("+44 7700 {:06}", 900_000 + index)),
        extension_attributes,
        department: (!is_room).then(|| DEPARTMENTS[index % DEPARTMENTS.len()].to_owned()),
    }
}

/// The generated groups: "Front desk" holds people 0–7 (7 is a disabled account) and the
/// "Support" group; "Support" holds people 8–15, "Support leads" and an outside contact;
/// "Support leads" holds people 16–19, 23 (an account without a mail address) and 2 again
/// (also a direct member of "Front desk"). People beyond the tenant's size are left out.
fn generated_groups(count: usize) -> Vec<Group> {
    let users = |range: &mut dyn Iterator<Item = usize>| -> Vec<Member> {
        range
            .filter(|&i| i < count)
            .map(|i| Member::User { id: user_id(i) })
            .collect()
    };
    let mut front_desk = users(&mut (0..8));
    front_desk.push(Member::Group {
        id: SUPPORT_GROUP_ID.to_owned(),
    });
    let mut support = users(&mut (8..16));
    support.push(Member::Group {
        id: SUPPORT_LEADS_GROUP_ID.to_owned(),
    });
    support.push(Member::Contact {
        id: "7c3d0f1e-2a4b-4c5d-8e6f-000000000001".to_owned(),
        name: "Outsourced helpdesk".to_owned(),
        mail: "helpdesk@partner.example".to_owned(),
    });
    let leads = users(&mut [16, 17, 18, 19, 23, 2].into_iter());
    vec![
        Group {
            id: FRONT_DESK_GROUP_ID.to_owned(),
            name: "Front desk".to_owned(),
            members: front_desk,
        },
        Group {
            id: SUPPORT_GROUP_ID.to_owned(),
            name: "Support".to_owned(),
            members: support,
        },
        Group {
            id: SUPPORT_LEADS_GROUP_ID.to_owned(),
            name: "Support leads".to_owned(),
            members: leads,
        },
    ]
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
            groups: generated_groups(count),
            index: HashMap::with_capacity(count),
            ..Tenant::default()
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
            tenant.insert(g.person, g.mailbox);
        }
        tenant.next_index = count;
        tenant
    }

    /// Adds a person (a scripted mailbox) to the directory, replacing one with the same address
    /// (which keeps its directory id); either is a change of the directory.
    pub fn push(&mut self, mut person: Person, mailbox: Mailbox) {
        person.changed = self.bump();
        self.insert(person, mailbox);
    }

    fn insert(&mut self, mut person: Person, mailbox: Mailbox) {
        let key = person.email.to_ascii_lowercase();
        if let Some(&i) = self.index.get(&key) {
            if let (Some(p), Some(m)) = (self.people.get_mut(i), self.mailboxes.get_mut(i)) {
                person.id = std::mem::take(&mut p.id);
                *p = person;
                *m = mailbox;
            }
            return;
        }
        if person.id.is_empty() {
            person.id = user_id(self.next_index);
            self.next_index += 1;
        }
        self.index.insert(key, self.people.len());
        self.by_id
            .insert(person.id.to_ascii_lowercase(), self.people.len());
        self.people.push(person);
        self.mailboxes.push(mailbox);
    }

    /// A new directory version.
    fn bump(&mut self) -> u64 {
        self.directory_version += 1;
        self.directory_version
    }

    /// Marks the person at `email` changed in the directory (after an edit of its directory
    /// fields or name); false when there is no such person.
    pub fn touch(&mut self, email: &str) -> bool {
        let Some(i) = self.find(email) else {
            return false;
        };
        let version = self.bump();
        if let Some(p) = self.people.get_mut(i) {
            p.changed = version;
        }
        true
    }

    /// Removes a person and their mailbox from the directory (and from every group), as a
    /// deletion to the recycle bin, or for good when `permanent`.
    pub fn remove(&mut self, email: &str, permanent: bool) -> Option<Person> {
        let i = self.find(email)?;
        if i >= self.people.len() || i >= self.mailboxes.len() {
            return None;
        }
        let person = self.people.remove(i);
        self.mailboxes.remove(i);
        self.reindex();
        for g in &mut self.groups {
            g.members.retain(
                |m| !matches!(m, Member::User { id } if id.eq_ignore_ascii_case(&person.id)),
            );
        }
        let version = self.bump();
        self.removals.push(Removal {
            id: person.id.clone(),
            version,
            permanent,
        });
        Some(person)
    }

    fn reindex(&mut self) {
        self.index = self
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.email.to_ascii_lowercase(), i))
            .collect();
        self.by_id = self
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.to_ascii_lowercase(), i))
            .collect();
    }

    /// The index of a person by directory id, case-insensitively.
    pub fn find_id(&self, id: &str) -> Option<usize> {
        self.by_id.get(&id.to_ascii_lowercase()).copied()
    }

    /// People in directory-id order whose id sorts after `after` (all when `None`).
    pub fn people_by_id_after<'a>(
        &'a self,
        after: Option<&str>,
    ) -> impl Iterator<Item = &'a Person> + 'a {
        use std::ops::Bound;
        let start = match after {
            Some(a) => Bound::Excluded(a.to_ascii_lowercase()),
            None => Bound::Unbounded,
        };
        self.by_id
            .range((start, Bound::Unbounded))
            .filter_map(|(_, &i)| self.people.get(i))
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id.eq_ignore_ascii_case(id))
    }

    /// A group's members with nested groups flattened, each once (nested groups are listed
    /// too, as Graph lists them); people the directory no longer holds are left out.
    pub fn transitive_members(&self, group_id: &str) -> Option<Vec<Member>> {
        let root = self.group(group_id)?;
        let mut seen_groups = vec![root.id.to_ascii_lowercase()];
        let mut queue = vec![root];
        let mut out: Vec<Member> = Vec::new();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        while let Some(g) = queue.pop() {
            for m in &g.members {
                let id = match m {
                    Member::User { id } | Member::Group { id } | Member::Contact { id, .. } => id,
                };
                if let Member::User { id } = m
                    && self.find_id(id).is_none()
                {
                    continue;
                }
                if let Member::Group { id } = m
                    && let Some(nested) = self.group(id)
                    && !seen_groups.contains(&id.to_ascii_lowercase())
                {
                    seen_groups.push(id.to_ascii_lowercase());
                    queue.push(nested);
                }
                if seen.insert(id.to_ascii_lowercase()) {
                    out.push(m.clone());
                }
            }
        }
        Some(out)
    }

    /// A scripted person: UTC, Monday–Friday 09:00–17:00, full details visible.
    pub fn scripted_person(email: &str) -> Person {
        let local = email.split('@').next().unwrap_or(email);
        let zone = zones::find_zone("UTC").unwrap_or(&KNOWN_ZONES[0]);
        Person {
            id: String::new(),
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
            directory: DirectoryFields::enabled(),
            changed: 0,
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
    fn the_directory_has_disabled_and_mailless_accounts_and_nested_groups() {
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().expect("ts");
        let t = Tenant::generate(7, 200, "contoso.com", now);
        let disabled = t
            .people
            .iter()
            .filter(|p| !p.directory.account_enabled)
            .count();
        let mailless = t.people.iter().filter(|p| !p.directory.mail_listed).count();
        assert_eq!((disabled, mailless), (4, 4));
        assert_eq!(t.people[0].id, user_id(0));
        assert_eq!(t.find_id(&user_id(199).to_uppercase()), Some(199));
        let members = t.transitive_members(FRONT_DESK_GROUP_ID).expect("group");
        let users: Vec<&str> = members
            .iter()
            .filter_map(|m| match m {
                Member::User { id } => Some(id.as_str()),
                _ => None,
            })
            .collect();
        // 0–7, 8–15, 16–19 and 23; person 2 once although listed twice.
        assert_eq!(users.len(), 21);
        assert!(users.contains(&user_id(23).as_str()));
        let groups = members
            .iter()
            .filter(|m| matches!(m, Member::Group { .. }))
            .count();
        let contacts = members
            .iter()
            .filter(|m| matches!(m, Member::Contact { .. }))
            .count();
        assert_eq!((groups, contacts), (2, 1));
        assert_eq!(t.transitive_members("no-such-group"), None);
    }

    #[test]
    fn directory_changes_take_new_versions_and_ids_stay() {
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().expect("ts");
        let mut t = Tenant::generate(7, 10, "contoso.com", now);
        assert_eq!(t.directory_version, 0);
        let fifth = t.people[5].email.clone();
        let sixth = (t.people[6].email.clone(), t.people[6].id.clone());
        t.push(
            Tenant::scripted_person("new@contoso.com"),
            Mailbox::default(),
        );
        let new = t.person("new@contoso.com").expect("added");
        assert_eq!((new.id.as_str(), new.changed), (user_id(10).as_str(), 1));
        assert!(t.touch(&fifth));
        assert_eq!(t.person(&fifth).map(|p| p.changed), Some(2));
        let gone = t.remove(&fifth, false).expect("removed");
        assert_eq!(
            t.removals.last().map(|r| (r.id.as_str(), r.version)),
            Some((gone.id.as_str(), 3))
        );
        assert!(t.person(&fifth).is_none());
        // The others keep their ids and their mailboxes.
        let after = t.person(&sixth.0).expect("still there");
        assert_eq!(after.id, sixth.1);
        let i = t.find(&sixth.0).expect("index");
        assert_eq!(t.find_id(&sixth.1), Some(i));
        assert_eq!(t.people.len(), t.mailboxes.len());
        // A later person never gets an id given before.
        t.push(
            Tenant::scripted_person("later@contoso.com"),
            Mailbox::default(),
        );
        assert_eq!(
            t.person("later@contoso.com").map(|p| p.id.clone()),
            Some(user_id(11))
        );
        assert_eq!(
            t.transitive_members(FRONT_DESK_GROUP_ID)
                .map(|m| m.iter().any(|m| *m
                    == Member::User {
                        id: gone.id.clone()
                    })),
            Some(false)
        );
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
