//! Microsoft Graph wire format for what calgate reads: `calendar/getSchedule` (free/busy and
//! schedule items), `getMailTips` (automatic replies), `getPresencesByUserId` (Teams presence), change notifications (`subscriptions` and the
//! notifications Graph posts), the `users` listing, the directory a
//! watch list is synced from (`users/delta`, a group's `transitiveMembers`), and Graph's JSON
//! error bodies with the action the engine must take. Both halves live here: the client's
//! request writers and response readers, and the writers and readers calgate-sim serves with,
//! so that the simulator speaks exactly the dialect the client parses.
//!
//! No network: bytes in, typed values out, and back. Nothing read from the network can panic;
//! anything unreadable becomes a typed error, and a mailbox whose calendar cannot be read is
//! `unknown`, never free.

pub mod directory;
pub mod error;
mod lenient;
pub mod mailtips;
pub mod presence;
pub mod schedule;
pub mod subscriptions;
pub mod time;
pub mod users;

pub use error::{ErrorAction, ErrorBody, ErrorCode, ServiceError, parse_retry_after};
pub use mailtips::{GetMailTips, GetMailTipsBody, MailTips, MailTipsResponse, MailTipsResult};
pub use presence::{GetPresences, GetPresencesBody, Presence, PresenceItem, PresencesResponse};
pub use schedule::{
    GetSchedule, GetScheduleBody, OutputZone, ReadError, RequestError, ScheduleInformation,
    ScheduleItem, ScheduleLimit, ScheduleResponse, availability_view,
};
pub use time::{DateTimeTimeZone, resolve_zone};
pub use users::{User, UserPage};

#[cfg(test)]
mod tests;
