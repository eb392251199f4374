use jiff::civil::date;
use proptest::prelude::*;

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn change(bias: i32, hms: (u32, u32), day_order: u8, month: u8, day: Weekday) -> TimeChange {
    TimeChange {
        bias_minutes: bias,
        time_of_day_s: hms.0 * 3600 + hms.1 * 60,
        day_order,
        month,
        day_of_week: day,
        year: None,
    }
}

/// Central Europe as Exchange writes it (research/ews.md §1.7).
fn central_europe() -> SerializableTimeZone {
    SerializableTimeZone {
        bias_minutes: -60,
        standard: Some(change(0, (3, 0), 5, 10, Weekday::Sun)),
        daylight: Some(change(-60, (2, 0), 5, 3, Weekday::Sun)),
    }
}

/// Pacific time as the EWS documentation's example writes it.
fn pacific() -> SerializableTimeZone {
    SerializableTimeZone {
        bias_minutes: 480,
        standard: Some(change(0, (2, 0), 1, 11, Weekday::Sun)),
        daylight: Some(change(-60, (2, 0), 2, 3, Weekday::Sun)),
    }
}

/// Instants every `step` through `year` (UTC), plus one second either side of each of the
/// zone's transitions in that year.
fn instants_of_year(tz: &TimeZone, year: i16, step: SignedDuration) -> Vec<Timestamp> {
    let start = date(year, 1, 1)
        .to_datetime(Time::midnight())
        .to_zoned_datetime(TimeZone::UTC)
        .expect("start")
        .timestamp();
    let end = date(year + 1, 1, 1)
        .to_datetime(Time::midnight())
        .to_zoned_datetime(TimeZone::UTC)
        .expect("end")
        .timestamp();
    let mut out = Vec::new();
    let mut t = start;
    while t < end {
        out.push(t);
        t = t.checked_add(step).expect("step");
    }
    for tr in tz.following(start).take_while(|tr| tr.timestamp() < end) {
        for d in [-1, 0, 1] {
            out.push(
                tr.timestamp()
                    .checked_add(SignedDuration::from_secs(d))
                    .expect("around"),
            );
        }
    }
    out
}

fn assert_rules_match(rules: &SerializableTimeZone, tz: &TimeZone, label: &str, year: i16) {
    for at in instants_of_year(tz, year, SignedDuration::from_mins(37)) {
        assert_eq!(
            rules.offset_at(at),
            Ok(tz.to_offset(at)),
            "{label} at {at}: rules {rules:?}"
        );
    }
}

#[test]
fn windows_names_map_to_cldr_default_zones() {
    let table = [
        ("W. Europe Standard Time", Some("Europe/Berlin")),
        ("w. europe standard time", Some("Europe/Berlin")),
        ("  Eastern Standard Time ", Some("America/New_York")),
        ("Lord Howe Standard Time", Some("Australia/Lord_Howe")),
        ("UTC", Some("Etc/UTC")),
        ("India Standard Time", Some("Asia/Calcutta")),
        ("Mars Standard Time", None),
        ("", None),
    ];
    for (windows, want) in table {
        assert_eq!(windows_to_iana(windows), want, "{windows:?}");
    }
}

#[test]
fn iana_names_and_their_aliases_map_to_windows() {
    let table = [
        ("Europe/Rome", Some("W. Europe Standard Time")),
        ("Europe/Berlin", Some("W. Europe Standard Time")),
        ("America/New_York", Some("Eastern Standard Time")),
        ("US/Eastern", Some("Eastern Standard Time")),
        ("Asia/Kolkata", Some("India Standard Time")),
        ("Asia/Calcutta", Some("India Standard Time")),
        ("Europe/Kyiv", Some("FLE Standard Time")),
        ("Europe/Kiev", Some("FLE Standard Time")),
        ("Australia/Lord_Howe", Some("Lord Howe Standard Time")),
        ("Etc/UTC", Some("UTC")),
        ("Not/A_Zone", None),
    ];
    for (iana, want) in table {
        assert_eq!(iana_to_windows(iana), want, "{iana:?}");
    }
}

