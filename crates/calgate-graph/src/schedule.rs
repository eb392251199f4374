//! `POST /users/{id}/calendar/getSchedule`: the request (schedules, window, view interval), the
//! response (`scheduleInformation` per schedule: `availabilityView` digits, `scheduleItems`,
//! `workingHours`, or a per-schedule `error`), and its reading into calgate-core's
//! [`Availability`], one per requested schedule, in request order.
//!
//! Reading is lenient about fields calgate does not need and strict about those it does: an item
//! whose start, end or zone cannot be read makes its schedule an error (unknown), never a gap
//! that would look free.

use std::collections::HashMap;

use calgate_core::{
    Availability, BusyType, CalendarEvent, SerializableTimeZone, SourceError, TimeChange, Weekday,
    WorkTimeZone, WorkingHours, WorkingPeriod,
};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::lenient;
use crate::time::{DateTimeTimeZone, clip, resolve_zone};

/// Schedules per request unless configured otherwise (Graph's documented limit).
pub const DEFAULT_SCHEDULE_LIMIT: usize = 20;
/// The most schedules per request calgate can be configured to send.
pub const MAX_SCHEDULE_LIMIT: usize = 100;
/// `availabilityViewInterval` bounds and default, in minutes.
pub const MIN_INTERVAL_MINUTES: u32 = 5;
pub const MAX_INTERVAL_MINUTES: u32 = 1440;
pub const DEFAULT_INTERVAL_MINUTES: u32 = 30;
/// The largest getSchedule response read (100 schedules of a busy 62-day window fit easily).
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// How many schedules one request may carry: 1–100, default 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleLimit(usize);

impl ScheduleLimit {
    pub fn new(n: usize) -> Result<ScheduleLimit, RequestError> {
        if (1..=MAX_SCHEDULE_LIMIT).contains(&n) {
            Ok(ScheduleLimit(n))
        } else {
            Err(RequestError::LimitOutOfRange(n))
        }
    }

    pub fn get(self) -> usize {
        self.0
    }
}

impl Default for ScheduleLimit {
    fn default() -> ScheduleLimit {
        ScheduleLimit(DEFAULT_SCHEDULE_LIMIT)
    }
}

/// A request calgate refuses to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("no schedules requested")]
    NoSchedules,
    #[error("{count} schedules in one request; the limit is {limit}")]
    TooManySchedules { count: usize, limit: usize },
    #[error("schedule limit {0} is outside 1–{MAX_SCHEDULE_LIMIT}")]
    LimitOutOfRange(usize),
    #[error("blank schedule address")]
    BlankAddress,
    #[error("the window must end after it starts")]
    EmptyWindow,
    #[error(
        "availabilityViewInterval {0} is outside {MIN_INTERVAL_MINUTES}–{MAX_INTERVAL_MINUTES} minutes"
    )]
    IntervalOutOfRange(u32),
}

/// A getSchedule response calgate could not read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("response of {len} bytes exceeds the {limit}-byte cap")]
    TooLarge { len: usize, limit: usize },
    #[error("unreadable response: {0}")]
    Malformed(String),
}

impl ReadError {
    /// The error of an answer without its `value` list.
    pub(crate) fn no_value() -> ReadError {
        ReadError::Malformed("no `value` array".to_owned())
    }
}

/// Reads a JSON answer of at most `limit` bytes: the one size cap and parse every Graph reader
/// applies before looking inside.
pub(crate) fn read_capped<T: serde::de::DeserializeOwned>(
    body: &[u8],
    limit: usize,
) -> Result<T, ReadError> {
    if body.len() > limit {
        return Err(ReadError::TooLarge {
            len: body.len(),
            limit,
        });
    }
    serde_json::from_slice(body).map_err(|e| ReadError::Malformed(e.to_string()))
}

impl ReadError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ReadError::TooLarge { .. } => ErrorCode::ResponseTooLarge,
            ReadError::Malformed(_) => ErrorCode::MalformedResponse,
        }
    }
}

