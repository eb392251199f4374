//! Graph's `dateTimeTimeZone` (a wall-clock time plus a zone name) and the zone names Graph
//! speaks: `UTC`, Windows names such as `Romance Standard Time` (through calgate-core's CLDR
//! table), and IANA names.
//!
//! calgate always asks in UTC, but a server may still answer in another zone (a `Prefer:
//! outlook.timezone` header set by someone else, a proxy), so readers resolve any zone they
//! know and refuse the ones they do not: a time that cannot be placed is an error, never a guess.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Why a `dateTimeTimeZone` could not be turned into an instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("unreadable dateTime {0:?}")]
    BadDateTime(String),
    #[error("unknown time zone {0:?}")]
    UnknownZone(String),
    #[error("local time {0:?} does not exist in its zone")]
    Unrepresentable(String),
}

/// Graph's `dateTimeTimeZone`: `{"dateTime": "2025-06-02T09:00:00.0000000", "timeZone": "UTC"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateTimeTimeZone {
    #[serde(rename = "dateTime", alias = "DateTime")]
    pub date_time: String,
    /// Absent means UTC (Graph's documented default).
    #[serde(
        rename = "timeZone",
        alias = "TimeZone",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub time_zone: Option<String>,
}

impl DateTimeTimeZone {
    /// The form calgate sends in requests: whole seconds, zone `UTC`.
    pub fn request_utc(at: Timestamp) -> DateTimeTimeZone {
        let dt = TimeZone::UTC.to_datetime(at);
        DateTimeTimeZone {
            date_time: format_civil(dt, false),
            time_zone: Some("UTC".to_owned()),
        }
    }

    /// The form Graph answers with: seven fractional digits, in the given zone. `zone_name` is
    /// echoed as given (a Windows or IANA name); `zone` must be its resolution.
    pub fn response_in(at: Timestamp, zone_name: &str, zone: &TimeZone) -> DateTimeTimeZone {
        DateTimeTimeZone {
            date_time: format_civil(zone.to_datetime(at), true),
            time_zone: Some(zone_name.to_owned()),
        }
    }

    /// The instant this names. A `dateTime` carrying its own offset (`Z`, `+01:00`) wins over
    /// `timeZone`; otherwise the wall-clock time is placed in `timeZone` (UTC when absent).
    /// Local times that repeat (autumn) take the earlier instant, those skipped (spring) the
    /// later one, as Exchange does.
    pub fn to_timestamp(&self) -> Result<Timestamp, TimeError> {
        let text = self.date_time.trim();
        if let Ok(ts) = text.parse::<Timestamp>() {
            return Ok(ts);
        }
        let dt: DateTime = text
            .parse()
            .map_err(|_| TimeError::BadDateTime(clip(text)))?;
        let zone = match self.time_zone.as_deref() {
            None => TimeZone::UTC,
            Some(name) => resolve_zone(name).ok_or_else(|| TimeError::UnknownZone(clip(name)))?,
        };
        zone.to_ambiguous_timestamp(dt)
            .compatible()
            .map_err(|_| TimeError::Unrepresentable(clip(text)))
    }
}

/// `2025-06-02T09:00:00` or, with `ticks`, `2025-06-02T09:00:00.0000000` (100 ns resolution, as
/// Graph writes it).
fn format_civil(dt: DateTime, ticks: bool) -> String {
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if ticks {
        s.push_str(&format!(".{:07}", dt.subsec_nanosecond() / 100));
    }
    s
}

/// Error messages quote network text; keep them short.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 80;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Resolves a zone name as Graph accepts it: `UTC` and its aliases, a Windows name, or an IANA
/// name. Surrounding quotes (as in `Prefer: outlook.timezone="…"`) are ignored.
pub fn resolve_zone(name: &str) -> Option<TimeZone> {
    let name = name.trim().trim_matches('"').trim();
    if is_utc_name(name) {
        return Some(TimeZone::UTC);
    }
    if let Some(iana) = calgate_core::windows_to_iana(name) {
        return TimeZone::get(iana).ok();
    }
    // IANA names always contain a slash (apart from a few legacy aliases nobody sends); refusing
    // the rest keeps a typo such as "Romance Time" from resolving to something by accident.
    if name.contains('/') {
        return TimeZone::get(name).ok();
    }
    None
}

fn is_utc_name(name: &str) -> bool {
    [
        "UTC",
        "Etc/UTC",
        "Etc/GMT",
        "Coordinated Universal Time",
        "tzone://Microsoft/Utc",
    ]
    .iter()
    .any(|u| u.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn reads_graph_forms() {
        let table = [
            (
                "2025-06-02T09:00:00.0000000",
                Some("UTC"),
                "2025-06-02T09:00:00Z",
            ),
            ("2025-06-02T09:00:00", None, "2025-06-02T09:00:00Z"),
            // Capture 081: Romance Standard Time is UTC+2 in June.
            (
                "2025-06-02T09:00:00.0000000",
                Some("Romance Standard Time"),
                "2025-06-02T07:00:00Z",
            ),
            (
                "2025-01-15T09:00:00",
                Some("Europe/Paris"),
                "2025-01-15T08:00:00Z",
            ),
            (
                "2025-06-02T09:00:00Z",
                Some("Pacific Standard Time"),
                "2025-06-02T09:00:00Z",
            ),
            (
                "2025-06-02T09:00:00",
                Some("\"Pacific Standard Time\""),
                "2025-06-02T16:00:00Z",
            ),
        ];
        for (dt, zone, want) in table {
            let v = DateTimeTimeZone {
                date_time: dt.to_owned(),
                time_zone: zone.map(str::to_owned),
            };
            assert_eq!(v.to_timestamp(), Ok(ts(want)), "{dt} {zone:?}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_place() {
        let bad_zone = DateTimeTimeZone {
            date_time: "2025-06-02T09:00:00".to_owned(),
            time_zone: Some("Romance Time".to_owned()),
        };
        assert!(matches!(
            bad_zone.to_timestamp(),
            Err(TimeError::UnknownZone(_))
        ));
        let bad_time = DateTimeTimeZone {
            date_time: "2025-13-02T09:00:00".to_owned(),
            time_zone: None,
        };
        assert!(matches!(
            bad_time.to_timestamp(),
            Err(TimeError::BadDateTime(_))
        ));
    }

    #[test]
    fn writes_request_and_response_forms() {
        let at = ts("2025-06-02T07:00:00Z");
        assert_eq!(
            DateTimeTimeZone::request_utc(at).date_time,
            "2025-06-02T07:00:00"
        );
        let paris = resolve_zone("Romance Standard Time").expect("known zone");
        let v = DateTimeTimeZone::response_in(at, "Romance Standard Time", &paris);
        assert_eq!(v.date_time, "2025-06-02T09:00:00.0000000");
        assert_eq!(v.to_timestamp(), Ok(at));
    }

    #[test]
    fn zone_names_graph_sends() {
        for name in [
            "UTC",
            "Pacific Standard Time",
            "W. Europe Standard Time",
            "Tokyo Standard Time",
            "India Standard Time",
            "Europe/Berlin",
            "tzone://Microsoft/Utc",
        ] {
            assert!(resolve_zone(name).is_some(), "{name}");
        }
        for name in ["", "Romance Time", "GMT+1", "Mars/Olympus"] {
            assert!(resolve_zone(name).is_none(), "{name}");
        }
    }
}