#[test]
fn every_windows_name_round_trips_and_loads() {
    assert!(windows_zones::WINDOWS_TO_IANA.len() > 100);
    assert!(windows_zones::WINDOWS_TO_IANA.is_sorted_by(|a, b| a.0 < b.0));
    assert!(windows_zones::IANA_TO_WINDOWS.is_sorted_by(|a, b| a.0 < b.0));
    for (windows, iana) in windows_zones::WINDOWS_TO_IANA {
        assert_eq!(iana_to_windows(iana), Some(*windows), "{iana}");
        let zone = WorkTimeZone::Windows((*windows).to_string());
        assert!(zone.resolve().is_ok(), "{windows} -> {iana} does not load");
    }
}

#[test]
fn work_time_zone_kinds_agree() {
    let at = ts("2026-07-01T12:00:00Z");
    let summer = Offset::from_hours(2).expect("offset");
    for zone in [
        WorkTimeZone::Iana("Europe/Rome".into()),
        WorkTimeZone::Windows("W. Europe Standard Time".into()),
        WorkTimeZone::Rules(central_europe()),
    ] {
        assert_eq!(zone.offset_at(at), Ok(summer), "{zone:?}");
        assert_eq!(zone.to_civil(at).map(|d| d.hour()), Ok(14), "{zone:?}");
    }
    assert!(matches!(
        WorkTimeZone::Iana("Nowhere/Town".into()).resolve(),
        Err(TzError::UnknownIana(_))
    ));
    assert!(matches!(
        WorkTimeZone::Windows("Nowhere".into()).resolve(),
        Err(TzError::UnknownWindows(_))
    ));
}

#[test]
fn exchange_rule_examples_match_the_tz_database() {
    for year in [2024, 2026, 2027] {
        assert_rules_match(
            &central_europe(),
            &TimeZone::get("Europe/Berlin").expect("tz"),
            "central europe",
            year,
        );
        assert_rules_match(
            &pacific(),
            &TimeZone::get("America/Los_Angeles").expect("tz"),
            "pacific",
            year,
        );
    }
}

#[test]
fn rule_offsets_at_the_edges() {
    let rules = central_europe();
    // 2026-03-29 01:00Z is 02:00 CET: the clocks jump.
    let table = [
        ("2026-03-29T00:59:59Z", 1),
        ("2026-03-29T01:00:00Z", 2),
        ("2026-10-25T00:59:59Z", 2),
        ("2026-10-25T01:00:00Z", 1),
        ("2026-01-01T00:00:00Z", 1),
        ("2026-12-31T23:59:59Z", 1),
    ];
    for (at, hours) in table {
        assert_eq!(
            rules.offset_at(ts(at)),
            Ok(Offset::from_hours(hours).expect("offset")),
            "{at}"
        );
    }
}

#[test]
fn rules_without_daylight_time_are_fixed() {
    let no_dst = SerializableTimeZone {
        bias_minutes: -330,
        standard: Some(change(0, (0, 0), 0, 0, Weekday::Sun)),
        daylight: Some(change(0, (0, 0), 0, 0, Weekday::Sun)),
    };
    let india = Offset::from_seconds(330 * 60).expect("offset");
    for at in ["2026-01-15T00:00:00Z", "2026-07-15T00:00:00Z"] {
        assert_eq!(no_dst.offset_at(ts(at)), Ok(india));
        assert_eq!(
            SerializableTimeZone::fixed(-330).offset_at(ts(at)),
            Ok(india)
        );
    }
}

#[test]
fn invalid_rules_are_errors() {
    let mut bad_month = central_europe();
    if let Some(d) = bad_month.daylight.as_mut() {
        d.month = 13;
    }
    let mut bad_order = central_europe();
    if let Some(s) = bad_order.standard.as_mut() {
        s.day_order = 6;
    }
    let huge_bias = SerializableTimeZone::fixed(100_000);
    for rules in [bad_month, bad_order, huge_bias] {
        assert!(
            matches!(
                rules.offset_at(ts("2026-01-01T00:00:00Z")),
                Err(TzError::InvalidRule(_))
            ),
            "{rules:?}"
        );
        assert!(WorkTimeZone::Rules(rules).resolve().is_err());
    }
}

