//! The one HTTP client builder for everything calgate sends to a calendar service: EWS, Graph
//! and Entra ID. Every client gets the same rules: rustls, the source's extra CA bundle on top of
//! the system roots, a whole-request and a connect timeout, and no redirects (a redirected
//! request would carry the password, the client secret or the bearer token to another host).
//! Answers are read through `body::read_capped`, which holds every body to its cap.

use std::time::Duration;

/// The knobs that differ between clients; everything else is the same for all.
#[derive(Debug, Clone, Copy)]
pub struct ClientSettings<'a> {
    /// PEM certificates trusted in addition to the system roots.
    pub extra_ca_pem: Option<&'a [u8]>,
    /// The whole request, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Idle connections kept per host (the source's concurrency); `None`: reqwest's default.
    pub max_idle_per_host: Option<usize>,
    /// HTTP/1.1 only: Windows authentication (NTLM) authenticates one HTTP/1.1 connection.
    pub http1_only: bool,
}

impl ClientSettings<'_> {
    /// Connections kept idle this long are closed.
    const POOL_IDLE: Duration = Duration::from_secs(90);
}

/// Why a client cannot be built.
#[derive(Debug)]
pub enum ClientError {
    /// The extra CA bundle is not PEM.
    CaBundle(reqwest::Error),
    /// The extra CA bundle is PEM without a certificate in it.
    NoCertificate,
    /// The TLS backend refused the configuration.
    Build(reqwest::Error),
}

/// A client for one source (or its sign-in) built from `settings`.
pub fn client(settings: ClientSettings<'_>) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.connect_timeout)
        .pool_idle_timeout(ClientSettings::POOL_IDLE)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("calgate/", env!("CARGO_PKG_VERSION")));
    if let Some(n) = settings.max_idle_per_host {
        builder = builder.pool_max_idle_per_host(n);
    }
    if settings.http1_only {
        builder = builder.http1_only();
    }
    if let Some(pem) = settings.extra_ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(ClientError::CaBundle)?;
        if certs.is_empty() {
            return Err(ClientError::NoCertificate);
        }
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().map_err(ClientError::Build)
}
