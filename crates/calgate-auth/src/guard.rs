//! The lockout guard (SPEC §6): a credential that was refused once is not used again on its own.
//!
//! Every sign-in attempt asks the guard first. After a credential failure the secret is
//! quarantined, keyed by a keyed hash (never the secret itself): callers get
//! [`AuthFailed`] at once, without touching the network, and the only automatic attempts left are
//! single probes 30 min, 2 h and then every 8 h after the last failure, at most three in any 24 h.
//! A new secret has a new fingerprint and is tried at once; "retry now" allows exactly one attempt.
//!
//! The guard's [`GuardState`] is plain serde data so the store can persist it and a restart keeps
//! the quarantine (a probe that was in flight at the crash is simply not remembered as running).
//!
//! Several gateways on one database share one guard: each change is reported with the
//! credential it concerns so it can be written and announced ([`LockoutGuard::on_change`]), the
//! others put it in place with [`LockoutGuard::apply_shared`], and [`SharedClaims`] lets only one
//! gateway at a time try a credential no server has accepted yet (or whose probe is due).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::failure::{LIKELY_CAUSES, SignInFailure};

/// Delays before each automatic probe: after the failure, after the first failed probe, then after
/// every further failed probe.
pub const PROBE_DELAYS: [SignedDuration; 3] = [
    SignedDuration::from_mins(30),
    SignedDuration::from_hours(2),
    SignedDuration::from_hours(8),
];

/// At most this many automatic probes in any 24 hours.
pub const MAX_AUTOMATIC_ATTEMPTS_PER_DAY: usize = 3;

const DAY: SignedDuration = SignedDuration::from_hours(24);

/// A salted hash that names a secret without revealing it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CredentialFingerprint(String);

impl CredentialFingerprint {
    /// The hex form, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fingerprint read back in its hex form (from the store or another gateway's notice):
    /// 64 lower-case hex digits, or nothing.
    pub fn parse(hex: &str) -> Option<Self> {
        (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(hex.to_string()))
    }
}

impl fmt::Debug for CredentialFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix is enough to tell two apart in a log; the full hash stays out of it.
        write!(
            f,
            "CredentialFingerprint({}…)",
            self.0.get(..12).unwrap_or(&self.0)
        )
    }
}

/// One quarantined credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quarantine {
    /// What the credential is, for the admin (never the secret): "password of svc@contoso.com".
    pub label: String,
    /// When the first failure happened.
    pub since: Timestamp,
    /// The latest failure.
    pub last_failure: SignInFailure,
    /// Probes that failed since the quarantine began.
    pub failed_probes: u32,
    /// The earliest instant of the next automatic probe.
    pub next_probe_at: Timestamp,
    /// Automatic probes made in the last 24 hours (for the daily cap).
    pub automatic_attempts: Vec<Timestamp>,
    /// An admin asked for one immediate attempt.
    pub retry_now: bool,
}

/// Everything the guard knows; persist it with `serde` and hand it back to [`LockoutGuard::restore`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardState {
    /// Hex salt of the fingerprints.
    pub salt: String,
    /// Quarantined credentials by fingerprint.
    pub quarantined: BTreeMap<CredentialFingerprint, Quarantine>,
}

impl GuardState {
    fn fresh() -> Self {
        Self {
            salt: uuid::Uuid::new_v4().simple().to_string(),
            quarantined: BTreeMap::new(),
        }
    }
}

/// The error every user of a quarantined credential gets: the source is `auth_failed`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} (sign-in stopped; next automatic attempt not before {next_probe_at})", last_failure.code)]
pub struct AuthFailed {
    /// What the credential is.
    pub label: String,
    /// The failure that caused (or last confirmed) the quarantine.
    pub last_failure: Box<SignInFailure>,
    /// When the quarantine began.
    pub since: Timestamp,
    /// The earliest instant of the next automatic probe.
    pub next_probe_at: Timestamp,
}

impl AuthFailed {
    /// Stable code, the same in the API, the portal, the log and the metric label.
    pub fn code(&self) -> &str {
        &self.last_failure.code
    }

    /// Plain-language reason and fix.
    pub fn reason(&self) -> String {
        self.last_failure.admin_message()
    }

