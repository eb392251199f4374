use jiff::tz::TimeZone;
use proptest::prelude::*;

use super::*;
use crate::availability::{SourceError, Weekday, WorkingHours, WorkingPeriod};
use crate::tz::WorkTimeZone;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// `HH:MM` on Friday 2026-11-27 (UTC).
fn at(hm: &str) -> Timestamp {
    ts(&format!("2026-11-27T{hm}:00Z"))
}

fn ev(start: &str, end: &str, busy: BusyType) -> CalendarEvent {
    CalendarEvent::new(at(start), at(end), busy)
}

fn named(start: &str, end: &str, busy: BusyType, subject: &str) -> CalendarEvent {
    let mut e = ev(start, end, busy);
    e.subject = Some(subject.into());
    e.location = Some(format!("{subject} room").into());
    e
}

/// A day of data fetched at 08:00, window 00:00–24:00 UTC, no working hours.
fn day(events: Vec<CalendarEvent>) -> Availability {
    Availability {
        mailbox: "anna.rossi@contoso.com".into(),
        window_start: at("00:00"),
        window_end: ts("2026-11-28T00:00:00Z"),
        events,
        working_hours: None,
        out_of_office: None,
        fetched_at: at("08:00"),
        error: None,
    }
}

fn opts() -> StatusOptions {
    StatusOptions {
        stale_after: SignedDuration::from_hours(24),
        ..StatusOptions::default()
    }
}

fn status(a: &Availability, now: &str) -> OperatorStatus {
    compute_status(Some(a), at(now), &opts())
}

#[test]
fn each_busy_type_under_each_rule() {
    use BusyType as B;
    use OperatorState as S;
    let rules = |tentative, working_elsewhere| StatusRules {
        tentative,
        working_elsewhere,
        ignore_all_day_free: true,
    };
    let default = StatusRules::default();
    let table = [
        (B::Free, default, S::Free),
        (B::Busy, default, S::Busy),
        (B::Oof, default, S::Oof),
        (B::NoData, default, S::Unknown),
        (B::Tentative, default, S::Tentative),
        (
            B::Tentative,
            rules(TentativeRule::Busy, WorkingElsewhereRule::WorkingElsewhere),
            S::Busy,
        ),
        (
            B::Tentative,
            rules(TentativeRule::Free, WorkingElsewhereRule::WorkingElsewhere),
            S::Free,
        ),
        (B::WorkingElsewhere, default, S::WorkingElsewhere),
        (
            B::WorkingElsewhere,
            rules(TentativeRule::Tentative, WorkingElsewhereRule::Busy),
            S::Busy,
        ),
        (
            B::WorkingElsewhere,
            rules(TentativeRule::Tentative, WorkingElsewhereRule::Free),
            S::Free,
        ),
        // Rules never weaken Busy or OOF.
        (
            B::Busy,
            rules(TentativeRule::Free, WorkingElsewhereRule::Free),
            S::Busy,
        ),
        (
            B::Oof,
            rules(TentativeRule::Free, WorkingElsewhereRule::Free),
            S::Oof,
        ),
    ];
    for (busy, rules, want) in table {
        let a = day(vec![ev("09:00", "10:00", busy)]);
        let options = StatusOptions { rules, ..opts() };
        let got = compute_status(Some(&a), at("09:30"), &options);
        assert_eq!(got.state, want, "{busy:?} under {rules:?}");
        assert_eq!(
            got.unknown_reason.as_deref(),
            (want == S::Unknown).then_some(REASON_SOURCE_NO_DATA),
            "{busy:?}"
        );
    }
}

#[test]
fn overlap_precedence_matches_busy_type_rank() {
    let rules = StatusRules::default();
    let level = |b: BusyType| rules.level(&CalendarEvent::new(at("09:00"), at("10:00"), b));
    for a in BUSY_TYPES {
        for b in BUSY_TYPES {
            assert_eq!(
                level(a).cmp(&level(b)),
                a.rank().cmp(&b.rank()),
                "{a:?} vs {b:?}"
            );
        }
    }
}

