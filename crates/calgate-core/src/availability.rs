//! A person's calendar for a window, as fetched from a source.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::busy::BusyType;
use crate::tz::WorkTimeZone;

/// One calendar event. Details (`subject`, `location`, flags) are present only when the source
/// gave them (EWS Detailed views with enough permission, Graph scheduleItems). Subjects and
/// locations are shared texts ([`crate::intern`]): calendars repeat them, and a watched
/// working day holds about ten per person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEvent {
    pub start: Timestamp,
    pub end: Timestamp,
    pub busy_type: BusyType,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::intern::serde_opt"
    )]
    pub subject: Option<Arc<str>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::intern::serde_opt"
    )]
    pub location: Option<Arc<str>>,
    #[serde(default)]
    pub is_private: bool,
    #[serde(default)]
    pub is_all_day: bool,
    #[serde(default)]
    pub is_recurring: bool,
    #[serde(default)]
    pub is_meeting: bool,
}

impl CalendarEvent {
    /// A bare event with no details.
    pub fn new(start: Timestamp, end: Timestamp, busy_type: BusyType) -> CalendarEvent {
        CalendarEvent {
            start,
            end,
            busy_type,
            subject: None,
            location: None,
            is_private: false,
            is_all_day: false,
            is_recurring: false,
            is_meeting: false,
        }
    }

    /// Whether the event covers the instant (start inclusive, end exclusive).
    pub fn covers(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }
}

/// A day of the week, spelled as the API and the portal show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    pub fn to_jiff(self) -> jiff::civil::Weekday {
        match self {
            Weekday::Mon => jiff::civil::Weekday::Monday,
            Weekday::Tue => jiff::civil::Weekday::Tuesday,
            Weekday::Wed => jiff::civil::Weekday::Wednesday,
            Weekday::Thu => jiff::civil::Weekday::Thursday,
            Weekday::Fri => jiff::civil::Weekday::Friday,
            Weekday::Sat => jiff::civil::Weekday::Saturday,
            Weekday::Sun => jiff::civil::Weekday::Sunday,
        }
    }

    pub fn from_jiff(w: jiff::civil::Weekday) -> Weekday {
        match w {
            jiff::civil::Weekday::Monday => Weekday::Mon,
            jiff::civil::Weekday::Tuesday => Weekday::Tue,
            jiff::civil::Weekday::Wednesday => Weekday::Wed,
            jiff::civil::Weekday::Thursday => Weekday::Thu,
            jiff::civil::Weekday::Friday => Weekday::Fri,
            jiff::civil::Weekday::Saturday => Weekday::Sat,
            jiff::civil::Weekday::Sunday => Weekday::Sun,
        }
    }

    /// Parses EWS `DayOfWeek` names (`Monday`, …) and the short API names (`mon`, …).
    pub fn parse(s: &str) -> Option<Weekday> {
        let t = s.trim().to_ascii_lowercase();
        let short = t.get(..3)?;
        Weekday::ALL
            .into_iter()
            .find(|d| format!("{d:?}").to_ascii_lowercase() == short)
    }
}

/// A span of working time on some weekdays, in minutes after local midnight.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WorkingPeriod {
    pub days: Vec<Weekday>,
    pub start_minute: u16,
    pub end_minute: u16,
}

/// A person's working hours in their own time zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WorkingHours {
    pub time_zone: WorkTimeZone,
    pub periods: Vec<WorkingPeriod>,
}

/// Out-of-office (automatic reply) state, where the source provides it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OutOfOffice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
}

/// Why a source could not give a mailbox's calendar. `code` is a stable code such as
/// `EWS_ERROR_MAIL_RECIPIENT_NOT_FOUND`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceError {
    pub code: String,
    pub message: String,
}

/// One mailbox's calendar over a window, as fetched at `fetched_at`.
///
/// Events outside `[window_start, window_end)` may be present (a meeting that began yesterday);
/// nothing is known about instants outside the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub mailbox: String,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    pub events: Vec<CalendarEvent>,
    /// Shared: most people keep one of a few sets of hours ([`crate::intern`]).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::intern::serde_hours"
    )]
    pub working_hours: Option<Arc<WorkingHours>>,
    /// Boxed, like `error`: few people have one, and the board keeps an `Availability` for
    /// every watched person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_office: Option<Box<OutOfOffice>>,
    pub fetched_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Box<SourceError>>,
}

impl Availability {
    /// An availability that carries only an error: every instant is unknown.
    pub fn failed(
        mailbox: impl Into<String>,
        window_start: Timestamp,
        window_end: Timestamp,
        fetched_at: Timestamp,
        error: SourceError,
    ) -> Availability {
        Availability {
            mailbox: mailbox.into(),
            window_start,
            window_end,
            events: Vec::new(),
            working_hours: None,
            out_of_office: None,
            fetched_at,
            error: Some(Box::new(error)),
        }
    }
}
