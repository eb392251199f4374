//! Small wording helpers shared by the pages: times in the site's zone, ages in plain words, and
//! the human names of setting choices.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Percent-encodes a string for a query parameter.
pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `14:30:05` when `at` is today in `tz`, otherwise the day too, in the reader's language:
/// `Fri 27 Nov 14:30`, `Fr., 27. Nov. 14:30`.
pub fn clock(at: Timestamp, tz: &TimeZone, now: Timestamp) -> String {
    use fluent_bundle::FluentValue;
    let local = tz.to_datetime(at);
    let today = tz.to_datetime(now);
    if local.date() == today.date() {
        return local.strftime("%H:%M:%S").to_string();
    }
    let nth = |key: &str, i: usize| {
        let names = crate::i18n::t(key);
        names.split_whitespace().nth(i).unwrap_or("").to_string()
    };
    let weekday = nth(
        "date-weekdays",
        usize::from(local.weekday().to_monday_zero_offset().unsigned_abs()),
    );
    let month = nth("date-months", usize::from(local.month().unsigned_abs()) - 1);
    crate::i18n::t_with(
        "date-day-time",
        &[
            ("weekday", FluentValue::from(weekday)),
            ("day", FluentValue::from(local.day().to_string())),
            ("month", FluentValue::from(month)),
            (
                "time",
                FluentValue::from(local.strftime("%H:%M").to_string()),
            ),
        ],
    )
}

/// "2 min ago", "in 40 s", "just now", in the reader's language.
pub fn relative(at: Timestamp, now: Timestamp) -> String {
    use fluent_bundle::FluentValue;
    let d: SignedDuration = at.duration_since(now);
    let secs = d.as_secs();
    let abs = secs.unsigned_abs();
    let (n, unit) = if abs < 5 {
        return crate::i18n::t("rel-just-now");
    } else if abs < 90 {
        (abs, "rel-s")
    } else if abs < 90 * 60 {
        ((abs + 30) / 60, "rel-min")
    } else if abs < 36 * 3600 {
        ((abs + 1800) / 3600, "rel-h")
    } else {
        ((abs + 43_200) / 86_400, "rel-days")
    };
    let amount = crate::i18n::t_with(unit, &[("n", FluentValue::from(n))]);
    let key = if secs < 0 { "rel-ago" } else { "rel-in" };
    crate::i18n::t_with(key, &[("amount", FluentValue::from(amount))])
}

/// `clock` and `relative` together: "14:30:05 (2 min ago)".
pub fn when(at: Option<Timestamp>, tz: &TimeZone, now: Timestamp) -> String {
    match at {
        Some(at) => format!("{} ({})", clock(at, tz, now), relative(at, now)),
        None => "—".to_string(),
    }
}

/// The words a setting choice is shown with, in the reader's language (product names as they
/// are).
pub fn choice_label(field: &str, value: &str) -> String {
    let key = match (field, value) {
        ("provider", "exchange") => "set-choice-exchange",
        ("provider", "office365") => return "Office 365 (EWS)".to_string(),
        ("provider", "microsoft365") => return "Microsoft 365 (Graph)".to_string(),
        ("exchange_version", "exchange2007_sp1") => return "Exchange 2007 SP1".to_string(),
        ("exchange_version", "exchange2010") => return "Exchange 2010".to_string(),
        ("exchange_version", "exchange2010_sp1") => return "Exchange 2010 SP1".to_string(),
        ("exchange_version", "exchange2010_sp2") => return "Exchange 2010 SP2".to_string(),
        ("exchange_version", "exchange2013") => return "Exchange 2013".to_string(),
        ("exchange_version", "exchange2013_sp1") => "set-choice-exchange2013-sp1",
        ("privacy", "status_only") => "set-choice-status-only",
        ("privacy", "subject") => "set-choice-subject",
        ("privacy", "subject_and_location") => "set-choice-subject-location",
        (_, "tentative") => "set-choice-tentative",
        (_, "busy") => "set-choice-busy",
        (_, "free") => "set-choice-free",
        (_, "working_elsewhere") => "set-choice-working-elsewhere",
        _ => return value.to_string(),
    };
    crate::i18n::t(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_words() {
        let now: Timestamp = "2026-11-27T12:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let at = |s: i64| now + SignedDuration::from_secs(s);
        assert_eq!(relative(at(-120), now), "2 min ago");
        assert_eq!(relative(at(40), now), "in 40 s");
        assert_eq!(relative(at(2), now), "just now");
        assert_eq!(relative(at(-7200), now), "2 h ago");
    }

    #[tokio::test]
    async fn other_days_name_the_day_in_the_readers_language() {
        use crate::i18n::{Lang, scope};
        let now: Timestamp = "2026-11-30T12:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let friday: Timestamp = "2026-11-27T14:30:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let said = |lang| scope(lang, async move { clock(friday, &TimeZone::UTC, now) });
        assert_eq!(said(Lang::En).await, "Fri 27 Nov 14:30");
        assert_eq!(said(Lang::It).await, "ven 27 nov 14:30");
        assert_eq!(said(Lang::De).await, "Fr., 27. Nov. 14:30");
        assert_eq!(said(Lang::Fr).await, "ven. 27 nov. 14:30");
        assert_eq!(said(Lang::Es).await, "vie 27 nov 14:30");
        // Every catalogue names seven days and twelve months.
        for lang in Lang::ALL {
            let count = |key| {
                crate::i18n::text_in(lang, key, &[])
                    .split_whitespace()
                    .count()
            };
            assert_eq!(count("date-weekdays"), 7, "{lang:?}");
            assert_eq!(count("date-months"), 12, "{lang:?}");
        }
        assert_eq!(
            clock(
                friday,
                &TimeZone::UTC,
                "2026-11-27T20:00:00Z".parse().unwrap_or(now)
            ),
            "14:30:00"
        );
    }
}
