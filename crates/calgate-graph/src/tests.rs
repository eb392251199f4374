//! Wire tests on realistic JSON: the O365 captures (`fixtures/08x-*`), Microsoft's documented
//! examples rewritten as fixtures (`fixtures/doc-*`), hostile variations, and round trips from
//! arbitrary events through the simulator's writers back through the client's readers.

use calgate_core::{
    Availability, BusyType, CalendarEvent, SerializableTimeZone, TimeChange, Weekday, WorkTimeZone,
    WorkingHours, WorkingPeriod,
};
use jiff::Timestamp;
use proptest::prelude::*;

use crate::mailtips::GetMailTips;
use crate::schedule::{
    GetSchedule, GetScheduleBody, OutputZone, RequestError, ScheduleInformation, ScheduleLimit,
    ScheduleResponse, availability_view, events_from_view,
};
use crate::users::{User, UserPage};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn request(ids: &[&str], start: &str, end: &str, interval: u32) -> GetSchedule {
    GetSchedule::new(
        ids.iter().map(|s| (*s).to_owned()).collect(),
        ts(start),
        ts(end),
        interval,
        ScheduleLimit::default(),
    )
    .expect("valid request")
}

fn codes(avs: &[Availability]) -> Vec<Option<&str>> {
    avs.iter()
        .map(|a| a.error.as_ref().map(|e| e.code.as_str()))
        .collect()
}

const FETCHED: &str = "2025-06-02T06:00:00Z";

#[test]
fn capture_081_reads_three_people() {
    // What O365 sent: the window in Romance Standard Time (UTC+2 in June).
    let sent: GetScheduleBody =
        serde_json::from_str(include_str!("../fixtures/081-getSchedule.request.json"))
            .expect("O365's request parses");
    assert_eq!(
        sent.start_time.to_timestamp(),
        Ok(ts("2025-06-02T06:00:00Z"))
    );
    assert_eq!(sent.availability_view_interval, Some(30));
    let req = request(
        &["alice@example.com", "bob@example.com", "carol@example.com"],
        "2025-06-02T06:00:00Z",
        "2025-06-02T16:00:00Z",
        30,
    );
    let avs = req
        .read_response(
            include_bytes!("../fixtures/081-getSchedule.response.json"),
            ts(FETCHED),
        )
        .expect("capture reads");
    assert_eq!(codes(&avs), vec![None, None, None]);
    let alice = &avs[0];
    assert_eq!(alice.events.len(), 2);
    assert_eq!(alice.events[0].start, ts("2025-06-02T07:00:00Z"));
    assert_eq!(alice.events[0].busy_type, BusyType::Busy);
    assert_eq!(alice.events[1].busy_type, BusyType::Tentative);
    assert_eq!(
        avs[2].events[0].busy_type,
        BusyType::WorkingElsewhere,
        "carol works from home"
    );
    assert_eq!(
        alice.working_hours.as_ref().map(|w| &w.time_zone),
        Some(&WorkTimeZone::Windows("Romance Standard Time".to_owned()))
    );
    insta::assert_json_snapshot!("capture_081_availability", avs);
}

#[test]
fn capture_082_unknown_person_is_an_error_not_free() {
    let req = request(
        &["nobody@example.com"],
        "2025-06-02T06:00:00Z",
        "2025-06-02T16:00:00Z",
        60,
    );
    let avs = req
        .read_response(
            include_bytes!("../fixtures/082-getSchedule-unknown.response.json"),
            ts(FETCHED),
        )
        .expect("capture reads");
    assert_eq!(
        codes(&avs),
        vec![Some("GRAPH_ERROR_MAIL_RECIPIENT_NOT_FOUND")]
    );
    assert!(avs[0].events.is_empty());
    insta::assert_json_snapshot!("capture_082_availability", avs);
}

