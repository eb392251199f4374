//! The cost of reading a 100-mailbox Detailed GetUserAvailability answer (two-day window, eight
//! events each, with details and working hours) into `Availability` values, next to the cost
//! of merely tokenizing the same bytes with quick-xml. Run with `cargo bench -p calgate-ews`;
//! divan prints MB/s (bytes) and mailboxes/s (items).

use calgate_ews::{AvailabilityRequest, MailboxBatch, RequestedView, read_availability_response};
use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use jiff::{SignedDuration, Timestamp};

const MAILBOXES: usize = 100;
const EVENTS: usize = 8;

fn main() {
    divan::main();
}

fn window() -> (Timestamp, Timestamp) {
    let start: Timestamp = "2026-11-27T00:00:00Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    (start, start + SignedDuration::from_hours(48))
}

/// A response shaped like Exchange 2016's: `m:`/`t:` prefixes, naive times, details per event.
fn response() -> String {
    let (start, _) = window();
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header><s:Body><m:GetUserAvailabilityResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:FreeBusyResponseArray>"#,
    );
    for m in 0..MAILBOXES {
        out.push_str(r#"<m:FreeBusyResponse><m:ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode></m:ResponseMessage><m:FreeBusyView><t:FreeBusyViewType>Detailed</t:FreeBusyViewType><t:CalendarEventArray>"#);
        for e in 0..EVENTS {
            let s = start + SignedDuration::from_mins((e * 330 + m % 60) as i64);
            let end = s + SignedDuration::from_mins(45);
            let busy = ["Busy", "Tentative", "OOF", "Free"][(m + e) % 4];
            out.push_str(&format!(
                "<t:CalendarEvent><t:StartTime>{}</t:StartTime><t:EndTime>{}</t:EndTime><t:BusyType>{busy}</t:BusyType><t:CalendarEventDetails><t:ID>AAMkAD{m:03}{e:02}</t:ID><t:Subject>Meeting {e} of mailbox {m}</t:Subject><t:Location>Room {e}</t:Location><t:IsMeeting>true</t:IsMeeting><t:IsRecurring>false</t:IsRecurring><t:IsException>false</t:IsException><t:IsReminderSet>true</t:IsReminderSet><t:IsPrivate>false</t:IsPrivate></t:CalendarEventDetails></t:CalendarEvent>",
                s.strftime("%Y-%m-%dT%H:%M:%S"),
                end.strftime("%Y-%m-%dT%H:%M:%S"),
            ));
        }
        out.push_str("</t:CalendarEventArray><t:WorkingHours><t:TimeZone><t:Bias>-60</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>03:00:00</t:Time><t:DayOrder>5</t:DayOrder><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:StandardTime><t:DaylightTime><t:Bias>-60</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>5</t:DayOrder><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:DaylightTime></t:TimeZone><t:WorkingPeriodArray><t:WorkingPeriod><t:DayOfWeek>Monday Tuesday Wednesday Thursday Friday</t:DayOfWeek><t:StartTimeInMinutes>480</t:StartTimeInMinutes><t:EndTimeInMinutes>1020</t:EndTimeInMinutes></t:WorkingPeriod></t:WorkingPeriodArray></t:WorkingHours></m:FreeBusyView></m:FreeBusyResponse>");
    }
    out.push_str(
        "</m:FreeBusyResponseArray></m:GetUserAvailabilityResponse></s:Body></s:Envelope>",
    );
    out
}

fn request() -> AvailabilityRequest {
    let (start, end) = window();
    let batch =
        MailboxBatch::try_from_addresses((0..MAILBOXES).map(|i| format!("user{i}@contoso.com")))
            .unwrap_or_default();
    AvailabilityRequest::new(batch, start, end, RequestedView::Detailed)
}

/// Reading the answer into one `Availability` per mailbox.
#[divan::bench]
fn parse_detailed_100(bencher: Bencher) {
    let body = response();
    let request = request();
    let fetched_at = window().0;
    // The output must be what the bench claims before its speed means anything.
    let check = read_availability_response(body.as_bytes())
        .and_then(|r| r.into_availabilities(&request, fetched_at));
    assert!(
        matches!(&check, Ok(a) if a.len() == MAILBOXES && a.iter().all(|m| m.events.len() == EVENTS && m.working_hours.is_some())),
        "bench input does not read as intended: {check:?}"
    );
    bencher
        .counter(BytesCount::new(body.len()))
        .counter(ItemsCount::new(MAILBOXES))
        .bench(|| {
            read_availability_response(divan::black_box(body.as_bytes()))
                .and_then(|r| r.into_availabilities(&request, fetched_at))
        });
}

/// The floor: quick-xml's plain tokenizer over the same bytes, doing nothing with the events.
#[divan::bench]
fn tokenize_only(bencher: Bencher) {
    let body = response();
    bencher
        .counter(BytesCount::new(body.len()))
        .counter(ItemsCount::new(MAILBOXES))
        .bench(|| {
            let mut reader = quick_xml::Reader::from_str(divan::black_box(body.as_str()));
            let mut events = 0usize;
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) | Err(_) => break,
                    Ok(_) => events += 1,
                }
            }
            events
        });
}

/// For reference: quick-xml's namespace-resolving reader over the same bytes, doing nothing else.
#[divan::bench]
fn tokenize_with_namespaces(bencher: Bencher) {
    let body = response();
    bencher
        .counter(BytesCount::new(body.len()))
        .counter(ItemsCount::new(MAILBOXES))
        .bench(|| {
            let mut reader = quick_xml::NsReader::from_str(divan::black_box(body.as_str()));
            let mut events = 0usize;
            loop {
                match reader.read_resolved_event() {
                    Ok((_, quick_xml::events::Event::Eof)) | Err(_) => break,
                    Ok(_) => events += 1,
                }
            }
            events
        });
}
