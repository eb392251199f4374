//! calgate-sim: a local twin of Exchange EWS, Entra ID and Microsoft Graph.
//!
//! [`spawn`] starts one HTTP(S) server on a port of the caller's choice (0 works) that serves the
//! EWS endpoint (`/EWS/Exchange.asmx`), the Entra ID v2 endpoints, the Graph endpoints and the
//! JSON control API (`/_sim/`). All of them share one [`SimState`]: the synthetic tenant, the
//! accounts with their lockout model, the realism policy and the statistics.
//!
//! Choices where Exchange's behaviour is undocumented or where clients disagree with the schema
//! (each one is what the EWS side answers, and what the conformance tests hold it to):
//! - Strict like Exchange: GetMailTips without `m:MailTipsRequested` (stock exchangelib) and
//!   ResolveNames with several `m:UnresolvedEntry` elements get `ErrorSchemaValidation`.
//! - MergedFreeBusy digits: 0 free, 1 tentative, 2 busy, 3 OOF, 4 working elsewhere; per
//!   interval the strongest type wins (OOF > busy > working elsewhere > tentative > free).
//! - A dates-only window (midnight times, no body `t:TimeZone`, zone in `TimeZoneContext`)
//!   covers whole days through the end date, so `StartTime == EndTime` asks for one day.
//! - Per-mailbox detail levels come from the mailbox's default permission
//!   ([`tenant::FreeBusyAccess`]), the same for every caller.
//! - ConvertId reports every id malformed: the simulator issues no ids clients convert, and
//!   exchangelib only uses the call to learn the server version.
//! - GetUserOofSettings answers for any mailbox (real Exchange needs rights on it).

pub mod accounts;
pub mod control;
pub mod directory;
pub mod entra;
pub mod ews;
pub mod graph;
pub mod policy;
pub mod state;
pub mod stats;
pub mod subscriptions;
pub mod tenant;
pub mod tls;
pub mod tokens;
pub mod windows;

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::task::Poll;

use anyhow::Context;
use axum::Router;
use serde::Serialize;

pub use accounts::{Accounts, LockoutMode, PasswordFailure};
pub use policy::Policy;
pub use state::{SimState, Throttle};
pub use stats::Stats;
pub use tenant::{Person, Tenant};
pub use windows::EwsAuth;

/// How to start a simulator.
#[derive(Clone)]
pub struct SimConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Number of generated people (rooms included).
    pub people: usize,
    /// Seed of the tenant generator and of every random fault decision.
    pub seed: u64,
    /// HTTPS with a generated CA (msal refuses plain HTTP); `false` serves plain HTTP.
    pub tls: bool,
    /// The service account (UPN, password) calgate signs in with; `None` creates none.
    pub service_account: Option<(String, String)>,
    /// The password every generated person's account gets.
    pub people_password: String,
    pub tenant_id: String,
    /// The registered application (client) id.
    pub client_id: String,
    /// A client secret for the confidential-client grant, when registered.
    pub client_secret: Option<String>,
    /// A PEM certificate whose public key checks `client_assertion` JWTs, when registered.
    pub client_cert_pem: Option<String>,
    /// The mail domain of the tenant.
    pub domain: String,
    /// The realism policy in force at start.
    pub policy: Policy,
    /// The schemes the EWS endpoint offers (Basic and Bearer unless told otherwise).
    pub ews_auth: EwsAuth,
    /// Where the CA certificate is written; a temporary directory when `None`.
    pub data_dir: Option<PathBuf>,
    /// Generate today's calendars as this weekday's (`Tenant::generate_as`), so a benchmark
    /// reads a working day's meetings whatever day it runs; `None` uses today's own weekday.
    pub today_as: Option<calgate_core::Weekday>,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            people: 200,
            seed: 1,
            tls: true,
            service_account: Some((
                "attendant@contoso.com".to_owned(),
                "Attendant-Passw0rd".to_owned(),
            )),
            people_password: "People-Passw0rd".to_owned(),
            tenant_id: "4b6c0d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e".to_owned(),
            client_id: "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d".to_owned(),
            client_secret: None,
            client_cert_pem: None,
            domain: "contoso.com".to_owned(),
            policy: Policy::default(),
            ews_auth: EwsAuth::default(),
            data_dir: None,
            today_as: None,
        }
    }
}

// Hand-written so that passwords and secrets never reach a log line.
impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("listen", &self.listen)
            .field("people", &self.people)
            .field("seed", &self.seed)
            .field("tls", &self.tls)
            .field(
                "service_account",
                &self
                    .service_account
                    .as_ref()
                    .map(|(upn, _)| (upn, "<redacted>")),
            )
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret_set", &self.client_secret.is_some())
            .field("client_cert_pem_set", &self.client_cert_pem.is_some())
            .field("domain", &self.domain)
            .field("policy", &self.policy)
            .field("ews_auth", &self.ews_auth)
            .field("data_dir", &self.data_dir)
            .field("today_as", &self.today_as)
            .finish()
    }
}