#[test]
fn spans_merge_back_to_back_and_overlapping_events() {
    use BusyType as B;
    // (events, now, state, since, until)
    let table: Vec<(Vec<CalendarEvent>, &str, OperatorState, &str, &str)> = vec![
        // The SPEC's example: busy 9:00–10:00 then 10:00–11:30 is busy until 11:30.
        (
            vec![ev("09:00", "10:00", B::Busy), ev("10:00", "11:30", B::Busy)],
            "09:15",
            OperatorState::Busy,
            "09:00",
            "11:30",
        ),
        // Overlapping busy events merge.
        (
            vec![ev("09:00", "10:30", B::Busy), ev("10:00", "11:00", B::Busy)],
            "10:45",
            OperatorState::Busy,
            "09:00",
            "11:00",
        ),
        // A weaker event inside does not break the span.
        (
            vec![
                ev("09:00", "11:00", B::Busy),
                ev("09:30", "10:00", B::Tentative),
            ],
            "09:15",
            OperatorState::Busy,
            "09:00",
            "11:00",
        ),
        // A weaker event running on shows after the stronger one ends.
        (
            vec![
                ev("09:00", "11:00", B::Busy),
                ev("10:00", "12:00", B::Tentative),
            ],
            "11:15",
            OperatorState::Tentative,
            "11:00",
            "12:00",
        ),
        // A stronger event inside cuts the span.
        (
            vec![ev("09:00", "11:00", B::Busy), ev("09:30", "10:00", B::Oof)],
            "09:15",
            OperatorState::Busy,
            "09:00",
            "09:30",
        ),
        (
            vec![ev("09:00", "11:00", B::Busy), ev("09:30", "10:00", B::Oof)],
            "09:45",
            OperatorState::Oof,
            "09:30",
            "10:00",
        ),
        (
            vec![ev("09:00", "11:00", B::Busy), ev("09:30", "10:00", B::Oof)],
            "10:15",
            OperatorState::Busy,
            "10:00",
            "11:00",
        ),
        // Free time between events spans the gap.
        (
            vec![ev("09:00", "10:00", B::Busy), ev("11:00", "12:00", B::Busy)],
            "10:15",
            OperatorState::Free,
            "10:00",
            "11:00",
        ),
        // No events at all: free over the whole window.
        (vec![], "10:00", OperatorState::Free, "00:00", "24:00"),
        // A meeting that began before the window is clipped to it.
        (
            vec![CalendarEvent::new(
                ts("2026-11-26T22:00:00Z"),
                at("01:00"),
                B::Busy,
            )],
            "00:30",
            OperatorState::Busy,
            "00:00",
            "01:00",
        ),
        // Free events change nothing.
        (
            vec![ev("09:00", "10:00", B::Free), ev("10:00", "11:00", B::Busy)],
            "09:30",
            OperatorState::Free,
            "00:00",
            "10:00",
        ),
        // Zero-length and inverted events are ignored.
        (
            vec![ev("09:00", "09:00", B::Busy), ev("10:00", "09:30", B::Oof)],
            "09:45",
            OperatorState::Free,
            "00:00",
            "24:00",
        ),
    ];
    for (events, now, state, since, until) in table {
        let a = day(events.clone());
        let got = status(&a, now);
        let until = if until == "24:00" {
            ts("2026-11-28T00:00:00Z")
        } else {
            at(until)
        };
        assert_eq!(
            (got.state, got.since, got.until),
            (state, Some(at(since)), Some(until)),
            "{events:?} at {now}"
        );
    }
}

