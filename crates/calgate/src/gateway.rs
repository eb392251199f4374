//! Starting and stopping the gateway: open the store, restore what it knew, build the source from
//! the saved settings, serve until told to stop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use calgate_engine::EngineOptions;
use calgate_store::Store;

use crate::router::router;
use crate::state::{AppState, SourceMode};

pub use crate::state::ADMIN_USER;

/// How to start a gateway.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// The PostgreSQL database to keep the state in instead of the data directory's SQLite file
    /// (the key file stays in the data directory).
    pub database_url: Option<calgate_store::DatabaseUrl>,
    pub site_time_zone: jiff::tz::TimeZone,
    pub source: SourceMode,
    /// Fixed engine options instead of those derived from the saved settings (tests).
    pub engine_override: Option<EngineOptions>,
    /// Sets the admin password at start (`CALGATE_ADMIN_PASSWORD`); otherwise one is generated
    /// on first start and reported once in [`RunningGateway::generated_admin_password`].
    pub admin_password: Option<SecretString>,
    pub limits: crate::config::ServerLimits,
    /// The pages' language when a reader's browser asks for none they are written in.
    pub default_language: crate::i18n::Lang,
    /// HTTPS served directly, its redirect listener, and the proxies believed.
    pub https: crate::config::HttpsConfig,
}

impl GatewayConfig {
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> GatewayConfig {
        GatewayConfig {
            listen,
            data_dir,
            database_url: None,
            site_time_zone: jiff::tz::TimeZone::UTC,
            source: SourceMode::FromSettings,
            engine_override: None,
            admin_password: None,
            limits: crate::config::ServerLimits::default(),
            default_language: crate::i18n::Lang::En,
            https: crate::config::HttpsConfig::default(),
        }
    }
}

/// A running gateway. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningGateway {
    pub addr: SocketAddr,
    /// Whether `addr` serves HTTPS.
    pub tls: bool,
    /// Where the plain-HTTP listener that redirects to HTTPS listens, if there is one.
    pub redirect_addr: Option<SocketAddr>,
    pub app: Arc<AppState>,
    /// The admin password generated on first start, to print once.
    pub generated_admin_password: Option<SecretString>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    persist: JoinHandle<()>,
    redirect: Option<JoinHandle<()>>,
}

impl RunningGateway {
    /// The base URL (`http://127.0.0.1:PORT`, or `https://…` when serving TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Waits until the server ends.
    pub async fn wait(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }

