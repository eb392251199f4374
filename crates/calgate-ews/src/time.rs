//! Times on the wire: the UTC window we send, the instants we read back (with or without an
//! offset), and `SerializableTimeZone` in both directions.

use calgate_core::{SerializableTimeZone, TimeChange, Weekday};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::error::EwsError;
use crate::xml::{Cursor, Ns};

/// A request time: naive wall-clock time in UTC (the request's `t:TimeZone` is UTC), whole
/// seconds.
pub(crate) fn write_instant(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Reads an `xs:dateTime` from a response. With an offset or `Z` it is exact; without one it is
/// wall-clock time in the request's zone, which calgate always sends as UTC.
pub(crate) fn read_instant(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    // Look for `Z` or an offset after the time part first: a failed parse is costly and most
    // answers carry naive times.
    let has_offset =
        s.ends_with(['Z', 'z']) || s.get(11..).is_some_and(|time| time.contains(['+', '-']));
    if has_offset {
        return s.parse::<Timestamp>().ok();
    }
    if let Some(t) = read_naive_fast(s) {
        return Some(t);
    }
    let dt: DateTime = s.parse().ok()?;
    dt.to_zoned_datetime(TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]` read as UTC without a general-purpose parser: answers carry
/// thousands of these and the general parser dominated the read time. Anything else is left to
/// jiff.
fn read_naive_fast(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let at = |i: usize| b.get(i).copied();
    if at(4) != Some(b'-')
        || at(7) != Some(b'-')
        || !matches!(at(10), Some(b'T' | b't'))
        || at(13) != Some(b':')
        || at(16) != Some(b':')
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut n = 0i64;
        for &c in b.get(r)? {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(c - b'0');
        }
        Some(n)
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut nanos = 0i64;
    match b.get(19) {
        None => {}
        Some(b'.') => {
            let frac = b.get(20..)?;
            if frac.is_empty() || frac.len() > 9 || !frac.iter().all(u8::is_ascii_digit) {
                return None;
            }
            for i in 0..9 {
                nanos = nanos * 10 + frac.get(i).map_or(0, |c| i64::from(c - b'0'));
            }
        }
        Some(_) => return None,
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Reject 31 February and friends the same way jiff would.
    jiff::civil::Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()?;
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    Timestamp::new(secs, i32::try_from(nanos).ok()?).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// EWS day names (`Monday`…) without allocating; other spellings go to `Weekday::parse`.
pub(crate) fn read_weekday(s: &str) -> Option<Weekday> {
    let s = s.trim();
    const NAMES: [(&str, Weekday); 7] = [
        ("Monday", Weekday::Mon),
        ("Tuesday", Weekday::Tue),
        ("Wednesday", Weekday::Wed),
        ("Thursday", Weekday::Thu),
        ("Friday", Weekday::Fri),
        ("Saturday", Weekday::Sat),
        ("Sunday", Weekday::Sun),
    ];
    NAMES
        .iter()
        .find(|(name, _)| s.eq_ignore_ascii_case(name))
        .map(|(_, d)| *d)
        .or_else(|| Weekday::parse(s))
}

/// The UTC zone as EWS wants it: bias 0 and two dummy transitions that change nothing (the 2007
/// schema requires both).
pub(crate) const UTC_TIME_ZONE: &str = "<t:TimeZone><t:Bias>0</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>1</t:DayOrder><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:StandardTime><t:DaylightTime><t:Bias>0</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>1</t:DayOrder><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:DaylightTime></t:TimeZone>";

/// Reads a `SerializableTimeZone` (the cursor is inside `TimeZone`). `None` when the bias is
/// missing or unreadable; a transition that does not parse is dropped.
pub(crate) fn read_time_zone(
    cur: &mut Cursor<'_>,
) -> Result<Option<SerializableTimeZone>, EwsError> {
    let mut bias = None;
    let mut standard = None;
    let mut daylight = None;
    while let Some(el) = cur.child()? {
        match (el.ns, el.local()) {
            (Ns::Types, "Bias") => bias = cur.text_cow()?.trim().parse::<i32>().ok(),
            (Ns::Types, "StandardTime") => standard = read_time_change(cur)?,
            (Ns::Types, "DaylightTime") => daylight = read_time_change(cur)?,
            _ => cur.skip()?,
        }
    }
    let Some(bias_minutes) = bias.filter(|b| b.abs() <= 24 * 60) else {
        return Ok(None);
    };
    // Zones without daylight saving still send both transitions (the schema wants them), with
    // equal biases: they change nothing, so the zone is a fixed offset.
    if let (Some(s), Some(d)) = (&standard, &daylight)
        && s.bias_minutes == d.bias_minutes
    {
        return Ok(Some(SerializableTimeZone {
            bias_minutes: bias_minutes + s.bias_minutes,
            standard: None,
            daylight: None,
        }));
    }
    Ok(Some(SerializableTimeZone {
        bias_minutes,
        standard,
        daylight,
    }))
}

fn read_time_change(cur: &mut Cursor<'_>) -> Result<Option<TimeChange>, EwsError> {
    let mut bias = None;
    let mut time = None;
    let mut day_order = None;
    let mut month = None;
    let mut day_of_week = None;
    let mut year = None;
    while let Some(el) = cur.child()? {
        if el.ns != Ns::Types {
            cur.skip()?;
            continue;
        }
        match el.local() {
            "Bias" => bias = cur.text_cow()?.trim().parse::<i32>().ok(),
            "Time" => time = parse_time_of_day(&cur.text_cow()?),
            "DayOrder" => day_order = cur.text_cow()?.trim().parse::<u8>().ok(),
            "Month" => month = cur.text_cow()?.trim().parse::<u8>().ok(),
            "DayOfWeek" => day_of_week = read_weekday(&cur.text_cow()?),
            "Year" => year = cur.text_cow()?.trim().parse::<i16>().ok(),
            _ => cur.skip()?,
        }
    }
    let (Some(bias_minutes), Some(time_of_day_s), Some(day_order), Some(month), Some(day_of_week)) =
        (bias, time, day_order, month, day_of_week)
    else {
        return Ok(None);
    };
    if !(0..=5).contains(&day_order) || !(1..=12).contains(&month) || bias_minutes.abs() > 24 * 60 {
        return Ok(None);
    }
    Ok(Some(TimeChange {
        bias_minutes,
        time_of_day_s,
        day_order,
        month,
        day_of_week,
        year,
    }))
}

/// `HH:MM:SS` (fractions ignored) to seconds after midnight.
fn parse_time_of_day(s: &str) -> Option<u32> {
    let mut parts = s.trim().split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let sec: u32 = match parts.next() {
        Some(p) => p.split('.').next()?.parse().ok()?,
        None => 0,
    };
    (h < 24 && m < 60 && sec < 60).then_some(h * 3600 + m * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_with_and_without_offsets() {
        let naive = read_instant("2013-05-15T12:00:00").expect("naive");
        assert_eq!(naive.to_string(), "2013-05-15T12:00:00Z");
        let offset = read_instant(" 2006-10-16T06:00:00-07:00 ").expect("offset");
        assert_eq!(offset.to_string(), "2006-10-16T13:00:00Z");
        let zulu = read_instant("2025-06-02T08:00:00.5Z").expect("zulu");
        assert_eq!(zulu.to_string(), "2025-06-02T08:00:00.5Z");
        assert_eq!(read_instant("yesterday"), None);
        assert_eq!(read_instant("2025-02-30T00:00:00"), None);
        assert_eq!(read_instant("2025-13-01T00:00:00"), None);
        assert_eq!(
            read_instant("2024-02-29T23:59:59.123").map(|t| t.to_string()),
            Some("2024-02-29T23:59:59.123Z".to_string())
        );
        // The fast path and jiff agree across eras.
        for s in [
            "1969-12-31T23:59:59",
            "2000-03-01T00:00:00",
            "2099-12-31T12:30:00.5",
            "1601-01-01T00:00:00",
        ] {
            let slow: DateTime = s.parse().expect("jiff parses");
            let slow = slow
                .to_zoned_datetime(TimeZone::UTC)
                .expect("utc")
                .timestamp();
            assert_eq!(read_naive_fast(s), Some(slow), "{s}");
        }
        assert_eq!(read_instant(""), None);
        assert_eq!(write_instant(offset), "2006-10-16T13:00:00");
    }

    #[test]
    fn zones_whose_transitions_change_nothing_are_fixed_offsets() {
        let read = |xml: &str| {
            let doc = format!(
                r#"<t:TimeZone xmlns:t="{}">{xml}</t:TimeZone>"#,
                crate::ns::TYPES
            );
            let mut cur = Cursor::new(doc.as_bytes()).expect("cursor");
            cur.child().expect("root").expect("element");
            read_time_zone(&mut cur).expect("reads")
        };
        let change = |bias: i32, month: u8| {
            format!(
                "<t:Bias>{bias}</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>1</t:DayOrder><t:Month>{month}</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek>"
            )
        };
        let india = read(&format!(
            "<t:Bias>-330</t:Bias><t:StandardTime>{}</t:StandardTime><t:DaylightTime>{}</t:DaylightTime>",
            change(0, 1),
            change(0, 12)
        ))
        .expect("zone");
        assert_eq!(
            (india.bias_minutes, india.standard, india.daylight),
            (-330, None, None)
        );
        let cet = read(&format!(
            "<t:Bias>-60</t:Bias><t:StandardTime>{}</t:StandardTime><t:DaylightTime>{}</t:DaylightTime>",
            change(0, 10),
            change(-60, 3)
        ))
        .expect("zone");
        assert_eq!(cet.bias_minutes, -60);
        assert_eq!(cet.daylight.map(|d| d.bias_minutes), Some(-60));
        assert_eq!(read("<t:StandardTime/>"), None, "no bias, no zone");
    }

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time_of_day("02:00:00"), Some(7200));
        assert_eq!(parse_time_of_day("03:30"), Some(12600));
        assert_eq!(parse_time_of_day("25:00:00"), None);
        assert_eq!(parse_time_of_day("x"), None);
    }
}