#[test]
fn missing_failed_stale_and_out_of_window_data_is_unknown() {
    let busy = day(vec![ev("09:00", "10:00", BusyType::Free)]);
    let options = StatusOptions {
        stale_after: SignedDuration::from_mins(15),
        ..opts()
    };
    let check = |a: Option<&Availability>, now: Timestamp, reason: &str| {
        let got = compute_status(a, now, &options);
        assert_eq!(got.state, OperatorState::Unknown, "{reason}");
        assert_eq!(got.unknown_reason.as_deref(), Some(reason));
        assert_eq!((got.next_free, got.event.clone()), (None, None), "{reason}");
        got
    };
    check(None, at("08:05"), REASON_NO_DATA);
    let mut failed = busy.clone();
    failed.error = Some(Box::new(SourceError {
        code: "EWS_ERROR_MAIL_RECIPIENT_NOT_FOUND".into(),
        message: "no such mailbox".into(),
    }));
    check(
        Some(&failed),
        at("08:05"),
        "EWS_ERROR_MAIL_RECIPIENT_NOT_FOUND",
    );
    // Fetched at 08:00 with a 15-minute limit: fresh at 08:14:59, stale from 08:15.
    assert_eq!(
        compute_status(Some(&busy), ts("2026-11-27T08:14:59Z"), &options).state,
        OperatorState::Free
    );
    let stale = check(Some(&busy), at("08:15"), REASON_STALE);
    assert_eq!(stale.since, Some(at("08:15")));
    let mut early = busy.clone();
    early.window_start = at("09:00");
    let before = check(Some(&early), at("08:05"), REASON_OUTSIDE_WINDOW);
    // Unknown until the window starts; the data turns stale first.
    assert_eq!(
        (before.until, before.next_change),
        (Some(at("09:00")), Some(at("08:15")))
    );
    let before = compute_status(Some(&early), at("08:05"), &opts());
    assert_eq!(
        (before.until, before.next_change),
        (Some(at("09:00")), Some(at("09:00")))
    );
    let mut short = busy.clone();
    short.window_end = at("08:03");
    check(Some(&short), at("08:05"), REASON_OUTSIDE_WINDOW);
    assert_eq!(
        freshness(Some(&busy), at("08:05"), &options),
        Freshness::Fresh
    );
    assert_eq!(
        freshness(Some(&busy), at("08:15"), &options),
        Freshness::Stale
    );
    assert_eq!(
        freshness(Some(&failed), at("08:05"), &options),
        Freshness::Error
    );
    assert_eq!(freshness(None, at("08:05"), &options), Freshness::Stale);
}

/// A six-day absence read through a one-day window: out of office from its real start to its
/// real end (chained through a second absence that follows it), not the window's edges; a
/// busy meeting running past the window keeps the window's end (anything may follow it).
#[test]
fn an_absence_longer_than_the_window_shows_its_real_span() {
    let mut away = CalendarEvent::new(
        ts("2026-11-25T00:00:00Z"),
        ts("2026-11-30T00:00:00Z"),
        BusyType::Oof,
    );
    away.is_all_day = true;
    let then = CalendarEvent::new(
        ts("2026-11-30T00:00:00Z"),
        ts("2026-12-02T12:00:00Z"),
        BusyType::Oof,
    );
    let s = status(&day(vec![away.clone(), then]), "10:00");
    assert_eq!(s.state, OperatorState::Oof);
    assert_eq!(s.since, Some(ts("2026-11-25T00:00:00Z")));
    assert_eq!(s.until, Some(ts("2026-12-02T12:00:00Z")));
    let s = status(&day(vec![away]), "10:00");
    assert_eq!(s.until, Some(ts("2026-11-30T00:00:00Z")));
    let conference = CalendarEvent::new(at("09:00"), ts("2026-11-29T18:00:00Z"), BusyType::Busy);
    let s = status(&day(vec![conference]), "10:00");
    assert_eq!(s.state, OperatorState::Busy);
    assert_eq!(s.until, Some(ts("2026-11-28T00:00:00Z")));
}

