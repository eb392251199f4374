//! The gateway's shared state and the domain operations on it (settings, the watch list, the
//! engine's source), below every HTTP route: `api/`, `portal/` and `router` use it, it names
//! none of them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use calgate_engine::{CalendarSource, Engine, EngineOptions};
use calgate_settings::{CalendarSettings, DEFAULT_SOURCE_ID, RoutingTable};
use calgate_store::{Store, StoreError, WatchedPerson};

use crate::metrics::GatewayMetrics;
use crate::view::Person;

/// The admin account's name.
pub const ADMIN_USER: &str = "admin";

/// Where the engine's source comes from.
#[derive(Clone)]
pub enum SourceMode {
    /// Built from the saved settings, rebuilt on every save (the product).
    FromSettings,
    /// A fixed source (tests that drive the engine directly).
    Fixed(Option<Arc<dyn CalendarSource>>),
}

impl std::fmt::Debug for SourceMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceMode::FromSettings => f.write_str("FromSettings"),
            SourceMode::Fixed(s) => write!(f, "Fixed({})", s.as_ref().map_or("none", |s| s.name())),
        }
    }
}

/// Everything a request handler may touch.
#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    engine: Engine,
    /// Every configured source by id; `default` is always there (maybe unconfigured).
    pub(crate) sources: RwLock<std::collections::BTreeMap<String, SourceConfig>>,
    /// Which source serves which mailboxes.
    pub(crate) routing: RwLock<RoutingTable>,
    /// Mailbox routes a directory set (its `source` attribute), by address; the routing
    /// table's own mailbox routes win over them, and they win over its domain routes.
    pub(crate) people_routes: RwLock<std::collections::BTreeMap<String, String>>,
    /// Directory syncs running now, and the scheduler's bookkeeping.
    pub directories: crate::directories::DirectorySyncs,
    /// Serialises changes to sources and routing (each is a store write plus an engine swap).
    pub(crate) config_lock: tokio::sync::Mutex<()>,
    options: RwLock<EngineOptions>,
    pub(crate) site_time_zone: jiff::tz::TimeZone,
    source_mode: SourceMode,
    pub sign_in: calgate_sources::SignInContext,
    /// The device-code sign-in in progress (portal and API).
    pub device_flow: std::sync::Mutex<DeviceFlow>,
    /// Fixed engine options (tests), instead of options derived from the settings.
    options_override: Option<EngineOptions>,
    ready: AtomicBool,
    pub metrics: Arc<GatewayMetrics>,
    /// The web pages' sign-in sessions.
    pub portal: crate::sessions::Sessions,
    /// Failed sign-ins to the pages, per address and account.
    pub sign_in_limit: crate::signin_limit::SignInLimiter,
    /// Connection tests per minute.
    pub test_limit: crate::check::TestLimit,
    /// Cancelled when the gateway shuts down: open event streams end so the server can stop.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The data directory's last write probe (health answers reuse it for a few seconds).
    pub store_probe: crate::store_probe::ProbeCache,
    /// Connections, streams and timeouts.
    pub limits: crate::config::ServerLimits,
    /// Peers whose forwarding headers are believed (see [`crate::proxies`]).
    pub trusted_proxies: crate::proxies::TrustedProxies,
    /// The pages' language when a reader's browser asks for none they are written in.
    default_language: std::sync::atomic::AtomicU8,
    /// This gateway as one of several on one PostgreSQL database (`None` on SQLite).
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

/// Engine options for `settings` at the site's time zone.
pub fn engine_options(settings: &CalendarSettings, tz: &jiff::tz::TimeZone) -> EngineOptions {
    let mut options = EngineOptions::with_interval(SignedDuration::from_secs(i64::from(
        settings.refresh_interval_s,
    )));
    options.site_time_zone = tz.clone();
    options.status.privacy = settings.privacy;
    options.status.rules = settings.status_rules;
    if settings.change_notifications
        && settings.provider == calgate_settings::Provider::Microsoft365
        && settings.notification_url.is_some()
    {
        options.sweep_interval = Some(SignedDuration::from_secs(i64::from(
            settings.notification_sweep_s,
        )));
    }
    options
}

