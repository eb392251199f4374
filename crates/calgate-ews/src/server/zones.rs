//! The Windows time zones the server knows: their `SerializableTimeZone` rules (what
//! GetUserAvailability and WorkingHours carry), their full definitions (what GetServerTimeZones
//! returns), and conversions between instants and local wall-clock times under any
//! `SerializableTimeZone` a client sends.
//!
//! The rules are evaluated here rather than through the system time-zone database because a
//! request's `t:TimeZone` is a bare rule set with no name: the server must use exactly the rules
//! the client sent, as Exchange does.

use calgate_core::{SerializableTimeZone, TimeChange, Weekday};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};

/// One transition rule of a known zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub month: u8,
    /// 1–4: the n-th weekday of the month; 5: the last one.
    pub day_order: u8,
    pub day_of_week: Weekday,
    /// Local wall-clock time of the change, in seconds after midnight.
    pub time_s: u32,
}

/// A Windows time zone the server can describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownZone {
    /// The Windows id, e.g. `W. Europe Standard Time`.
    pub id: &'static str,
    pub display_name: &'static str,
    /// The IANA zone with the same current rules.
    pub iana: &'static str,
    /// `UTC = local + bias` in standard time (minutes).
    pub bias: i32,
    /// (to standard, to daylight) rules; daylight time adds −60 minutes to the bias.
    pub dst: Option<(Rule, Rule)>,
}

const fn rule(month: u8, day_order: u8, day_of_week: Weekday, hour: u32) -> Rule {
    Rule {
        month,
        day_order,
        day_of_week,
        time_s: hour * 3600,
    }
}

const EU_CET: Option<(Rule, Rule)> =
    Some((rule(10, 5, Weekday::Sun, 3), rule(3, 5, Weekday::Sun, 2)));
const US: Option<(Rule, Rule)> = Some((rule(11, 1, Weekday::Sun, 2), rule(3, 2, Weekday::Sun, 2)));

/// The zones the server describes, Windows ids as Exchange names them.
pub const KNOWN_ZONES: &[KnownZone] = &[
    KnownZone {
        id: "UTC",
        display_name: "(UTC) Coordinated Universal Time",
        iana: "Etc/UTC",
        bias: 0,
        dst: None,
    },
    KnownZone {
        id: "GMT Standard Time",
        display_name: "(UTC+00:00) Dublin, Edinburgh, Lisbon, London",
        iana: "Europe/London",
        bias: 0,
        dst: Some((rule(10, 5, Weekday::Sun, 2), rule(3, 5, Weekday::Sun, 1))),
    },
    KnownZone {
        id: "W. Europe Standard Time",
        display_name: "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
        iana: "Europe/Berlin",
        bias: -60,
        dst: EU_CET,
    },
    KnownZone {
        id: "Romance Standard Time",
        display_name: "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris",
        iana: "Europe/Paris",
        bias: -60,
        dst: EU_CET,
    },
    KnownZone {
        id: "Central Europe Standard Time",
        display_name: "(UTC+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague",
        iana: "Europe/Budapest",
        bias: -60,
        dst: EU_CET,
    },
    KnownZone {
        id: "FLE Standard Time",
        display_name: "(UTC+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius",
        iana: "Europe/Helsinki",
        bias: -120,
        dst: Some((rule(10, 5, Weekday::Sun, 4), rule(3, 5, Weekday::Sun, 3))),
    },
    KnownZone {
        id: "Eastern Standard Time",
        display_name: "(UTC-05:00) Eastern Time (US & Canada)",
        iana: "America/New_York",
        bias: 300,
        dst: US,
    },
    KnownZone {
        id: "Central Standard Time",
        display_name: "(UTC-06:00) Central Time (US & Canada)",
        iana: "America/Chicago",
        bias: 360,
        dst: US,
    },
    KnownZone {
        id: "Pacific Standard Time",
        display_name: "(UTC-08:00) Pacific Time (US & Canada)",
        iana: "America/Los_Angeles",
        bias: 480,
        dst: US,
    },
    KnownZone {
        id: "India Standard Time",
        display_name: "(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi",
        iana: "Asia/Kolkata",
        bias: -330,
        dst: None,
    },
    KnownZone {
        id: "Tokyo Standard Time",
        display_name: "(UTC+09:00) Osaka, Sapporo, Tokyo",
        iana: "Asia/Tokyo",
        bias: -540,
        dst: None,
    },
    KnownZone {
        id: "AUS Eastern Standard Time",
        display_name: "(UTC+10:00) Canberra, Melbourne, Sydney",
        iana: "Australia/Sydney",
        bias: -600,
        dst: Some((rule(4, 1, Weekday::Sun, 3), rule(10, 1, Weekday::Sun, 2))),
    },
];

