//! Several gateways on one PostgreSQL database (none of this runs on SQLite).
//!
//! Each gateway is an instance with a random id. Its lease loop heartbeats every second,
//! renews its shard leases, claims or gives back shards to its fair share and hands the owned
//! set to the engine, which fetches only those mailboxes. When the database cannot be reached
//! for the lease lifetime, the gateway owns nothing (another takes its shards once the leases
//! expire) and `/readyz` says "database unreachable" until it is back.
//!
//! Its listener hears what the others write: availability they fetched (read back from the
//! database and put on this board, published to this gateway's stream), and configuration
//! changes (sources and routing are applied as a save here applies them, the watch list goes to
//! the engine, a directory change wakes the directory schedule). API tokens and the
//! administrator's password need nothing: they are checked against the database on every
//! request. A lockout guard change (a credential refused, a probe's verdict, "Retry now") is put
//! in place in this gateway's guard at once. After the listener lost its connection,
//! everything is read again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use calgate_core::shard::Shard;
use calgate_settings::DEFAULT_SOURCE_ID;
use calgate_store::{Instance, Notice, StoreError, Topic};
use jiff::Timestamp;

use crate::state::{AppState, SourceConfig, engine_routing};

/// How long a lease lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(6);
/// An instance whose heartbeat is older than this is not counted as live.
pub const LIVE: Duration = Duration::from_secs(5);
/// How often the lease loop runs.
const ROUND: Duration = Duration::from_secs(1);
/// Fetching stops this long before the lease would expire, so a takeover never overlaps.
const MARGIN: Duration = Duration::from_millis(1_500);

/// What part of the configuration changed (the items of a config notice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// Sources and their settings (the settings of `default` included).
    Sources,
    Routing,
    /// The watch list.
    People,
    Directories,
}

impl Changed {
    fn as_str(self) -> &'static str {
        match self {
            Changed::Sources => "sources",
            Changed::Routing => "routing",
            Changed::People => "people",
            Changed::Directories => "directories",
        }
    }
}

/// This gateway as one of several.
#[derive(Debug)]
pub struct Cluster {
    pub id: String,
    /// Where this gateway listens (as the health page shows it), known once it is bound.
    address: Mutex<String>,
    view: Mutex<View>,
    reachable: AtomicBool,
    /// The revision of each source as applied here, so a reload applies only what changed.
    revisions: Mutex<BTreeMap<String, i64>>,
    /// Wakes the directory schedule when another gateway changed the directories.
    pub directories_changed: tokio::sync::Notify,
}

#[derive(Debug, Default, Clone)]
struct View {
    instances: Vec<Instance>,
    owned: BTreeSet<Shard>,
}

impl Default for Cluster {
    fn default() -> Cluster {
        Cluster::new()
    }
}

impl Cluster {
    /// This gateway with a random id (one per process).
    pub fn new() -> Cluster {
        let id = format!("{:016x}", rand::random::<u64>());
        Cluster {
            id,
            address: Mutex::default(),
            view: Mutex::default(),
            reachable: AtomicBool::new(true),
            revisions: Mutex::default(),
            directories_changed: tokio::sync::Notify::new(),
        }
    }

    /// Where this gateway listens.
    pub fn set_address(&self, address: String) {
        *self.address.lock().unwrap_or_else(|e| e.into_inner()) = address;
    }

    fn address(&self) -> String {
        self.address
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether the database answered within the lease lifetime.
    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    /// The live instances as last read.
    pub fn instances(&self) -> Vec<Instance> {
        self.view
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .instances
            .clone()
    }

    /// Whether this gateway holds the lease of `shard` (shard 0's holder runs the schedules
    /// that must run once, such as directory syncs).
    pub fn holds(&self, shard: Shard) -> bool {
        self.view
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .owned
            .contains(&shard)
    }

    /// Records the revision of source `id` applied here.
    pub fn applied(&self, id: &str, revision: i64) {
        self.revisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), revision);
    }

    fn revision(&self, id: &str) -> Option<i64> {
        self.revisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .copied()
    }
}

fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// One lease round: heartbeat, leases, the live instances.
async fn round(
    app: &AppState,
    cluster: &Cluster,
) -> Result<(BTreeSet<Shard>, Vec<Instance>), StoreError> {
    let now = now_ms();
    app.store
        .heartbeat(&cluster.id, &cluster.address(), now)
        .await?;
    let round = app
        .store
        .lease_round(&cluster.id, now, ms(LEASE), now - ms(LIVE))
        .await?;
    let instances = app.store.live_instances(now - ms(LIVE), now).await?;
    Ok((round.owned, instances))
}