    /// The seed's three likely causes of a locked account.
    pub fn likely_causes(&self) -> &'static [&'static str; 3] {
        &LIKELY_CAUSES
    }
}

/// How an attempt was admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    /// The credential is not quarantined.
    Normal,
    /// The scheduled automatic probe of a quarantined credential.
    Probe,
    /// The one attempt an admin asked for.
    RetryNow,
}

type ChangeListener = Arc<dyn Fn(&GuardState, &CredentialFingerprint) + Send + Sync>;

/// How a claim on a credential was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimAnswer {
    /// This gateway may try it now; the others wait.
    Mine,
    /// A server accepted it already: everyone may use it.
    Proven,
    /// Another gateway is trying it.
    Held,
}

/// What [`SharedClaims::claim`] answers.
pub type ClaimFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = ClaimAnswer> + Send + 'a>>;

/// The claims several gateways sharing one guard make before trying a credential that is not
/// proven (never accepted yet, or quarantined with its probe due): only one at a time may try.
/// Everything is named by fingerprint, never by the secret.
pub trait SharedClaims: Send + Sync {
    /// Asks to be the one that tries `fingerprint` now. `exclusive` (a probe of a quarantined
    /// credential) claims it even when it was proven before.
    fn claim<'a>(
        &'a self,
        fingerprint: &'a CredentialFingerprint,
        exclusive: bool,
    ) -> ClaimFuture<'a>;
    /// A server accepted the credential: everyone may use it. Returns at once.
    fn proven(&self, fingerprint: &CredentialFingerprint);
    /// A server refused it: keep the claim a while longer, so that nobody tries it before the
    /// quarantine has reached every gateway. Returns at once.
    fn refused(&self, fingerprint: &CredentialFingerprint);
}

/// How long [`LockoutGuard::take_turn`] waits for another gateway's verdict before answering
/// "held", and how often it looks.
const TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
const TURN_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// A turn to use an unproven credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// This caller tries it (the only one among the gateways sharing the guard).
    First,
    /// A server accepted it already (on another gateway): use it freely.
    Proven,
}

/// Another gateway is still trying the credential; nothing was sent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("another gateway is trying this credential first")]
pub struct Held;

/// See the module documentation.
pub struct LockoutGuard {
    clock: Arc<dyn Clock>,
    state: Mutex<GuardState>,
    /// Secret key of the fingerprints, kept apart from the persisted state (see `restore_keyed`).
    fingerprint_key: Option<secrecy::SecretSlice<u8>>,
    /// Probes or manual retries running now; others are refused meanwhile. Not persisted.
    running: Mutex<HashSet<CredentialFingerprint>>,
    listener: Mutex<Option<ChangeListener>>,
    /// Set when several gateways share this guard.
    claims: Mutex<Option<Arc<dyn SharedClaims>>>,
}