#[test]
fn documented_example_with_capitalised_status_and_custom_zone() {
    let req = request(
        &[
            "adelev@contoso.onmicrosoft.com",
            "meganb@contoso.onmicrosoft.com",
        ],
        "2019-03-15T16:00:00Z",
        "2019-03-16T01:00:00Z",
        60,
    );
    let avs = req
        .read_response(
            include_bytes!("../fixtures/doc-getSchedule-pacific.response.json"),
            ts("2019-03-15T15:00:00Z"),
        )
        .expect("doc example reads");
    let megan = &avs[1];
    let kinds: Vec<BusyType> = megan.events.iter().map(|e| e.busy_type).collect();
    assert_eq!(
        kinds,
        vec![BusyType::Busy, BusyType::Busy, BusyType::Tentative]
    );
    // 12:00 PDT (DST began 10 March 2019) is 19:00 UTC.
    assert_eq!(megan.events[1].start, ts("2019-03-15T19:00:00Z"));
    assert_eq!(
        megan.working_hours.as_ref().map(|w| &w.time_zone),
        Some(&WorkTimeZone::Rules(SerializableTimeZone {
            bias_minutes: 480,
            standard: Some(TimeChange {
                bias_minutes: 0,
                time_of_day_s: 7200,
                day_order: 1,
                month: 11,
                day_of_week: Weekday::Sun,
                year: None,
            }),
            daylight: Some(TimeChange {
                bias_minutes: -60,
                time_of_day_s: 7200,
                day_order: 2,
                month: 3,
                day_of_week: Weekday::Sun,
                year: None,
            }),
        }))
    );
    insta::assert_json_snapshot!("doc_pacific_availability", avs);
}

#[test]
fn every_requested_schedule_gets_exactly_one_result() {
    // Out of order, different case, a duplicate, an unrequested extra, one missing.
    let body = r#"{"value":[
        {"scheduleId":"extra@x.com","availabilityView":"2"},
        {"scheduleId":"B@X.COM","availabilityView":"2"},
        {"scheduleId":"a@x.com","availabilityView":"1"},
        {"scheduleId":"a@x.com","availabilityView":"3"},
        17,
        {"availabilityView":"3"}
    ]}"#;
    let req = request(
        &["a@x.com", "b@x.com", "c@x.com"],
        "2025-06-02T08:00:00Z",
        "2025-06-02T08:30:00Z",
        30,
    );
    let avs = req
        .read_response(body.as_bytes(), ts(FETCHED))
        .expect("reads");
    let mailboxes: Vec<&str> = avs.iter().map(|a| a.mailbox.as_str()).collect();
    assert_eq!(mailboxes, vec!["a@x.com", "b@x.com", "c@x.com"]);
    assert_eq!(
        avs[0].events[0].busy_type,
        BusyType::Tentative,
        "first entry wins"
    );
    assert_eq!(avs[1].events[0].busy_type, BusyType::Busy);
    assert_eq!(codes(&avs)[2], Some("GRAPH_ERROR_SCHEDULE_MISSING"));
}

