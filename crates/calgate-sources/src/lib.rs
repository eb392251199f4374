//! calgate-sources: the calendar sources the engine schedules, and the one place that builds
//! them from settings.
//!
//! EWS over HTTP (`ews_transport`) and Microsoft Graph over HTTP (`graph_source`) implement the
//! engine's [`calgate_engine::CalendarSource`]; `signin` connects calgate-auth's sign-ins to the
//! EWS transport; `body` reads answers under a size cap and `replies` keeps the automatic replies
//! already read. `http` is the one HTTP client builder (timeouts, extra CA, no redirects) for
//! EWS, Graph and Entra ID. `windows` is Windows authentication (NTLM, alone or in Negotiate)
//! on connections of its own, with the `sspi` crate doing the NTLM work. `assembly` turns the settings of one source into a running source:
//! the gateway and the test kit both build through it.

pub mod assembly;
mod body;
pub mod ews_transport;
pub mod graph_source;
pub mod http;
mod replies;
pub mod signin;
pub mod windows;

pub use assembly::{
    DeviceCodeSignIn, NotConfigured, SignInContext, build, build_active, build_ews, build_graph,
    entra_http_client,
};