/// Where a running simulator answers. Printed by the binary as one JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct SimUrls {
    pub ews_url: String,
    /// The Entra base including the tenant, e.g. `https://127.0.0.1:4431/{tenant}`.
    pub authority: String,
    pub graph_url: String,
    pub control_url: String,
    /// The CA that signed the server certificate (TLS only).
    pub ca_cert_pem_path: Option<PathBuf>,
}

/// A running simulator. Dropping it shuts the server down.
#[derive(Debug)]
pub struct Running {
    pub urls: SimUrls,
    pub state: Arc<SimState>,
    pub addr: SocketAddr,
    handle: axum_server::Handle<SocketAddr>,
    // Keeps the generated CA on disk for as long as the simulator runs.
    _temp_dir: Option<tempfile::TempDir>,
}

impl Running {
    /// Stops accepting connections and closes open ones.
    pub fn shutdown(&self) {
        self.handle.shutdown();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// The whole application: every endpoint family over one shared state.
pub fn app(state: Arc<SimState>) -> Router {
    Router::new()
        .merge(ews::router())
        .merge(control::router())
        .merge(entra::router())
        .merge(graph::router())
        .merge(subscriptions::router())
        .with_state(state)
}

/// Makes each connection's service: the router with the peer's address as `ConnectInfo` (as
/// axum's connect-info service does), and the Windows table told when the connection opens and
/// closes, so its entry lives no longer than the connection.
#[derive(Clone)]
struct Connections {
    router: Router,
    state: Arc<SimState>,
}

impl tower::Service<SocketAddr> for Connections {
    type Response = Connection;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Connection, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, peer: SocketAddr) -> Self::Future {
        let id = self.state.windows.opened(peer);
        std::future::ready(Ok(Connection {
            router: self.router.clone(),
            peer,
            _open: Arc::new(OpenConnection {
                state: self.state.clone(),
                peer,
                id,
            }),
        }))
    }
}

/// The service of one connection. The server clones it per request and drops the last clone
/// when the connection ends.
#[derive(Clone)]
struct Connection {
    router: Router,
    peer: SocketAddr,
    _open: Arc<OpenConnection>,
}

struct OpenConnection {
    state: Arc<SimState>,
    peer: SocketAddr,
    id: windows::ConnectionId,
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.state.windows.closed(self.peer, self.id);
    }
}

impl<B> tower::Service<axum::http::Request<B>> for Connection
where
    Router: tower::Service<axum::http::Request<B>>,
{
    type Response = <Router as tower::Service<axum::http::Request<B>>>::Response;
    type Error = <Router as tower::Service<axum::http::Request<B>>>::Error;
    type Future = <Router as tower::Service<axum::http::Request<B>>>::Future;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), Self::Error>> {
        tower::Service::<axum::http::Request<B>>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, mut request: axum::http::Request<B>) -> Self::Future {
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        self.router.call(request)
    }
}

/// Generates the tenant, binds the listener and starts serving in the background.
pub async fn spawn(config: SimConfig) -> anyhow::Result<Running> {
    let (data_dir, temp_dir) = match &config.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating data dir {}", dir.display()))?;
            (dir.clone(), None)
        }
        None => {
            let t = tempfile::tempdir().context("creating a temporary data dir")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("binding {}", config.listen))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let scheme = if config.tls { "https" } else { "http" };
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    let base = format!("{scheme}://{host}:{}", addr.port());
    let state = Arc::new(SimState::new(&config, base.clone()));
    let handle = axum_server::Handle::new();
    let make_service = Connections {
        router: app(state.clone()),
        state: state.clone(),
    };
    let ca_cert_pem_path = if config.tls {
        let material = tls::generate(&data_dir)?;
        let rustls_config = axum_server::tls_rustls::RustlsConfig::from_pem(
            material.cert_chain_pem.into_bytes(),
            material.key_pem.into_bytes(),
        )
        .await
        .context("loading the generated certificate")?;
        // TCP_NODELAY: a small answer goes out at once instead of waiting on the client's
        // delayed acknowledgement (tens of milliseconds per paged request otherwise).
        let server = axum_server::from_tcp_rustls(listener, rustls_config)?
            .map(|tls| tls.acceptor(axum_server::accept::NoDelayAcceptor::new()))
            .handle(handle.clone());
        tokio::spawn(async move {
            if let Err(e) = server.serve(make_service).await {
                tracing::error!(error = %e, "simulator server stopped");
            }
        });
        Some(material.ca_cert_pem_path)
    } else {
        let server = axum_server::from_tcp(listener)?
            .acceptor(axum_server::accept::NoDelayAcceptor::new())
            .handle(handle.clone());
        tokio::spawn(async move {
            if let Err(e) = server.serve(make_service).await {
                tracing::error!(error = %e, "simulator server stopped");
            }
        });
        None
    };
    let urls = SimUrls {
        ews_url: format!("{base}/EWS/Exchange.asmx"),
        authority: format!("{base}/{}", config.tenant_id),
        graph_url: format!("{base}/v1.0"),
        control_url: format!("{base}/_sim"),
        ca_cert_pem_path,
    };
    Ok(Running {
        urls,
        state,
        addr,
        handle,
        _temp_dir: temp_dir,
    })
}