/// A validated getSchedule request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetSchedule {
    schedules: Vec<String>,
    start: Timestamp,
    end: Timestamp,
    interval_minutes: u32,
}

impl GetSchedule {
    pub fn new(
        schedules: Vec<String>,
        start: Timestamp,
        end: Timestamp,
        interval_minutes: u32,
        limit: ScheduleLimit,
    ) -> Result<GetSchedule, RequestError> {
        if schedules.is_empty() {
            return Err(RequestError::NoSchedules);
        }
        if schedules.len() > limit.get() {
            return Err(RequestError::TooManySchedules {
                count: schedules.len(),
                limit: limit.get(),
            });
        }
        if schedules.iter().any(|s| s.trim().is_empty()) {
            return Err(RequestError::BlankAddress);
        }
        if end <= start {
            return Err(RequestError::EmptyWindow);
        }
        if !(MIN_INTERVAL_MINUTES..=MAX_INTERVAL_MINUTES).contains(&interval_minutes) {
            return Err(RequestError::IntervalOutOfRange(interval_minutes));
        }
        Ok(GetSchedule {
            schedules,
            start,
            end,
            interval_minutes,
        })
    }

    pub fn schedules(&self) -> &[String] {
        &self.schedules
    }

    pub fn start(&self) -> Timestamp {
        self.start
    }

    pub fn end(&self) -> Timestamp {
        self.end
    }

    pub fn interval_minutes(&self) -> u32 {
        self.interval_minutes
    }

    /// The wire body: times in UTC, so that no `Prefer` header is needed for UTC answers.
    pub fn body(&self) -> GetScheduleBody {
        GetScheduleBody {
            schedules: self.schedules.clone(),
            start_time: DateTimeTimeZone::request_utc(self.start),
            end_time: DateTimeTimeZone::request_utc(self.end),
            availability_view_interval: Some(self.interval_minutes),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.body()).unwrap_or_default()
    }

    /// Reads a 200 answer into one [`Availability`] per requested schedule, in request order.
    /// Schedules are matched by `scheduleId` (case-insensitive); a schedule the answer does not
    /// mention, or mentions with an `error`, is an availability carrying that error.
    pub fn read_response(
        &self,
        body: &[u8],
        fetched_at: Timestamp,
    ) -> Result<Vec<Availability>, ReadError> {
        let response: ScheduleResponse = crate::schedule::read_capped(body, MAX_RESPONSE_BYTES)?;
        let infos = response.value.ok_or_else(ReadError::no_value)?;
        let mut by_id: HashMap<String, &ScheduleInformation> = HashMap::new();
        for info in &infos {
            if let Some(id) = &info.schedule_id {
                by_id.entry(id.trim().to_lowercase()).or_insert(info);
            }
        }
        Ok(self
            .schedules
            .iter()
            .map(
                |requested| match by_id.get(&requested.trim().to_lowercase()) {
                    Some(info) => info.to_availability(
                        requested,
                        self.start,
                        self.end,
                        self.interval_minutes,
                        fetched_at,
                    ),
                    None => Availability::failed(
                        requested.clone(),
                        self.start,
                        self.end,
                        fetched_at,
                        SourceError {
                            code: ErrorCode::ScheduleMissing.code().to_string(),
                            message: "the getSchedule answer has no entry for this schedule"
                                .to_owned(),
                        },
                    ),
                },
            )
            .collect())
    }
}

/// The getSchedule request body as it travels. calgate writes camelCase; Graph also takes the
/// PascalCase names Microsoft's SDKs write (`Schedules`, `StartTime`…), and so does the
/// simulator's reading of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetScheduleBody {
    #[serde(alias = "Schedules")]
    pub schedules: Vec<String>,
    #[serde(alias = "StartTime")]
    pub start_time: DateTimeTimeZone,
    #[serde(alias = "EndTime")]
    pub end_time: DateTimeTimeZone,
    #[serde(
        default,
        alias = "AvailabilityViewInterval",
        skip_serializing_if = "Option::is_none"
    )]
    pub availability_view_interval: Option<u32>,
}

