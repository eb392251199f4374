//! The person record the API and the pages show (SPEC §5.1 "A person"), built from the status
//! board's entry with the privacy setting applied.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use calgate_core::{
    Availability, BusyType, EventView, OperatorState, OperatorStatus, Privacy, WorkTimeZone,
};
use calgate_engine::board::{Freshness, PersonEntry, freshness};

/// What operators see in place of a private event's subject.
pub const PRIVATE_SUBJECT: &str = "Private appointment";

/// A watched person's directory data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Person {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub extension: Option<String>,
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
}

impl From<&OperatorStatus> for StatusView {
    fn from(s: &OperatorStatus) -> StatusView {
        StatusView {
            state: s.state,
            since: s.since,
            until: s.until,
            next_free: s.next_free,
            event: s.event.clone(),
            unknown_reason: s.unknown_reason.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub start: Timestamp,
    pub end: Timestamp,
    pub busy_type: BusyType,
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub private: bool,
    pub all_day: bool,
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
    pub status: StatusView,
    pub today: Vec<TimelineEntry>,
    pub out_of_office: Option<OutOfOfficeView>,
    pub working_hours: Option<WorkingHoursView>,
    pub as_of: Option<Timestamp>,
    pub freshness: Freshness,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorView>,
}

/// Builds the record. `day` is the operator's day `[start, end)` in the site's time zone.
pub fn person_view(
    person: &Person,
    entry: Option<&PersonEntry>,
    privacy: Privacy,
    day: (Timestamp, Timestamp),
    now: Timestamp,
    stale_age: SignedDuration,
) -> PersonView {
    let availability = entry.and_then(|e| e.availability.as_ref());
    let status = entry
        .map(|e| StatusView::from(&e.status))
        .unwrap_or(StatusView {
            state: OperatorState::Unknown,
            since: None,
            until: None,
            next_free: None,
            event: None,
            unknown_reason: Some("NO_DATA".to_string()),
        });
    PersonView {
        email: person.email.clone(),
        name: person.name.clone(),
        extension: person.extension.clone(),
        status,
        today: availability
            .map(|a| timeline(a, privacy, day))
            .unwrap_or_default(),
        out_of_office: availability
            .and_then(|a| a.out_of_office.as_ref())
            .filter(|o| o.message.is_some() || o.end.is_some())
            .map(|o| OutOfOfficeView {
                message: o.message.clone(),
                until: o.end,
            }),
        working_hours: availability
            .and_then(|a| a.working_hours.as_ref())
            .and_then(working_hours_view),
        as_of: availability.map(|a| a.fetched_at),
        freshness: freshness(availability, now, stale_age),
        error: availability
            .and_then(|a| a.error.as_ref())
            .map(|e| ErrorView {
                code: e.code.clone(),
                message: e.message.clone(),
            }),
    }
}

/// The day's appointments, privacy applied, in start order.
pub fn timeline(
    availability: &Availability,
    privacy: Privacy,
    (day_start, day_end): (Timestamp, Timestamp),
) -> Vec<TimelineEntry> {
    let mut entries: Vec<TimelineEntry> = availability
        .events
        .iter()
        .filter(|e| e.start < day_end && e.end > day_start)
        .map(|e| {
            let (subject, location) = if e.is_private {
                (Some(PRIVATE_SUBJECT.to_string()), None)
            } else {
                match privacy {
                    Privacy::StatusOnly => (None, None),
                    Privacy::Subject => (e.subject.clone(), None),
                    Privacy::SubjectAndLocation => (e.subject.clone(), e.location.clone()),
                }
            };
            TimelineEntry {
                start: e.start,
                end: e.end,
                busy_type: e.busy_type,
                subject,
                location,
                private: e.is_private,
                all_day: e.is_all_day,
            }
        })
        .collect();
    entries.sort_by_key(|e| (e.start, e.end));
    entries
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

#[cfg(test)]
mod tests {
    use super::*;
    use calgate_core::CalendarEvent;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn timeline_applies_privacy_and_hides_private_subjects() {
        let mut public = CalendarEvent::new(
            ts("2026-11-27T09:00:00Z"),
            ts("2026-11-27T10:00:00Z"),
            BusyType::Busy,
        );
        public.subject = Some("Budget review".into());
        public.location = Some("Room 3".into());
        let mut private = public.clone();
        private.start = ts("2026-11-27T11:00:00Z");
        private.end = ts("2026-11-27T12:00:00Z");
        private.is_private = true;
        private.subject = Some("Doctor".into());
        let mut tomorrow = public.clone();
        tomorrow.start = ts("2026-11-28T09:00:00Z");
        tomorrow.end = ts("2026-11-28T10:00:00Z");
        let a = Availability {
            mailbox: "a@contoso.com".into(),
            window_start: ts("2026-11-27T00:00:00Z"),
            window_end: ts("2026-11-29T00:00:00Z"),
            events: vec![private, tomorrow, public],
            working_hours: None,
            out_of_office: None,
            fetched_at: ts("2026-11-27T08:00:00Z"),
            error: None,
        };
        let day = (ts("2026-11-27T00:00:00Z"), ts("2026-11-28T00:00:00Z"));
        let full = timeline(&a, Privacy::SubjectAndLocation, day);
        assert_eq!(full.len(), 2, "tomorrow's event is not today's");
        assert_eq!(full[0].subject.as_deref(), Some("Budget review"));
        assert_eq!(full[0].location.as_deref(), Some("Room 3"));
        assert_eq!(full[1].subject.as_deref(), Some(PRIVATE_SUBJECT));
        assert_eq!(full[1].location, None);
        let subject_only = timeline(&a, Privacy::Subject, day);
        assert_eq!(subject_only[0].location, None);
        let status_only = timeline(&a, Privacy::StatusOnly, day);
        assert_eq!(status_only[0].subject, None);
        assert_eq!(status_only[1].subject.as_deref(), Some(PRIVATE_SUBJECT));
    }
}