#[test]
fn privacy_levels_and_private_events() {
    let mut private = named("09:00", "10:00", BusyType::Busy, "Salary talk");
    private.is_private = true;
    let public = named("09:00", "10:00", BusyType::Busy, "Budget review");
    let view = |subject: Option<&str>, location: Option<&str>, private| {
        Some(EventView {
            subject: subject.map(str::to_string),
            location: location.map(str::to_string),
            private,
        })
    };
    let table = [
        (public.clone(), Privacy::StatusOnly, None),
        (
            public.clone(),
            Privacy::Subject,
            view(Some("Budget review"), None, false),
        ),
        (
            public.clone(),
            Privacy::SubjectAndLocation,
            view(Some("Budget review"), Some("Budget review room"), false),
        ),
        (private.clone(), Privacy::StatusOnly, None),
        (
            private.clone(),
            Privacy::Subject,
            view(Some(PRIVATE_SUBJECT), None, true),
        ),
        (
            private.clone(),
            Privacy::SubjectAndLocation,
            view(Some(PRIVATE_SUBJECT), None, true),
        ),
    ];
    for (event, privacy, want) in table {
        let a = day(vec![event.clone()]);
        let got = compute_status(Some(&a), at("09:30"), &StatusOptions { privacy, ..opts() });
        assert_eq!(got.event, want, "{privacy:?} private={}", event.is_private);
    }
}

#[test]
fn the_deciding_event_is_shown() {
    let a = day(vec![
        named("09:00", "11:00", BusyType::Tentative, "Maybe"),
        named("09:30", "10:00", BusyType::Busy, "Call"),
        named("09:45", "10:30", BusyType::Busy, "Later call"),
    ]);
    let subject = |now| status(&a, now).event.and_then(|e| e.subject);
    assert_eq!(subject("09:15").as_deref(), Some("Maybe"));
    assert_eq!(subject("09:50").as_deref(), Some("Call"));
    assert_eq!(subject("10:15").as_deref(), Some("Later call"));
    assert_eq!(subject("10:45").as_deref(), Some("Maybe"));
    assert_eq!(subject("11:15"), None);
}

#[test]
fn all_day_free_events_are_ignored_unless_the_rules_say_otherwise() {
    let mut holiday = CalendarEvent::new(at("00:00"), ts("2026-11-28T00:00:00Z"), BusyType::Free);
    holiday.is_all_day = true;
    holiday.subject = Some("Thanksgiving (US)".into());
    let a = day(vec![holiday, ev("09:00", "10:00", BusyType::Busy)]);
    let ignored = status(&a, "12:00");
    assert_eq!((ignored.state, ignored.event), (OperatorState::Free, None));
    let options = StatusOptions {
        rules: StatusRules {
            ignore_all_day_free: false,
            ..StatusRules::default()
        },
        ..opts()
    };
    let shown = compute_status(Some(&a), at("12:00"), &options);
    assert_eq!(shown.state, OperatorState::Free);
    assert_eq!(
        shown.event.and_then(|e| e.subject).as_deref(),
        Some("Thanksgiving (US)")
    );
    let site = TimeZone::UTC;
    assert_eq!(today(&a, at("12:00"), &site, &opts()).len(), 1);
    assert_eq!(today(&a, at("12:00"), &site, &options).len(), 2);
}

fn rome_office() -> WorkingHours {
    WorkingHours {
        time_zone: WorkTimeZone::Iana("Europe/Rome".into()),
        periods: vec![WorkingPeriod {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            start_minute: 9 * 60,
            end_minute: 18 * 60,
        }],
    }
}

