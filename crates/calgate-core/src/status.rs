//! What an operator sees for a person at an instant.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::availability::Availability;

/// The operator-facing state. `Unknown` is never shown as free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorState {
    Free,
    Tentative,
    Busy,
    Oof,
    WorkingElsewhere,
    Unknown,
}

/// What operators may see of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Privacy {
    StatusOnly,
    #[default]
    Subject,
    SubjectAndLocation,
}

/// How a tentative event shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TentativeRule {
    #[default]
    Tentative,
    Busy,
    Free,
}

/// How a working-elsewhere event shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkingElsewhereRule {
    #[default]
    WorkingElsewhere,
    Free,
    Busy,
}

/// Status rules as data (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRules {
    pub tentative: TentativeRule,
    pub working_elsewhere: WorkingElsewhereRule,
    /// All-day events marked free (holidays, reminders) do not change the state.
    pub ignore_all_day_free: bool,
}

impl Default for StatusRules {
    fn default() -> Self {
        StatusRules {
            tentative: TentativeRule::Tentative,
            working_elsewhere: WorkingElsewhereRule::WorkingElsewhere,
            ignore_all_day_free: true,
        }
    }
}

/// Everything besides the data that decides a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusOptions {
    pub rules: StatusRules,
    pub privacy: Privacy,
    /// Data fetched longer ago than this is not trusted: the state is `Unknown`.
    pub stale_after: SignedDuration,
    /// The shortest gap that counts as a free slot for `next_free`.
    pub min_free: SignedDuration,
}

impl Default for StatusOptions {
    fn default() -> Self {
        StatusOptions {
            rules: StatusRules::default(),
            privacy: Privacy::default(),
            stale_after: SignedDuration::from_mins(15),
            min_free: SignedDuration::from_mins(15),
        }
    }
}

/// The current event as the privacy setting allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub subject: Option<String>,
    pub location: Option<String>,
    pub private: bool,
}

/// The status of a person at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorStatus {
    pub state: OperatorState,
    /// Start of the current state's span (merged over back-to-back and overlapping events).
    pub since: Option<Timestamp>,
    /// End of the current state's span.
    pub until: Option<Timestamp>,
    /// Start of the next free slot of at least `min_free` inside working hours.
    pub next_free: Option<Timestamp>,
    pub event: Option<EventView>,
    /// The next instant at which the state may change: a meeting boundary, or the moment the data
    /// turns stale. The engine re-evaluates then without asking the source.
    pub next_change: Option<Timestamp>,
    /// Why the state is `Unknown`, as a stable code (`NO_DATA`, `STALE`, or the source's error code).
    pub unknown_reason: Option<String>,
}

/// Computes what the operator sees for `availability` at `now`.
pub fn compute_status(
    availability: Option<&Availability>,
    now: Timestamp,
    options: &StatusOptions,
) -> OperatorStatus {
    let _ = (availability, now, options);
    unimplemented!("compute_status is being written")
}
