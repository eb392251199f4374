//! The server side of the EWS wire format (request readers, response writers), used by
//! calgate-sim: requests are read with roxmltree (no DTDs, a node limit), responses written with
//! quick-xml's `Writer`. Also the time-zone rules and server builds a simulated Exchange needs.

pub mod request;
pub mod response;
pub mod versions;
pub mod zones;

pub use request::{Operation, RequestError, ServerRequest, WindowTime, read_request};
pub use versions::{ServerBuild, find_build};
pub use zones::{KnownZone, find_zone};
