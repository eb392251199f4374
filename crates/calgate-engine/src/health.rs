//! The source's health as the API and the portal show it (SPEC §5 "Health").

use jiff::Timestamp;
use serde::Serialize;

/// The state of the calendar source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    /// Configured, nothing answered yet.
    Starting,
    Ok,
    /// Requests succeed but some mailboxes fail.
    Degraded,
    /// The server asked us to wait; see `next_attempt`.
    Throttled,
    /// The credential was refused; the lockout guard holds further attempts until `next_attempt`.
    AuthFailed,
    Unreachable,
    Misconfigured,
    /// No source is configured.
    Disabled,
}

/// A snapshot of the source's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceHealth {
    pub state: SourceState,
    /// The stable code of the last failure (`EWS_SERVER_BUSY`, `ENTRA_AADSTS50126`…).
    pub code: Option<String>,
    pub message: Option<String>,
    /// When the current state began.
    pub since: Timestamp,
    /// The earliest instant the next request may be sent (back-off end or lockout-guard probe).
    pub next_attempt: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
}

impl SourceHealth {
    pub fn new(state: SourceState, now: Timestamp) -> SourceHealth {
        SourceHealth {
            state,
            code: None,
            message: None,
            since: now,
            next_attempt: None,
            last_success: None,
        }
    }

    /// Moves to `state`, keeping `since` when the state does not change.
    pub fn set(
        &mut self,
        state: SourceState,
        code: Option<String>,
        message: Option<String>,
        next_attempt: Option<Timestamp>,
        now: Timestamp,
    ) {
        if self.state != state {
            self.since = now;
        }
        self.state = state;
        self.code = code;
        self.message = message;
        self.next_attempt = next_attempt;
    }
}