    pub fn stop(&mut self) {
        self.app.shutdown.cancel();
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Resolves when the server stops on its own (a fatal error).
    pub async fn stopped(&mut self) {
        let _ = (&mut self.task).await;
    }

    /// Graceful shutdown: stop accepting, end open streams, let requests in flight finish (up to
    /// `grace`), save the last-known availability, close the database.
    pub async fn shutdown(mut self, grace: Duration) {
        self.stop();
        self.persist.abort();
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        if tokio::time::timeout(grace, task).await.is_err() {
            tracing::warn!("requests still running after the grace period; closing anyway");
        }
        save_changed_availability(&self.app).await;
        if let Some(cluster) = &self.app.cluster
            && let Err(e) = self.app.store.leave(&cluster.id).await
        {
            tracing::warn!(error = %e, "could not give back the shard leases");
        }
        self.app.store.close().await;
    }
}

impl Drop for RunningGateway {
    fn drop(&mut self) {
        self.stop();
        self.task.abort();
        self.persist.abort();
        if let Some(redirect) = &self.redirect {
            redirect.abort();
        }
    }
}

fn random_password() -> SecretString {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let s: String = (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    SecretString::from(s)
}

/// Starts the gateway.
pub async fn start(config: GatewayConfig) -> anyhow::Result<RunningGateway> {
    // Before anything is opened: a certificate that cannot be served stops the start.
    let certificate = match &config.https.tls {
        Some(files) => Some(crate::tls::LiveCertificate::open(files.clone()).await?),
        None => None,
    };
    if config.https.redirect_listen.is_some() && certificate.is_none() {
        anyhow::bail!(
            "https_redirect_listen needs tls_cert and tls_key: there is no HTTPS to send to"
        );
    }
    crate::config::private_dir(&config.data_dir)?;
    let store = Store::open_database(&config.data_dir, config.database_url.as_ref())
        .await
        .context("opening the database")?;

    let mut generated_admin_password = None;
    match (&config.admin_password, store.admin_username().await?) {
        (Some(pw), _) => {
            store.set_admin_password(ADMIN_USER, pw).await?;
        }
        (None, None) => {
            let pw = random_password();
            store.set_admin_password(ADMIN_USER, &pw).await?;
            generated_admin_password = Some(pw);
        }
        (None, Some(_)) => {}
    }

    // Several gateways on one PostgreSQL database: listen before reading anything (the lockout
    // guard's state included), so a change made meanwhile by another is heard.
    let cluster = config
        .database_url
        .is_some()
        .then(|| Arc::new(crate::cluster::Cluster::new()));
    let db_listener = match &cluster {
        Some(_) => store.listen().await.context("listening to the database")?,
        None => None,
    };
    // The lockout guard is shared with the others, as this instance.
    let sharing = cluster.as_ref().map(|c| crate::signin_store::Sharing {
        instance: c.id.clone(),
    });
    let sign_in = crate::signin_store::context(&store, sharing)
        .await
        .context("restoring the sign-in state")?;
    let stored_sources = store.load_sources().await?;
    if let Some(cluster) = &cluster {
        for source in &stored_sources {
            cluster.applied(&source.id, source.revision);
        }
    }
    let configured = crate::state::Configured {
        sources: stored_sources
            .into_iter()
            .map(|s| crate::state::SourceConfig {
                id: s.id,
                display_name: s.display_name,
                settings: s.settings,
            })
            .collect(),
        routing: store.load_routing().await?.unwrap_or_default(),
    };
    let mut state = AppState::new(
        store,
        configured,
        config.site_time_zone.clone(),
        config.source.clone(),
        config.engine_override.clone(),
        sign_in,
        config.limits,
    );
    state.trusted_proxies = config.https.trusted_proxies.clone();
    state.cluster = cluster.clone();
    // Until the first lease round, a gateway of several fetches nothing.
    if cluster.is_some() {
        state
            .engine()
            .set_owned_shards(Some(std::collections::BTreeSet::new()));
        // Graph may post a notification to any of the gateways.
        state.engine().notifications().set_shared(true);
    }
    let app = Arc::new(state);
    if app.cluster.is_some() {
        crate::cluster::announce_creating_through(&app);
    }
    app.set_default_language(config.default_language);
    let engine = app.engine();
    // Warm restart: last-known data is served (as stale, by its age) until fresh data arrives.
    let now = Timestamp::now();
    // Page by page: the saved text of the whole watch list is never in memory at once, and what
    // is put back is not saved again.
    let mut after = String::new();
    loop {
        let page = app
            .store
            .load_availability_page(&after, RESTORE_PAGE)
            .await?;
        let Some(last) = page.last() else {
            break;
        };
        after.clone_from(&last.mailbox);
        for availability in page {
            engine.board().restore(availability, now);
        }
    }
    let people = app.store.list_people().await?;
    *app.people_routes.write().unwrap_or_else(|e| e.into_inner()) = people
        .iter()
        .filter_map(|p| p.route.clone().map(|r| (p.email.clone(), r)))
        .collect();

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let redirect_listener = match config.https.redirect_listen {
        Some(at) => Some(
            TcpListener::bind(at)
                .await
                .with_context(|| format!("binding https_redirect_listen {at}"))?,
        ),
        None => None,
    };
    let tls = match &certificate {
        Some(certificate) => {
            tokio::spawn(
                certificate
                    .clone()
                    .watch(config.https.reload_every, app.shutdown.clone()),
            );
            let server_config = certificate.server_config().context("setting up TLS")?;
            Some(tokio_rustls::TlsAcceptor::from(server_config))
        }
        None => None,
    };
    app.apply_all();
    // After the source is in place: mailboxes whose saved data is still fresh are asked again
    // when due, not all at once.
    app.engine()
        .resume_watch_list(people.into_iter().map(|p| p.email).collect());
    let persist = tokio::spawn(persist_availability(app.clone()));
    if let Some(cluster) = &cluster {
        cluster.set_address(addr.to_string());
        tokio::spawn(crate::cluster::run_leases(app.clone(), cluster.clone()));
        if let Some(db_listener) = db_listener {
            tokio::spawn(crate::cluster::run_listener(
                app.clone(),
                cluster.clone(),
                db_listener,
            ));
        }
    }
    // Ends with the gateway (it watches the shutdown token).
    tokio::spawn(crate::directories::run_scheduler(app.clone()));
    let routes = router(app.clone())
        .layer(axum::middleware::from_fn(crate::api::json_errors))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            config.limits.body_timeout(),
        ));
    let (tx, rx) = oneshot::channel::<()>();
    app.set_ready(true);
    let limits = config.limits;
    let serves_tls = tls.is_some();
    let task = tokio::spawn(async move {
        crate::server::serve(listener, routes, limits, tls, async {
            let _ = rx.await;
        })
        .await;
    });
    tracing::info!(%addr, tls = serves_tls, "gateway listening");
    let mut redirect_addr = None;
    let mut redirect = None;
    if let Some(listener) = redirect_listener {
        let at = listener
            .local_addr()
            .context("reading the redirect listener's address")?;
        let stop = app.shutdown.clone();
        redirect_addr = Some(at);
        redirect = Some(tokio::spawn(async move {
            crate::server::serve(
                listener,
                crate::router::https_redirect(addr.port()),
                limits,
                None,
                stop.cancelled_owned(),
            )
            .await;
        }));
        tracing::info!(addr = %at, "redirecting plain HTTP to HTTPS");
    }
    Ok(RunningGateway {
        addr,
        tls: serves_tls,
        redirect_addr,
        redirect,
        app,
        generated_admin_password,
        stop: Some(tx),
        task,
        persist,
    })
}