/// Looks a zone up by its Windows id (case-insensitive).
pub fn find_zone(id: &str) -> Option<&'static KnownZone> {
    KNOWN_ZONES
        .iter()
        .find(|z| z.id.eq_ignore_ascii_case(id.trim()))
}

impl KnownZone {
    /// The zone as an EWS `SerializableTimeZone` (what `t:TimeZone` carries).
    pub fn serializable(&self) -> SerializableTimeZone {
        match self.dst {
            Some((std, dst)) => SerializableTimeZone {
                bias_minutes: self.bias,
                standard: Some(change(0, std)),
                daylight: Some(change(-60, dst)),
            },
            None => SerializableTimeZone {
                bias_minutes: self.bias,
                standard: None,
                daylight: None,
            },
        }
    }

    /// Local wall-clock time of an instant in this zone.
    pub fn to_local(&self, at: Timestamp) -> DateTime {
        to_local(&self.serializable(), at)
    }
}

fn change(bias: i32, r: Rule) -> TimeChange {
    TimeChange {
        bias_minutes: bias,
        time_of_day_s: r.time_s,
        day_order: r.day_order,
        month: r.month,
        day_of_week: r.day_of_week,
        year: None,
    }
}

/// The date of the n-th (5 = last) `weekday` of `month` in `year`.
fn nth_weekday(year: i16, month: u8, n: u8, weekday: Weekday) -> Option<Date> {
    let month = i8::try_from(month).ok()?;
    let first = Date::new(year, month, 1).ok()?;
    let target = weekday.to_jiff();
    let offset =
        (target.to_monday_zero_offset() - first.weekday().to_monday_zero_offset()).rem_euclid(7);
    let mut day = 1 + offset;
    let n = n.clamp(1, 5);
    day += 7 * (i8::try_from(n).unwrap_or(5) - 1);
    let days_in_month = first.days_in_month();
    while day > days_in_month {
        day -= 7;
    }
    Date::new(year, month, day).ok()
}

/// Whether the zone has a usable daylight-saving rule pair.
fn dst_rules(tz: &SerializableTimeZone) -> Option<(&TimeChange, &TimeChange)> {
    let (std, dst) = (tz.standard.as_ref()?, tz.daylight.as_ref()?);
    if std.month == 0 || dst.month == 0 || std.bias_minutes == dst.bias_minutes {
        return None;
    }
    Some((std, dst))
}

fn transition_instant(year: i16, c: &TimeChange, total_bias_before: i32) -> Option<Timestamp> {
    let date = nth_weekday(c.year.unwrap_or(year), c.month, c.day_order, c.day_of_week)?;
    let secs = i64::from(c.time_of_day_s.min(86_399));
    let local = date.to_datetime(jiff::civil::Time::midnight());
    let naive_utc = local
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .ok()?
        .timestamp();
    // UTC = local + bias, with the bias in force just before the change.
    naive_utc
        .checked_add(jiff::SignedDuration::from_secs(
            secs + i64::from(total_bias_before) * 60,
        ))
        .ok()
}

/// The total bias (`UTC = local + bias`, minutes) in force at an instant.
pub fn bias_at(tz: &SerializableTimeZone, at: Timestamp) -> i32 {
    let std_bias = tz.bias_minutes + tz.standard.as_ref().map_or(0, |s| s.bias_minutes);
    let Some((std, dst)) = dst_rules(tz) else {
        return std_bias;
    };
    let dst_bias = tz.bias_minutes + dst.bias_minutes;
    let year = at.to_zoned_datetime(jiff::tz::TimeZone::UTC).year();
    let (Some(dst_start), Some(dst_end)) = (
        transition_instant(year, dst, std_bias),
        transition_instant(year, std, dst_bias),
    ) else {
        return std_bias;
    };
    let in_dst = if dst_start < dst_end {
        dst_start <= at && at < dst_end
    } else {
        // Southern hemisphere: daylight time spans the new year.
        at >= dst_start || at < dst_end
    };
    if in_dst { dst_bias } else { std_bias }
}