/// The lease loop: every second a round; the owned set goes to the engine when it changes.
/// Ends with the gateway.
pub async fn run_leases(app: Arc<AppState>, cluster: Arc<Cluster>) {
    let mut last_ok: Option<Instant> = None;
    let mut handed: Option<BTreeSet<Shard>> = None;
    let mut live_handed = 0usize;
    loop {
        let started = Instant::now();
        let outcome = tokio::time::timeout(LEASE, round(&app, &cluster)).await;
        match outcome {
            Ok(Ok((owned, instances))) => {
                last_ok = Some(started);
                if !cluster.reachable.swap(true, Ordering::Relaxed) {
                    tracing::info!("the database is reachable again");
                }
                let live = instances.len().max(1);
                if live != live_handed {
                    app.engine().set_live_instances(live);
                    live_handed = live;
                }
                if handed.as_ref() != Some(&owned) {
                    tracing::info!(shards = owned.len(), instances = live, "shard leases");
                    app.engine().set_owned_shards(Some(owned.clone()));
                    handed = Some(owned.clone());
                }
                *cluster.view.lock().unwrap_or_else(|e| e.into_inner()) = View { instances, owned };
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "lease round failed"),
            Err(_) => tracing::warn!("lease round timed out"),
        }
        let lapsed = last_ok.is_none_or(|at| at.elapsed() + MARGIN >= LEASE);
        if lapsed && handed.as_ref().is_none_or(|h| !h.is_empty()) {
            tracing::warn!("database unreachable: no live lease, fetching stops");
            app.engine().set_owned_shards(Some(BTreeSet::new()));
            handed = Some(BTreeSet::new());
            cluster.reachable.store(false, Ordering::Relaxed);
            cluster
                .view
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .owned
                .clear();
        }
        tokio::select! {
            () = app.shutdown.cancelled() => return,
            () = tokio::time::sleep(ROUND.saturating_sub(started.elapsed())) => {}
        }
    }
}

/// Tells the other gateways that part of the configuration changed (nothing without a
/// cluster). A failure is logged: the others catch up at their next reconnect or restart.
pub async fn announce(app: &AppState, what: Changed) {
    let Some(cluster) = &app.cluster else {
        return;
    };
    if let Err(e) = app
        .store
        .notify(Topic::Config, &cluster.id, &[what.as_str().to_string()])
        .await
    {
        tracing::warn!(error = %e, "could not tell the other gateways about a change");
    }
}

/// Tells the other gateways whose availability was just written.
pub async fn announce_availability(app: &AppState, mailboxes: Vec<String>) {
    let Some(cluster) = &app.cluster else {
        return;
    };
    if let Err(e) = app
        .store
        .notify(Topic::Availability, &cluster.id, &mailboxes)
        .await
    {
        tracing::warn!(error = %e, "could not tell the other gateways about new availability");
    }
}

/// The item on the notifications topic that says a gateway is about to make subscriptions.
const CREATING: &str = "creating";

/// Lets this gateway's keepers tell the others when they make subscriptions, so that Graph's
/// validation request is answered whichever gateway it reaches.
pub fn announce_creating_through(app: &Arc<AppState>) {
    let weak = Arc::downgrade(app);
    app.engine().notifications().on_creating(Box::new(move || {
        let Some(app) = weak.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            let Some(cluster) = &app.cluster else {
                return;
            };
            if let Err(e) = app
                .store
                .notify(Topic::Notifications, &cluster.id, &[CREATING.to_string()])
                .await
            {
                tracing::warn!(error = %e, "could not tell the other gateways about new subscriptions");
            }
        });
    }));
}

/// Passes Graph notifications of subscriptions this gateway does not hold to the others (only
/// their ids and a digest of their `clientState` travel).
pub async fn forward_notifications(app: &AppState, items: &[calgate_engine::Forwarded]) {
    let Some(cluster) = &app.cluster else {
        return;
    };
    let lines: Vec<String> = items
        .iter()
        .map(calgate_engine::Forwarded::to_line)
        .collect();
    if let Err(e) = app
        .store
        .notify(Topic::Notifications, &cluster.id, &lines)
        .await
    {
        tracing::warn!(error = %e, "could not pass Graph notifications to the other gateways");
    }
}

/// Hears the other gateways until this one stops.
pub async fn run_listener(
    app: Arc<AppState>,
    cluster: Arc<Cluster>,
    mut listener: calgate_store::Listener,
) {
    loop {
        let notice = tokio::select! {
            () = app.shutdown.cancelled() => return,
            notice = listener.next() => notice,
        };
        match notice {
            Notice::Heard { origin, .. } if origin == cluster.id => {}
            Notice::Heard {
                topic: Topic::Availability,
                items,
                ..
            } => take_availability(&app, &items).await,
            Notice::Heard {
                topic: Topic::Config,
                items,
                ..
            } => {
                for item in items {
                    reload(&app, &cluster, &item).await;
                }
            }
            Notice::Heard {
                topic: Topic::Guard,
                items,
                ..
            } => take_guard(&app, Some(&items)).await,
            Notice::Heard {
                topic: Topic::Notifications,
                items,
                ..
            } => {
                let desk = app.engine().notifications();
                if items.iter().any(|l| l == CREATING) {
                    desk.peer_creating();
                }
                let forwarded = items
                    .iter()
                    .filter_map(|l| calgate_engine::Forwarded::from_line(l))
                    .collect();
                desk.receive_forwarded(forwarded, jiff::Timestamp::now());
            }
            Notice::Missed => {
                tracing::info!("the database listener reconnected; reading everything again");
                take_guard(&app, None).await;
                for what in ["sources", "routing", "people", "directories"] {
                    reload(&app, &cluster, what).await;
                }
                take_all_availability(&app).await;
            }
        }
    }
}

