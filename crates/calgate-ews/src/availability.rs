//! GetUserAvailability: the request (a [`MailboxBatch`] of at most 100 addresses, a UTC window,
//! the view and merged interval) and its response, read into calgate-core [`Availability`] values,
//! one per requested mailbox.
//!
//! Answers echo no address: they are matched to the request by position, and a count mismatch
//! fails the whole batch. A slot's own error marks only that mailbox unknown.

use std::fmt::Write as _;
use std::time::Duration;

use calgate_core::{
    Availability, BusyType, CalendarEvent, SourceError, Weekday, WorkTimeZone, WorkingHours,
    WorkingPeriod,
};
use jiff::{SignedDuration, Timestamp};
use quick_xml::escape::escape;

use crate::envelope::{EwsRequest, ResponseStatus, ServerVersionInfo, SoapHeader, open_response};
use crate::error::{EwsError, MailboxErrorKind};
use crate::time::{UTC_TIME_ZONE, read_instant, read_time_zone, write_instant};
use crate::xml::{Cursor, Ns};

/// Exchange refuses more than 100 identities per request (`ErrorMailboxDataArrayTooBig`).
pub const MAX_MAILBOXES_PER_REQUEST: usize = 100;
/// The longest window Exchange accepts by default (42 days); calgate asks for a day or two.
pub const MAX_WINDOW: Duration = Duration::from_secs(42 * 24 * 60 * 60);

/// Trims and checks an SMTP address enough to keep the request well-formed and meaningful.
pub(crate) fn checked_address(address: String) -> Result<String, EwsError> {
    let a = address.trim();
    let ok = !a.is_empty()
        && a.len() <= 320
        && a.contains('@')
        && !a.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(a.to_string())
    } else {
        Err(EwsError::InvalidRequest {
            reason: format!("not a mailbox address: {a:?}"),
        })
    }
}

/// Up to [`MAX_MAILBOXES_PER_REQUEST`] mailbox addresses: the type cannot hold more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxBatch {
    addresses: Vec<String>,
}

impl MailboxBatch {
    pub fn new() -> MailboxBatch {
        MailboxBatch::default()
    }

    /// Adds an address; fails when the batch is full or the address is unusable.
    pub fn push(&mut self, address: impl Into<String>) -> Result<(), EwsError> {
        if self.addresses.len() >= MAX_MAILBOXES_PER_REQUEST {
            return Err(EwsError::InvalidRequest {
                reason: format!("a batch holds at most {MAX_MAILBOXES_PER_REQUEST} mailboxes"),
            });
        }
        self.addresses.push(checked_address(address.into())?);
        Ok(())
    }

    /// One batch from at most 100 addresses.
    pub fn try_from_addresses<I, S>(addresses: I) -> Result<MailboxBatch, EwsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut batch = MailboxBatch::new();
        for a in addresses {
            batch.push(a)?;
        }
        Ok(batch)
    }

    /// Splits any number of addresses into full batches (the last one may be partial).
    pub fn split<I, S>(addresses: I) -> Result<Vec<MailboxBatch>, EwsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut out: Vec<MailboxBatch> = Vec::new();
        for a in addresses {
            match out.last_mut() {
                Some(b) if b.len() < MAX_MAILBOXES_PER_REQUEST => b.push(a)?,
                _ => {
                    let mut b = MailboxBatch::new();
                    b.push(a)?;
                    out.push(b);
                }
            }
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.addresses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
    }

    pub fn addresses(&self) -> &[String] {
        &self.addresses
    }
}

/// The `RequestedView` of `FreeBusyViewOptions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestedView {
    MergedOnly,
    FreeBusy,
    FreeBusyMerged,
    Detailed,
    DetailedMerged,
}

