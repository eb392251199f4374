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
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    let dt: DateTime = s.parse().ok()?;
    dt.to_zoned_datetime(TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
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
            (Ns::Types, "Bias") => bias = cur.text()?.trim().parse::<i32>().ok(),
            (Ns::Types, "StandardTime") => standard = read_time_change(cur)?,
            (Ns::Types, "DaylightTime") => daylight = read_time_change(cur)?,
            _ => cur.skip()?,
        }
    }
    Ok(bias
        .filter(|b| b.abs() <= 24 * 60)
        .map(|bias_minutes| SerializableTimeZone {
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
            "Bias" => bias = cur.text()?.trim().parse::<i32>().ok(),
            "Time" => time = parse_time_of_day(&cur.text()?),
            "DayOrder" => day_order = cur.text()?.trim().parse::<u8>().ok(),
            "Month" => month = cur.text()?.trim().parse::<u8>().ok(),
            "DayOfWeek" => day_of_week = Weekday::parse(&cur.text()?),
            "Year" => year = cur.text()?.trim().parse::<i16>().ok(),
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
        assert_eq!(read_instant(""), None);
        assert_eq!(write_instant(offset), "2006-10-16T13:00:00");
    }

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time_of_day("02:00:00"), Some(7200));
        assert_eq!(parse_time_of_day("03:30"), Some(12600));
        assert_eq!(parse_time_of_day("25:00:00"), None);
        assert_eq!(parse_time_of_day("x"), None);
    }
}
