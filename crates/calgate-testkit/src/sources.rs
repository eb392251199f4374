//! Calendar sources built straight against a simulator, for tests that drive the engine without
//! a gateway: built from settings by calgate-sources, as a configured gateway builds them.

use std::sync::Arc;

use calgate_auth::{LockoutGuard, MemoryRefreshTokens, SystemClock};
use calgate_settings::{CalendarSettings, Provider};
use calgate_sources::SignInContext;
use calgate_sources::graph_source::GraphSource;

/// App-only Microsoft Graph against `sim`'s Entra ID and Graph endpoints, signing in with the
/// client secret the simulator was started with.
///
/// # Panics
/// When the simulator has no TLS CA or the source cannot be built: the test must fail loudly.
pub fn graph_app_source(sim: &calgate_sim::Running, client_secret: &str) -> GraphSource {
    calgate_sources::build_graph(&graph_app_settings(sim, client_secret), &sign_in_context())
        .unwrap_or_else(|e| panic!("Graph source: {}: {}", e.code, e.message))
}

/// A sign-in context of its own (a lockout guard and an in-memory refresh-token store).
pub fn sign_in_context() -> SignInContext {
    SignInContext::with(
        LockoutGuard::new(Arc::new(SystemClock)),
        Arc::new(MemoryRefreshTokens::default()),
    )
}

/// The settings of an app-only `microsoft365` source against `sim`'s Entra ID and Graph
/// endpoints, signing in with `client_secret`, as the gateway keeps them.
///
/// # Panics
/// When the simulator has no TLS CA.
pub fn graph_app_settings(sim: &calgate_sim::Running, client_secret: &str) -> CalendarSettings {
    let ca_path = sim
        .urls
        .ca_cert_pem_path
        .as_ref()
        .unwrap_or_else(|| panic!("the simulator runs without TLS"));
    let ca = std::fs::read_to_string(ca_path)
        .unwrap_or_else(|e| panic!("cannot read the simulator CA {}: {e}", ca_path.display()));
    // The sign-in host and the Graph endpoint are the same origin; the source adds `/v1.0`.
    let host: reqwest::Url = sim
        .urls
        .graph_url
        .trim_end_matches('/')
        .trim_end_matches("/v1.0")
        .parse()
        .unwrap_or_else(|e| panic!("the simulator's Graph URL: {e}"));
    CalendarSettings {
        provider: Provider::Microsoft365,
        tenant_id: Some(sim.state.tenant_id.clone()),
        client_id: Some(sim.state.client_id.clone()),
        client_secret: Some(secrecy::SecretString::from(client_secret)),
        authority_host: host.clone(),
        graph_endpoint: host,
        extra_ca_pem: Some(ca),
        ..CalendarSettings::default()
    }
}