/// Availabilities read per query at a warm restart.
const RESTORE_PAGE: u32 = 2_000;

/// Availabilities written per transaction by the warm-restart save.
const SAVE_PART: usize = 2_000;

/// Saves newly fetched availability every few seconds, for a warm restart. Only what changed
/// since the last save is written; a failed save is tried again next time.
async fn persist_availability(app: Arc<AppState>) {
    // Other gateways on the same database wait for it: every second then.
    let every = if app.cluster.is_some() {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(5)
    };
    loop {
        tokio::time::sleep(every).await;
        save_changed_availability(&app).await;
    }
}

/// Writes the availabilities stored since the last save. In parts, so the JSON of a
/// 100 000-person refresh is never all in memory at once; a part that fails is tried again next
/// time.
async fn save_changed_availability(app: &AppState) {
    let board = app.engine().board();
    let changed = board.take_changed();
    for part in changed.chunks(SAVE_PART) {
        if let Err(e) = app.store.save_availability(part).await {
            tracing::warn!(error = %e, "could not save last-known availability");
            board.put_back(part.iter().map(|a| a.mailbox.clone()));
        } else {
            let written = part.iter().map(|a| a.mailbox.clone()).collect();
            crate::cluster::announce_availability(app, written).await;
        }
    }
}

/// Creates an API token and returns its secret (shown once).
pub async fn create_token(
    store: &Store,
    role: calgate_store::ApiRole,
    label: &str,
) -> anyhow::Result<String> {
    let token = store.create_api_token(role, label).await?;
    Ok(token.secret.expose_secret().to_string())
}