/// The getSchedule response body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleResponse {
    #[serde(
        rename = "@odata.context",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub context: Option<String>,
    /// Unreadable elements are dropped; their schedules then read as missing.
    #[serde(default, deserialize_with = "lenient::list")]
    pub value: Option<Vec<ScheduleInformation>>,
}

/// The `@odata.context` Graph writes on getSchedule answers.
pub const SCHEDULE_CONTEXT: &str =
    "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)";

impl ScheduleResponse {
    pub fn new(value: Vec<ScheduleInformation>) -> ScheduleResponse {
        ScheduleResponse {
            context: Some(SCHEDULE_CONTEXT.to_owned()),
            value: Some(value),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One schedule's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleInformation {
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub schedule_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub availability_view: Option<String>,
    #[serde(
        default,
        deserialize_with = "items",
        skip_serializing_if = "Option::is_none"
    )]
    pub schedule_items: Option<Vec<ScheduleItem>>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub working_hours: Option<GraphWorkingHours>,
    /// Present when the schedule could not be read. A non-object `error` still counts as one.
    #[serde(
        default,
        deserialize_with = "schedule_error",
        skip_serializing_if = "Option::is_none"
    )]
    pub error: Option<FreeBusyError>,
}

/// `scheduleItems`: an element that is not an object is kept as an empty item, which then fails
/// to read (no start): dropping it could hide a busy block.
fn items<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<ScheduleItem>>, D::Error> {
    use serde_json::Value;
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::Array(list) => Some(
            list.into_iter()
                .map(|v| serde_json::from_value(v).unwrap_or_default())
                .collect(),
        ),
        _ => Some(vec![ScheduleItem::default()]),
    })
}

fn schedule_error<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<FreeBusyError>, D::Error> {
    use serde_json::Value;
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        v => Some(serde_json::from_value(v).unwrap_or_default()),
    })
}

/// `freeBusyError`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FreeBusyError {
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub response_code: Option<String>,
}

/// `scheduleItem`. Field order follows Graph's answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleItem {
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_private: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub subject: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub location: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_meeting: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_recurring: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_exception: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_reminder_set: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub start: Option<DateTimeTimeZone>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub end: Option<DateTimeTimeZone>,
}

/// `workingHours`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphWorkingHours {
    #[serde(default, deserialize_with = "lenient::list")]
    pub days_of_week: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub start_time: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub end_time: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub time_zone: Option<GraphTimeZone>,
}

/// `timeZoneBase` (a name) or `customTimeZone` (rules).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphTimeZone {
    #[serde(
        rename = "@odata.type",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub bias: Option<i32>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub standard_offset: Option<GraphZoneOffset>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub daylight_offset: Option<GraphZoneOffset>,
}

/// `standardTimeZoneOffset` / `daylightTimeZoneOffset`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphZoneOffset {
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub time: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub day_occurrence: Option<u8>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub day_of_week: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub month: Option<u8>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub year: Option<i16>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub daylight_bias: Option<i32>,
}

const CUSTOM_TIME_ZONE: &str = "#microsoft.graph.customTimeZone";

impl ScheduleInformation {
    /// The answer for a schedule Graph could not serve, e.g. `ErrorMailRecipientNotFound`.
    pub fn failed(schedule_id: &str, response_code: &str, message: &str) -> ScheduleInformation {
        ScheduleInformation {
            schedule_id: Some(schedule_id.to_owned()),
            error: Some(FreeBusyError {
                message: Some(message.to_owned()),
                response_code: Some(response_code.to_owned()),
            }),
            ..ScheduleInformation::default()
        }
    }