/// Puts what another gateway's lockout guard decided in place here (a credential it saw
/// refused is quarantined here too), for the credentials named, or all after missed notices.
async fn take_guard(app: &AppState, fingerprints: Option<&[String]>) {
    let guard = app.sign_in.guard.clone();
    if let Err(e) = crate::signin_store::apply_shared(&app.store, &guard, fingerprints).await {
        tracing::warn!(error = %e, "could not read another gateway's lockout guard change");
    }
}

/// Puts availability another gateway wrote on this board.
async fn take_availability(app: &AppState, mailboxes: &[String]) {
    match app.store.load_availability_of(mailboxes).await {
        Ok(found) => {
            let now = Timestamp::now();
            let board = app.engine().board();
            for availability in found {
                board.share(availability, now);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not read another gateway's availability"),
    }
}

async fn take_all_availability(app: &AppState) {
    let mut after = String::new();
    loop {
        let page = match app.store.load_availability_page(&after, 2_000).await {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the shared availability");
                return;
            }
        };
        let Some(last) = page.last() else {
            return;
        };
        after.clone_from(&last.mailbox);
        let now = Timestamp::now();
        for availability in page {
            app.engine().board().share(availability, now);
        }
    }
}

/// Applies what another gateway changed, as a save here would have.
async fn reload(app: &AppState, cluster: &Cluster, what: &str) {
    let result = match what {
        "sources" | "routing" => reload_sources(app, cluster).await,
        "people" => reload_people(app).await,
        "directories" => {
            cluster.directories_changed.notify_one();
            Ok(())
        }
        _ => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, what, "could not apply another gateway's change");
    }
}

async fn reload_sources(app: &AppState, cluster: &Cluster) -> Result<(), StoreError> {
    let _guard = app.config_lock.lock().await;
    let stored = app.store.load_sources().await?;
    let ids: BTreeSet<String> = stored.iter().map(|s| s.id.clone()).collect();
    for source in stored {
        if cluster.revision(&source.id) == Some(source.revision) {
            continue;
        }
        tracing::info!(source = %source.id, revision = source.revision, "calendar source changed on another gateway");
        cluster.applied(&source.id, source.revision);
        app.sources_mut().insert(
            source.id.clone(),
            SourceConfig {
                id: source.id.clone(),
                display_name: source.display_name,
                settings: source.settings.clone(),
            },
        );
        app.apply_source(&source.id, &source.settings);
    }
    let gone: Vec<String> = app
        .sources()
        .into_iter()
        .map(|s| s.id)
        .filter(|id| !ids.contains(id))
        .collect();
    for id in gone {
        let was_saved = cluster
            .revisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)
            .is_some();
        if id == DEFAULT_SOURCE_ID {
            // The source `default` always exists; deleted, it is unconfigured again.
            if was_saved {
                let unconfigured = SourceConfig::unconfigured(&id);
                app.apply_source(&id, &unconfigured.settings);
                app.sources_mut().insert(id, unconfigured);
            }
        } else {
            app.sources_mut().remove(&id);
            app.engine()
                .remove_source(&calgate_engine::SourceId::new(&id));
        }
    }
    let routing = app.store.load_routing().await?.unwrap_or_default();
    if routing != app.routing() {
        *app.routing.write().unwrap_or_else(|e| e.into_inner()) = routing.clone();
        app.engine()
            .set_routing(engine_routing(&routing, &app.people_routes()));
    }
    Ok(())
}

async fn reload_people(app: &AppState) -> Result<(), StoreError> {
    let people = app.store.list_people().await?;
    let routes: BTreeMap<String, String> = people
        .iter()
        .filter_map(|p| p.route.clone().map(|r| (p.email.clone(), r)))
        .collect();
    if routes != app.people_routes() {
        *app.people_routes.write().unwrap_or_else(|e| e.into_inner()) = routes;
        app.engine()
            .set_routing(engine_routing(&app.routing(), &app.people_routes()));
    }
    app.engine()
        .set_watch_list(people.into_iter().map(|p| p.email).collect());
    Ok(())
}
