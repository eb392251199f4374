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

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::Duration;

use anyhow::Context;
use secrecy::SecretString;
use tokio::sync::mpsc;

use calgate_auth::{AccountKey, GuardState, LockoutGuard, RefreshTokenStore, SystemClock};
use calgate_sources::{DeviceCodeSignIn, SignInContext};
use calgate_store::Store;

/// The key the gateway's whole guard state is stored under.
pub const GUARD_KEY: &str = "calgate-lockout-guard";
/// The key the device-code sign-in is stored under (beside the guard state: small JSON).
pub const DEVICE_SIGN_IN_KEY: &str = "calgate-device-code-sign-in";
/// How long a token operation waits for the writer before giving up (and logging it).
const WAIT: Duration = Duration::from_secs(15);

enum Job {
    Guard(serde_json::Value),
    SaveToken(String, SecretString, SyncSender<bool>),
    LoadToken(String, SyncSender<Option<SecretString>>),
    DiscardToken(String, SyncSender<bool>),
}

/// The queue of the writer thread.
#[derive(Clone)]
pub struct SignInWriter {
    jobs: mpsc::UnboundedSender<Job>,
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
                        run(&store, job).await;
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

async fn run(store: &Store, job: Job) {
    match job {
        Job::Guard(json) => {
            if let Err(e) = store.save_guard_state(GUARD_KEY, &json).await {
                tracing::error!(error = %e, "could not save the lockout guard state");
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

/// The gateway's sign-in context: the guard restored from the store (keyed with the store's
/// fingerprint key) and saved on every change, refresh tokens in the store, and the device-code
/// sign-in if an admin completed one.
pub async fn context(store: &Store) -> anyhow::Result<SignInContext> {
    let mut guard_state = None;
    let mut device = None;
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
    let writer = SignInWriter::start(store.data_dir(), store.database_url().cloned()).await?;
    {
        let writer = writer.clone();
        guard.on_change(move |state| writer.save_guard(state));
    }
    if fresh {
        // The salt names every stored refresh token: it must outlive this process.
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
