//! The sign-in state that must survive a restart, kept in the store: the lockout guard's state
//! (a restart is not a fresh attempt with a failing password), the rotated refresh tokens
//! (sealed) and the admin's device-code sign-in.
//!
//! All writes go through one dedicated thread that owns its own small Tokio runtime and its own
//! handle on the database, and works through its queue in order:
//!
//! - The guard reports every change synchronously ([`LockoutGuard::on_change`]), often while a
//!   request task holds its locks; the listener only queues the new state, so it never waits for
//!   the disk and never blocks the async runtime. The writer stores the states in the order they
//!   came, so the last one written is the newest.
//! - [`RefreshTokenStore`] is a synchronous trait, and a rotated refresh token must be on disk
//!   before the access token that came with it is used (the old refresh token may already be
//!   dead at Entra ID). So `save` queues the write and blocks until the writer confirms it. It
//!   blocks on a thread of its own rather than using `block_in_place`: `block_in_place` panics on
//!   a current-thread runtime (tests, embedded use), and `Handle::block_on` inside a runtime
//!   panics too; waiting on a channel whose other end is served by another runtime is safe on
//!   any runtime. The wait is one SQLite commit (milliseconds); it happens once per token
//!   rotation, never per calendar request.
//!
//! Several gateways on one PostgreSQL database share one guard ([`Sharing`]): the state is one
//! row whose salt the first gateway wrote; each change here rewrites only the credential it
//! concerns and is announced on the guard topic (its fingerprint, never the secret), and the
//! cluster's listener puts the others' changes in place ([`apply_shared`]). The claims on
//! unproven credentials ([`SharedClaims`]) go through the same writer, so a refusal's quarantine
//! is written before anything after it.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::Duration;

use anyhow::Context;
use secrecy::SecretString;
use tokio::sync::mpsc;

use calgate_auth::{
    AccountKey, ClaimAnswer, ClaimFuture, CredentialFingerprint, GuardState, LockoutGuard,
    Quarantine, RefreshTokenStore, SharedClaims, SystemClock,
};
use calgate_sources::{DeviceCodeSignIn, SignInContext};
use calgate_store::{CredentialClaim, Store, Topic};

/// The key the gateway's whole guard state is stored under.
pub const GUARD_KEY: &str = "calgate-lockout-guard";
/// The key the device-code sign-in is stored under (beside the guard state: small JSON).
pub const DEVICE_SIGN_IN_KEY: &str = "calgate-device-code-sign-in";
/// How long a token operation waits for the writer before giving up (and logging it).
const WAIT: Duration = Duration::from_secs(15);
/// How long a claim on an unproven credential lasts: longer than a request may take (60 s),
/// so that no other gateway tries it while the first one's request is out. A gateway that died
/// holding one delays the others this long at most.
const CLAIM: Duration = Duration::from_secs(90);
/// How long the gateway that saw a credential refused keeps its claim: long enough for the
/// quarantine (written before) to reach every gateway, short enough that "Retry now" asked on
/// another gateway is tried there soon (the holder itself may try again at once).
const REFUSED_HOLD: Duration = Duration::from_secs(10);

enum Job {
    Guard(serde_json::Value),
    /// One credential's quarantine (or none) in a guard shared by several gateways.
    GuardEntry(CredentialFingerprint, Option<serde_json::Value>),
    Claim(
        CredentialFingerprint,
        bool,
        tokio::sync::oneshot::Sender<ClaimAnswer>,
    ),
    Proven(CredentialFingerprint),
    Refused(CredentialFingerprint),
    SaveToken(String, SecretString, SyncSender<bool>),
    LoadToken(String, SyncSender<Option<SecretString>>),
    DiscardToken(String, SyncSender<bool>),
}

/// The queue of the writer thread.
#[derive(Clone)]
pub struct SignInWriter {
    jobs: mpsc::UnboundedSender<Job>,
}