#[test]
fn unreadable_items_make_the_schedule_unknown() {
    let cases = [
        (
            r#"[{"status":"busy","start":{"dateTime":"2025-06-02T09:00:00"}}]"#,
            "no end",
        ),
        (
            r#"[{"status":"busy","start":{"dateTime":"soon","timeZone":"UTC"},"end":{"dateTime":"2025-06-02T10:00:00","timeZone":"UTC"}}]"#,
            "start",
        ),
        (
            r#"[{"status":"busy","start":{"dateTime":"2025-06-02T09:00:00","timeZone":"Mars Standard Time"},"end":{"dateTime":"2025-06-02T10:00:00","timeZone":"UTC"}}]"#,
            "unknown time zone",
        ),
        (
            r#"[{"status":"busy","start":{"dateTime":"2025-06-02T11:00:00","timeZone":"UTC"},"end":{"dateTime":"2025-06-02T10:00:00","timeZone":"UTC"}}]"#,
            "ends before",
        ),
        (r#"["busy"]"#, "no start"),
        (r#""busy""#, "no start"),
    ];
    for (items, why) in cases {
        let body = format!(
            r#"{{"value":[{{"scheduleId":"a@x.com","availabilityView":"000","scheduleItems":{items}}},{{"scheduleId":"b@x.com","availabilityView":"0","scheduleItems":[]}}]}}"#
        );
        let req = request(
            &["a@x.com", "b@x.com"],
            "2025-06-02T08:00:00Z",
            "2025-06-02T09:30:00Z",
            30,
        );
        let avs = req
            .read_response(body.as_bytes(), ts(FETCHED))
            .expect("reads");
        let err = avs[0]
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("{items} must fail"));
        assert_eq!(err.code, "GRAPH_ERROR_MALFORMED_SCHEDULE", "{items}");
        assert!(err.message.contains(why), "{items}: {}", err.message);
        assert_eq!(avs[1].error, None, "a neighbour is unaffected");
    }
}

#[test]
fn odd_details_do_not_spoil_a_schedule() {
    let body = r#"{"value":[{"scheduleId":"a@x.com","futureField":{"x":1},"scheduleItems":[
        {"status":"maybe","subject":42,"location":null,"isPrivate":"yes",
         "start":{"dateTime":"2025-06-02T09:00:00.0000000","timeZone":"UTC"},
         "end":{"dateTime":"2025-06-02T10:00:00.0000000","timeZone":"UTC"}},
        {"start":{"dateTime":"2025-06-02T10:00:00","timeZone":"UTC"},"end":{"dateTime":"2025-06-02T11:00:00","timeZone":"UTC"}}
    ],"workingHours":"nine to five"}]}"#;
    let req = request(
        &["a@x.com"],
        "2025-06-02T08:00:00Z",
        "2025-06-02T12:00:00Z",
        30,
    );
    let avs = req
        .read_response(body.as_bytes(), ts(FETCHED))
        .expect("reads");
    let a = &avs[0];
    assert_eq!(a.error, None);
    assert_eq!(
        a.events[0].busy_type,
        BusyType::NoData,
        "unknown status is never free"
    );
    assert_eq!(a.events[0].subject, None);
    assert!(!a.events[0].is_private);
    assert_eq!(
        a.events[1].busy_type,
        BusyType::NoData,
        "missing status is never free"
    );
    assert_eq!(a.working_hours, None);
}

#[test]
fn view_only_answers_and_short_views() {
    let start = ts("2025-06-02T08:00:00Z");
    let end = ts("2025-06-02T10:00:00Z");
    let events = events_from_view("0229", start, end, 30);
    assert_eq!(
        events,
        vec![
            CalendarEvent::new(
                ts("2025-06-02T08:30:00Z"),
                ts("2025-06-02T09:30:00Z"),
                BusyType::Busy
            ),
            CalendarEvent::new(ts("2025-06-02T09:30:00Z"), end, BusyType::NoData),
        ]
    );
    // Two slots missing: the tail is unknown, not free.
    let events = events_from_view("10", start, end, 30);
    assert_eq!(
        events.last().map(|e| (e.start, e.end, e.busy_type)),
        Some((ts("2025-06-02T09:00:00Z"), end, BusyType::NoData))
    );
    let body =
        r#"{"value":[{"scheduleId":"a@x.com","availabilityView":"3"},{"scheduleId":"b@x.com"}]}"#;
    let req = request(
        &["a@x.com", "b@x.com"],
        "2025-06-02T08:00:00Z",
        "2025-06-02T08:30:00Z",
        30,
    );
    let avs = req
        .read_response(body.as_bytes(), ts(FETCHED))
        .expect("reads");
    assert_eq!(avs[0].events[0].busy_type, BusyType::Oof);
    assert_eq!(codes(&avs)[1], Some("GRAPH_ERROR_MALFORMED_SCHEDULE"));
}

#[test]
fn whole_response_failures_are_typed() {
    let req = request(
        &["a@x.com"],
        "2025-06-02T08:00:00Z",
        "2025-06-02T08:30:00Z",
        30,
    );
    for body in [
        &b""[..],
        b"null",
        b"[]",
        b"{}",
        b"{\"value\":3}",
        b"<html/>",
        b"\xff",
    ] {
        let err = req.read_response(body, ts(FETCHED)).expect_err("must fail");
        assert_eq!(
            err.code().to_string(),
            "GRAPH_ERROR_MALFORMED_RESPONSE",
            "{body:?}"
        );
    }
    let huge = vec![b' '; crate::schedule::MAX_RESPONSE_BYTES + 1];
    let err = req
        .read_response(&huge, ts(FETCHED))
        .expect_err("too large");
    assert_eq!(err.code().to_string(), "GRAPH_ERROR_RESPONSE_TOO_LARGE");
}