impl RequestedView {
    pub fn wire_name(self) -> &'static str {
        match self {
            RequestedView::MergedOnly => "MergedOnly",
            RequestedView::FreeBusy => "FreeBusy",
            RequestedView::FreeBusyMerged => "FreeBusyMerged",
            RequestedView::Detailed => "Detailed",
            RequestedView::DetailedMerged => "DetailedMerged",
        }
    }
}

/// `MailboxData/AttendeeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttendeeType {
    Organizer,
    Required,
    Optional,
    Room,
    Resource,
}

impl AttendeeType {
    pub fn wire_name(self) -> &'static str {
        match self {
            AttendeeType::Organizer => "Organizer",
            AttendeeType::Required => "Required",
            AttendeeType::Optional => "Optional",
            AttendeeType::Room => "Room",
            AttendeeType::Resource => "Resource",
        }
    }
}

/// One GetUserAvailability call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailabilityRequest {
    pub batch: MailboxBatch,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    pub view: RequestedView,
    /// `MergedFreeBusyIntervalInMinutes`: 5–1440 and no longer than the window.
    pub merged_interval_minutes: u16,
    pub attendee_type: AttendeeType,
    pub exclude_conflicts: Option<bool>,
}

impl AvailabilityRequest {
    /// A request with calgate's defaults: 15-minute merged interval, attendees `Required`.
    pub fn new(
        batch: MailboxBatch,
        window_start: Timestamp,
        window_end: Timestamp,
        view: RequestedView,
    ) -> AvailabilityRequest {
        AvailabilityRequest {
            batch,
            window_start,
            window_end,
            view,
            merged_interval_minutes: 15,
            attendee_type: AttendeeType::Required,
            exclude_conflicts: None,
        }
    }

    fn validate(&self) -> Result<(), EwsError> {
        let bad = |reason: String| Err(EwsError::InvalidRequest { reason });
        if self.batch.is_empty() {
            return bad("no mailboxes in the batch".into());
        }
        let window = self.window_end.duration_since(self.window_start);
        if window <= SignedDuration::ZERO {
            return bad("the window must end after it starts".into());
        }
        if window > SignedDuration::try_from(MAX_WINDOW).unwrap_or(SignedDuration::MAX) {
            return bad("the window is longer than 42 days".into());
        }
        let interval = i64::from(self.merged_interval_minutes);
        if !(5..=1440).contains(&interval) || interval * 60 > window.as_secs() {
            return bad(format!(
                "merged interval {interval} min must be 5-1440 and within the window"
            ));
        }
        Ok(())
    }

    /// The request, ready to send. Times go out as naive UTC under a UTC `t:TimeZone`.
    pub fn to_request(&self, header: &SoapHeader) -> Result<EwsRequest, EwsError> {
        self.validate()?;
        let mut body = String::with_capacity(1024 + self.batch.len() * 160);
        body.push_str("<m:GetUserAvailabilityRequest>");
        body.push_str(UTC_TIME_ZONE);
        body.push_str("<m:MailboxDataArray>");
        for a in self.batch.addresses() {
            let _ = write!(
                body,
                "<t:MailboxData><t:Email><t:Address>{}</t:Address></t:Email><t:AttendeeType>{}</t:AttendeeType>",
                escape(a.as_str()),
                self.attendee_type.wire_name()
            );
            if let Some(x) = self.exclude_conflicts {
                let _ = write!(body, "<t:ExcludeConflicts>{x}</t:ExcludeConflicts>");
            }
            body.push_str("</t:MailboxData>");
        }
        let _ = write!(
            body,
            "</m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>{}</t:StartTime><t:EndTime>{}</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>{}</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>{}</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>",
            write_instant(self.window_start),
            write_instant(self.window_end),
            self.merged_interval_minutes,
            self.view.wire_name()
        );
        Ok(EwsRequest::new("GetUserAvailability", header, &body))
    }
}

/// What the server actually returned (`FreeBusyViewType`); decide on this, not on what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FreeBusyViewType {
    None,
    MergedOnly,
    FreeBusy,
    FreeBusyMerged,
    Detailed,
    DetailedMerged,
    Unknown(String),
}