/// This process as one of several gateways sharing the guard (PostgreSQL).
#[derive(Debug, Clone)]
pub struct Sharing {
    /// The instance id: the origin of this gateway's notices and the holder of its claims.
    pub instance: String,
}

impl std::fmt::Debug for SignInWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignInWriter { .. }")
    }
}

impl SignInWriter {
    /// Starts the writer thread on the database in `data_dir`, or on `database` when one is
    /// given (already opened and migrated by the gateway's own handle).
    pub async fn start(
        data_dir: &Path,
        database: Option<calgate_store::DatabaseUrl>,
        sharing: Option<Sharing>,
    ) -> anyhow::Result<SignInWriter> {
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<anyhow::Result<()>>();
        let dir = data_dir.to_path_buf();
        std::thread::Builder::new()
            .name("calgate-signin-store".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let store = match Store::open_database(&dir, database.as_ref()).await {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    while let Some(job) = queue.recv().await {
                        run(&store, sharing.as_ref(), job).await;
                    }
                });
            })
            .context("starting the sign-in store thread")?;
        ready_rx
            .await
            .context("the sign-in store thread ended at start")?
            .context("opening the database for sign-in state")?;
        Ok(SignInWriter { jobs })
    }

    /// Queues the change of one credential in a shared guard; returns at once.
    fn save_guard_entry(&self, state: &GuardState, fingerprint: &CredentialFingerprint) {
        let entry = match state.quarantined.get(fingerprint).map(serde_json::to_value) {
            None => None,
            Some(Ok(json)) => Some(json),
            Some(Err(e)) => {
                tracing::error!(error = %e, "lockout guard state not serializable");
                return;
            }
        };
        let _ = self.jobs.send(Job::GuardEntry(fingerprint.clone(), entry));
    }

    /// Queues a guard state; returns at once.
    pub fn save_guard(&self, state: &GuardState) {
        match serde_json::to_value(state) {
            Ok(json) => {
                let _ = self.jobs.send(Job::Guard(json));
            }
            Err(e) => tracing::error!(error = %e, "lockout guard state not serializable"),
        }
    }

    fn ask<T>(&self, make: impl FnOnce(SyncSender<T>) -> Job) -> Option<T> {
        let (tx, rx) = sync_channel(1);
        self.jobs.send(make(tx)).ok()?;
        rx.recv_timeout(WAIT).ok()
    }
}