#[test]
fn request_limits() {
    let t0 = ts("2025-06-02T08:00:00Z");
    let t1 = ts("2025-06-03T08:00:00Z");
    let people = |n: usize| (0..n).map(|i| format!("p{i}@x.com")).collect::<Vec<_>>();
    let limit = ScheduleLimit::default();
    assert_eq!(limit.get(), 20);
    assert!(GetSchedule::new(people(20), t0, t1, 30, limit).is_ok());
    assert_eq!(
        GetSchedule::new(people(21), t0, t1, 30, limit),
        Err(RequestError::TooManySchedules {
            count: 21,
            limit: 20
        })
    );
    let wide = ScheduleLimit::new(100).expect("100 is allowed");
    assert!(GetSchedule::new(people(100), t0, t1, 30, wide).is_ok());
    assert_eq!(
        ScheduleLimit::new(101),
        Err(RequestError::LimitOutOfRange(101))
    );
    assert_eq!(ScheduleLimit::new(0), Err(RequestError::LimitOutOfRange(0)));
    assert_eq!(
        GetSchedule::new(vec![], t0, t1, 30, limit),
        Err(RequestError::NoSchedules)
    );
    assert_eq!(
        GetSchedule::new(people(1), t1, t0, 30, limit),
        Err(RequestError::EmptyWindow)
    );
    assert_eq!(
        GetSchedule::new(people(1), t0, t1, 4, limit),
        Err(RequestError::IntervalOutOfRange(4))
    );
    assert_eq!(
        GetSchedule::new(people(1), t0, t1, 1441, limit),
        Err(RequestError::IntervalOutOfRange(1441))
    );
    assert_eq!(
        GetSchedule::new(vec![" ".into()], t0, t1, 30, limit),
        Err(RequestError::BlankAddress)
    );
    let req = GetSchedule::new(people(2), t0, t1, 15, limit).expect("valid");
    insta::assert_snapshot!("request_body", req.to_json());
    let back: GetScheduleBody = serde_json::from_str(&req.to_json()).expect("reads back");
    assert_eq!(back.end_time.to_timestamp(), Ok(t1));
}

#[test]
fn availability_view_digits() {
    let start = ts("2025-06-02T08:00:00Z");
    let end = ts("2025-06-02T10:10:00Z");
    let events = [
        CalendarEvent::new(
            ts("2025-06-02T08:30:00Z"),
            ts("2025-06-02T09:00:00Z"),
            BusyType::Tentative,
        ),
        // Overlaps the tentative one and the next slot: busy wins where both are.
        CalendarEvent::new(
            ts("2025-06-02T08:45:00Z"),
            ts("2025-06-02T09:15:00Z"),
            BusyType::Busy,
        ),
        CalendarEvent::new(
            ts("2025-06-02T10:00:00Z"),
            ts("2025-06-02T12:00:00Z"),
            BusyType::Oof,
        ),
        CalendarEvent::new(
            ts("2025-06-02T07:00:00Z"),
            ts("2025-06-02T08:00:00Z"),
            BusyType::Busy,
        ),
        CalendarEvent::new(
            ts("2025-06-02T09:30:00Z"),
            ts("2025-06-02T10:00:00Z"),
            BusyType::Free,
        ),
    ];
    // Slots: 08:00 08:30 09:00 09:30 10:00(partial)
    assert_eq!(availability_view(&events, start, end, 30), "02203");
    // Working elsewhere is written `0`, as today's Graph does; a `4` from the older behaviour
    // still reads as working elsewhere.
    let elsewhere = [CalendarEvent::new(
        ts("2025-06-02T08:00:00Z"),
        ts("2025-06-02T09:00:00Z"),
        BusyType::WorkingElsewhere,
    )];
    assert_eq!(availability_view(&elsewhere, start, end, 30), "00000");
    let read = events_from_view("44000", start, end, 30);
    assert_eq!(read[0].busy_type, BusyType::WorkingElsewhere);
}