#[test]
fn next_free_slot_inside_working_hours() {
    use BusyType as B;
    // Rome is UTC+1 in November: working hours are 08:00–17:00 UTC on weekdays.
    // (events, now, working hours?, min_free minutes, window end, expected)
    let friday_end = ts("2026-11-28T00:00:00Z");
    let monday_end = ts("2026-12-01T00:00:00Z");
    type Row = (
        Vec<CalendarEvent>,
        &'static str,
        bool,
        i64,
        Timestamp,
        Option<Timestamp>,
    );
    let table: Vec<Row> = vec![
        // Busy until 11:30, then free: next free is 11:30.
        (
            vec![ev("09:00", "11:30", B::Busy)],
            "09:30",
            true,
            15,
            friday_end,
            Some(at("11:30")),
        ),
        // A 10-minute gap is too short for 15 minutes; the next one counts.
        (
            vec![ev("09:00", "10:00", B::Busy), ev("10:10", "11:00", B::Busy)],
            "09:30",
            true,
            15,
            friday_end,
            Some(at("11:00")),
        ),
        // ... but enough when 10 minutes will do.
        (
            vec![ev("09:00", "10:00", B::Busy), ev("10:10", "11:00", B::Busy)],
            "09:30",
            true,
            10,
            friday_end,
            Some(at("10:00")),
        ),
        // Free now for long enough: now.
        (
            vec![ev("09:00", "10:00", B::Busy)],
            "10:30",
            true,
            15,
            friday_end,
            Some(at("10:30")),
        ),
        // Free now, but only 10 minutes left before the next meeting.
        (
            vec![ev("10:40", "11:00", B::Busy)],
            "10:30",
            true,
            15,
            friday_end,
            Some(at("11:00")),
        ),
        // Busy until 16:50: 10 minutes of working time left on Friday, none on the weekend.
        (
            vec![ev("08:00", "16:50", B::Busy)],
            "09:00",
            true,
            15,
            monday_end,
            Some(ts("2026-11-30T08:00:00Z")),
        ),
        // Same, when the window ends before Monday: no slot is known.
        (
            vec![ev("08:00", "16:50", B::Busy)],
            "09:00",
            true,
            15,
            friday_end,
            None,
        ),
        // Without working hours any time counts.
        (
            vec![ev("08:00", "16:50", B::Busy)],
            "09:00",
            false,
            15,
            friday_end,
            Some(at("16:50")),
        ),
        // Tentative, working-elsewhere and unknown time is not free time.
        (
            vec![
                ev("09:00", "10:00", B::Busy),
                ev("10:00", "11:00", B::Tentative),
                ev("11:00", "12:00", B::NoData),
            ],
            "09:30",
            true,
            15,
            friday_end,
            Some(at("12:00")),
        ),
        // Out of office into next week.
        (
            vec![CalendarEvent::new(
                at("09:00"),
                ts("2026-12-02T00:00:00Z"),
                B::Oof,
            )],
            "09:30",
            true,
            15,
            monday_end,
            None,
        ),
    ];
    for (events, now, working, min_free, window_end, want) in table {
        let mut a = day(events.clone());
        a.window_end = window_end;
        a.working_hours = working.then(rome_office).map(Into::into);
        let options = StatusOptions {
            min_free: SignedDuration::from_mins(min_free),
            ..opts()
        };
        let got = compute_status(Some(&a), at(now), &options);
        assert_eq!(
            got.next_free, want,
            "{events:?} at {now}, working hours {working}, {min_free} min"
        );
    }
}

#[test]
fn next_change_is_the_next_visible_change() {
    use BusyType as B;
    let a = day(vec![
        named("09:00", "10:00", B::Busy, "A"),
        named("10:00", "11:00", B::Busy, "B"),
        named("11:00", "12:00", B::Busy, "B"),
    ]);
    // The state stays busy until 12:00 but the subject changes at 10:00.
    let got = status(&a, "09:30");
    assert_eq!(
        (got.until, got.next_change),
        (Some(at("12:00")), Some(at("10:00")))
    );
    // From 10:00 the subject stays "B": the next change is the end of the busy span.
    assert_eq!(status(&a, "10:30").next_change, Some(at("12:00")));
    // With status only, subjects are not shown, so the only change is the state's.
    let hidden = compute_status(
        Some(&a),
        at("09:30"),
        &StatusOptions {
            privacy: Privacy::StatusOnly,
            ..opts()
        },
    );
    assert_eq!(hidden.next_change, Some(at("12:00")));
    // Staleness comes first when it is earlier.
    let options = StatusOptions {
        stale_after: SignedDuration::from_mins(90),
        ..opts()
    };
    assert_eq!(
        compute_status(Some(&a), at("09:05"), &options).next_change,
        Some(at("09:30"))
    );
    // After the last event: the window's end.
    assert_eq!(
        status(&a, "13:00").next_change,
        Some(ts("2026-11-28T00:00:00Z"))
    );
}

