//! Time zones as sources name them: IANA names, Windows names (EWS and Graph speak these), and
//! EWS `SerializableTimeZone` rules (a bias plus standard/daylight transition rules).

use jiff::Timestamp;
use jiff::tz::Offset;
use serde::{Deserialize, Serialize};

use crate::availability::Weekday;

/// One transition rule of an EWS `SerializableTimeZone` (`StandardTime` or `DaylightTime`).
///
/// `day_order` 1–4 is the n-th `day_of_week` of `month`; 5 means the last one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeChange {
    /// Added to the base bias while this period is in force (minutes).
    pub bias_minutes: i32,
    /// Local wall-clock time of the transition, in seconds after midnight.
    pub time_of_day_s: u32,
    pub day_order: u8,
    pub month: u8,
    pub day_of_week: Weekday,
    /// An absolute-year rule when present (rare).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i16>,
}

/// EWS `SerializableTimeZone`: `UTC = local + bias` (minutes, positive west of Greenwich).
/// Without both transitions the zone has a fixed offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerializableTimeZone {
    pub bias_minutes: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard: Option<TimeChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daylight: Option<TimeChange>,
}

/// The time zone of a person's working hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum WorkTimeZone {
    /// An IANA name such as `Europe/Rome`.
    Iana(String),
    /// A Windows name such as `W. Europe Standard Time` (mapped through the CLDR table).
    Windows(String),
    /// EWS transition rules with no name.
    Rules(SerializableTimeZone),
}
