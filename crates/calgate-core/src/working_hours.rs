//! Working hours as instants: turns a person's weekly periods (local wall-clock minutes in their
//! own time zone) into UTC intervals, so that `next_free` and "is this inside working hours" are
//! plain interval arithmetic. Daylight-saving shifts are handled by converting each local day on
//! its own: a 09:00–18:00 day is nine wall-clock hours even on the night the clocks change.

use jiff::civil::{Date, Time};
use jiff::{SignedDuration, Timestamp};

use crate::availability::{Weekday, WorkingHours, WorkingPeriod};
use crate::tz::{LocalZone, TzError};

/// No real window spans more than a few months; this bounds the work on absurd input.
const MAX_DAYS: usize = 400;

impl WorkingPeriod {
    /// The UTC interval this period covers on one local date, if the period applies that day.
    /// An end at or before the start means the shift runs past midnight.
    fn on(&self, date: Date, zone: &LocalZone) -> Option<(Timestamp, Timestamp)> {
        if self.start_minute == self.end_minute
            || !self.days.contains(&Weekday::from_jiff(date.weekday()))
        {
            return None;
        }
        let at = |minute: u16, day: Date| {
            let local = day
                .to_datetime(Time::midnight())
                .checked_add(SignedDuration::from_mins(i64::from(minute.min(1440))))
                .ok()?;
            zone.to_timestamp(local).ok()
        };
        let end_day = if self.end_minute < self.start_minute {
            date.tomorrow().ok()?
        } else {
            date
        };
        let (start, end) = (at(self.start_minute, date)?, at(self.end_minute, end_day)?);
        (start < end).then_some((start, end))
    }
}

impl WorkingHours {
    /// Whether any working time is defined at all. Without it, callers treat every instant as
    /// working time (nothing is known to the contrary).
    pub fn is_defined(&self) -> bool {
        self.periods
            .iter()
            .any(|p| p.start_minute != p.end_minute && !p.days.is_empty())
    }

    /// The working time inside `[from, to)` as sorted, disjoint UTC intervals.
    pub fn intervals(
        &self,
        zone: &LocalZone,
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<(Timestamp, Timestamp)> {
        let mut found = Vec::new();
        if from >= to {
            return found;
        }
        // Start a day early: yesterday's overnight shift may still be running at `from`.
        let first = zone
            .to_civil(from)
            .date()
            .yesterday()
            .unwrap_or_else(|_| zone.to_civil(from).date());
        let last = zone.to_civil(to).date();
        let mut day = first;
        for _ in 0..MAX_DAYS {
            for period in &self.periods {
                if let Some((s, e)) = period.on(day, zone) {
                    let (s, e) = (s.max(from), e.min(to));
                    if s < e {
                        found.push((s, e));
                    }
                }
            }
            match day.tomorrow() {
                Ok(next) if next <= last => day = next,
                _ => break,
            }
        }
        merge(found)
    }

    /// Whether an instant lies inside working hours, in the person's own time zone.
    pub fn contains(&self, at: Timestamp) -> Result<bool, TzError> {
        let zone = self.time_zone.resolve()?;
        Ok(self.contains_in(&zone, at))
    }

    /// [`WorkingHours::contains`] with the zone already resolved.
    pub fn contains_in(&self, zone: &LocalZone, at: Timestamp) -> bool {
        let Ok(next) = at.checked_add(SignedDuration::from_nanos(1)) else {
            return false;
        };
        !self.intervals(zone, at, next).is_empty()
    }
}

/// Sorts and joins overlapping or touching intervals.
pub(crate) fn merge(mut spans: Vec<(Timestamp, Timestamp)>) -> Vec<(Timestamp, Timestamp)> {
    spans.sort_unstable();
    let mut out: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tz::WorkTimeZone;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn office(zone: &str) -> WorkingHours {
        WorkingHours {
            time_zone: WorkTimeZone::Iana(zone.into()),
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
    fn contains_follows_the_persons_zone_and_weekdays() {
        let rome = office("Europe/Rome");
        let table = [
            // Friday 2026-11-27, Rome is UTC+1.
            ("2026-11-27T07:59:59Z", false),
            ("2026-11-27T08:00:00Z", true),
            ("2026-11-27T16:59:59Z", true),
            ("2026-11-27T17:00:00Z", false),
            // Saturday.
            ("2026-11-28T10:00:00Z", false),
            // Summer: UTC+2.
            ("2026-07-01T07:00:00Z", true),
            ("2026-07-01T06:59:59Z", false),
            ("2026-07-01T16:00:00Z", false),
        ];
        for (at, want) in table {
            assert_eq!(rome.contains(ts(at)), Ok(want), "{at}");
        }
    }

    #[test]
    fn overnight_shift_runs_past_midnight() {
        let hours = WorkingHours {
            time_zone: WorkTimeZone::Iana("UTC".into()),
            periods: vec![WorkingPeriod {
                days: vec![Weekday::Fri],
                start_minute: 22 * 60,
                end_minute: 6 * 60,
            }],
        };
        assert_eq!(hours.contains(ts("2026-11-27T23:00:00Z")), Ok(true));
        assert_eq!(hours.contains(ts("2026-11-28T05:59:00Z")), Ok(true));
        assert_eq!(hours.contains(ts("2026-11-28T06:00:00Z")), Ok(false));
        assert_eq!(hours.contains(ts("2026-11-28T23:00:00Z")), Ok(false));
    }

    #[test]
    fn a_day_with_a_shift_keeps_its_wall_clock_length() {
        // 2026-03-29: Rome springs forward at 02:00. 09:00-18:00 local is 07:00-16:00 UTC.
        let mut hours = office("Europe/Rome");
        hours.periods[0].days = vec![Weekday::Sun];
        let zone = hours.time_zone.resolve().expect("zone");
        let got = hours.intervals(
            &zone,
            ts("2026-03-28T00:00:00Z"),
            ts("2026-03-31T00:00:00Z"),
        );
        assert_eq!(
            got,
            vec![(ts("2026-03-29T07:00:00Z"), ts("2026-03-29T16:00:00Z"))]
        );
    }

    #[test]
    fn unknown_zone_is_an_error_not_a_guess() {
        let mut hours = office("Europe/Rome");
        hours.time_zone = WorkTimeZone::Windows("Mars Standard Time".into());
        assert!(matches!(
            hours.contains(ts("2026-11-27T10:00:00Z")),
            Err(TzError::UnknownWindows(_))
        ));
    }
}
