//! Directory syncs: the domain operations the API, the pages and the scheduler share.
//!
//! A sync reads the directory (through calgate-directory's readers), plans against the
//! directory's own people (calgate-directory's plan), writes the plan in one store transaction,
//! then tells the engine whom to start and stop watching and where their mailboxes are read.
//! One sync per directory runs at a time. The bind password of an LDAP directory is guarded by
//! the same lockout guard as the calendar sources' credentials: a refused password is one failed
//! bind, then only the guard's probes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use calgate_core::Code;
use calgate_directory::{Current, Entry, Plan, Read, ReadError, Rules, Synced};
use calgate_settings::{DirectoryConfig, DirectoryKind};
use calgate_store::{StoreError, StoredDirectory, WatchedPerson};

use crate::state::AppState;

/// Warnings kept in a sync's outcome at most.
const MAX_WARNINGS: usize = 100;
/// Held removals listed in an outcome at most (the count is always there).
const MAX_LISTED: usize = 50;

/// What starts a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Admin,
    Schedule,
}

/// How a sync runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncMode {
    /// Answer what would change, change nothing.
    pub dry_run: bool,
    /// Remove even more than the directory's share (an administrator confirmed).
    pub confirm_removals: bool,
}

/// Why a sync did not run.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no directory has the id {0}")]
    NotFound(String),
    #[error("a sync of directory {0} is running; try again when it ends")]
    Running(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One lock per directory: one sync of a directory at a time.
#[derive(Debug, Default)]
pub struct DirectorySyncs {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl DirectorySyncs {
    fn lock_of(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    /// Whether directory `id` is syncing now.
    pub fn is_running(&self, id: &str) -> bool {
        self.lock_of(id).try_lock().is_err()
    }
}

/// A sync's outcome, as the API answers it and the store keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub at: Timestamp,
    pub trigger: Trigger,
    pub dry_run: bool,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
    /// Removals waiting for an administrator (their count).
    pub held: usize,
    pub warnings: Vec<OutcomeWarning>,
    /// Why the read failed (nothing was changed), when it did.
    pub error: Option<OutcomeWarning>,
    /// The read continued from a delta (only changes were read).
    pub delta_read: bool,
    pub duration_ms: u64,
    /// A dry run's or held sync's changes, for the preview (the first ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<Preview>,
}

/// A code and its words.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutcomeWarning {
    pub code: String,
    pub message: String,
}

/// The first changes of a plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Preview {
    pub add: Vec<PreviewPerson>,
    pub update: Vec<PreviewUpdate>,
    pub remove: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreviewPerson {
    pub email: String,
    pub name: String,
    pub extension: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreviewUpdate {
    #[serde(flatten)]
    pub person: PreviewPerson,
    pub fields: Vec<String>,
}

impl Outcome {
    /// The outcome's status in a word: `ok`, `held`, `failed`.
    pub fn status(&self) -> &'static str {
        if self.error.is_some() {
            "failed"
        } else if self.held > 0 {
            "held"
        } else {
            "ok"
        }
    }

    /// An outcome as [`Outcome::to_json`] wrote it (the store keeps it so); `None` for anything
    /// else.
    pub fn from_json(v: &Value) -> Option<Outcome> {
        serde_json::from_value(v.clone()).ok()
    }

    /// The answer of `POST …/sync`: counts, status and warnings.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut v {
            map.insert("status".into(), json!(self.status()));
        }
        v
    }
}

fn preview_person(e: &Entry) -> PreviewPerson {
    PreviewPerson {
        email: e.email.clone(),
        name: e.name.clone(),
        extension: e.extension.clone(),
        source: e.source.clone(),
    }
}

fn warning(code: Code, message: impl Into<String>) -> OutcomeWarning {
    OutcomeWarning {
        code: code.to_string(),
        message: message.into(),
    }
}