    /// Builds a schedule's answer from its events, as Graph would: the view digits over
    /// `[start, end)`, one item per event overlapping the window (details as the event carries
    /// them: hide them before calling when the caller may not see them), times in `zone`.
    pub fn build(
        schedule_id: &str,
        events: &[CalendarEvent],
        start: Timestamp,
        end: Timestamp,
        interval_minutes: u32,
        zone: &OutputZone,
        working_hours: Option<&WorkingHours>,
    ) -> ScheduleInformation {
        let items = events
            .iter()
            .filter(|e| e.start < end && e.end > start)
            .map(|e| ScheduleItem::from_event(e, zone))
            .collect();
        ScheduleInformation {
            schedule_id: Some(schedule_id.to_owned()),
            availability_view: Some(availability_view(events, start, end, interval_minutes)),
            schedule_items: Some(items),
            working_hours: working_hours.and_then(GraphWorkingHours::from_core),
            error: None,
        }
    }

    fn to_availability(
        &self,
        mailbox: &str,
        start: Timestamp,
        end: Timestamp,
        interval_minutes: u32,
        fetched_at: Timestamp,
    ) -> Availability {
        let fail = |code: ErrorCode, message: String| {
            Availability::failed(
                mailbox.to_owned(),
                start,
                end,
                fetched_at,
                SourceError {
                    code: code.code().to_string(),
                    message,
                },
            )
        };
        if let Some(err) = &self.error {
            let code = ErrorCode::for_item_error(err.response_code.as_deref());
            let message = match (&err.response_code, &err.message) {
                (Some(c), Some(m)) => format!("{}: {}", clip(c), clip(m)),
                (Some(c), None) => clip(c),
                (None, Some(m)) => clip(m),
                (None, None) => "Graph reported an error for this schedule".to_owned(),
            };
            return fail(code, message);
        }
        let events = match &self.schedule_items {
            Some(items) if !items.is_empty() => {
                let mut events = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item.to_event() {
                        Ok(e) => events.push(e),
                        Err(why) => {
                            return fail(
                                ErrorCode::MalformedSchedule,
                                format!("scheduleItems[{i}]: {why}"),
                            );
                        }
                    }
                }
                events
            }
            // No items: Graph still says how busy each slot is.
            _ => match &self.availability_view {
                Some(view) => events_from_view(view, start, end, interval_minutes),
                None => {
                    return fail(
                        ErrorCode::MalformedSchedule,
                        "neither scheduleItems nor availabilityView".to_owned(),
                    );
                }
            },
        };
        Availability {
            mailbox: mailbox.to_owned(),
            window_start: start,
            window_end: end,
            events,
            working_hours: self
                .working_hours
                .as_ref()
                .and_then(|w| w.to_core())
                .map(calgate_core::intern::share_working_hours),
            out_of_office: None,
            fetched_at,
            error: None,
        }
    }
}

impl ScheduleItem {
    pub fn from_event(e: &CalendarEvent, zone: &OutputZone) -> ScheduleItem {
        ScheduleItem {
            is_private: Some(e.is_private),
            status: Some(status_name(e.busy_type).to_owned()),
            subject: e.subject.as_deref().map(str::to_owned),
            location: e.location.as_deref().map(str::to_owned),
            is_meeting: Some(e.is_meeting),
            is_recurring: Some(e.is_recurring),
            is_exception: Some(false),
            is_reminder_set: Some(false),
            start: Some(zone.date_time(e.start)),
            end: Some(zone.date_time(e.end)),
        }
    }