fn ms_from_now(d: Duration) -> i64 {
    jiff::Timestamp::now().as_millisecond() + i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

async fn run(store: &Store, sharing: Option<&Sharing>, job: Job) {
    match job {
        Job::Guard(json) => {
            if let Err(e) = store.save_guard_state(GUARD_KEY, &json).await {
                tracing::error!(error = %e, "could not save the lockout guard state");
            }
        }
        Job::GuardEntry(fingerprint, entry) => {
            let Some(sharing) = sharing else {
                return;
            };
            match store
                .set_guard_entry(GUARD_KEY, fingerprint.as_str(), entry.as_ref())
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!("the shared lockout guard state is missing; not saved");
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not save the lockout guard state");
                    return;
                }
            }
            let items = [fingerprint.as_str().to_string()];
            if let Err(e) = store.notify(Topic::Guard, &sharing.instance, &items).await {
                tracing::warn!(error = %e, "could not tell the other gateways about a lockout guard change");
            }
        }
        Job::Claim(fingerprint, exclusive, reply) => {
            let answer = match sharing {
                None => ClaimAnswer::Mine,
                Some(sharing) => {
                    let now = jiff::Timestamp::now().as_millisecond();
                    match store
                        .claim_credential(
                            fingerprint.as_str(),
                            &sharing.instance,
                            now,
                            ms_from_now(CLAIM),
                            exclusive,
                        )
                        .await
                    {
                        Ok(CredentialClaim::Mine) => ClaimAnswer::Mine,
                        Ok(CredentialClaim::Proven) => ClaimAnswer::Proven,
                        Ok(CredentialClaim::Held) => ClaimAnswer::Held,
                        // Without the database nobody can tell who tries first: nobody does.
                        Err(e) => {
                            tracing::warn!(error = %e, "could not claim a credential; holding it");
                            ClaimAnswer::Held
                        }
                    }
                }
            };
            let _ = reply.send(answer);
        }
        Job::Proven(fingerprint) => {
            if let Some(sharing) = sharing
                && let Err(e) = store
                    .credential_proven(fingerprint.as_str(), &sharing.instance)
                    .await
            {
                tracing::warn!(error = %e, "could not record a credential as accepted");
            }
        }
        Job::Refused(fingerprint) => {
            if let Some(sharing) = sharing
                && let Err(e) = store
                    .credential_refused(
                        fingerprint.as_str(),
                        &sharing.instance,
                        ms_from_now(REFUSED_HOLD),
                    )
                    .await
            {
                tracing::warn!(error = %e, "could not hold a refused credential's claim");
            }
        }
        Job::SaveToken(key, token, reply) => {
            let ok = match store.save_refresh_token(&key, &token).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(error = %e, "could not save a rotated refresh token");
                    false
                }
            };
            let _ = reply.send(ok);
        }
        Job::LoadToken(key, reply) => {
            let token = store.load_refresh_token(&key).await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "could not read a stored refresh token");
                None
            });
            let _ = reply.send(token);
        }
        Job::DiscardToken(key, reply) => {
            let ok = store.delete_refresh_token(&key).await.is_ok();
            let _ = reply.send(ok);
        }
    }
}

/// Refresh tokens in the store, sealed, keyed by the sign-in's fingerprint.
#[derive(Debug, Clone)]
pub struct StoredRefreshTokens {
    writer: SignInWriter,
}

impl RefreshTokenStore for StoredRefreshTokens {
    fn load(&self, account: &AccountKey) -> Option<SecretString> {
        let key = account.credential.clone();
        self.writer
            .ask(|reply| Job::LoadToken(key, reply))
            .flatten()
    }

    fn save(&self, account: &AccountKey, token: &SecretString) {
        let key = account.credential.clone();
        let token = token.clone();
        if self.writer.ask(|reply| Job::SaveToken(key, token, reply)) != Some(true) {
            tracing::error!(
                username = %account.username,
                "a rotated refresh token was not stored; the next start signs in again"
            );
        }
    }

    fn discard(&self, account: &AccountKey) {
        let key = account.credential.clone();
        let _ = self.writer.ask(|reply| Job::DiscardToken(key, reply));
    }
}

/// The claims of a guard shared by several gateways, made through the writer.
struct WriterClaims {
    writer: SignInWriter,
}

impl SharedClaims for WriterClaims {
    fn claim<'a>(
        &'a self,
        fingerprint: &'a CredentialFingerprint,
        exclusive: bool,
    ) -> ClaimFuture<'a> {
        Box::pin(async move {
            let (tx, rx) = tokio::sync::oneshot::channel();
            if self
                .writer
                .jobs
                .send(Job::Claim(fingerprint.clone(), exclusive, tx))
                .is_err()
            {
                return ClaimAnswer::Held;
            }
            rx.await.unwrap_or(ClaimAnswer::Held)
        })
    }

    fn proven(&self, fingerprint: &CredentialFingerprint) {
        let _ = self.writer.jobs.send(Job::Proven(fingerprint.clone()));
    }

    fn refused(&self, fingerprint: &CredentialFingerprint) {
        let _ = self.writer.jobs.send(Job::Refused(fingerprint.clone()));
    }
}