impl AppState {
    /// Runs a sync of directory `id` now.
    pub async fn sync_directory(
        &self,
        id: &str,
        mode: SyncMode,
        trigger: Trigger,
    ) -> Result<Outcome, SyncError> {
        // An administrator's sync waits for a running one; the scheduler skips instead.
        let lock = self.directories.lock_of(id);
        let _running = match trigger {
            Trigger::Admin => lock.lock().await,
            Trigger::Schedule => match lock.try_lock() {
                Ok(held) => held,
                Err(_) => return Err(SyncError::Running(id.to_string())),
            },
        };
        let Some(stored) = self.store.load_directory(id).await? else {
            return Err(SyncError::NotFound(id.to_string()));
        };
        let started = std::time::Instant::now();
        let at = Timestamp::now();
        let read = self.read_directory(&stored, None).await;
        let mut outcome = Outcome {
            at,
            trigger,
            dry_run: mode.dry_run,
            added: 0,
            updated: 0,
            removed: 0,
            unchanged: 0,
            held: 0,
            warnings: Vec::new(),
            error: None,
            delta_read: false,
            duration_ms: 0,
            preview: None,
        };
        let read = match read {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(directory = %id, code = %e.code, message = %e.message, "directory sync failed");
                outcome.error = Some(warning(e.code, e.message));
                outcome.duration_ms = elapsed_ms(started);
                if !mode.dry_run {
                    self.metrics.record_directory_sync(id, &outcome);
                    self.store
                        .save_directory_state(id, None, &outcome.to_json())
                        .await?;
                }
                return Ok(outcome);
            }
        };
        outcome.delta_read = matches!(read.listing, calgate_directory::Listing::Changes { .. });
        let plan = self.plan_directory(id, &stored.config, &read, mode).await?;
        outcome.added = plan.add.len();
        outcome.updated = plan.update.len();
        outcome.removed = plan.remove.len();
        outcome.unchanged = plan.unchanged;
        outcome.held = plan.held_removals.len();
        outcome.warnings = cap_warnings(&plan);
        if mode.dry_run || plan.held() {
            outcome.preview = Some(Preview {
                add: plan
                    .add
                    .iter()
                    .take(MAX_LISTED)
                    .map(preview_person)
                    .collect(),
                update: plan
                    .update
                    .iter()
                    .take(MAX_LISTED)
                    .map(|u| PreviewUpdate {
                        person: preview_person(&u.entry),
                        fields: u.fields.iter().map(|f| (*f).to_string()).collect(),
                    })
                    .collect(),
                remove: plan
                    .remove
                    .iter()
                    .chain(&plan.held_removals)
                    .take(MAX_LISTED)
                    .cloned()
                    .collect(),
            });
        }
        if mode.dry_run {
            outcome.duration_ms = elapsed_ms(started);
            return Ok(outcome);
        }
        self.apply_plan(id, &plan).await?;
        outcome.duration_ms = elapsed_ms(started);
        self.metrics.record_directory_sync(id, &outcome);
        // A held sync reads the same changes again next time (its delta is not advanced).
        let next_delta = if plan.held() {
            None
        } else {
            Some(read.delta.as_deref())
        };
        self.store
            .save_directory_state(id, next_delta, &outcome.to_json())
            .await?;
        tracing::info!(
            directory = %id,
            added = outcome.added,
            updated = outcome.updated,
            removed = outcome.removed,
            held = outcome.held,
            from_delta = outcome.delta_read,
            "directory synced"
        );
        Ok(outcome)
    }

    /// The first `limit` people the directory lists, mapped, without changing anything (the
    /// pages' "test query").
    pub async fn test_directory(&self, id: &str, limit: usize) -> Result<Read, SyncError> {
        let Some(mut stored) = self.store.load_directory(id).await? else {
            return Err(SyncError::NotFound(id.to_string()));
        };
        stored.delta = None;
        Ok(self
            .read_directory(&stored, Some(limit))
            .await
            .unwrap_or_else(|e| Read {
                listing: calgate_directory::Listing::Full(Vec::new()),
                warnings: vec![calgate_directory::Warning {
                    code: e.code,
                    message: e.message,
                }],
                delta: None,
            }))
    }

    async fn plan_directory(
        &self,
        id: &str,
        config: &DirectoryConfig,
        read: &Read,
        mode: SyncMode,
    ) -> Result<Plan, StoreError> {
        let own: Vec<Synced> = self
            .store
            .people_of_origin(id)
            .await?
            .into_iter()
            .map(|p| Synced {
                name: p.display_name,
                email: p.email,
                extension: p.extension,
                source: p.route,
                id: p.origin_id,
            })
            .collect();
        let others = self.store.emails_not_of_origin(id).await?;
        let sources: Vec<String> = self.sources().into_iter().map(|s| s.id).collect();
        Ok(calgate_directory::plan(
            read,
            &Current {
                own: &own,
                others: &others,
                sources: &sources,
            },
            Rules {
                max_removal_share: config.max_removal_share,
                confirm_removals: mode.confirm_removals,
            },
        ))
    }

    async fn apply_plan(&self, id: &str, plan: &Plan) -> Result<(), StoreError> {
        let rows: Vec<WatchedPerson> = plan
            .add
            .iter()
            .chain(plan.update.iter().map(|u| &u.entry))
            .map(|e| WatchedPerson {
                email: e.email.clone(),
                display_name: e.name.clone(),
                extension: e.extension.clone(),
                origin: id.to_string(),
                origin_id: (!e.id.is_empty()).then(|| e.id.clone()),
                route: e.source.clone(),
            })
            .collect();
        if rows.is_empty() && plan.remove.is_empty() {
            return Ok(());
        }
        self.store
            .apply_directory_sync(id, &rows, &plan.remove)
            .await?;
        let routes: Vec<(String, Option<String>)> = rows
            .iter()
            .map(|p| (p.email.clone(), p.route.clone()))
            .chain(plan.remove.iter().map(|e| (e.clone(), None)))
            .collect();
        self.set_people_routes(routes);
        let added: Vec<String> = plan.add.iter().map(|e| e.email.clone()).collect();
        if !added.is_empty() {
            self.engine().watch(added);
        }
        if !plan.remove.is_empty() {
            self.engine().unwatch(plan.remove.clone());
        }
        crate::cluster::announce(self, crate::cluster::Changed::People).await;
        Ok(())
    }

    /// Reads the directory: LDAP under the lockout guard, Graph with its source's credentials.
    async fn read_directory(
        &self,
        stored: &StoredDirectory,
        limit: Option<usize>,
    ) -> Result<Read, ReadError> {
        match stored.config.kind {
            DirectoryKind::Ldap => self.read_ldap(stored, limit).await,
            DirectoryKind::Graph => self.read_graph(stored, limit).await,
        }
    }

    async fn read_ldap(
        &self,
        stored: &StoredDirectory,
        limit: Option<usize>,
    ) -> Result<Read, ReadError> {
        let guard = &self.sign_in.guard;
        let config = &stored.config;
        let fingerprint = stored.bind_password.as_ref().map(|pw| {
            guard.fingerprint(
                "ldap-bind",
                &[
                    config.url.as_deref().unwrap_or("").as_bytes(),
                    config.bind_dn.as_deref().unwrap_or("").as_bytes(),
                    pw.expose_secret().as_bytes(),
                ],
            )
        });
        let attempt = match &fingerprint {
            Some(fp) => match guard.admit(fp, &format!("directory {}", stored.id)) {
                Ok(attempt) => Some(attempt),
                Err(held) => {
                    return Err(ReadError::new(
                        Code::DirectoryBindHeld,
                        format!(
                            "the bind password was refused before; the lockout guard holds \
                             further binds ({}). Save the right password or retry the sync",
                            held.reason()
                        ),
                    ));
                }
            },
            None => None,
        };
        let result =
            crate::directories::ldap_read(config, stored.bind_password.as_ref(), limit).await;
        if let Some(attempt) = attempt {
            match &result {
                Err(e) if e.code == Code::DirectoryBindRefused => attempt.failed(
                    calgate_auth::SignInFailure::refused_by_resource(Code::DirectoryBindRefused),
                ),
                // Connection faults say nothing about the password.
                Err(e)
                    if matches!(
                        e.code,
                        Code::DirectoryConnect
                            | Code::DirectoryTls
                            | Code::DirectoryTimeout
                            | Code::DirectoryInsecureRefused
                    ) => {}
                _ => attempt.succeeded(),
            }
        }
        result
    }

    async fn read_graph(
        &self,
        stored: &StoredDirectory,
        limit: Option<usize>,
    ) -> Result<Read, ReadError> {
        let source_id = stored.config.source.clone().unwrap_or_default();
        let Some(source) = self.source(&source_id) else {
            return Err(ReadError::new(
                Code::DirectoryGraphSourceMissing,
                format!("no source has the id {source_id:?}"),
            ));
        };
        crate::directories::graph_read(
            self,
            &stored.config,
            &source,
            stored.delta.as_deref(),
            limit,
        )
        .await
    }

    /// Directories whose scheduled sync is due at `now`: the last sync (or, before the first,
    /// the last save) is older than the interval, plus a spread of up to a tenth of it by id so
    /// directories saved together do not sync together. A new directory is not synced on its
    /// own at once: the administrator previews it and syncs it the first time.
    pub async fn due_directories(&self, now: Timestamp) -> Result<Vec<String>, StoreError> {
        let mut due = Vec::new();
        for d in self.store.load_directories().await? {
            if self.directories.is_running(&d.id) {
                continue;
            }
            let last = d
                .outcome
                .as_ref()
                .and_then(|o| o.get("at"))
                .and_then(|a| a.as_str())
                .and_then(|a| a.parse::<Timestamp>().ok())
                .unwrap_or(d.updated_at)
                .max(d.updated_at);
            let interval = i64::from(d.config.sync_interval_s);
            let spread = spread_of(&d.id, interval / 10);
            if last + SignedDuration::from_secs(interval + spread) <= now {
                due.push(d.id);
            }
        }
        Ok(due)
    }
}