/// Local wall-clock time of an instant under `tz`.
pub fn to_local(tz: &SerializableTimeZone, at: Timestamp) -> DateTime {
    let bias = bias_at(tz, at);
    let shifted = at
        .checked_sub(jiff::SignedDuration::from_mins(i64::from(bias)))
        .unwrap_or(at);
    shifted
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .datetime()
}

/// The instant of a local wall-clock time under `tz`. In the hour skipped by a spring-forward
/// change the standard bias is used; in the repeated hour, the first occurrence wins.
pub fn from_local(tz: &SerializableTimeZone, local: DateTime) -> Timestamp {
    let naive = match local.to_zoned_datetime(jiff::tz::TimeZone::UTC) {
        Ok(z) => z.timestamp(),
        Err(_) => return Timestamp::UNIX_EPOCH,
    };
    let shift = |bias: i32| {
        naive
            .checked_add(jiff::SignedDuration::from_mins(i64::from(bias)))
            .unwrap_or(naive)
    };
    let std_bias = tz.bias_minutes + tz.standard.as_ref().map_or(0, |s| s.bias_minutes);
    let guess = shift(std_bias);
    let bias = bias_at(tz, guess);
    let candidate = shift(bias);
    if bias_at(tz, candidate) == bias {
        candidate
    } else {
        guess
    }
}

/// Formats a bias as the xs:duration GetServerTimeZones uses for a period (`-PT1H` for CET).
pub fn bias_duration(bias_minutes: i32) -> String {
    let sign = if bias_minutes < 0 { "-" } else { "" };
    let m = bias_minutes.unsigned_abs();
    match (m / 60, m % 60) {
        (h, 0) => format!("{sign}PT{h}H"),
        (0, mm) => format!("{sign}PT{mm}M"),
        (h, mm) => format!("{sign}PT{h}H{mm}M"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    #[test]
    fn central_europe_switches_on_the_last_sundays() {
        let z = find_zone("W. Europe Standard Time")
            .expect("known")
            .serializable();
        assert_eq!(bias_at(&z, ts("2026-01-15T12:00:00Z")), -60);
        assert_eq!(bias_at(&z, ts("2026-07-15T12:00:00Z")), -120);
        // 2026-03-29 02:00 CET = 01:00 UTC.
        assert_eq!(bias_at(&z, ts("2026-03-29T00:59:59Z")), -60);
        assert_eq!(bias_at(&z, ts("2026-03-29T01:00:00Z")), -120);
        // 2026-10-25 03:00 CEST = 01:00 UTC.
        assert_eq!(bias_at(&z, ts("2026-10-25T00:59:59Z")), -120);
        assert_eq!(bias_at(&z, ts("2026-10-25T01:00:00Z")), -60);
        let local = to_local(&z, ts("2026-07-15T12:00:00Z"));
        assert_eq!(local.to_string(), "2026-07-15T14:00:00");
        assert_eq!(from_local(&z, local), ts("2026-07-15T12:00:00Z"));
    }

    #[test]
    fn sydney_daylight_time_spans_the_new_year() {
        let z = find_zone("AUS Eastern Standard Time")
            .expect("known")
            .serializable();
        assert_eq!(bias_at(&z, ts("2026-01-15T00:00:00Z")), -660);
        assert_eq!(bias_at(&z, ts("2026-06-15T00:00:00Z")), -600);
        assert_eq!(bias_at(&z, ts("2026-12-15T00:00:00Z")), -660);
    }

    #[test]
    fn us_eastern_and_fixed_zones() {
        let z = find_zone("eastern standard time")
            .expect("known")
            .serializable();
        assert_eq!(bias_at(&z, ts("2026-03-08T06:59:00Z")), 300);
        assert_eq!(bias_at(&z, ts("2026-03-08T07:00:00Z")), 240);
        let india = find_zone("India Standard Time")
            .expect("known")
            .serializable();
        assert_eq!(
            to_local(&india, ts("2026-01-01T00:00:00Z")).to_string(),
            "2026-01-01T05:30:00"
        );
        assert_eq!(bias_duration(-330), "-PT5H30M");
        assert_eq!(bias_duration(300), "PT5H");
        assert_eq!(bias_duration(0), "PT0H");
    }
}