impl AppState {
    /// The state around `store`, with an engine started (without a source) on the options for
    /// the default source's settings; [`AppState::apply_all`] gives it its sources.
    pub fn new(
        store: Store,
        configured: Configured,
        site_time_zone: jiff::tz::TimeZone,
        source_mode: SourceMode,
        options_override: Option<EngineOptions>,
        sign_in: calgate_sources::SignInContext,
        limits: crate::config::ServerLimits,
    ) -> AppState {
        let mut sources = std::collections::BTreeMap::new();
        for source in configured.sources {
            sources.insert(source.id.clone(), source);
        }
        let default = sources
            .entry(DEFAULT_SOURCE_ID.to_string())
            .or_insert_with(|| SourceConfig::unconfigured(DEFAULT_SOURCE_ID))
            .settings
            .clone();
        let options = options_override
            .clone()
            .unwrap_or_else(|| engine_options(&default, &site_time_zone));
        AppState {
            store,
            engine: Engine::start(None, options.clone()),
            sources: RwLock::new(sources),
            routing: RwLock::new(configured.routing),
            people_routes: RwLock::default(),
            directories: crate::directories::DirectorySyncs::default(),
            config_lock: tokio::sync::Mutex::new(()),
            options: RwLock::new(options),
            site_time_zone,
            source_mode,
            sign_in,
            device_flow: std::sync::Mutex::default(),
            options_override,
            ready: AtomicBool::new(false),
            metrics: Arc::new(GatewayMetrics::default()),
            portal: crate::sessions::Sessions::default(),
            sign_in_limit: crate::signin_limit::SignInLimiter::default(),
            test_limit: crate::check::TestLimit::default(),
            shutdown: tokio_util::sync::CancellationToken::new(),
            store_probe: crate::store_probe::ProbeCache::default(),
            limits,
            trusted_proxies: crate::proxies::TrustedProxies::default(),
            default_language: std::sync::atomic::AtomicU8::new(0),
            cluster: None,
        }
    }

    /// The pages' language when a reader's browser asks for none they are written in.
    pub fn default_language(&self) -> crate::i18n::Lang {
        let i = usize::from(self.default_language.load(Ordering::Relaxed));
        crate::i18n::Lang::ALL.get(i).copied().unwrap_or_default()
    }