impl FreeBusyViewType {
    fn parse(s: &str) -> FreeBusyViewType {
        match s.trim() {
            "None" => FreeBusyViewType::None,
            "MergedOnly" => FreeBusyViewType::MergedOnly,
            "FreeBusy" => FreeBusyViewType::FreeBusy,
            "FreeBusyMerged" => FreeBusyViewType::FreeBusyMerged,
            "Detailed" => FreeBusyViewType::Detailed,
            "DetailedMerged" => FreeBusyViewType::DetailedMerged,
            other => FreeBusyViewType::Unknown(other.to_string()),
        }
    }
}

/// One mailbox's `FreeBusyView` as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeBusyView {
    pub view_type: FreeBusyViewType,
    /// Whether a `CalendarEventArray` was present (an empty one means "no events").
    pub has_event_array: bool,
    pub events: Vec<CalendarEvent>,
    /// `MergedFreeBusy` digits, when the view is merged.
    pub merged_free_busy: Option<String>,
    pub working_hours: Option<WorkingHours>,
}

/// A GetUserAvailability response: one slot per requested mailbox, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailabilityResponse {
    pub server_version: Option<ServerVersionInfo>,
    pub slots: Vec<Result<FreeBusyView, EwsError>>,
}

/// Reads a GetUserAvailability response body. Faults come back as their typed error.
pub fn read_availability_response(body: &[u8]) -> Result<AvailabilityResponse, EwsError> {
    let opened = open_response(body)?;
    let mut cur = opened.cursor;
    if !opened.root.is(Ns::Messages, "GetUserAvailabilityResponse") {
        return Err(EwsError::malformed(format!(
            "expected GetUserAvailabilityResponse, got {:?}",
            opened.root
        )));
    }
    let mut slots = Vec::new();
    while let Some(el) = cur.child()? {
        if el.is(Ns::Messages, "FreeBusyResponseArray") {
            while let Some(r) = cur.child()? {
                if r.is(Ns::Messages, "FreeBusyResponse") {
                    if slots.len() >= MAX_MAILBOXES_PER_REQUEST * 2 {
                        return Err(EwsError::malformed("far more answers than mailboxes"));
                    }
                    slots.push(read_free_busy_response(&mut cur)?);
                } else {
                    cur.skip()?;
                }
            }
        } else {
            cur.skip()?;
        }
    }
    Ok(AvailabilityResponse {
        server_version: opened.server_version,
        slots,
    })
}

fn read_free_busy_response(
    cur: &mut Cursor<'_>,
) -> Result<Result<FreeBusyView, EwsError>, EwsError> {
    let mut status = None;
    let mut view = None;
    while let Some(el) = cur.child()? {
        if el.is(Ns::Messages, "ResponseMessage") {
            let mut s = ResponseStatus::start(cur);
            while let Some(c) = cur.child()? {
                if !s.take(cur, &c)? {
                    cur.skip()?;
                }
            }
            status = Some(s);
        } else if el.is(Ns::Messages, "FreeBusyView") {
            view = Some(read_view(cur)?);
        } else {
            cur.skip()?;
        }
    }
    if let Some(s) = &status
        && s.is_error()
    {
        return Ok(Err(s.error(true)));
    }
    Ok(match view {
        Some(Ok(v)) if v.view_type != FreeBusyViewType::None => Ok(v),
        Some(Err(e)) => Err(e),
        _ => Err(bad_data("no free/busy view in a successful answer")),
    })
}

fn bad_data(message: &str) -> EwsError {
    EwsError::Mailbox {
        kind: MailboxErrorKind::BadData,
        response_code: String::new(),
        message: message.to_string(),
        back_off: None,
    }
}