#[test]
fn absolute_year_rules_apply_only_in_their_year() {
    let mut rules = central_europe();
    for c in [rules.standard.as_mut(), rules.daylight.as_mut()]
        .into_iter()
        .flatten()
    {
        c.year = Some(2026);
    }
    assert_eq!(
        rules.offset_at(ts("2026-07-01T00:00:00Z")),
        Ok(Offset::from_hours(2).expect("o"))
    );
    assert_eq!(
        rules.offset_at(ts("2027-07-01T00:00:00Z")),
        Ok(Offset::from_hours(1).expect("o"))
    );
}

#[test]
fn rules_from_iana_give_exchange_shapes() {
    assert_eq!(
        SerializableTimeZone::from_iana("Europe/Rome", 2026),
        Ok(central_europe())
    );
    assert_eq!(
        SerializableTimeZone::from_iana("America/Los_Angeles", 2026),
        Ok(pacific())
    );
    let lord_howe =
        SerializableTimeZone::from_iana("Australia/Lord_Howe", 2026).expect("lord howe");
    assert_eq!(lord_howe.bias_minutes, -630);
    let (std, dst) = (
        lord_howe.standard.expect("std"),
        lord_howe.daylight.expect("dst"),
    );
    assert_eq!(
        (
            dst.bias_minutes,
            dst.month,
            dst.day_order,
            dst.time_of_day_s
        ),
        (-30, 10, 1, 2 * 3600)
    );
    assert_eq!(
        (
            std.bias_minutes,
            std.month,
            std.day_order,
            std.time_of_day_s
        ),
        (0, 4, 1, 2 * 3600)
    );
    assert_eq!(
        SerializableTimeZone::from_iana("Asia/Kolkata", 2026),
        Ok(SerializableTimeZone::fixed(-330))
    );
    assert!(matches!(
        SerializableTimeZone::from_iana("Nowhere/Town", 2026),
        Err(TzError::UnknownIana(_))
    ));
}

/// Zones the simulator and tests use, across both hemispheres, half-hour shifts, negative DST
/// (Dublin) and zones without DST.
const RULE_ZONES: &[&str] = &[
    "Europe/Rome",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Berlin",
    "Europe/Helsinki",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Asia/Tehran",
    "Asia/Kathmandu",
    "UTC",
];

#[test]
fn rules_from_iana_reproduce_the_year() {
    for zone in RULE_ZONES {
        let tz = TimeZone::get(zone).expect("zone");
        for year in [2025, 2026, 2027] {
            let rules = SerializableTimeZone::from_iana(zone, year)
                .unwrap_or_else(|e| panic!("{zone} {year}: {e}"));
            assert_rules_match(&rules, &tz, zone, year);
        }
    }
}

#[test]
fn wall_clock_to_instant_in_gaps_and_folds() {
    let jiff_zone = LocalZone::Iana(TimeZone::get("Europe/Rome").expect("tz"));
    let rule_zone = LocalZone::Rules(central_europe());
    let table = [
        // Ordinary times.
        ("2026-07-01T09:00:00", "2026-07-01T07:00:00Z"),
        ("2026-01-01T00:00:00", "2025-12-31T23:00:00Z"),
        // 02:30 does not exist on 2026-03-29: it reads as 03:30 summer time.
        ("2026-03-29T02:30:00", "2026-03-29T01:30:00Z"),
        // 02:30 happens twice on 2026-10-25: the first one counts.
        ("2026-10-25T02:30:00", "2026-10-25T00:30:00Z"),
    ];
    for (local, want) in table {
        let local: DateTime = local.parse().expect("civil");
        for zone in [&jiff_zone, &rule_zone] {
            assert_eq!(
                zone.to_timestamp(local),
                Ok(ts(want)),
                "{local} in {zone:?}"
            );
        }
    }
}

