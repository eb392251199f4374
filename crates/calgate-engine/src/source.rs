//! The calendar source seen by the scheduler: fetch a batch of mailboxes for a window, and say
//! what to do when that fails. EWS and Graph each implement it in their own shape.

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};

use calgate_core::{Availability, Presence};

/// The span of calendar data fetched for every mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// How a source wants to be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceLimits {
    /// Mailboxes per request (EWS 100, Graph 20 by default).
    pub batch_size: usize,
    /// Requests in flight at once (EWS 2, Graph 4 by default).
    pub max_in_flight: usize,
}

/// What the scheduler must do after a failed request. Every variant stops requests to the source
/// until its condition clears; none of them makes a mailbox look free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureAction {
    /// The server named a time (`BackOffMilliseconds`, `Retry-After`): nothing is sent before it.
    RetryAfter(SignedDuration),
    /// The server refused for too many concurrent connections: lower the concurrency, then retry.
    LowerConcurrency,
    /// Network errors and other 5xx: exponential back-off with jitter.
    Transient,
    /// The credential was refused. No request is made with it again until `next_attempt`
    /// (the lockout guard's single probe) or until new credentials replace the source.
    CredentialFailure { next_attempt: Option<Timestamp> },
    /// The configuration cannot work (bad URL, version the server rejects): wait for a change.
    Misconfigured,
}

/// A failed request: a stable code (`EWS_SERVER_BUSY`, `ENTRA_AADSTS50126`…), a plain message
/// without secrets, and the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFailure {
    pub code: String,
    pub message: String,
    pub action: FailureAction,
    /// The failure came from the network (unreachable, timeout, TLS) rather than an answer.
    pub unreachable: bool,
}

impl SourceFailure {
    pub fn new(code: impl Into<String>, message: impl Into<String>, action: FailureAction) -> Self {
        SourceFailure {
            code: code.into(),
            message: message.into(),
            action,
            unreachable: false,
        }
    }
}

/// A calendar source. `fetch` answers one `Availability` per requested mailbox, in order; a
/// per-mailbox problem is an `Availability` with `error` set, not a failed request.
pub trait CalendarSource: Send + Sync + 'static {
    /// A short name for logs and metrics (`ews`, `graph`).
    fn name(&self) -> &'static str;
    fn limits(&self) -> SourceLimits;
    fn fetch<'a>(
        &'a self,
        mailboxes: &'a [String],
        window: Window,
    ) -> BoxFuture<'a, Result<Vec<Availability>, SourceFailure>>;

    /// How often this source reads presence (Microsoft Teams), `None` when it does not.
    fn presence_interval(&self) -> Option<SignedDuration> {
        None
    }

    /// The presence of each mailbox, in order: one per requested mailbox, `PresenceUnknown`
    /// for those that could not be read. A failed request fails the round, as `fetch` does.
    fn presence<'a>(
        &'a self,
        mailboxes: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Presence>, SourceFailure>> {
        let now = Timestamp::now();
        let unknown = mailboxes.iter().map(|_| Presence::unknown(now)).collect();
        Box::pin(async move { Ok(unknown) })
    }
}
