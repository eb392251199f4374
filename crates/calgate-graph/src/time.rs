//! Graph's `dateTimeTimeZone` (a wall-clock time plus a zone name) and the zone names Graph
//! speaks: `UTC`, Windows names such as `Romance Standard Time`, and IANA names.
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
    #[serde(rename = "dateTime")]
    pub date_time: String,
    /// Absent means UTC (Graph's documented default).
    #[serde(rename = "timeZone", default, skip_serializing_if = "Option::is_none")]
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
    if let Some(iana) = windows_to_iana(name) {
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

/// Windows zone name → the IANA zone CLDR maps it to (territory "001"). A subset: the zones of
/// the tenants calgate serves and the simulator generates. Unknown names are refused.
pub fn windows_to_iana(name: &str) -> Option<&'static str> {
    WINDOWS_ZONES
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(name))
        .map(|(_, iana)| *iana)
}

/// IANA zone → its Windows name, for the zones in the table (first match).
pub fn iana_to_windows(iana: &str) -> Option<&'static str> {
    WINDOWS_ZONES
        .iter()
        .find(|(_, i)| i.eq_ignore_ascii_case(iana))
        .map(|(w, _)| *w)
}

const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("UTC", "Etc/UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Turkey Standard Time", "Europe/Istanbul"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("India Standard Time", "Asia/Calcutta"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("E. Australia Standard Time", "Australia/Brisbane"),
    ("W. Australia Standard Time", "Australia/Perth"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("Eastern Standard Time", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("Canada Central Standard Time", "America/Regina"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("Argentina Standard Time", "America/Buenos_Aires"),
    ("SA Pacific Standard Time", "America/Bogota"),
    ("Central Standard Time (Mexico)", "America/Mexico_City"),
];

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
    fn every_table_zone_resolves() {
        for (windows, iana) in WINDOWS_ZONES {
            assert!(
                TimeZone::get(iana).is_ok(),
                "{windows} → {iana} missing from tzdb"
            );
        }
    }
}