fn weekday() -> impl Strategy<Value = Weekday> {
    (0usize..7).prop_map(|i| Weekday::ALL[i])
}

fn posix_offset(minutes_west: i32) -> String {
    let sign = if minutes_west < 0 { "-" } else { "+" };
    let m = minutes_west.abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

fn posix_rule(c: &TimeChange) -> String {
    let d = match c.day_of_week {
        Weekday::Sun => 0,
        Weekday::Mon => 1,
        Weekday::Tue => 2,
        Weekday::Wed => 3,
        Weekday::Thu => 4,
        Weekday::Fri => 5,
        Weekday::Sat => 6,
    };
    let t = c.time_of_day_s;
    format!(
        "M{}.{}.{d}/{}:{:02}:{:02}",
        c.month,
        c.day_order,
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

proptest! {
    /// Hand-evaluated rules agree with jiff evaluating the same rules written as a POSIX TZ
    /// string (the same "n-th weekday, 5 = last, local wall time" semantics).
    #[test]
    fn rules_agree_with_posix_rules(
        bias in -14 * 60..=12 * 60i32,
        shift in prop::sample::select(vec![-120, -60, -30, 30]),
        dst_month in 2u8..=11,
        std_month in 2u8..=11,
        dst_order in 1u8..=5,
        std_order in 1u8..=5,
        dst_day in weekday(),
        std_day in weekday(),
        dst_time in 0u32..24,
        std_time in 0u32..24,
        year in 2000i16..2040,
        probes in prop::collection::vec(0i64..366 * 86_400, 40),
    ) {
        // Southern-hemisphere rules are the ones with daylight month after standard month.
        prop_assume!(dst_month.abs_diff(std_month) >= 2);
        let rules = SerializableTimeZone {
            bias_minutes: bias,
            standard: Some(change(0, (std_time, 0), std_order, std_month, std_day)),
            daylight: Some(change(shift, (dst_time, 0), dst_order, dst_month, dst_day)),
        };
        let spec = format!(
            "STD{}DST{},{},{}",
            posix_offset(bias),
            posix_offset(bias + shift),
            posix_rule(rules.daylight.as_ref().expect("dst")),
            posix_rule(rules.standard.as_ref().expect("std")),
        );
        let oracle = TimeZone::posix(&spec).expect("posix");
        let start = date(year, 1, 1).to_datetime(Time::midnight()).to_zoned_datetime(TimeZone::UTC).expect("start").timestamp();
        let mut instants: Vec<Timestamp> = probes.iter().map(|s| start.checked_add(SignedDuration::from_secs(*s)).expect("probe")).collect();
        for tr in oracle.following(start).take(2) {
            for d in [-1, 0, 1] {
                instants.push(tr.timestamp().checked_add(SignedDuration::from_secs(d)).expect("edge"));
            }
        }
        for at in instants {
            prop_assert_eq!(rules.offset_at(at), Ok(oracle.to_offset(at)), "{} at {}", spec, at);
        }
    }
}

proptest! {
    /// Rules derived for a year reproduce jiff's offsets at any instant of that year.
    #[test]
    fn rules_from_iana_agree_with_jiff(
        zone in prop::sample::select(RULE_ZONES.to_vec()),
        year in 2024i16..2040,
        probes in prop::collection::vec(0i64..365 * 86_400, 50),
    ) {
        let tz = TimeZone::get(zone).expect("zone");
        let rules = SerializableTimeZone::from_iana(zone, year).expect("rules");
        let start = date(year, 1, 1).to_datetime(Time::midnight()).to_zoned_datetime(TimeZone::UTC).expect("start").timestamp();
        for s in probes {
            let at = start.checked_add(SignedDuration::from_secs(s)).expect("probe");
            prop_assert_eq!(rules.offset_at(at), Ok(tz.to_offset(at)), "{} at {}", zone, at);
            // Wall-clock time through the rules equals jiff's.
            prop_assert_eq!(LocalZone::Rules(rules.clone()).to_civil(at), tz.to_datetime(at));
        }
    }
}