/// A stable share of `max` seconds for `id`.
fn spread_of(id: &str, max: i64) -> i64 {
    if max <= 0 {
        return 0;
    }
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    i64::try_from(h % u64::try_from(max).unwrap_or(1)).unwrap_or(0)
}

fn elapsed_ms(started: std::time::Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn cap_warnings(plan: &Plan) -> Vec<OutcomeWarning> {
    let mut out: Vec<OutcomeWarning> = plan
        .warnings
        .iter()
        .take(MAX_WARNINGS)
        .map(|w| warning(w.code, w.message.clone()))
        .collect();
    if plan.warnings.len() > MAX_WARNINGS {
        out.push(warning(
            Code::DirectoryEntrySkipped,
            format!("and {} more", plan.warnings.len() - MAX_WARNINGS),
        ));
    }
    out
}

/// The scheduler: every half minute, syncs the directories that are due, one at a time.
pub async fn run_scheduler(app: std::sync::Arc<AppState>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let never = tokio::sync::Notify::new();
    let changed = app
        .cluster
        .as_ref()
        .map_or(&never, |c| &c.directories_changed);
    loop {
        tokio::select! {
            () = app.shutdown.cancelled() => return,
            _ = tick.tick() => {}
            () = changed.notified() => {}
        }
        // Several gateways on one database: the holder of shard 0 runs the schedule, once.
        if app.cluster.as_ref().is_some_and(|c| !c.holds(0)) {
            continue;
        }
        let due = match app.due_directories(Timestamp::now()).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "directory schedule not read");
                continue;
            }
        };
        for id in due {
            if app.shutdown.is_cancelled() {
                return;
            }
            if let Err(e) = app
                .sync_directory(&id, SyncMode::default(), Trigger::Schedule)
                .await
            {
                tracing::warn!(directory = %id, error = %e, "scheduled directory sync not run");
            }
        }
    }
}