    /// The event this item describes. Start and end must be readable and in order; the status
    /// is read leniently (anything unknown is `NoData`, never free).
    pub fn to_event(&self) -> Result<CalendarEvent, String> {
        let start = self
            .start
            .as_ref()
            .ok_or("no start")?
            .to_timestamp()
            .map_err(|e| format!("start: {e}"))?;
        let end = self
            .end
            .as_ref()
            .ok_or("no end")?
            .to_timestamp()
            .map_err(|e| format!("end: {e}"))?;
        if end < start {
            return Err("ends before it starts".to_owned());
        }
        let busy_type = self
            .status
            .as_deref()
            .map_or(BusyType::NoData, BusyType::parse_lenient);
        Ok(CalendarEvent {
            start,
            end,
            busy_type,
            subject: self.subject.as_deref().map(calgate_core::intern::intern),
            location: self.location.as_deref().map(calgate_core::intern::intern),
            is_private: self.is_private.unwrap_or(false),
            is_all_day: false,
            is_recurring: self.is_recurring.unwrap_or(false),
            is_meeting: self.is_meeting.unwrap_or(false),
        })
    }
}

/// Graph's `freeBusyStatus` spelling.
pub fn status_name(b: BusyType) -> &'static str {
    match b {
        BusyType::Free => "free",
        BusyType::Tentative => "tentative",
        BusyType::Busy => "busy",
        BusyType::Oof => "oof",
        BusyType::WorkingElsewhere => "workingElsewhere",
        BusyType::NoData => "unknown",
    }
}

/// Number of view slots for a window: the last slot may be partial.
fn slot_count(start: Timestamp, end: Timestamp, interval_minutes: u32) -> usize {
    let total = end.as_second().saturating_sub(start.as_second()).max(0);
    let step = i64::from(interval_minutes.max(1)) * 60;
    usize::try_from((total + step - 1) / step).unwrap_or(0)
}

/// The `availabilityView` string as Graph writes it today: for each slot the digit of the
/// strongest event overlapping it (by [`BusyType::rank`]), `0` where nothing is — and `0` for
/// working elsewhere too, which the current documentation folds into free (the older resource
/// page gave it `4`; [`events_from_view`] reads both).
pub fn availability_view(
    events: &[CalendarEvent],
    start: Timestamp,
    end: Timestamp,
    interval_minutes: u32,
) -> String {
    let n = slot_count(start, end, interval_minutes);
    let mut slots: Vec<Option<BusyType>> = vec![None; n];
    for e in events {
        // Working elsewhere is written as free: it must not hide a weaker event either.
        if matches!(e.busy_type, BusyType::Free | BusyType::WorkingElsewhere)
            || e.end <= start
            || e.start >= end
        {
            continue;
        }
        let first = index_of(e.start.max(start), start, interval_minutes);
        // The last slot the event touches: the one holding the instant just before its end.
        let last = index_of(
            e.end.min(end) - SignedDuration::from_nanos(1),
            start,
            interval_minutes,
        );
        for slot in slots.iter_mut().take(last.saturating_add(1)).skip(first) {
            if slot.is_none_or(|b| e.busy_type.rank() > b.rank()) {
                *slot = Some(e.busy_type);
            }
        }
    }
    slots
        .into_iter()
        .map(|s| s.map_or('0', BusyType::merged_digit))
        .collect()
}

fn index_of(at: Timestamp, start: Timestamp, interval_minutes: u32) -> usize {
    let secs = at.as_second().saturating_sub(start.as_second()).max(0);
    usize::try_from(secs / (i64::from(interval_minutes.max(1)) * 60)).unwrap_or(usize::MAX)
}

/// Events from `availabilityView` digits alone: runs of one digit become one event; `0` is free
/// time; a view shorter than the window leaves its tail unknown (`NoData`), never free.
pub fn events_from_view(
    view: &str,
    start: Timestamp,
    end: Timestamp,
    interval_minutes: u32,
) -> Vec<CalendarEvent> {
    let n = slot_count(start, end, interval_minutes);
    let step = SignedDuration::from_mins(i64::from(interval_minutes.max(1)));
    let slot_start = |i: usize| -> Timestamp {
        let k = i32::try_from(i).unwrap_or(i32::MAX);
        step.checked_mul(k)
            .and_then(|d| start.checked_add(d).ok())
            .map_or(end, |t| t.min(end))
    };
    let mut digits: Vec<BusyType> = view
        .chars()
        .take(n)
        .map(BusyType::from_merged_digit)
        .collect();
    digits.resize(n, BusyType::NoData);
    let mut events = Vec::new();
    let mut i = 0;
    while i < n {
        let b = digits[i];
        let mut j = i + 1;
        while j < n && digits[j] == b {
            j += 1;
        }
        if b != BusyType::Free {
            events.push(CalendarEvent::new(slot_start(i), slot_start(j), b));
        }
        i = j;
    }
    events
}

