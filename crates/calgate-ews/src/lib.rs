//! EWS wire format: request writers and response readers for the operations calgate uses
//! (GetUserAvailability, GetMailTips, ResolveNames), SOAP faults and error codes, and the
//! server-side half (request readers, response writers) that calgate-sim serves with.
//! No network: bytes in, typed values out, and back.

pub mod availability;
pub mod envelope;
pub mod error;
#[cfg(test)]
mod fixture_tests;
pub mod mail_tips;
pub mod ns;
pub mod resolve_names;
pub mod server;
mod time;
mod xml;

pub use availability::{
    AttendeeType, AvailabilityRequest, AvailabilityResponse, FreeBusyView, FreeBusyViewType,
    MAX_MAILBOXES_PER_REQUEST, MailboxBatch, RequestedView, read_availability_response,
};
/// The Exchange versions live in the core, so the settings name them without this crate.
pub use calgate_core::ExchangeVersion;
pub use envelope::{EwsRequest, Impersonation, ServerVersionInfo, SoapHeader};
pub use error::{Action, AuthChallenge, EwsError, MailboxErrorKind, RetryAfter};
pub use mail_tips::{
    DEFAULT_MAIL_TIPS_CHUNK, MailTip, MailTipsRequest, MailTipsResponse, read_mail_tips_response,
};
pub use resolve_names::{
    ResolveNamesRequest, ResolveNamesResponse, ResolvedMailbox, read_resolve_names_response,
};
pub use xml::{MAX_BODY_BYTES, MAX_DEPTH};