/// Every directory as listed: configuration (the bind password as a flag), last outcome,
/// whether a sync runs now.
pub fn directory_view(app: &AppState, d: &StoredDirectory) -> Value {
    let mut config = serde_json::to_value(&d.config).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut config {
        map.insert("id".into(), json!(d.id));
        map.insert("bind_password_set".into(), json!(d.bind_password_set));
        map.insert("attributes".into(), json!(d.config.attributes()));
        map.insert("last_sync".into(), d.outcome.clone().unwrap_or(Value::Null));
        map.insert("syncing".into(), json!(app.directories.is_running(&d.id)));
        map.insert("delta_saved".into(), json!(d.delta.is_some()));
    }
    config
}

/// The known Graph sources (a Graph directory borrows one's credentials).
pub fn graph_sources(app: &AppState) -> Vec<String> {
    app.sources()
        .into_iter()
        .filter(|s| s.settings.provider == calgate_settings::Provider::Microsoft365)
        .map(|s| s.id)
        .collect()
}

/// The people a read lists, by address, each address once (the test query's answer).
pub fn people_of(read: &Read) -> Vec<Entry> {
    let entries = match &read.listing {
        calgate_directory::Listing::Full(e) => e,
        calgate_directory::Listing::Changes { changed, .. } => changed,
    };
    let mut people = entries.clone();
    people.sort_by(|a, b| a.email.cmp(&b.email));
    people.dedup_by(|a, b| a.email == b.email);
    people
}

/// Reads an LDAP directory (the reader lives in calgate-directory).
async fn ldap_read(
    config: &DirectoryConfig,
    password: Option<&secrecy::SecretString>,
    limit: Option<usize>,
) -> Result<Read, ReadError> {
    let options = calgate_directory::ldap::ReadOptions {
        limit,
        ..calgate_directory::ldap::ReadOptions::default()
    };
    calgate_directory::ldap::read(config, password, options).await
}

/// Reads a Graph directory with the credentials of `source` (its sign-in, under the same
/// lockout guard; the secret is not copied).
async fn graph_read(
    app: &AppState,
    config: &DirectoryConfig,
    source: &crate::state::SourceConfig,
    delta: Option<&str>,
    limit: Option<usize>,
) -> Result<Read, ReadError> {
    let directory = calgate_directory::graph::GraphDirectory::build(
        config,
        Some(&source.settings),
        &app.sign_in,
    )?;
    match limit {
        Some(n) => directory.read_first(n).await,
        None => directory.read(delta).await,
    }
}
