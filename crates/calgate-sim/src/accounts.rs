//! Accounts (UPN → password) and the lockout model the directory applies to them.
//!
//! Two directories lock accounts differently, and calgate must stay welcome at both:
//! Active Directory counts every failed attempt inside the observation window, while Entra smart
//! lockout ignores a wrong password that repeats one of the last three wrong passwords (a client
//! retrying the same stale secret is not a guessing attack). In both, a correct password while the
//! account is locked still fails. The mode is chosen per check, so the EWS side (on-premises AD)
//! and the Entra side can share one set of accounts.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Which directory's counting rules a password check follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockoutMode {
    /// Every failed attempt counts.
    ActiveDirectory,
    /// Repeats of the last three wrong passwords do not count.
    EntraSmart,
}

/// Threshold, observation window and duration of the lockout policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicy {
    /// Failed attempts that lock the account; 0 never locks.
    pub threshold: u32,
    pub window_s: u64,
    pub duration_s: u64,
}

impl Default for LockoutPolicy {
    fn default() -> LockoutPolicy {
        LockoutPolicy {
            threshold: 5,
            window_s: 600,
            duration_s: 900,
        }
    }
}

/// Why a password check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordFailure {
    #[error("no such account")]
    UnknownUser,
    #[error("wrong password")]
    WrongPassword {
        /// This attempt reached the threshold and locked the account.
        now_locked: bool,
    },
    #[error("account locked until {until}")]
    Locked { until: Timestamp },
}

/// An account's lockout state, as the control API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    pub upn: String,
    pub locked: bool,
    pub failed_attempts: u32,
    pub locked_until: Option<Timestamp>,
}

type PasswordHash = [u8; 32];

fn hash(password: &str) -> PasswordHash {
    Sha256::digest(password.as_bytes()).into()
}

#[derive(Default)]
struct Account {
    password: PasswordHash,
    /// The password itself: NTLM proves knowledge of it without sending it, so the directory
    /// needs it to check the response (a real one keeps the NT hash; this is a test double).
    clear: String,
    failures: VecDeque<Timestamp>,
    recent_wrong: VecDeque<PasswordHash>,
    locked_until: Option<Timestamp>,
}

impl Account {
    fn prune(&mut self, now: Timestamp, window_s: u64) {
        let window = SignedDuration::from_secs(i64::try_from(window_s).unwrap_or(i64::MAX));
        while let Some(first) = self.failures.front() {
            if now.duration_since(*first) >= window {
                self.failures.pop_front();
            } else {
                break;
            }
        }
        if self.locked_until.is_some_and(|until| until <= now) {
            self.locked_until = None;
        }
    }
}

#[derive(Default)]
struct Inner {
    accounts: HashMap<String, Account>,
    policy: LockoutPolicy,
    lockouts: u64,
}

