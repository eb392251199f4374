//! The synthetic tenant: people (and rooms) with their mailboxes' events and out-of-office.

use std::collections::HashMap;

use calgate_core::{
    CalendarEvent, OutOfOffice, Weekday, WorkTimeZone, WorkingHours, WorkingPeriod,
};
use jiff::Timestamp;
use serde::Serialize;

/// One person or room of the directory.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub email: String,
    pub name: String,
    /// The Windows time-zone name (what EWS and Graph speak).
    pub time_zone: String,
    /// The same zone's IANA name.
    pub iana_time_zone: String,
    pub is_room: bool,
    #[serde(skip)]
    pub working_hours: WorkingHours,
}

/// One mailbox's calendar.
#[derive(Debug, Clone, Default)]
pub struct Mailbox {
    /// Sorted by start.
    pub events: Vec<CalendarEvent>,
    pub oof: Option<OutOfOffice>,
}

/// The whole directory. `people[i]` owns `mailboxes[i]`.
#[derive(Debug, Clone, Default)]
pub struct Tenant {
    pub people: Vec<Person>,
    pub mailboxes: Vec<Mailbox>,
    index: HashMap<String, usize>,
}

impl Tenant {
    /// Generates `count` people deterministically from `seed`, with events around `now`.
    pub fn generate(seed: u64, count: usize, domain: &str, now: Timestamp) -> Tenant {
        let _ = (seed, now);
        let mut tenant = Tenant::default();
        for i in 0..count {
            let person = Person {
                email: format!("user{i}@{domain}"),
                name: format!("User {i}"),
                time_zone: "W. Europe Standard Time".to_owned(),
                iana_time_zone: "Europe/Berlin".to_owned(),
                is_room: false,
                working_hours: WorkingHours {
                    time_zone: WorkTimeZone::Windows("W. Europe Standard Time".to_owned()),
                    periods: vec![WorkingPeriod {
                        days: vec![
                            Weekday::Mon,
                            Weekday::Tue,
                            Weekday::Wed,
                            Weekday::Thu,
                            Weekday::Fri,
                        ],
                        start_minute: 8 * 60,
                        end_minute: 17 * 60,
                    }],
                },
            };
            tenant.push(person, Mailbox::default());
        }
        tenant
    }

    /// Adds a person (a scripted mailbox) to the directory.
    pub fn push(&mut self, person: Person, mailbox: Mailbox) {
        self.index
            .insert(person.email.to_ascii_lowercase(), self.people.len());
        self.people.push(person);
        self.mailboxes.push(mailbox);
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
}