#[test]
fn today_lists_the_site_day_with_privacy() {
    use BusyType as B;
    let mut private = named("15:00", "16:00", B::Busy, "Doctor");
    private.is_private = true;
    let a = Availability {
        window_start: ts("2026-11-26T00:00:00Z"),
        window_end: ts("2026-11-29T00:00:00Z"),
        ..day(vec![
            named("10:00", "11:00", B::Tentative, "Review"),
            private,
            // 23:30 UTC Thursday is 00:30 Friday in Rome.
            CalendarEvent::new(ts("2026-11-26T23:30:00Z"), at("00:00"), B::Busy),
            // 23:30 UTC Friday is Saturday in Rome.
            CalendarEvent::new(at("23:30"), ts("2026-11-28T00:30:00Z"), B::Busy),
        ])
    };
    let rome = TimeZone::get("Europe/Rome").expect("tz");
    let got = today(&a, at("12:00"), &rome, &opts());
    let summary: Vec<_> = got
        .iter()
        .map(|e| {
            (
                e.start,
                e.shows_as,
                e.subject.as_deref(),
                e.location.as_deref(),
                e.private,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                ts("2026-11-26T23:30:00Z"),
                OperatorState::Busy,
                None,
                None,
                false
            ),
            (
                at("10:00"),
                OperatorState::Tentative,
                Some("Review"),
                None,
                false
            ),
            (
                at("15:00"),
                OperatorState::Busy,
                Some(PRIVATE_SUBJECT),
                None,
                true
            ),
        ]
    );
    let status_only = StatusOptions {
        privacy: Privacy::StatusOnly,
        ..opts()
    };
    assert!(
        today(&a, at("12:00"), &rome, &status_only)
            .iter()
            .all(|e| e.subject.is_none())
    );
    let mut failed = a.clone();
    failed.error = Some(Box::new(SourceError {
        code: "X".into(),
        message: "x".into(),
    }));
    assert!(today(&failed, at("12:00"), &rome, &opts()).is_empty());
}