impl fmt::Debug for LockoutGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockoutGuard")
            .field("quarantined", &lock(&self.state).quarantined.len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LockoutGuard {
    /// A guard with nothing quarantined and a new salt.
    pub fn new(clock: Arc<dyn Clock>) -> Arc<Self> {
        Self::restore(GuardState::fresh(), clock)
    }

    /// A guard resuming persisted state.
    pub fn restore(state: GuardState, clock: Arc<dyn Clock>) -> Arc<Self> {
        Self::build(state, clock, None)
    }

    /// A guard resuming persisted state whose fingerprints are also keyed by `key`, a secret the
    /// store keeps beside its encryption key. A fast hash of a password with only a stored salt
    /// could be used to test password guesses offline by whoever reads the persisted state; with
    /// the key it cannot.
    pub fn restore_keyed(
        state: GuardState,
        clock: Arc<dyn Clock>,
        key: secrecy::SecretSlice<u8>,
    ) -> Arc<Self> {
        Self::build(state, clock, Some(key))
    }

    fn build(
        state: GuardState,
        clock: Arc<dyn Clock>,
        fingerprint_key: Option<secrecy::SecretSlice<u8>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            clock,
            state: Mutex::new(state),
            fingerprint_key,
            running: Mutex::new(HashSet::new()),
            listener: Mutex::new(None),
            claims: Mutex::new(None),
        })
    }

    /// Calls `listener` with the new state and the credential that changed after every change
    /// made here, so the store can persist it (and tell other gateways). Changes put in place by
    /// [`apply_shared`](Self::apply_shared) are not reported.
    pub fn on_change(
        &self,
        listener: impl Fn(&GuardState, &CredentialFingerprint) + Send + Sync + 'static,
    ) {
        *lock(&self.listener) = Some(Arc::new(listener));
    }

    /// Shares this guard with other gateways: unproven credentials are claimed through
    /// `claims` before they are tried.
    pub fn share(&self, claims: Arc<dyn SharedClaims>) {
        *lock(&self.claims) = Some(claims);
    }

    fn claims(&self) -> Option<Arc<dyn SharedClaims>> {
        lock(&self.claims).clone()
    }

    /// Puts another gateway's verdict on a credential in place: its quarantine, or none. Not
    /// reported to the change listener (it was written by the gateway that made it).
    pub fn apply_shared(
        &self,
        fingerprint: &CredentialFingerprint,
        quarantine: Option<Quarantine>,
    ) {
        let mut state = lock(&self.state);
        match quarantine {
            Some(q) => state.quarantined.insert(fingerprint.clone(), q),
            None => state.quarantined.remove(fingerprint),
        };
    }

    /// The fingerprints quarantined here.
    pub fn quarantined(&self) -> Vec<CredentialFingerprint> {
        lock(&self.state).quarantined.keys().cloned().collect()
    }

    /// Before a credential that is not proven is tried: when the guard is shared, claims it so
    /// that only one gateway tries it. While another holds the claim this waits (a few seconds
    /// at most) for its verdict: proven (go), refused (the quarantine arrives: [`AuthFailed`]),
    /// or still trying ([`Held`]; nothing may be sent). Unshared, the caller goes first.
    pub async fn take_turn(
        &self,
        fingerprint: &CredentialFingerprint,
    ) -> Result<Turn, TurnRefused> {
        let Some(claims) = self.claims() else {
            return Ok(Turn::First);
        };
        let deadline = std::time::Instant::now() + TURN_WAIT;
        loop {
            let exclusive = self.quarantine_of(fingerprint).is_some();
            if exclusive && !self.attempt_due(fingerprint) {
                self.check(fingerprint).map_err(TurnRefused::Quarantined)?;
            }
            // A database that does not answer gives no turn (and does not keep the caller).
            let answer = tokio::time::timeout(TURN_WAIT, claims.claim(fingerprint, exclusive))
                .await
                .unwrap_or(ClaimAnswer::Held);
            match answer {
                ClaimAnswer::Mine => return Ok(Turn::First),
                ClaimAnswer::Proven => return Ok(Turn::Proven),
                ClaimAnswer::Held if std::time::Instant::now() >= deadline => {
                    return Err(TurnRefused::Held(Held));
                }
                ClaimAnswer::Held => tokio::time::sleep(TURN_POLL).await,
            }
        }
    }

    /// A server accepted the credential: other gateways sharing the guard may use it.
    pub fn proven(&self, fingerprint: &CredentialFingerprint) {
        if let Some(claims) = self.claims() {
            claims.proven(fingerprint);
        }
    }

    /// A copy of the state to persist.
    pub fn snapshot(&self) -> GuardState {
        lock(&self.state).clone()
    }

    /// The clock the guard reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The fingerprint of a secret: a salted (and, with `restore_keyed`, keyed) SHA-256 over
    /// `kind` and length-prefixed `parts` (say tenant, client ID, username and password), so
    /// equal secrets of different accounts differ and no part can run into the next.
    pub fn fingerprint(&self, kind: &str, parts: &[&[u8]]) -> CredentialFingerprint {
        let salt = lock(&self.state).salt.clone();
        let mut hash = Sha256::new();
        if let Some(key) = &self.fingerprint_key {
            let key = secrecy::ExposeSecret::expose_secret(key);
            hash.update((key.len() as u64).to_be_bytes());
            hash.update(key);
        }
        hash.update(salt.as_bytes());
        for part in std::iter::once(kind.as_bytes()).chain(parts.iter().copied()) {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        let digest = hash.finalize();
        CredentialFingerprint(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The quarantine of a credential, if any.
    pub fn quarantine_of(&self, fingerprint: &CredentialFingerprint) -> Option<Quarantine> {
        lock(&self.state).quarantined.get(fingerprint).cloned()
    }

    /// Refuses at once when the credential is quarantined and no attempt is due; never admits.
    pub fn check(&self, fingerprint: &CredentialFingerprint) -> Result<(), AuthFailed> {
        match lock(&self.state).quarantined.get(fingerprint) {
            Some(q) => Err(failed(q)),
            None => Ok(()),
        }
    }

    /// Whether [`admit`](Self::admit) would let an attempt through now for a quarantined
    /// credential (its probe is due or an admin asked for a retry, and none is running).
    pub fn attempt_due(&self, fingerprint: &CredentialFingerprint) -> bool {
        let now = self.clock.now();
        let state = lock(&self.state);
        let Some(q) = state.quarantined.get(fingerprint) else {
            return true;
        };
        if lock(&self.running).contains(fingerprint) {
            return false;
        }
        q.retry_now
            || (now >= q.next_probe_at
                && recent(&q.automatic_attempts, now).len() < MAX_AUTOMATIC_ATTEMPTS_PER_DAY)
    }

    /// Asks to use the credential for one attempt that reaches the server. A quarantined
    /// credential is admitted only for its due probe or an admin's retry, and only to one caller.
    pub fn admit(
        self: &Arc<Self>,
        fingerprint: &CredentialFingerprint,
        label: &str,
    ) -> Result<Attempt, AuthFailed> {
        let now = self.clock.now();
        let kind = {
            let mut state = lock(&self.state);
            let Some(q) = state.quarantined.get_mut(fingerprint) else {
                return Ok(self.attempt(fingerprint, label, AttemptKind::Normal));
            };
            let mut running = lock(&self.running);
            if running.contains(fingerprint) {
                return Err(failed(q));
            }
            let kind = if q.retry_now {
                q.retry_now = false;
                AttemptKind::RetryNow
            } else if now >= q.next_probe_at
                && recent(&q.automatic_attempts, now).len() < MAX_AUTOMATIC_ATTEMPTS_PER_DAY
            {
                q.automatic_attempts.retain(|t| *t > now - DAY);
                q.automatic_attempts.push(now);
                AttemptKind::Probe
            } else {
                return Err(failed(q));
            };
            running.insert(fingerprint.clone());
            kind
        };
        self.notify(fingerprint);
        Ok(self.attempt(fingerprint, label, kind))
    }

    /// "Retry now" in the portal: the next admission is one immediate attempt.
    pub fn retry_now(&self, fingerprint: &CredentialFingerprint) {
        let found = match lock(&self.state).quarantined.get_mut(fingerprint) {
            Some(q) => {
                q.retry_now = true;
                true
            }
            None => false,
        };
        if found {
            self.notify(fingerprint);
        }
    }

    /// Drops a quarantine whose secret is no longer configured (new credentials were saved).
    pub fn forget(&self, fingerprint: &CredentialFingerprint) {
        let removed = lock(&self.state).quarantined.remove(fingerprint).is_some();
        if removed {
            self.notify(fingerprint);
        }
    }

    /// Quarantines a credential because a request using it was refused outside any attempt
    /// (a second 401 from EWS or Graph on a fresh token, a Basic 401).
    pub fn report_refusal(
        &self,
        fingerprint: &CredentialFingerprint,
        label: &str,
        failure: SignInFailure,
    ) {
        self.finish(
            fingerprint,
            label,
            AttemptKind::Normal,
            Outcome::Failed(failure),
        );
    }

    fn attempt(
        self: &Arc<Self>,
        fingerprint: &CredentialFingerprint,
        label: &str,
        kind: AttemptKind,
    ) -> Attempt {
        Attempt {
            guard: Arc::clone(self),
            fingerprint: fingerprint.clone(),
            label: label.to_string(),
            kind,
            finished: false,
        }
    }

    fn finish(
        &self,
        fingerprint: &CredentialFingerprint,
        label: &str,
        kind: AttemptKind,
        outcome: Outcome,
    ) {
        let now = self.clock.now();
        let refused = matches!(&outcome, Outcome::Failed(f) if f.class.quarantines());
        let changed = {
            let mut state = lock(&self.state);
            lock(&self.running).remove(fingerprint);
            match outcome {
                Outcome::Succeeded => state.quarantined.remove(fingerprint).is_some(),
                Outcome::Inconclusive => match state.quarantined.get_mut(fingerprint) {
                    // A probe that met a busy server proves nothing; wait a full step again.
                    Some(q) if kind != AttemptKind::Normal => {
                        q.next_probe_at = next_probe(q, now);
                        true
                    }
                    _ => false,
                },
                Outcome::Failed(failure) if failure.class.quarantines() => {
                    match state.quarantined.get_mut(fingerprint) {
                        // Requests that were already in flight when the first failure came
                        // back add nothing: the schedule runs from the first failure.
                        Some(_) if kind == AttemptKind::Normal => false,
                        Some(q) => {
                            if kind == AttemptKind::Probe {
                                q.failed_probes = q.failed_probes.saturating_add(1);
                            }
                            q.last_failure = failure;
                            q.next_probe_at = next_probe(q, now);
                            true
                        }
                        None => {
                            let mut q = Quarantine {
                                label: label.to_string(),
                                since: now,
                                last_failure: failure,
                                failed_probes: 0,
                                next_probe_at: now,
                                automatic_attempts: Vec::new(),
                                retry_now: false,
                            };
                            q.next_probe_at = next_probe(&q, now);
                            tracing::warn!(
                                code = %q.last_failure.code,
                                credential = %q.label,
                                next_probe_at = %q.next_probe_at,
                                "credential refused; all use stopped"
                            );
                            state.quarantined.insert(fingerprint.clone(), q);
                            true
                        }
                    }
                }
                Outcome::Failed(_) => match state.quarantined.get_mut(fingerprint) {
                    Some(q) if kind != AttemptKind::Normal => {
                        q.next_probe_at = next_probe(q, now);
                        true
                    }
                    _ => false,
                },
            }
        };
        if changed {
            self.notify(fingerprint);
        }
        if refused && let Some(claims) = self.claims() {
            claims.refused(fingerprint);
        }
    }

    fn notify(&self, fingerprint: &CredentialFingerprint) {
        let listener = lock(&self.listener).clone();
        if let Some(listener) = listener {
            let snapshot = self.snapshot();
            listener(&snapshot, fingerprint);
        }
    }
}

/// Why [`LockoutGuard::take_turn`] gave no turn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TurnRefused {
    /// The credential is quarantined (another gateway's verdict arrived) and no attempt is due.
    #[error(transparent)]
    Quarantined(AuthFailed),
    /// Another gateway is still trying it.
    #[error(transparent)]
    Held(Held),
}

fn failed(q: &Quarantine) -> AuthFailed {
    AuthFailed {
        label: q.label.clone(),
        last_failure: Box::new(q.last_failure.clone()),
        since: q.since,
        next_probe_at: q.next_probe_at,
    }
}

fn recent(attempts: &[Timestamp], now: Timestamp) -> Vec<Timestamp> {
    attempts
        .iter()
        .copied()
        .filter(|t| *t > now - DAY)
        .collect()
}

/// The step delay after `failed_probes` failures, pushed later if three probes already fall in
/// the trailing 24 hours.
fn next_probe(q: &Quarantine, now: Timestamp) -> Timestamp {
    let step = PROBE_DELAYS[(q.failed_probes as usize).min(PROBE_DELAYS.len() - 1)];
    let mut next = now + step;
    let mut attempts = recent(&q.automatic_attempts, now);
    attempts.sort();
    if attempts.len() >= MAX_AUTOMATIC_ATTEMPTS_PER_DAY {
        let oldest_counted = attempts[attempts.len() - MAX_AUTOMATIC_ATTEMPTS_PER_DAY];
        next = next.max(oldest_counted + DAY);
    }
    next
}

enum Outcome {
    Succeeded,
    Failed(SignInFailure),
    Inconclusive,
}

/// Permission for one attempt. Report how it ended; dropping it unreported counts as
/// inconclusive (a probe that could not tell).
#[must_use = "report the outcome of the attempt"]
pub struct Attempt {
    guard: Arc<LockoutGuard>,
    fingerprint: CredentialFingerprint,
    label: String,
    kind: AttemptKind,
    finished: bool,
}

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attempt")
            .field("kind", &self.kind)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl Attempt {
    /// How the attempt was admitted.
    pub fn kind(&self) -> AttemptKind {
        self.kind
    }

    /// The server accepted the credential: any quarantine is lifted.
    pub fn succeeded(mut self) {
        self.finished = true;
        self.guard.finish(
            &self.fingerprint,
            &self.label,
            self.kind,
            Outcome::Succeeded,
        );
    }

    /// The server refused; credential and configuration failures quarantine.
    pub fn failed(mut self, failure: SignInFailure) {
        self.finished = true;
        self.guard.finish(
            &self.fingerprint,
            &self.label,
            self.kind,
            Outcome::Failed(failure),
        );
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.finished {
            self.guard.finish(
                &self.fingerprint,
                &self.label,
                self.kind,
                Outcome::Inconclusive,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::failure::{EntraErrorBody, FailureClass};

    fn wrong_password() -> SignInFailure {
        SignInFailure::from_entra(
            400,
            &EntraErrorBody {
                error: "invalid_grant".into(),
                error_codes: vec![50126],
                ..Default::default()
            },
            None,
        )
    }

    fn setup() -> (ManualClock, Arc<LockoutGuard>, CredentialFingerprint) {
        let clock = ManualClock::new("2026-11-27T08:00:00Z".parse().expect("instant"));
        let guard = LockoutGuard::new(Arc::new(clock.clone()));
        let fp = guard.fingerprint("password", &[b"svc@contoso.com", b"Wrong-1"]);
        (clock, guard, fp)
    }

    const MIN: SignedDuration = SignedDuration::from_mins(1);

    #[test]
    fn probe_schedule_is_30_min_2_h_8_h_and_one_probe_at_a_time() {
        let (clock, guard, fp) = setup();
        guard
            .admit(&fp, "pw")
            .expect("fresh credential")
            .failed(wrong_password());
        let err = guard.admit(&fp, "pw").expect_err("quarantined at once");
        assert_eq!(err.code(), "ENTRA_AADSTS50126");
        assert_eq!(err.likely_causes().len(), 3);

        clock.advance(SignedDuration::from_mins(29));
        assert!(guard.admit(&fp, "pw").is_err(), "not before 30 min");
        clock.advance(MIN);
        let probe = guard.admit(&fp, "pw").expect("probe due at 30 min");
        assert_eq!(probe.kind(), AttemptKind::Probe);
        assert!(
            guard.admit(&fp, "pw").is_err(),
            "a second caller gets no attempt while the probe runs"
        );
        probe.failed(wrong_password());

        clock.advance(SignedDuration::from_hours(2) - MIN);
        assert!(guard.admit(&fp, "pw").is_err());
        clock.advance(MIN);
        guard
            .admit(&fp, "pw")
            .expect("probe 2 h after the failed probe")
            .failed(wrong_password());

        clock.advance(SignedDuration::from_hours(8) - MIN);
        assert!(guard.admit(&fp, "pw").is_err());
        clock.advance(MIN);
        guard
            .admit(&fp, "pw")
            .expect("probe 8 h after")
            .failed(wrong_password());
        let q = guard.quarantine_of(&fp).expect("still quarantined");
        assert_eq!(q.failed_probes, 3);
    }

    #[test]
    fn never_more_than_three_automatic_attempts_in_any_day() {
        let (clock, guard, fp) = setup();
        guard
            .admit(&fp, "pw")
            .expect("fresh")
            .failed(wrong_password());
        let mut probes = Vec::new();
        let start = clock.now();
        // Walk five simulated days minute by minute; the guard decides when probes happen.
        for _ in 0..(5 * 24 * 60) {
            clock.advance(MIN);
            if let Ok(attempt) = guard.admit(&fp, "pw") {
                probes.push(clock.now());
                attempt.failed(wrong_password());
            }
        }
        for (i, t) in probes.iter().enumerate() {
            let in_day = probes
                .iter()
                .filter(|u| **u > *t - DAY && **u <= *t)
                .count();
            assert!(
                in_day <= 3,
                "probe {i} at {t} is the {in_day}th within 24 h"
            );
        }
        let offsets: Vec<i64> = probes
            .iter()
            .map(|t| t.duration_since(start).as_mins())
            .collect();
        assert_eq!(&offsets[..3], &[30, 150, 630], "30 min, then 2 h, then 8 h");
        assert!(
            probes.len() >= 10 && probes.len() <= 15,
            "{} probes in 5 days",
            probes.len()
        );
    }

    #[test]
    fn retry_now_allows_one_attempt_and_success_lifts_the_quarantine() {
        let (_clock, guard, fp) = setup();
        guard
            .admit(&fp, "pw")
            .expect("fresh")
            .failed(wrong_password());
        guard.retry_now(&fp);
        let attempt = guard.admit(&fp, "pw").expect("retry now");
        assert_eq!(attempt.kind(), AttemptKind::RetryNow);
        attempt.failed(wrong_password());
        assert!(guard.admit(&fp, "pw").is_err(), "only one attempt");
        guard.retry_now(&fp);
        guard.admit(&fp, "pw").expect("retry now").succeeded();
        assert_eq!(
            guard.admit(&fp, "pw").expect("lifted").kind(),
            AttemptKind::Normal
        );
    }

    #[test]
    fn new_secret_is_tried_and_state_survives_a_restart() {
        let (clock, guard, fp) = setup();
        guard
            .admit(&fp, "pw")
            .expect("fresh")
            .failed(wrong_password());
        let other = guard.fingerprint("password", &[b"svc@contoso.com", b"Right-2"]);
        assert_eq!(
            guard.admit(&other, "pw").expect("new secret").kind(),
            AttemptKind::Normal
        );

        let json = serde_json::to_string(&guard.snapshot()).expect("serialize");
        assert!(
            !json.contains("Wrong-1"),
            "the secret never reaches the persisted state"
        );
        let restored = LockoutGuard::restore(
            serde_json::from_str(&json).expect("parse"),
            Arc::new(clock.clone()),
        );
        assert_eq!(
            restored.fingerprint("password", &[b"svc@contoso.com", b"Wrong-1"]),
            fp
        );
        assert!(
            restored.admit(&fp, "pw").is_err(),
            "still quarantined after restart"
        );
    }

    #[test]
    fn every_change_reaches_the_listener_for_persistence() {
        let (clock, guard, fp) = setup();
        let seen = Arc::new(Mutex::new(Vec::<GuardState>::new()));
        let sink = seen.clone();
        guard.on_change(move |state, changed| {
            assert!(state.quarantined.contains_key(changed) || state.quarantined.is_empty());
            lock(&sink).push(state.clone());
        });
        guard
            .admit(&fp, "pw")
            .expect("fresh")
            .failed(wrong_password());
        clock.advance(SignedDuration::from_mins(30));
        guard.admit(&fp, "pw").expect("probe").succeeded();
        let states = lock(&seen);
        // Quarantined, probe taken (the attempt is persisted before it is made), lifted.
        assert_eq!(states.len(), 3);
        assert_eq!(states[0].quarantined.len(), 1);
        assert_eq!(
            states[1]
                .quarantined
                .values()
                .next()
                .map(|q| q.automatic_attempts.len()),
            Some(1)
        );
        assert!(states[2].quarantined.is_empty());
    }

    #[test]
    fn transient_failures_never_quarantine_and_late_failures_do_not_reschedule() {
        let (clock, guard, fp) = setup();
        let busy = SignInFailure::from_http_status(503, None);
        assert_eq!(busy.class, FailureClass::Transient);
        guard.admit(&fp, "pw").expect("fresh").failed(busy);
        assert!(guard.quarantine_of(&fp).is_none());

        let first = guard.admit(&fp, "pw").expect("fresh");
        let second = guard.admit(&fp, "pw").expect("admitted before the failure");
        first.failed(wrong_password());
        let scheduled = guard.quarantine_of(&fp).expect("q").next_probe_at;
        clock.advance(SignedDuration::from_mins(10));
        second.failed(wrong_password());
        assert_eq!(
            guard.quarantine_of(&fp).expect("q").next_probe_at,
            scheduled
        );
    }
}