/// All accounts of the tenant. Keys are UPNs, compared case-insensitively.
#[derive(Default)]
pub struct Accounts {
    inner: Mutex<Inner>,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.inner.lock().map(|i| i.accounts.len()).unwrap_or(0);
        f.debug_struct("Accounts")
            .field("count", &n)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data behind (every update is a
        // single assignment), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates the account or replaces its password. The lockout state is kept: changing a
    /// password does not unlock an account in either directory.
    pub fn set_password(&self, upn: &str, password: &str) {
        let mut inner = self.lock();
        let account = inner.accounts.entry(upn.to_ascii_lowercase()).or_default();
        account.password = hash(password);
        password.clone_into(&mut account.clear);
        account.recent_wrong.clear();
    }

    pub fn exists(&self, upn: &str) -> bool {
        self.lock().accounts.contains_key(&upn.to_ascii_lowercase())
    }

    pub fn set_policy(&self, policy: LockoutPolicy) {
        self.lock().policy = policy;
    }

    pub fn policy(&self) -> LockoutPolicy {
        self.lock().policy
    }

    /// Lockouts since start.
    pub fn lockouts(&self) -> u64 {
        self.lock().lockouts
    }

    /// Checks a password and updates the lockout state.
    pub fn check_password(
        &self,
        upn: &str,
        password: &str,
        mode: LockoutMode,
        now: Timestamp,
    ) -> Result<(), PasswordFailure> {
        let mut inner = self.lock();
        let policy = inner.policy;
        let Some(account) = inner.accounts.get_mut(&upn.to_ascii_lowercase()) else {
            return Err(PasswordFailure::UnknownUser);
        };
        account.prune(now, policy.window_s);
        if let Some(until) = account.locked_until {
            return Err(PasswordFailure::Locked { until });
        }
        let given = hash(password);
        if given == account.password {
            account.failures.clear();
            account.recent_wrong.clear();
            return Ok(());
        }
        Accounts::failed(&mut inner, &upn.to_ascii_lowercase(), given, mode, now)
    }

    /// Checks a proof of the password (an NTLM response) and updates the lockout state exactly
    /// as [`Accounts::check_password`] does. A failed proof shows no password, so Entra's
    /// "same wrong password" rule cannot apply: every failed proof counts.
    pub fn check_proof(
        &self,
        upn: &str,
        proves: impl FnOnce(&str) -> bool,
        now: Timestamp,
    ) -> Result<(), PasswordFailure> {
        let mut inner = self.lock();
        let policy = inner.policy;
        let key = upn.to_ascii_lowercase();
        let Some(account) = inner.accounts.get_mut(&key) else {
            return Err(PasswordFailure::UnknownUser);
        };
        account.prune(now, policy.window_s);
        if let Some(until) = account.locked_until {
            return Err(PasswordFailure::Locked { until });
        }
        if proves(&account.clear) {
            account.failures.clear();
            account.recent_wrong.clear();
            return Ok(());
        }
        // A failed proof reveals no password: counted as Active Directory counts every failure.
        Accounts::failed(
            &mut inner,
            &key,
            hash(""),
            LockoutMode::ActiveDirectory,
            now,
        )
    }

    fn failed(
        inner: &mut Inner,
        key: &str,
        given: PasswordHash,
        mode: LockoutMode,
        now: Timestamp,
    ) -> Result<(), PasswordFailure> {
        let policy = inner.policy;
        let Some(account) = inner.accounts.get_mut(key) else {
            return Err(PasswordFailure::UnknownUser);
        };
        if mode == LockoutMode::EntraSmart && account.recent_wrong.contains(&given) {
            return Err(PasswordFailure::WrongPassword { now_locked: false });
        }
        account.recent_wrong.push_back(given);
        if account.recent_wrong.len() > 3 {
            account.recent_wrong.pop_front();
        }
        account.failures.push_back(now);
        let mut now_locked = false;
        if policy.threshold > 0 && account.failures.len() >= policy.threshold as usize {
            let duration =
                SignedDuration::from_secs(i64::try_from(policy.duration_s).unwrap_or(i64::MAX));
            account.locked_until = Some(now.saturating_add(duration).unwrap_or(Timestamp::MAX));
            account.failures.clear();
            now_locked = true;
        }
        if now_locked {
            inner.lockouts += 1;
        }
        Err(PasswordFailure::WrongPassword { now_locked })
    }

    /// The account's lockout state, or `None` for an unknown UPN.
    pub fn view(&self, upn: &str, now: Timestamp) -> Option<AccountView> {
        let mut inner = self.lock();
        let policy = inner.policy;
        let account = inner.accounts.get_mut(&upn.to_ascii_lowercase())?;
        account.prune(now, policy.window_s);
        Some(AccountView {
            upn: upn.to_ascii_lowercase(),
            locked: account.locked_until.is_some(),
            failed_attempts: u32::try_from(account.failures.len()).unwrap_or(u32::MAX),
            locked_until: account.locked_until,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(threshold: u32) -> Accounts {
        let a = Accounts::default();
        a.set_policy(LockoutPolicy {
            threshold,
            window_s: 600,
            duration_s: 900,
        });
        a.set_password("Ann@Contoso.com", "right");
        a
    }

    #[test]
    fn active_directory_counts_every_failure_and_locks_even_the_right_password() {
        let a = accounts(3);
        let t0 = Timestamp::UNIX_EPOCH;
        for i in 0..3 {
            let r = a.check_password("ann@contoso.com", "wrong", LockoutMode::ActiveDirectory, t0);
            assert_eq!(
                r,
                Err(PasswordFailure::WrongPassword { now_locked: i == 2 })
            );
        }
        let until = t0 + SignedDuration::from_secs(900);
        assert_eq!(
            a.check_password("ann@contoso.com", "right", LockoutMode::ActiveDirectory, t0),
            Err(PasswordFailure::Locked { until })
        );
        assert_eq!(a.lockouts(), 1);
        let view = a.view("ann@contoso.com", t0).expect("account exists");
        assert!(view.locked);
        let later = until + SignedDuration::from_secs(1);
        assert_eq!(
            a.check_password(
                "ann@contoso.com",
                "right",
                LockoutMode::ActiveDirectory,
                later
            ),
            Ok(())
        );
    }

    #[test]
    fn entra_smart_lockout_ignores_repeated_wrong_passwords() {
        let a = accounts(3);
        let t0 = Timestamp::UNIX_EPOCH;
        for _ in 0..10 {
            let r = a.check_password("ann@contoso.com", "stale", LockoutMode::EntraSmart, t0);
            assert_eq!(r, Err(PasswordFailure::WrongPassword { now_locked: false }));
        }
        assert_eq!(
            a.view("ann@contoso.com", t0).map(|v| v.failed_attempts),
            Some(1)
        );
        for (i, pw) in ["b", "c"].into_iter().enumerate() {
            let r = a.check_password("ann@contoso.com", pw, LockoutMode::EntraSmart, t0);
            assert_eq!(
                r,
                Err(PasswordFailure::WrongPassword { now_locked: i == 1 })
            );
        }
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let a = accounts(2);
        let t0 = Timestamp::UNIX_EPOCH;
        let _ = a.check_password("ann@contoso.com", "x", LockoutMode::ActiveDirectory, t0);
        let t1 = t0 + SignedDuration::from_secs(601);
        let r = a.check_password("ann@contoso.com", "y", LockoutMode::ActiveDirectory, t1);
        assert_eq!(r, Err(PasswordFailure::WrongPassword { now_locked: false }));
        assert_eq!(
            a.check_password("nobody@contoso.com", "y", LockoutMode::ActiveDirectory, t1),
            Err(PasswordFailure::UnknownUser)
        );
    }
}