/// The zone answers are written in: UTC, or the one a `Prefer: outlook.timezone` header asks for.
#[derive(Debug, Clone)]
pub struct OutputZone {
    name: String,
    zone: TimeZone,
}

impl OutputZone {
    pub fn utc() -> OutputZone {
        OutputZone {
            name: "UTC".to_owned(),
            zone: TimeZone::UTC,
        }
    }

    /// Reads a `Prefer` header value such as `outlook.timezone="Pacific Standard Time"`
    /// (possibly among other comma-separated preferences). `None` when no time-zone preference
    /// is present; `Some(Err(name))` when it names a zone that is not known.
    pub fn from_prefer(header: &str) -> Option<Result<OutputZone, String>> {
        for pref in header.split(',') {
            let (key, value) = match pref.split_once('=') {
                Some(kv) => kv,
                None => continue,
            };
            if !key.trim().eq_ignore_ascii_case("outlook.timezone") {
                continue;
            }
            let name = value.trim().trim_matches('"').trim();
            return Some(match resolve_zone(name) {
                Some(zone) => Ok(OutputZone {
                    name: name.to_owned(),
                    zone,
                }),
                None => Err(name.to_owned()),
            });
        }
        None
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn date_time(&self, at: Timestamp) -> DateTimeTimeZone {
        DateTimeTimeZone::response_in(at, &self.name, &self.zone)
    }
}

const DAY_NAMES: [(Weekday, &str); 7] = [
    (Weekday::Mon, "monday"),
    (Weekday::Tue, "tuesday"),
    (Weekday::Wed, "wednesday"),
    (Weekday::Thu, "thursday"),
    (Weekday::Fri, "friday"),
    (Weekday::Sat, "saturday"),
    (Weekday::Sun, "sunday"),
];

fn day_name(d: Weekday) -> &'static str {
    DAY_NAMES
        .iter()
        .find(|(w, _)| *w == d)
        .map_or("monday", |(_, n)| n)
}

/// `08:00:00.0000000` → minutes after midnight (seconds ignored; 24:00 allowed as an end).
fn minutes_of(time: &str) -> Option<u16> {
    let mut parts = time.trim().split(':');
    let h: u16 = parts.next()?.parse().ok()?;
    let m: u16 = parts.next()?.parse().ok()?;
    let total = h.checked_mul(60)?.checked_add(m)?;
    (m < 60 && total <= 24 * 60).then_some(total)
}

fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}:00.0000000", minutes / 60, minutes % 60)
}

impl GraphWorkingHours {
    /// Graph has one period per person; the first of calgate's is written.
    pub fn from_core(w: &WorkingHours) -> Option<GraphWorkingHours> {
        let period = w.periods.first()?;
        Some(GraphWorkingHours {
            days_of_week: Some(
                period
                    .days
                    .iter()
                    .map(|d| day_name(*d).to_owned())
                    .collect(),
            ),
            start_time: Some(clock(period.start_minute)),
            end_time: Some(clock(period.end_minute)),
            time_zone: Some(GraphTimeZone::from_core(&w.time_zone)),
        })
    }