#[test]
fn the_sdks_pascal_case_request_is_read_like_camel_case() {
    let pascal = r#"{"Schedules":["a@x.com"],"StartTime":{"DateTime":"2025-06-02T08:00:00","TimeZone":"UTC"},
        "EndTime":{"DateTime":"2025-06-02T18:00:00","TimeZone":"UTC"},"AvailabilityViewInterval":15}"#;
    let camel = r#"{"schedules":["a@x.com"],"startTime":{"dateTime":"2025-06-02T08:00:00","timeZone":"UTC"},
        "endTime":{"dateTime":"2025-06-02T18:00:00","timeZone":"UTC"},"availabilityViewInterval":15}"#;
    let a: crate::schedule::GetScheduleBody = serde_json::from_str(pascal).expect("PascalCase");
    let b: crate::schedule::GetScheduleBody = serde_json::from_str(camel).expect("camelCase");
    assert_eq!(a, b);
    assert_eq!(a.availability_view_interval, Some(15));
}

#[test]
fn prefer_header() {
    let z = OutputZone::from_prefer(r#"outlook.timezone="Pacific Standard Time""#)
        .expect("has a zone")
        .expect("known zone");
    assert_eq!(z.name(), "Pacific Standard Time");
    assert_eq!(
        z.date_time(ts("2025-06-02T16:00:00Z")).date_time,
        "2025-06-02T09:00:00.0000000"
    );
    assert!(OutputZone::from_prefer("odata.maxpagesize=10").is_none());
    assert_eq!(
        OutputZone::from_prefer(r#"odata.track-changes, outlook.timezone="Nowhere""#)
            .map(|r| r.err()),
        Some(Some("Nowhere".to_owned()))
    );
}

#[test]
fn mail_tips_documented_example() {
    let req = GetMailTips::automatic_replies(vec![
        "danas@contoso.onmicrosoft.com".into(),
        "FANNYD@contoso.onmicrosoft.com".into(),
        "ghost@fabrikam.com".into(),
        "missing@contoso.onmicrosoft.com".into(),
    ])
    .expect("valid");
    insta::assert_snapshot!("mailtips_request_body", req.to_json());
    let results = req
        .read_response(include_bytes!("../fixtures/doc-getMailTips.response.json"))
        .expect("reads");
    let oof = results[0]
        .automatic_replies
        .as_ref()
        .expect("ok")
        .as_ref()
        .expect("has OOF");
    assert!(
        oof.message
            .as_deref()
            .is_some_and(|m| m.contains("vacation until Monday"))
    );
    assert_eq!(oof.start, Some(ts("2018-08-06T02:00:00Z")));
    assert_eq!(oof.end, Some(ts("2018-08-13T02:00:00Z")));
    assert_eq!(
        results[1].automatic_replies,
        Ok(None),
        "empty message = no reply"
    );
    assert_eq!(
        results[2]
            .automatic_replies
            .as_ref()
            .map_err(|e| e.code.as_str()),
        Err("GRAPH_ERROR_MAIL_RECIPIENT_NOT_FOUND")
    );
    assert_eq!(
        results[3]
            .automatic_replies
            .as_ref()
            .map_err(|e| e.code.as_str()),
        Err("GRAPH_ERROR_SCHEDULE_MISSING")
    );
    assert!(GetMailTips::automatic_replies(vec![]).is_none());
}

#[test]
fn mail_tips_written_by_the_simulator_read_back() {
    let oof = calgate_core::OutOfOffice {
        message: Some("<p>Away until 9 June</p>".into()),
        start: Some(ts("2025-06-01T00:00:00Z")),
        end: Some(ts("2025-06-09T00:00:00Z")),
    };
    let body = crate::mailtips::MailTipsResponse::new(vec![
        crate::mailtips::MailTips::automatic_replies_for("a@x.com", Some("A"), Some(&oof)),
        crate::mailtips::MailTips::automatic_replies_for("b@x.com", None, None),
        crate::mailtips::MailTips::failed("c@x.com", "ErrorMailRecipientNotFound", "not found"),
    ])
    .to_json();
    insta::assert_snapshot!("mailtips_response_written", body);
    let req =
        GetMailTips::automatic_replies(vec!["a@x.com".into(), "b@x.com".into(), "c@x.com".into()])
            .expect("valid");
    let r = req.read_response(body.as_bytes()).expect("reads");
    assert_eq!(r[0].automatic_replies, Ok(Some(oof)));
    assert_eq!(r[1].automatic_replies, Ok(None));
    assert!(r[2].automatic_replies.is_err());
}

#[test]
fn users_page_round_trip() {
    let page = UserPage::new(
        vec![User {
            id: Some("0001".into()),
            display_name: Some("Alice Example".into()),
            mail: Some("alice@example.com".into()),
            user_principal_name: Some("alice@example.com".into()),
        }],
        Some("https://graph.example/v1.0/users?$top=1&$skiptoken=1".into()),
    );
    let json = page.to_json();
    insta::assert_snapshot!("users_page", json);
    assert_eq!(UserPage::read(json.as_bytes()), Ok(page));
    assert!(UserPage::read(b"{}").is_err());
}

#[test]
fn simulator_schedule_body_snapshot() {
    let events = vec![
        CalendarEvent {
            subject: Some("Daily standup".into()),
            location: Some("Room 1".into()),
            is_meeting: true,
            is_recurring: true,
            ..CalendarEvent::new(
                ts("2025-06-02T07:00:00Z"),
                ts("2025-06-02T07:30:00Z"),
                BusyType::Busy,
            )
        },
        CalendarEvent {
            is_private: true,
            ..CalendarEvent::new(
                ts("2025-06-02T11:00:00Z"),
                ts("2025-06-02T12:00:00Z"),
                BusyType::Tentative,
            )
        },
    ];
    let wh = WorkingHours {
        time_zone: WorkTimeZone::Windows("Romance Standard Time".into()),
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
    };
    let zone = OutputZone::from_prefer(r#"outlook.timezone="Romance Standard Time""#)
        .expect("zone")
        .expect("known");
    let body = ScheduleResponse::new(vec![
        ScheduleInformation::build(
            "alice@example.com",
            &events,
            ts("2025-06-02T06:00:00Z"),
            ts("2025-06-02T16:00:00Z"),
            30,
            &zone,
            Some(&wh),
        ),
        ScheduleInformation::failed(
            "nobody@example.com",
            "ErrorMailRecipientNotFound",
            "Failed to resolve nobody@example.com",
        ),
    ]);
    let json = serde_json::to_string_pretty(&body).expect("serializes");
    insta::assert_snapshot!("simulator_schedule_body", json);
}

fn busy_type() -> impl Strategy<Value = BusyType> {
    prop_oneof![
        Just(BusyType::Free),
        Just(BusyType::Tentative),
        Just(BusyType::Busy),
        Just(BusyType::Oof),
        Just(BusyType::WorkingElsewhere),
        Just(BusyType::NoData),
    ]
}

fn text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[ -~äöü€\"\\\\<>&]{0,24}")
}

/// Events within ±2 days of the window, whole seconds (Graph's 100 ns ticks cannot carry more).
fn event() -> impl Strategy<Value = CalendarEvent> {
    (
        -172_800i64..345_600,
        0i64..200_000,
        busy_type(),
        text(),
        text(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(off, len, busy_type, subject, location, is_private, is_meeting, is_recurring)| {
                let base = ts("2025-06-02T00:00:00Z").as_second();
                let start = Timestamp::from_second(base + off).unwrap_or(Timestamp::UNIX_EPOCH);
                let end = Timestamp::from_second(base + off + len).unwrap_or(start);
                CalendarEvent {
                    start,
                    end,
                    busy_type,
                    subject: subject.map(Into::into),
                    location: location.map(Into::into),
                    is_private,
                    is_all_day: false,
                    is_recurring,
                    is_meeting,
                }
            },
        )
}

fn zone_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("UTC"),
        Just("Romance Standard Time"),
        Just("Pacific Standard Time"),
        Just("Tokyo Standard Time"),
        Just("Europe/London"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// What the simulator writes, the client reads back: every event inside the window, with
    /// its details, in any output zone.
    #[test]
    fn built_responses_parse_back_to_their_events(
        events in proptest::collection::vec(event(), 0..12),
        zone in zone_name(),
        interval in 5u32..=1440,
    ) {
        let start = ts("2025-06-02T00:00:00Z");
        let end = ts("2025-06-04T00:00:00Z");
        let out = OutputZone::from_prefer(&format!("outlook.timezone=\"{zone}\""))
            .and_then(Result::ok)
            .expect("zone resolves");
        let body = ScheduleResponse::new(vec![ScheduleInformation::build(
            "p@x.com", &events, start, end, interval, &out, None,
        )])
        .to_json();
        let req = GetSchedule::new(vec!["P@x.com".into()], start, end, interval, ScheduleLimit::default())
            .expect("valid");
        let avs = req.read_response(body.as_bytes(), start).expect("reads");
        prop_assert_eq!(avs.len(), 1);
        let want: Vec<CalendarEvent> = events
            .into_iter()
            .filter(|e| e.start < end && e.end > start)
            .collect();
        if want.is_empty() {
            // No items: the reader falls back to the view, which must then be all free.
            prop_assert!(avs[0].events.is_empty());
        } else {
            prop_assert_eq!(&avs[0].events, &want);
        }
        prop_assert_eq!(&avs[0].error, &None);
    }

    /// The view derived from arbitrary events never shows a slot as free where a busy, tentative
    /// or out-of-office event is (working elsewhere is `0` in today's Graph).
    #[test]
    fn view_never_hides_a_busy_event(
        events in proptest::collection::vec(event(), 0..12),
        interval in 5u32..=240,
    ) {
        let start = ts("2025-06-02T00:00:00Z");
        let end = ts("2025-06-03T00:00:00Z");
        let view: Vec<char> = availability_view(&events, start, end, interval).chars().collect();
        for e in events.iter().filter(|e| !matches!(e.busy_type, BusyType::Free | BusyType::WorkingElsewhere) && e.start < end && e.end > start && e.end > e.start) {
            let first = (e.start.max(start).as_second() - start.as_second()) / (i64::from(interval) * 60);
            let digit = view.get(usize::try_from(first).unwrap_or(usize::MAX)).copied();
            prop_assert!(digit.is_some_and(|d| d != '0'), "{:?} shows free at slot {}", e, first);
        }
    }

    /// Nothing the network sends can make the readers panic.
    #[test]
    fn readers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let req = GetSchedule::new(vec!["a@x.com".into()], ts("2025-06-02T00:00:00Z"), ts("2025-06-03T00:00:00Z"), 30, ScheduleLimit::default())
            .expect("valid");
        let _ = req.read_response(&body, ts(FETCHED));
        let _ = GetMailTips::automatic_replies(vec!["a@x.com".into()]).map(|m| m.read_response(&body));
        let _ = crate::error::ServiceError::read(429, std::str::from_utf8(&body).ok(), &body);
        let _ = UserPage::read(&body);
        let _ = crate::directory::DirectoryPage::read(&body);
    }

    /// Structured but hostile JSON: right shape, wrong values.
    #[test]
    fn structured_garbage_is_never_free(
        status in "[a-zA-Z]{0,12}",
        date in "[0-9T:.\\-Z]{0,30}",
        zone in "[A-Za-z /]{0,20}",
        view in "[0-9]{0,60}",
    ) {
        let body = serde_json::json!({"value": [{
            "scheduleId": "a@x.com",
            "availabilityView": view,
            "scheduleItems": [{"status": status, "start": {"dateTime": date, "timeZone": zone}, "end": {"dateTime": date, "timeZone": zone}}],
        }]}).to_string();
        let req = GetSchedule::new(vec!["a@x.com".into()], ts("2025-06-02T00:00:00Z"), ts("2025-06-03T00:00:00Z"), 30, ScheduleLimit::default())
            .expect("valid");
        let avs = req.read_response(body.as_bytes(), ts(FETCHED)).expect("well-formed JSON reads");
        let a = &avs[0];
        prop_assert!(a.error.is_some() || a.events.len() == 1);
        if a.error.is_none() && !status.eq_ignore_ascii_case("free") {
            prop_assert_ne!(a.events[0].busy_type, BusyType::Free);
        }
    }
}
