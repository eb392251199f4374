//! calgate-engine turns a watch list and a calendar source into a live, correct status for
//! every person: it paces requests, honours back-off and the lockout guard, hot-swaps the source
//! when settings change, and pushes status changes at meeting boundaries without polling.
//!
//! The engine is keyed by source id: a hybrid organisation serves some mailboxes from Exchange
//! on premises (EWS) and the rest from Exchange Online (Graph), each source with its own
//! throttling budget, credentials and health. [`Routing`] sends each mailbox to one source
//! (per-mailbox assignment, then domain rule, then the default); a single-source gateway uses only
//! the default source and never sees the difference.
//!
//! The engine holds no HTTP client: the sources themselves (EWS and Graph over HTTP) and their
//! assembly from settings live in calgate-sources, and reach the engine as [`CalendarSource`]s.

pub mod backoff;
pub mod board;
pub mod engine;
mod event_id;
pub mod health;
pub mod notifications;
pub mod observe;
mod presence;
pub mod routing;
pub mod source;

pub use board::{Freshness, SnapshotPage, StatusBoard, StatusChange};
pub use engine::{Engine, EngineCounters, EngineOptions};
pub use event_id::EventId;
pub use health::{SourceHealth, SourceState};
pub use notifications::{Forwarded, Incoming, Lifecycle, NotificationDesk, Receipt};
pub use routing::{REASON_NO_SOURCE, Routing, SourceId};
pub use source::{
    CalendarSource, FailureAction, Renewed, SourceFailure, SourceLimits, Subscription, Window,
};
