//! EWS wire format: request writers and response readers for the operations calgate uses
//! (GetUserAvailability, GetMailTips, ResolveNames), SOAP faults and error codes, and the
//! server-side half (request readers, response writers) that calgate-sim serves with.
//! No network: bytes in, typed values out, and back.

pub mod ns;
pub mod server;
pub mod version;

pub use version::ExchangeVersion;