#[test]
fn day_window_follows_local_days_across_shifts() {
    // (zone, local date, start of that day, start of two days later), from the tz database.
    let table = [
        (
            "Europe/Rome",
            "2026-03-29",
            "2026-03-28T23:00:00Z",
            "2026-03-30T22:00:00Z",
        ),
        (
            "Europe/Rome",
            "2026-10-25",
            "2026-10-24T22:00:00Z",
            "2026-10-26T23:00:00Z",
        ),
        (
            "America/New_York",
            "2026-03-08",
            "2026-03-08T05:00:00Z",
            "2026-03-10T04:00:00Z",
        ),
        (
            "America/New_York",
            "2026-11-01",
            "2026-11-01T04:00:00Z",
            "2026-11-03T05:00:00Z",
        ),
        (
            "Australia/Lord_Howe",
            "2026-10-04",
            "2026-10-03T13:30:00Z",
            "2026-10-05T13:00:00Z",
        ),
        (
            "Australia/Lord_Howe",
            "2026-04-05",
            "2026-04-04T13:00:00Z",
            "2026-04-06T13:30:00Z",
        ),
    ];
    for (zone, local, start, end) in table {
        let tz = TimeZone::get(zone).expect("tz");
        let (start, end) = (ts(start), ts(end));
        // Any instant of that local day gives the same window.
        for now in [
            start,
            start
                .checked_add(SignedDuration::from_hours(12))
                .expect("noon"),
            ts(&format!("{local}T12:00:00Z")),
        ] {
            if tz.to_datetime(now).date().to_string() == local {
                assert_eq!(
                    day_window(now, &tz),
                    (start, end),
                    "{zone} {local} at {now}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Properties.

const BUSY_TYPES: [BusyType; 6] = [
    BusyType::Free,
    BusyType::Tentative,
    BusyType::Busy,
    BusyType::Oof,
    BusyType::WorkingElsewhere,
    BusyType::NoData,
];

fn base() -> Timestamp {
    at("00:00")
}

fn minute(m: i64) -> Timestamp {
    base()
        .checked_add(SignedDuration::from_mins(m))
        .expect("minute")
}

/// Events on a 5-minute grid over a little more than the window, so that back-to-back and
/// overlapping events are common.
fn events() -> impl Strategy<Value = Vec<CalendarEvent>> {
    prop::collection::vec(
        (
            -12i64..300,
            1i64..40,
            0usize..6,
            any::<bool>(),
            any::<bool>(),
            0u8..3,
        ),
        0..14,
    )
    .prop_map(|raw| {
        raw.into_iter()
            .map(|(start, len, busy, private, all_day, subject)| {
                let mut e = CalendarEvent::new(
                    minute(start * 5),
                    minute((start + len) * 5),
                    BUSY_TYPES[busy],
                );
                e.is_private = private;
                e.is_all_day = all_day;
                e.subject = Some(format!("meeting {subject}").into());
                e
            })
            .collect()
    })
}

fn rules() -> impl Strategy<Value = StatusRules> {
    (0usize..3, 0usize..3, any::<bool>()).prop_map(|(t, w, ignore)| StatusRules {
        tentative: [
            TentativeRule::Tentative,
            TentativeRule::Busy,
            TentativeRule::Free,
        ][t],
        working_elsewhere: [
            WorkingElsewhereRule::WorkingElsewhere,
            WorkingElsewhereRule::Free,
            WorkingElsewhereRule::Busy,
        ][w],
        ignore_all_day_free: ignore,
    })
}

fn privacy() -> impl Strategy<Value = Privacy> {
    prop::sample::select(vec![
        Privacy::StatusOnly,
        Privacy::Subject,
        Privacy::SubjectAndLocation,
    ])
}

/// Window 00:00–20:00 (minutes 0..1200), now anywhere in it at second resolution.
fn scenario() -> impl Strategy<Value = (Availability, Timestamp, StatusOptions)> {
    (
        events(),
        rules(),
        privacy(),
        0i64..1200 * 60,
        any::<bool>(),
        1i64..30,
        600i64..2400,
    )
        .prop_map(
            |(events, rules, privacy, now_s, working, min_free, stale_after)| {
                let mut a = day(events);
                a.window_end = minute(1200);
                a.fetched_at = base();
                a.working_hours = working.then(rome_office).map(Into::into);
                let now = base()
                    .checked_add(SignedDuration::from_secs(now_s))
                    .expect("now");
                let options = StatusOptions {
                    rules,
                    privacy,
                    stale_after: SignedDuration::from_mins(stale_after),
                    min_free: SignedDuration::from_mins(min_free),
                };
                (a, now, options)
            },
        )
}

/// The same options with data that never turns stale: for probing what the events say.
fn never_stale(options: &StatusOptions) -> StatusOptions {
    StatusOptions {
        stale_after: SignedDuration::from_hours(100_000),
        ..*options
    }
}

fn second_before(t: Timestamp) -> Timestamp {
    t.checked_sub(SignedDuration::from_secs(1))
        .expect("second before")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn span_is_consistent((a, now, options) in scenario()) {
        let s = compute_status(Some(&a), now, &options);
        if let (Some(since), Some(until)) = (s.since, s.until) {
            prop_assert!(until > since);
            if s.unknown_reason.as_deref() != Some(REASON_STALE) {
                prop_assert!(since <= now && now < until, "{:?} at {}", s, now);
                let probe = never_stale(&options);
                // Inside the window the status says the same at both ends of its span; an
                // absence reaching past the window is out of office there by its own events.
                let first = since.max(a.window_start);
                let last = second_before(until).min(second_before(a.window_end));
                let at_since = compute_status(Some(&a), first, &probe).state;
                let at_end = compute_status(Some(&a), last, &probe).state;
                prop_assert_eq!(at_since, s.state);
                prop_assert_eq!(at_end, s.state);
                let oof_at = |t: Timestamp| a.events.iter().any(|e| {
                    options.rules.level(e) == Some(Level::Oof) && e.start <= t && t < e.end
                });
                if since < a.window_start || until > a.window_end {
                    prop_assert_eq!(s.state, OperatorState::Oof);
                    prop_assert!(oof_at(since) && oof_at(second_before(until)), "{:?}", s);
                }
            }
        }
    }

    #[test]
    fn next_change_changes_something_or_the_data_ends((a, now, options) in scenario()) {
        let s = compute_status(Some(&a), now, &options);
        let stale = a.fetched_at.checked_add(options.stale_after).expect("stale");
        if let Some(next) = s.next_change {
            prop_assert!(next > now);
            let later = compute_status(Some(&a), next, &options);
            let data_ends = next >= a.window_end || next >= stale;
            prop_assert!(later.state != s.state || later.event != s.event || data_ends, "{:?} then {:?}", s, later);
            // Nothing visible changes before it.
            let before = compute_status(Some(&a), second_before(next), &options);
            prop_assert_eq!((before.state, before.event), (s.state, s.event));
        }
    }

    #[test]
    fn busy_or_oof_is_never_free((a, now, options) in scenario()) {
        let s = compute_status(Some(&a), now, &options);
        let covered = a.events.iter().any(|e| matches!(e.busy_type, BusyType::Busy | BusyType::Oof) && e.covers(now));
        let unknown = a.events.iter().any(|e| e.busy_type == BusyType::NoData && e.covers(now));
        if covered {
            prop_assert!(s.state != OperatorState::Free, "{:?}", s);
        }
        if unknown {
            prop_assert!(matches!(s.state, OperatorState::Unknown | OperatorState::Oof), "{:?}", s);
        }
    }

    #[test]
    fn next_free_is_free_for_long_enough((a, now, options) in scenario()) {
        let s = compute_status(Some(&a), now, &options);
        if let Some(free) = s.next_free {
            prop_assert!(free >= now);
            let end = free.checked_add(options.min_free).expect("end");
            prop_assert!(end <= a.window_end);
            let probe = never_stale(&options);
            let mut t = free;
            while t < end {
                prop_assert_eq!(compute_status(Some(&a), t, &probe).state, OperatorState::Free, "at {}", t);
                if let Some(h) = &a.working_hours {
                    prop_assert_eq!(h.contains(t), Ok(true), "at {}", t);
                }
                t = t.checked_add(SignedDuration::from_secs(60)).expect("step");
            }
        }
    }

    #[test]
    fn stale_data_is_never_free((a, _now, options) in scenario(), extra in 0i64..100_000) {
        let stale = a.fetched_at.checked_add(options.stale_after).expect("stale");
        let later = stale.checked_add(SignedDuration::from_secs(extra)).expect("later");
        let s = compute_status(Some(&a), later, &options);
        prop_assert_eq!(s.state, OperatorState::Unknown);
    }

    #[test]
    fn day_window_bounds_are_local_midnights(
        zone in prop::sample::select(vec!["Europe/Rome", "America/New_York", "Australia/Lord_Howe"]),
        secs in 1_704_067_200i64..1_924_992_000,
    ) {
        let tz = TimeZone::get(zone).expect("tz");
        let now = Timestamp::from_second(secs).expect("now");
        let (start, end) = day_window(now, &tz);
        prop_assert!(start <= now && now < end);
        let date = tz.to_datetime(now).date();
        prop_assert_eq!(tz.to_datetime(start), date.to_datetime(Time::midnight()));
        let two_days = date.checked_add(jiff::Span::new().days(2)).expect("date");
        prop_assert_eq!(tz.to_datetime(end), two_days.to_datetime(Time::midnight()));
        // The instant before each bound is on the previous local date.
        let before_start = tz.to_datetime(start.checked_sub(SignedDuration::from_nanos(1)).expect("b"));
        prop_assert_eq!(before_start.date(), date.yesterday().expect("yesterday"));
        let before_end = tz.to_datetime(end.checked_sub(SignedDuration::from_nanos(1)).expect("b"));
        prop_assert_eq!(before_end.date(), date.tomorrow().expect("tomorrow"));
        // Two local days are 48 h, give or take one shift (30 min on Lord Howe).
        let hours = end.duration_since(start).as_secs_f64() / 3600.0;
        prop_assert!((46.9..=49.1).contains(&hours), "{}", hours);
    }
}