/// Reads a `FreeBusyView`. The outer error is a broken document; the inner one is data in this
/// slot that cannot be trusted (which must not read as free).
fn read_view(cur: &mut Cursor<'_>) -> Result<Result<FreeBusyView, EwsError>, EwsError> {
    let mut view = FreeBusyView {
        view_type: FreeBusyViewType::Unknown(String::new()),
        has_event_array: false,
        events: Vec::new(),
        merged_free_busy: None,
        working_hours: None,
    };
    let mut broken = None;
    while let Some(el) = cur.child()? {
        if el.ns != Ns::Types {
            cur.skip()?;
            continue;
        }
        match el.local() {
            "FreeBusyViewType" => view.view_type = FreeBusyViewType::parse(&cur.text_cow()?),
            "MergedFreeBusy" => view.merged_free_busy = Some(cur.text_cow()?.trim().to_string()),
            "CalendarEventArray" => {
                view.has_event_array = true;
                while let Some(ev) = cur.child()? {
                    if ev.is(Ns::Types, "CalendarEvent") {
                        match read_event(cur)? {
                            Ok(e) => view.events.push(e),
                            Err(reason) => broken = Some(reason),
                        }
                    } else {
                        cur.skip()?;
                    }
                }
            }
            "WorkingHours" => view.working_hours = read_working_hours(cur)?,
            _ => cur.skip()?,
        }
    }
    Ok(match broken {
        Some(reason) => Err(bad_data(reason)),
        None => Ok(view),
    })
}

fn parse_bool(s: &str) -> bool {
    matches!(s.trim(), "true" | "1")
}

/// A subject or location: trimmed, `None` when empty, one shared copy per distinct text.
fn non_empty_shared(s: &str) -> Option<std::sync::Arc<str>> {
    let t = s.trim();
    (!t.is_empty()).then(|| calgate_core::intern::intern(t))
}

