//! Calendar sources built straight against a simulator, for tests that drive the engine without
//! a gateway: the same sign-in and client a configured gateway would build.

use std::sync::Arc;
use std::time::Duration;

use calgate_auth::{
    AppSecret, Authorizer, LockoutGuard, MemoryRefreshTokens, OAuthSettings, SignIn, SystemClock,
    TokenSource,
};
use calgate_engine::graph_source::{Anchor, GraphConfig, GraphSource, http_client};

/// App-only Microsoft Graph against `sim`'s Entra ID and Graph endpoints, signing in with the
/// client secret the simulator was started with.
///
/// # Panics
/// When the simulator has no TLS CA or the source cannot be built: the test must fail loudly.
pub fn graph_app_source(sim: &calgate_sim::Running, client_secret: &str) -> GraphSource {
    let ca_path = sim
        .urls
        .ca_cert_pem_path
        .as_ref()
        .unwrap_or_else(|| panic!("the simulator runs without TLS"));
    let ca = std::fs::read(ca_path)
        .unwrap_or_else(|e| panic!("cannot read the simulator CA {}: {e}", ca_path.display()));
    let http = http_client(Some(&ca), Duration::from_secs(20), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("cannot build the Graph HTTP client: {e}"));
    // The sign-in host and the Graph endpoint are the same origin; the source adds `/v1.0`.
    let host: reqwest::Url = sim
        .urls
        .graph_url
        .trim_end_matches('/')
        .trim_end_matches("/v1.0")
        .parse()
        .unwrap_or_else(|e| panic!("the simulator's Graph URL: {e}"));
    let tokens = TokenSource::new(
        http.clone(),
        OAuthSettings {
            authority: host.clone(),
            tenant: sim.state.tenant_id.clone(),
            client_id: sim.state.client_id.clone(),
            sign_in: SignIn::App(AppSecret::ClientSecret(secrecy::SecretString::from(
                client_secret,
            ))),
            renew_margin: calgate_auth::DEFAULT_RENEW_MARGIN,
        },
        LockoutGuard::new(Arc::new(SystemClock)),
        Arc::new(MemoryRefreshTokens::default()),
    )
    .unwrap_or_else(|e| panic!("token source: {e}"));
    GraphSource::with_client(
        http,
        GraphConfig::new(host, Anchor::FirstInBatch),
        Authorizer::OAuth(Arc::new(tokens)),
    )
    .unwrap_or_else(|e| panic!("Graph source: {e}"))
}