    /// Working hours are a nicety: anything unreadable gives `None` rather than an error.
    pub fn to_core(&self) -> Option<WorkingHours> {
        let days: Vec<Weekday> = self
            .days_of_week
            .as_ref()?
            .iter()
            .filter_map(|d| Weekday::parse(d))
            .collect();
        let start_minute = minutes_of(self.start_time.as_deref()?)?;
        let end_minute = minutes_of(self.end_time.as_deref()?)?;
        let time_zone = self.time_zone.as_ref()?.to_core()?;
        Some(WorkingHours {
            time_zone,
            periods: vec![WorkingPeriod {
                days,
                start_minute,
                end_minute,
            }],
        })
    }
}

impl GraphTimeZone {
    fn from_core(z: &WorkTimeZone) -> GraphTimeZone {
        match z {
            WorkTimeZone::Windows(name) => GraphTimeZone {
                name: Some(name.clone()),
                ..GraphTimeZone::default()
            },
            // Graph names zones the Windows way; an IANA name outside the table goes as is.
            WorkTimeZone::Iana(name) => GraphTimeZone {
                name: Some(
                    calgate_core::iana_to_windows(name).map_or_else(|| name.clone(), str::to_owned),
                ),
                ..GraphTimeZone::default()
            },
            WorkTimeZone::Rules(rules) => GraphTimeZone {
                odata_type: Some(CUSTOM_TIME_ZONE.to_owned()),
                name: Some("Customized Time Zone".to_owned()),
                bias: Some(rules.bias_minutes),
                standard_offset: rules
                    .standard
                    .as_ref()
                    .map(|c| GraphZoneOffset::from_change(c, false)),
                daylight_offset: rules
                    .daylight
                    .as_ref()
                    .map(|c| GraphZoneOffset::from_change(c, true)),
            },
        }
    }

    fn to_core(&self) -> Option<WorkTimeZone> {
        let custom = self
            .odata_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(CUSTOM_TIME_ZONE))
            || self.bias.is_some();
        if custom {
            // Graph's reference says a positive bias is east of UTC, yet the answers seen in
            // practice carry Exchange's sign (480 for Pacific), which calgate-core also uses.
            return Some(WorkTimeZone::Rules(SerializableTimeZone {
                bias_minutes: self.bias?,
                standard: self
                    .standard_offset
                    .as_ref()
                    .and_then(GraphZoneOffset::to_change),
                daylight: self
                    .daylight_offset
                    .as_ref()
                    .and_then(GraphZoneOffset::to_change),
            }));
        }
        let name = self.name.as_deref()?.trim();
        if name.is_empty() {
            return None;
        }
        Some(if name.contains('/') {
            WorkTimeZone::Iana(name.to_owned())
        } else {
            WorkTimeZone::Windows(name.to_owned())
        })
    }
}

impl GraphZoneOffset {
    fn from_change(c: &TimeChange, daylight: bool) -> GraphZoneOffset {
        let secs = c.time_of_day_s;
        GraphZoneOffset {
            time: Some(format!(
                "{:02}:{:02}:{:02}.0000000",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            )),
            day_occurrence: Some(c.day_order),
            day_of_week: Some(day_name(c.day_of_week).to_owned()),
            month: Some(c.month),
            year: Some(c.year.unwrap_or(0)),
            daylight_bias: daylight.then_some(c.bias_minutes),
        }
    }

    fn to_change(&self) -> Option<TimeChange> {
        let time = self.time.as_deref()?;
        let mut parts = time.split(':');
        let h: u32 = parts.next()?.trim().parse().ok()?;
        let m: u32 = parts.next()?.trim().parse().ok()?;
        let s: u32 = parts
            .next()
            .and_then(|s| s.split('.').next())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        Some(TimeChange {
            bias_minutes: self.daylight_bias.unwrap_or(0),
            time_of_day_s: h * 3600 + m * 60 + s,
            day_order: self.day_occurrence?,
            month: self.month?,
            day_of_week: Weekday::parse(self.day_of_week.as_deref()?)?,
            year: self.year.filter(|y| *y != 0),
        })
    }
}
