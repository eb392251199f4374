//! The person record the API and the pages show (SPEC §5.1 "A person"), built from the status
//! board's entry with the privacy setting applied.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use calgate_core::status::{TimelineEntry, today};
use calgate_core::{EventView, OperatorState, OperatorStatus, WorkTimeZone};
use calgate_engine::EngineOptions;
use calgate_engine::board::{Freshness, PersonEntry};

/// A watched person's directory data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Person {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub extension: Option<String>,
    /// Where the person came from: `manual`, `import` or a directory id (set by the store,
    /// never taken from a request).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    pub state: OperatorState,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub next_free: Option<Timestamp>,
    pub event: Option<EventView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
    /// `unknown_reason` in words, for people (the code stays for support and scripts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_words: Option<&'static str>,
}

impl From<&OperatorStatus> for StatusView {
    fn from(s: &OperatorStatus) -> StatusView {
        StatusView {
            state: s.state,
            since: s.since,
            until: s.until,
            next_free: s.next_free,
            event: s.event.clone(),
            unknown_words: s.unknown_reason.as_deref().map(reason_words),
            unknown_reason: s.unknown_reason.clone(),
        }
    }
}

/// Why a status is unknown, in words: the status's own reasons, or the meaning of the source's
/// error code in the registry.
pub fn reason_words(reason: &str) -> &'static str {
    use calgate_core::status::{
        REASON_NO_DATA, REASON_OUTSIDE_WINDOW, REASON_SOURCE_NO_DATA, REASON_STALE,
    };
    if reason == REASON_NO_DATA {
        "The calendar has not been read yet."
    } else if reason == REASON_STALE {
        "The calendar could not be read for too long: what calgate last saw is too old to trust."
    } else if reason == REASON_OUTSIDE_WINDOW {
        "This time lies outside the days calgate reads."
    } else if reason == REASON_SOURCE_NO_DATA {
        "The calendar server has no free/busy data for this time."
    } else {
        calgate_core::Code::parse(reason)
            .map(calgate_core::Code::meaning)
            .unwrap_or("The calendar could not be read.")
    }
}

/// Microsoft Teams presence beside the calendar status (Graph's values: availability
/// `Available`, `Busy`, `DoNotDisturb`, `Away`, `Offline`, `PresenceUnknown`…; activity
/// `InACall`, `InAMeeting`, `Presenting`…). It never changes the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresenceView {
    pub availability: String,
    pub activity: String,
    pub as_of: Timestamp,
}

impl From<&calgate_core::Presence> for PresenceView {
    fn from(p: &calgate_core::Presence) -> PresenceView {
        PresenceView {
            availability: p.availability.clone(),
            activity: p.activity.clone(),
            as_of: p.as_of,
        }
    }
}

/// A board entry's presence (`None` when its source reads none).
pub fn presence_view(entry: Option<&PersonEntry>) -> Option<PresenceView> {
    entry
        .and_then(|e| e.presence.as_deref())
        .map(PresenceView::from)
}

#[derive(Debug, Clone, Serialize)]
pub struct OutOfOfficeView {
    pub message: Option<String>,
    pub until: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkingHoursView {
    pub time_zone: String,
    pub days: Vec<calgate_core::Weekday>,
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    pub code: String,
    pub message: String,
}

/// The §5.1 person record.
#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    pub email: String,
    pub name: Option<String>,
    pub extension: Option<String>,
    /// Where the person came from: `manual`, `import` or the id of the directory that syncs it.
    pub origin: String,
    /// The id of the calendar source that serves this person (by the routing table).
    pub source: String,
    pub status: StatusView,
    /// Teams presence; absent when the person's source does not read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence: Option<PresenceView>,
    pub today: Vec<TimelineEntry>,
    pub out_of_office: Option<OutOfOfficeView>,
    pub working_hours: Option<WorkingHoursView>,
    pub as_of: Option<Timestamp>,
    pub freshness: Freshness,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorView>,
}

/// A person's status on the board; unknown (`NO_DATA`) before their first answer.
pub fn status_view(entry: Option<&PersonEntry>) -> StatusView {
    entry
        .map(|e| StatusView::from(&e.status))
        .unwrap_or(StatusView {
            state: OperatorState::Unknown,
            since: None,
            until: None,
            next_free: None,
            event: None,
            unknown_words: Some(reason_words(calgate_core::status::REASON_NO_DATA)),
            unknown_reason: Some(calgate_core::status::REASON_NO_DATA.to_string()),
        })
}

/// Builds the record: the day's timeline in the site's time zone, privacy and status rules
/// as `options` say.
pub fn person_view(
    person: &Person,
    source: String,
    entry: Option<&PersonEntry>,
    options: &EngineOptions,
    now: Timestamp,
    stale_age: SignedDuration,
) -> PersonView {
    let availability = entry.and_then(|e| e.availability.as_deref());
    PersonView {
        email: person.email.clone(),
        name: person.name.clone(),
        extension: person.extension.clone(),
        origin: person
            .origin
            .clone()
            .unwrap_or_else(|| calgate_store::ORIGIN_MANUAL.to_string()),
        source,
        status: status_view(entry),
        presence: presence_view(entry),
        today: availability
            .map(|a| today(a, now, &options.site_time_zone, &options.status))
            .unwrap_or_default(),
        out_of_office: availability
            .and_then(|a| a.out_of_office.as_ref())
            .filter(|o| o.message.is_some() || o.end.is_some())
            .map(|o| OutOfOfficeView {
                message: o.message.clone(),
                until: o.end,
            }),
        working_hours: availability
            .and_then(|a| a.working_hours.as_deref())
            .and_then(working_hours_view),
        as_of: availability.map(|a| a.fetched_at),
        freshness: entry.map_or(Freshness::Pending, |e| e.freshness(now, stale_age)),
        error: availability
            .and_then(|a| a.error.as_ref())
            .map(|e| ErrorView {
                code: e.code.clone(),
                message: e.message.clone(),
            }),
    }
}

fn working_hours_view(hours: &calgate_core::WorkingHours) -> Option<WorkingHoursView> {
    let period = hours.periods.first()?;
    let time_zone = match &hours.time_zone {
        WorkTimeZone::Rules(rules) => {
            let minutes = -rules.bias_minutes;
            format!(
                "UTC{}{:02}:{:02}",
                if minutes < 0 { '-' } else { '+' },
                minutes.abs() / 60,
                minutes.abs() % 60
            )
        }
        other => other
            .iana_name()
            .map(str::to_string)
            .or_else(|| other.windows_name().map(str::to_string))
            .unwrap_or_default(),
    };
    let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    Some(WorkingHoursView {
        time_zone,
        days: period.days.clone(),
        start: hhmm(period.start_minute),
        end: hhmm(period.end_minute),
    })
}

pub use calgate_core::text::looks_like_email;