/// Puts what another gateway changed in the shared guard in place here: the stored quarantine
/// of each of `fingerprints` (or none), or with `None` of every credential either side knows
/// (after the listener missed notices).
pub async fn apply_shared(
    store: &Store,
    guard: &LockoutGuard,
    fingerprints: Option<&[String]>,
) -> anyhow::Result<()> {
    let Some(json) = store.load_guard_state(GUARD_KEY).await? else {
        return Ok(());
    };
    let stored: GuardState = serde_json::from_value(json)?;
    let named: Vec<CredentialFingerprint> = match fingerprints {
        Some(list) => list
            .iter()
            .filter_map(|fp| CredentialFingerprint::parse(fp))
            .collect(),
        None => {
            let mut all = guard.quarantined();
            all.extend(stored.quarantined.keys().cloned());
            all.sort();
            all.dedup();
            all
        }
    };
    for fingerprint in named {
        let quarantine: Option<Quarantine> = stored.quarantined.get(&fingerprint).cloned();
        if quarantine.is_some() != guard.quarantine_of(&fingerprint).is_some() {
            tracing::info!(
                quarantined = quarantine.is_some(),
                "lockout guard changed on another gateway"
            );
        }
        guard.apply_shared(&fingerprint, quarantine);
    }
    Ok(())
}

/// The gateway's sign-in context: the guard restored from the store (keyed with the store's
/// fingerprint key) and saved on every change, refresh tokens in the store, and the device-code
/// sign-in if an admin completed one. With `sharing` (several gateways on PostgreSQL) the guard
/// is shared with the others.
pub async fn context(store: &Store, sharing: Option<Sharing>) -> anyhow::Result<SignInContext> {
    let mut guard_state = None;
    let mut device = None;
    if store.load_guard_state(GUARD_KEY).await?.is_none() {
        // The first start (of the first gateway): the salt names every stored refresh token and
        // every shared fingerprint, so it must outlive this process, and gateways starting
        // together must agree on it — the first one stored wins.
        let fresh = serde_json::to_value(fresh_state())?;
        store
            .insert_guard_state_if_absent(GUARD_KEY, &fresh)
            .await?;
    }
    for (key, json) in store.load_guard_states().await? {
        if key == GUARD_KEY {
            match serde_json::from_value::<GuardState>(json) {
                Ok(state) => guard_state = Some(state),
                // Refusing to start would lock the admin out of fixing it; a fresh guard means
                // at most one attempt per credential, which is what a first start does too.
                Err(e) => tracing::error!(error = %e, "stored lockout guard state unreadable"),
            }
        } else if key == DEVICE_SIGN_IN_KEY {
            device = serde_json::from_value::<DeviceCodeSignIn>(json).ok();
        }
    }
    let fresh = guard_state.is_none();
    let state = guard_state.unwrap_or_else(fresh_state);
    let guard = LockoutGuard::restore_keyed(state, Arc::new(SystemClock), store.fingerprint_key());
    let shared = sharing.is_some();
    let writer =
        SignInWriter::start(store.data_dir(), store.database_url().cloned(), sharing).await?;
    {
        let writer = writer.clone();
        if shared {
            guard.on_change(move |state, changed| writer.save_guard_entry(state, changed));
        } else {
            guard.on_change(move |state, _| writer.save_guard(state));
        }
    }
    if shared {
        guard.share(Arc::new(WriterClaims {
            writer: writer.clone(),
        }));
    }
    if fresh {
        // Stored but unreadable: start afresh over it.
        writer.save_guard(&guard.snapshot());
    }
    let context = SignInContext::with(guard, Arc::new(StoredRefreshTokens { writer }));
    *context
        .device_code
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = device;
    Ok(context)
}

fn fresh_state() -> GuardState {
    GuardState {
        salt: crate::random_hex::<16>(),
        quarantined: Default::default(),
    }
}

/// Persists the device-code sign-in (no secret: its refresh token is stored sealed apart).
pub async fn save_device_sign_in(store: &Store, sign_in: &DeviceCodeSignIn) -> anyhow::Result<()> {
    let json = serde_json::to_value(sign_in)?;
    store.save_guard_state(DEVICE_SIGN_IN_KEY, &json).await?;
    Ok(())
}
