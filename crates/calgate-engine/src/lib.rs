//! calgate-engine turns a watch list and a calendar source into a live, correct status for
//! every person: it paces requests, honours back-off and the lockout guard, hot-swaps the source
//! when settings change, and pushes status changes at meeting boundaries without polling.

pub mod backoff;
pub mod board;
pub mod engine;
pub mod ews_transport;
pub mod graph_source;
pub mod health;
pub mod signin;
pub mod source;

pub use board::{Freshness, StatusBoard, StatusChange};
pub use engine::{Engine, EngineOptions};
pub use health::{SourceHealth, SourceState};
pub use source::{CalendarSource, FailureAction, SourceFailure, SourceLimits, Window};
