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

/// A subscription the source made: the server's id for it and when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub expires: Timestamp,
}

/// The answer to a renewal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewed {
    /// The subscription now ends then.
    Until(Timestamp),
    /// The server no longer knows the subscription (expired or removed): make a new one.
    Gone,
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

    /// Whether this source is told of calendar changes (a subscription per mailbox) rather
    /// than relying on reading every calendar each interval.
    fn change_notifications(&self) -> bool {
        false
    }

    /// What makes this source's subscriptions its own (the service, the application, where
    /// notifications go): a source built again with the same scope keeps the subscriptions
    /// of the one it replaces; with another, they are deleted and made anew.
    fn subscription_scope(&self) -> String {
        String::new()
    }

    /// Subscribes to changes of one mailbox's calendar; notifications must carry
    /// `client_state`.
    fn subscribe<'a>(
        &'a self,
        _mailbox: &'a str,
        _client_state: &'a str,
    ) -> BoxFuture<'a, Result<Subscription, SourceFailure>> {
        Box::pin(async { Err(not_subscribing()) })
    }

    /// Extends a subscription as far as the server allows.
    fn renew<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, Result<Renewed, SourceFailure>> {
        Box::pin(async { Err(not_subscribing()) })
    }

    /// Deletes a subscription (one the server no longer knows counts as deleted).
    fn unsubscribe<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, Result<(), SourceFailure>> {
        Box::pin(async { Ok(()) })
    }

    /// The ids of subscriptions that notify this source's notification address, as the
    /// server lists them: those not made by this process are left over from an earlier one.
    fn listed_subscriptions(&self) -> BoxFuture<'_, Result<Vec<String>, SourceFailure>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

fn not_subscribing() -> SourceFailure {
    SourceFailure::new(
        calgate_core::Code::SourceNoNotifications,
        "this calendar source does not offer change notifications",
        FailureAction::Misconfigured,
    )
}