fn read_event(cur: &mut Cursor<'_>) -> Result<Result<CalendarEvent, &'static str>, EwsError> {
    let mut start = None;
    let mut end = None;
    let mut busy = BusyType::NoData;
    let mut event = CalendarEvent::new(Timestamp::UNIX_EPOCH, Timestamp::UNIX_EPOCH, busy);
    while let Some(el) = cur.child()? {
        if el.ns != Ns::Types {
            cur.skip()?;
            continue;
        }
        match el.local() {
            "StartTime" => start = Some(read_instant(&cur.text_cow()?)),
            "EndTime" => end = Some(read_instant(&cur.text_cow()?)),
            "BusyType" => busy = BusyType::parse_lenient(&cur.text_cow()?),
            "CalendarEventDetails" => {
                while let Some(d) = cur.child()? {
                    if d.ns != Ns::Types {
                        cur.skip()?;
                        continue;
                    }
                    match d.local() {
                        "Subject" => event.subject = non_empty_shared(&cur.text_cow()?),
                        "Location" => event.location = non_empty_shared(&cur.text_cow()?),
                        "IsMeeting" => event.is_meeting = parse_bool(&cur.text_cow()?),
                        "IsRecurring" => event.is_recurring = parse_bool(&cur.text_cow()?),
                        "IsPrivate" => event.is_private = parse_bool(&cur.text_cow()?),
                        _ => cur.skip()?,
                    }
                }
            }
            // Some Exchange 2007 samples put IsPrivate beside the details instead of inside.
            "IsPrivate" => event.is_private = parse_bool(&cur.text_cow()?),
            _ => cur.skip()?,
        }
    }
    let (Some(Some(start)), Some(Some(end))) = (start, end) else {
        return Ok(Err("an event with a missing or unreadable time"));
    };
    if end < start {
        return Ok(Err("an event that ends before it starts"));
    }
    event.start = start;
    event.end = end;
    event.busy_type = busy;
    Ok(Ok(event))
}

fn read_working_hours(cur: &mut Cursor<'_>) -> Result<Option<WorkingHours>, EwsError> {
    let mut tz = None;
    let mut periods = Vec::new();
    while let Some(el) = cur.child()? {
        match (el.ns, el.local()) {
            (Ns::Types, "TimeZone") => tz = read_time_zone(cur)?,
            (Ns::Types, "WorkingPeriodArray") => {
                while let Some(p) = cur.child()? {
                    if p.is(Ns::Types, "WorkingPeriod") {
                        if let Some(period) = read_working_period(cur)?
                            && periods.len() < 64
                        {
                            periods.push(period);
                        }
                    } else {
                        cur.skip()?;
                    }
                }
            }
            _ => cur.skip()?,
        }
    }
    // Working hours without their zone cannot be placed in time: better none than wrong ones.
    Ok(tz.map(|tz| WorkingHours {
        time_zone: WorkTimeZone::Rules(tz),
        periods,
    }))
}

fn read_working_period(cur: &mut Cursor<'_>) -> Result<Option<WorkingPeriod>, EwsError> {
    let mut days = Vec::new();
    let mut start = None;
    let mut end = None;
    while let Some(el) = cur.child()? {
        match (el.ns, el.local()) {
            (Ns::Types, "DayOfWeek") => days = parse_days(&cur.text_cow()?),
            (Ns::Types, "StartTimeInMinutes") => start = cur.text_cow()?.trim().parse::<u16>().ok(),
            (Ns::Types, "EndTimeInMinutes") => end = cur.text_cow()?.trim().parse::<u16>().ok(),
            _ => cur.skip()?,
        }
    }
    Ok(match (start, end) {
        (Some(s), Some(e)) if s <= e && e <= 1440 && !days.is_empty() => Some(WorkingPeriod {
            days,
            start_minute: s,
            end_minute: e,
        }),
        _ => None,
    })
}

/// EWS `DaysOfWeekType`: a space-separated list of day names, plus `Day`, `Weekday` and
/// `WeekendDay`.
fn parse_days(s: &str) -> Vec<Weekday> {
    let mut days = Vec::new();
    for name in s.split_whitespace() {
        let add: &[Weekday] = match name {
            "Day" => &Weekday::ALL,
            "Weekday" => &Weekday::ALL[..5],
            "WeekendDay" => &Weekday::ALL[5..],
            other => match crate::time::read_weekday(other) {
                Some(d) => {
                    if !days.contains(&d) {
                        days.push(d);
                    }
                    continue;
                }
                None => &[],
            },
        };
        for d in add {
            if !days.contains(d) {
                days.push(*d);
            }
        }
    }
    days.sort();
    days
}

/// `MergedFreeBusy` digits as EWS defines them (4 is "no data", unlike Graph).
fn merged_digit(c: char) -> BusyType {
    match c {
        '0' => BusyType::Free,
        '1' => BusyType::Tentative,
        '2' => BusyType::Busy,
        '3' => BusyType::Oof,
        _ => BusyType::NoData,
    }
}

/// Turns merged digits into events (runs of equal non-free digits); what the string does not
/// cover up to the window's end is no data.
fn merged_to_events(
    digits: &str,
    window_start: Timestamp,
    window_end: Timestamp,
    interval_minutes: u16,
) -> Vec<CalendarEvent> {
    let step = SignedDuration::from_mins(i64::from(interval_minutes.max(1)));
    let mut events: Vec<CalendarEvent> = Vec::new();
    let mut at = window_start;
    for c in digits.chars() {
        if at >= window_end {
            break;
        }
        let next = at.checked_add(step).unwrap_or(window_end).min(window_end);
        let busy = merged_digit(c);
        if busy != BusyType::Free {
            match events.last_mut() {
                Some(last) if last.end == at && last.busy_type == busy => last.end = next,
                _ => events.push(CalendarEvent::new(at, next, busy)),
            }
        }
        at = next;
    }
    if at < window_end {
        events.push(CalendarEvent::new(at, window_end, BusyType::NoData));
    }
    events
}

impl FreeBusyView {
    /// The events this view stands for. A view without a `CalendarEventArray` but with merged
    /// digits (MergedOnly, a distribution list) is expanded from the digits.
    pub fn into_events(self, request: &AvailabilityRequest) -> Vec<CalendarEvent> {
        match (&self.merged_free_busy, self.has_event_array) {
            (Some(digits), false) if !digits.is_empty() => merged_to_events(
                digits,
                request.window_start,
                request.window_end,
                request.merged_interval_minutes,
            ),
            _ => self.events,
        }
    }
}

impl AvailabilityResponse {
    /// One [`Availability`] per requested mailbox, matched by position. Fails as a whole when the
    /// counts differ, or when every slot says the server is busy (that is a throttle, not a
    /// per-mailbox problem).
    pub fn into_availabilities(
        self,
        request: &AvailabilityRequest,
        fetched_at: Timestamp,
    ) -> Result<Vec<Availability>, EwsError> {
        let sent = request.batch.len();
        if self.slots.len() != sent {
            return Err(EwsError::CountMismatch {
                sent,
                received: self.slots.len(),
            });
        }
        let all_busy = self.slots.iter().all(|s| {
            matches!(
                s,
                Err(EwsError::Mailbox {
                    kind: MailboxErrorKind::ServerBusy,
                    ..
                })
            )
        });
        if all_busy {
            let back_off = self
                .slots
                .iter()
                .filter_map(|s| match s {
                    Err(EwsError::Mailbox { back_off, .. }) => *back_off,
                    _ => None,
                })
                .max();
            return Err(EwsError::ServerBusy { back_off });
        }
        Ok(self
            .slots
            .into_iter()
            .zip(request.batch.addresses())
            .map(|(slot, mailbox)| match slot {
                Ok(mut view) => Availability {
                    mailbox: mailbox.clone(),
                    window_start: request.window_start,
                    window_end: request.window_end,
                    working_hours: view
                        .working_hours
                        .take()
                        .map(calgate_core::intern::share_working_hours),
                    events: view.into_events(request),
                    out_of_office: None,
                    fetched_at,
                    error: None,
                },
                Err(e) => Availability::failed(
                    mailbox.clone(),
                    request.window_start,
                    request.window_end,
                    fetched_at,
                    SourceError {
                        code: e.code().to_string(),
                        message: e.to_string(),
                    },
                ),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("literal")
    }

    #[test]
    fn a_batch_cannot_hold_more_than_100() {
        let addrs: Vec<String> = (0..250).map(|i| format!("u{i}@contoso.com")).collect();
        let mut b =
            MailboxBatch::try_from_addresses(addrs[..100].iter().cloned()).expect("100 fit");
        assert_eq!(b.len(), 100);
        assert!(b.push("one.more@contoso.com").is_err());
        assert!(MailboxBatch::try_from_addresses(addrs[..101].iter().cloned()).is_err());
        let batches = MailboxBatch::split(addrs.iter().cloned()).expect("split");
        assert_eq!(
            batches.iter().map(MailboxBatch::len).collect::<Vec<_>>(),
            vec![100, 100, 50]
        );
        assert!(MailboxBatch::new().push("no spaces@x.com").is_err());
        assert!(MailboxBatch::new().push("nobody").is_err());
    }

    #[test]
    fn requests_are_validated_before_sending() {
        let b = MailboxBatch::try_from_addresses(["a@contoso.com"]).expect("batch");
        let h = SoapHeader::new(crate::ExchangeVersion::Exchange2013Sp1);
        let start = ts("2026-11-27T06:00:00Z");
        let ok = AvailabilityRequest::new(
            b.clone(),
            start,
            ts("2026-11-28T06:00:00Z"),
            RequestedView::Detailed,
        );
        let body = ok.to_request(&h).expect("valid").body;
        assert!(body.contains("<t:StartTime>2026-11-27T06:00:00</t:StartTime>"));
        assert!(body.contains("<t:RequestedView>Detailed</t:RequestedView>"));
        let backwards = AvailabilityRequest::new(b.clone(), start, start, RequestedView::Detailed);
        assert!(backwards.to_request(&h).is_err());
        let long = AvailabilityRequest::new(
            b.clone(),
            start,
            ts("2027-02-01T00:00:00Z"),
            RequestedView::Detailed,
        );
        assert!(long.to_request(&h).is_err());
        let mut odd = ok.clone();
        odd.merged_interval_minutes = 4;
        assert!(odd.to_request(&h).is_err());
        let empty = AvailabilityRequest::new(
            MailboxBatch::new(),
            start,
            ts("2026-11-28T06:00:00Z"),
            RequestedView::Detailed,
        );
        assert!(empty.to_request(&h).is_err());
    }

    #[test]
    fn merged_digits_become_events_and_never_free_gaps() {
        let s = ts("2026-11-27T08:00:00Z");
        let e = ts("2026-11-27T10:00:00Z");
        let ev = merged_to_events("0224", s, e, 30);
        assert_eq!(
            ev,
            vec![
                CalendarEvent::new(
                    ts("2026-11-27T08:30:00Z"),
                    ts("2026-11-27T09:30:00Z"),
                    BusyType::Busy
                ),
                CalendarEvent::new(
                    ts("2026-11-27T09:30:00Z"),
                    ts("2026-11-27T10:00:00Z"),
                    BusyType::NoData
                ),
            ]
        );
        let short = merged_to_events("0", s, e, 30);
        assert_eq!(
            short,
            vec![CalendarEvent::new(
                ts("2026-11-27T08:30:00Z"),
                e,
                BusyType::NoData
            )]
        );
    }

    fn envelope(slots: &str) -> String {
        format!(
            r#"<?xml version="1.0"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Header><v:ServerVersionInfo xmlns:v="{t}" Version="V2018_01_08" MajorVersion="15" Unknown="x"/></S:Header><S:Body><GetUserAvailabilityResponse xmlns="{m}" extra="1"><Surprise/><FreeBusyResponseArray>{slots}</FreeBusyResponseArray></GetUserAvailabilityResponse></S:Body></S:Envelope>"#,
            t = crate::ns::TYPES,
            m = crate::ns::MESSAGES
        )
    }

    fn slot(view: &str) -> String {
        format!(
            r#"<FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><FreeBusyView><x:FreeBusyViewType xmlns:x="{t}">{view}</x:FreeBusyViewType></FreeBusyView></FreeBusyResponse>"#,
            t = crate::ns::TYPES
        )
    }

    fn request(n: usize) -> AvailabilityRequest {
        let batch = MailboxBatch::try_from_addresses((0..n).map(|i| format!("m{i}@contoso.com")))
            .expect("batch");
        AvailabilityRequest::new(
            batch,
            ts("2026-11-27T08:00:00Z"),
            ts("2026-11-27T10:00:00Z"),
            RequestedView::FreeBusyMerged,
        )
    }

    #[test]
    fn lenient_where_harmless_strict_where_it_matters() {
        let t = crate::ns::TYPES;
        let events = format!(
            r#"<FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><FreeBusyView><FreeBusyViewType xmlns="{t}">FreeBusy</FreeBusyViewType><CalendarEventArray xmlns="{t}"><CalendarEvent><StartTime>2026-11-27T08:00:00Z</StartTime><EndTime>2026-11-27T09:00:00+01:00</EndTime><BusyType>Elsewhere</BusyType><Mood>calm</Mood></CalendarEvent></CalendarEventArray></FreeBusyView></FreeBusyResponse>"#
        );
        let bad_time = events.replace("2026-11-27T08:00:00Z", "soon");
        let merged_only = format!(
            r#"<FreeBusyResponse><ResponseMessage ResponseClass="Success"/><FreeBusyView><FreeBusyViewType xmlns="{t}">MergedOnly</FreeBusyViewType><MergedFreeBusy xmlns="{t}">0320</MergedFreeBusy></FreeBusyView></FreeBusyResponse>"#
        );
        let body = envelope(&format!("{events}{bad_time}{merged_only}{}", slot("None")));
        let r = read_availability_response(body.as_bytes()).expect("reads");
        assert_eq!(
            r.server_version.as_ref().and_then(|v| v.version.as_deref()),
            Some("V2018_01_08")
        );
        let got = r
            .into_availabilities(&request(4), ts("2026-11-27T12:00:00Z"))
            .expect("4 slots");
        // An unknown busy type is no data, never free; an unknown child is ignored; offsets count.
        assert_eq!(
            got[0].events,
            vec![CalendarEvent::new(
                ts("2026-11-27T08:00:00Z"),
                ts("2026-11-27T08:00:00Z"),
                BusyType::NoData
            )]
        );
        // An unreadable time makes that mailbox unknown instead of dropping a busy event.
        assert_eq!(
            got[1].error.as_ref().map(|e| e.code.as_str()),
            Some("EWS_MAILBOX_BAD_DATA")
        );
        // A merged-only view becomes events from its digits.
        assert_eq!(
            got[2].events,
            vec![
                CalendarEvent::new(
                    ts("2026-11-27T08:15:00Z"),
                    ts("2026-11-27T08:30:00Z"),
                    BusyType::Oof
                ),
                CalendarEvent::new(
                    ts("2026-11-27T08:30:00Z"),
                    ts("2026-11-27T08:45:00Z"),
                    BusyType::Busy
                ),
                CalendarEvent::new(
                    ts("2026-11-27T09:00:00Z"),
                    ts("2026-11-27T10:00:00Z"),
                    BusyType::NoData
                ),
            ]
        );
        // A success with view None says nothing: unknown, not free.
        assert_eq!(
            got[3].error.as_ref().map(|e| e.code.as_str()),
            Some("EWS_MAILBOX_BAD_DATA")
        );

        let two = envelope(&format!("{}{}", slot("FreeBusy"), slot("FreeBusy")));
        let r = read_availability_response(two.as_bytes()).expect("reads");
        assert_eq!(
            r.into_availabilities(&request(3), ts("2026-11-27T12:00:00Z")),
            Err(EwsError::CountMismatch {
                sent: 3,
                received: 2
            })
        );
        let wrong_root = envelope("").replace("GetUserAvailabilityResponse", "GetMailTipsResponse");
        assert!(matches!(
            read_availability_response(wrong_root.as_bytes()),
            Err(EwsError::Malformed { .. })
        ));
    }

    #[test]
    fn every_slot_busy_is_a_throttle_not_a_mailbox_problem() {
        let busy = r#"<FreeBusyResponse><ResponseMessage ResponseClass="Error"><ResponseCode>ErrorServerBusy</ResponseCode><MessageXml><Value xmlns="http://schemas.microsoft.com/exchange/services/2006/types" Name="BackOffMilliseconds">900</Value></MessageXml></ResponseMessage></FreeBusyResponse>"#;
        let body = envelope(&busy.repeat(2));
        let r = read_availability_response(body.as_bytes()).expect("reads");
        assert_eq!(
            r.into_availabilities(&request(2), ts("2026-11-27T12:00:00Z")),
            Err(EwsError::ServerBusy {
                back_off: Some(Duration::from_millis(900))
            })
        );
    }

    #[test]
    fn day_lists() {
        assert_eq!(
            parse_days("Monday Tuesday"),
            vec![Weekday::Mon, Weekday::Tue]
        );
        assert_eq!(parse_days("Weekday"), Weekday::ALL[..5].to_vec());
        assert_eq!(
            parse_days("WeekendDay Monday"),
            vec![Weekday::Mon, Weekday::Sat, Weekday::Sun]
        );
        assert_eq!(parse_days("Funday"), vec![]);
    }
}