    pub fn set_default_language(&self, lang: crate::i18n::Lang) {
        let i = crate::i18n::Lang::ALL
            .iter()
            .position(|l| *l == lang)
            .unwrap_or(0);
        self.default_language
            .store(u8::try_from(i).unwrap_or(0), Ordering::Relaxed);
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn options(&self) -> EngineOptions {
        self.options
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The settings of the source `default` (what `/api/v1/settings/calendar` configures).
    pub fn settings(&self) -> CalendarSettings {
        self.source(DEFAULT_SOURCE_ID)
            .map(|s| s.settings)
            .unwrap_or_default()
    }

    /// Data older than this is shown as stale (and turns unknown at the status's own limit).
    pub fn stale_age(&self) -> SignedDuration {
        self.options().refresh_interval * 2
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Applies new settings to the source `default`: the engine switches source at once; the
    /// old credentials are not used again (requests in flight with them are dropped).
    pub fn apply_settings(&self, settings: CalendarSettings) {
        self.sources_mut()
            .entry(DEFAULT_SOURCE_ID.to_string())
            .or_insert_with(|| SourceConfig::unconfigured(DEFAULT_SOURCE_ID))
            .settings = settings.clone();
        self.apply_source(DEFAULT_SOURCE_ID, &settings);
    }

    /// Hands the engine every configured source and the routing table (at start).
    pub fn apply_all(&self) {
        for source in self.sources() {
            self.apply_source(&source.id, &source.settings);
        }
        self.engine
            .set_routing(engine_routing(&self.routing(), &self.people_routes()));
    }

    /// Builds source `id` from `settings` and swaps it into the engine (or tells the engine why
    /// it cannot run). The default source's settings also set the engine's options.
    pub(crate) fn apply_source(&self, id: &str, settings: &CalendarSettings) {
        let options = self
            .options_override
            .clone()
            .unwrap_or_else(|| engine_options(settings, &self.site_time_zone));
        if id != DEFAULT_SOURCE_ID {
            let id = calgate_engine::SourceId::new(id);
            match calgate_sources::build_active(id.as_str(), settings, &self.sign_in) {
                Ok(source) => self.engine.replace_source_for(id, Some(source), options),
                Err(why) => self
                    .engine
                    .misconfigure_for(id, why.code, &why.message, options),
            }
            return;
        }
        *self.options.write().unwrap_or_else(|e| e.into_inner()) = options.clone();
        match &self.source_mode {
            SourceMode::Fixed(source) => self.engine.replace_source(source.clone(), options),
            SourceMode::FromSettings => {
                match calgate_sources::build_active(DEFAULT_SOURCE_ID, settings, &self.sign_in) {
                    Ok(source) => self.engine.replace_source(Some(source), options),
                    Err(why) => self.engine.misconfigure(why.code, &why.message, options),
                }
            }
        }
    }

    /// Saves validated settings for the source `default` with an audit row naming `actor`,
    /// then applies them.
    pub async fn save_settings(
        &self,
        settings: CalendarSettings,
        actor: &str,
    ) -> Result<(), calgate_store::StoreError> {
        self.save_source(DEFAULT_SOURCE_ID, None, settings, actor)
            .await
    }

    pub async fn person(&self, email: &str) -> Result<Option<Person>, StoreError> {
        Ok(self.store.get_person(email).await?.map(to_person))
    }

    /// People whose email, name or extension matches `query`.
    pub async fn search_people(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Person>, StoreError> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let people = self.store.search_people(query.trim(), limit).await?;
        Ok(people.into_iter().map(to_person).collect())
    }

    /// Watched people whose data is in state `want` (and who match `query`, when one is given),
    /// ordered by name, at most `limit`. The board knows who is in that state; the store adds
    /// names. At most [`MAX_FILTERED`] people in that state are looked at.
    pub async fn people_in_state(
        &self,
        query: &str,
        want: calgate_engine::Freshness,
        limit: usize,
    ) -> Result<Vec<Person>, StoreError> {
        let emails =
            self.engine
                .board()
                .emails_with(want, Timestamp::now(), self.stale_age(), MAX_FILTERED);
        let mut people = self.people_among(&emails).await?;
        if !query.trim().is_empty() {
            let found: std::collections::HashSet<String> = self
                .search_people(query, MAX_FILTERED)
                .await?
                .into_iter()
                .map(|p| p.email)
                .collect();
            people.retain(|p| found.contains(&p.email));
        }
        people.truncate(limit);
        Ok(people)
    }

    /// The watched people among `emails`, ordered by name.
    pub async fn people_among(&self, emails: &[String]) -> Result<Vec<Person>, StoreError> {
        let people = self.store.get_people(emails).await?;
        Ok(people.into_iter().map(to_person).collect())
    }

    /// Adds or updates people by hand and starts watching the new ones. Returns the
    /// watch-list size.
    pub async fn upsert_people(&self, people: Vec<Person>) -> Result<usize, StoreError> {
        self.upsert_people_as(people, calgate_store::ORIGIN_MANUAL)
            .await
    }

    /// Like [`AppState::upsert_people`], for people a CSV import brings.
    pub async fn import_people(&self, people: Vec<Person>) -> Result<usize, StoreError> {
        self.upsert_people_as(people, calgate_store::ORIGIN_IMPORT)
            .await
    }

    async fn upsert_people_as(
        &self,
        people: Vec<Person>,
        origin: &str,
    ) -> Result<usize, StoreError> {
        let emails: Vec<String> = people.iter().map(|p| p.email.clone()).collect();
        let rows: Vec<WatchedPerson> = people
            .into_iter()
            .map(|p| WatchedPerson {
                origin: origin.to_string(),
                ..WatchedPerson::manual(
                    &p.email,
                    p.name.as_deref().unwrap_or_default(),
                    p.extension.as_deref(),
                )
            })
            .collect();
        self.store.upsert_people(&rows).await?;
        self.engine.watch(emails);
        crate::cluster::announce(self, crate::cluster::Changed::People).await;
        let count = self.store.count_people().await?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    pub async fn delete_person(&self, email: &str) -> Result<bool, StoreError> {
        let removed = self.store.delete_person(email).await?;
        if removed {
            self.engine.unwatch(vec![email.to_string()]);
            crate::cluster::announce(self, crate::cluster::Changed::People).await;
        }
        Ok(removed)
    }
}

/// People a state filter looks at, at most.
pub const MAX_FILTERED: usize = 10_000;

/// What the store holds about sources and routing, read at start.
#[derive(Debug, Default)]
pub struct Configured {
    pub sources: Vec<SourceConfig>,
    pub routing: RoutingTable,
}

/// One configured source: id, display name and settings.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub id: String,
    pub display_name: String,
    pub settings: CalendarSettings,
}

impl SourceConfig {
    /// A source with default (unconfigured: provider none) settings.
    pub fn unconfigured(id: &str) -> SourceConfig {
        SourceConfig {
            id: id.to_string(),
            display_name: String::new(),
            settings: CalendarSettings::default(),
        }
    }
}

/// The engine's routing for a checked table and the directories' mailbox routes (the table's
/// own mailbox routes win).
pub(crate) fn engine_routing(
    table: &RoutingTable,
    people_routes: &std::collections::BTreeMap<String, String>,
) -> calgate_engine::Routing {
    let mut routing = calgate_engine::Routing::new().with_default(table.default.as_str());
    for (domain, id) in &table.domains {
        routing.set_domain(domain, id.as_str());
    }
    for (mailbox, id) in people_routes {
        routing.assign(mailbox, id.as_str());
    }
    for (mailbox, id) in &table.mailboxes {
        routing.assign(mailbox, id.as_str());
    }
    routing
}

fn to_person(p: WatchedPerson) -> Person {
    let name = (!p.display_name.is_empty() && p.display_name != p.email).then_some(p.display_name);
    Person {
        email: p.email,
        name,
        extension: p.extension,
        origin: Some(p.origin),
    }
}

/// The device-code sign-in in progress or last finished.
#[derive(Debug, Default)]
pub enum DeviceFlow {
    /// None was started.
    #[default]
    None,
    /// Waiting for the admin to enter the code.
    Pending {
        view: DeviceCodeView,
        poller: tokio::task::AbortHandle,
    },
    /// Signed in: the EWS source uses this sign-in.
    Done {
        username: String,
    },
    Expired,
    Declined,
    /// Entra refused (unknown app, public-client flows off…): code and plain reason.
    Failed {
        code: String,
        message: String,
    },
}

/// What the admin is shown to sign in.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceCodeView {
    pub user_code: String,
    pub verification_uri: String,
    pub message: String,
    pub expires_at: Timestamp,
    /// Seconds between polls, as Entra asked.
    pub interval: u64,
}
