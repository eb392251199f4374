//! The availability model of calgate: calendar events as a source reports them, and what an
//! operator must see at any instant. Pure: no I/O, no async, no HTTP, no XML.
//!
//! Everything inside is an instant in UTC (`jiff::Timestamp`); local time appears only where a
//! person's working hours or the site's day boundaries need it.

pub mod availability;
pub mod busy;
pub mod code;
pub mod exchange_version;
pub mod intern;
pub mod presence;
pub mod shard;
pub mod status;
pub mod text;
pub mod tz;
pub mod working_hours;

pub use availability::{
    Availability, CalendarEvent, OutOfOffice, SourceError, Weekday, WorkingHours, WorkingPeriod,
};
pub use busy::BusyType;
pub use code::Code;
pub use exchange_version::ExchangeVersion;
pub use presence::Presence;
pub use status::{
    EventView, Freshness, OperatorState, OperatorStatus, PRIVATE_SUBJECT, Privacy, StatusOptions,
    StatusRules, TentativeRule, TimelineEntry, WorkingElsewhereRule, compute_status, day_window,
    freshness, today,
};
pub use tz::{
    LocalZone, SerializableTimeZone, TimeChange, TzError, WorkTimeZone, iana_to_windows,
    windows_to_iana,
};
