//! The limit on failed sign-ins to the pages, kept per client address and per account name, so
//! that nobody can lock out a principal other than the one they are guessing for.
//!
//! - An address gets [`ADDRESS_FREE`] failures; after that each further attempt waits a delay
//!   that doubles with every failure (1 s, 2 s, 4 s … up to [`ADDRESS_MAX_DELAY`]).
//! - An account name gets [`ACCOUNT_FREE`] failures from all addresses together, then the same
//!   doubling up to [`ACCOUNT_MAX_DELAY`]: guessing from many addresses stays slow, while the
//!   real administrator is kept waiting a minute at most. A wrong token names no account and
//!   counts against its address only.
//! - An attempt is counted before its password is checked, so parallel attempts cannot slip
//!   past the limit; past the free failures only one attempt at a time is let through.
//! - Password checks (Argon2id, ~19 MiB each) run [`PARALLEL_CHECKS`] at a time, so a burst of
//!   sign-ins queues instead of taking memory.
//!
//! A success clears the counts of its address and account. Entries are forgotten an hour after
//! their last failure, and at most [`MAX_ENTRIES`] are kept (the stalest go first).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Failures an address may make before delays start.
pub const ADDRESS_FREE: u32 = 5;
/// Failures an account name may collect (from anywhere) before delays start.
pub const ACCOUNT_FREE: u32 = 10;
pub const ADDRESS_MAX_DELAY: Duration = Duration::from_secs(15 * 60);
pub const ACCOUNT_MAX_DELAY: Duration = Duration::from_secs(60);
const FIRST_DELAY: Duration = Duration::from_secs(1);
/// Password checks at once.
pub const PARALLEL_CHECKS: usize = 2;
const FORGET_AFTER: Duration = Duration::from_secs(3600);
const MAX_ENTRIES: usize = 10_000;
/// Longest account name kept as a key (longer names are cut: they are still one account).
const MAX_ACCOUNT_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(IpAddr),
    Account(String),
}

impl Key {
    fn free(&self) -> u32 {
        match self {
            Key::Address(_) => ADDRESS_FREE,
            Key::Account(_) => ACCOUNT_FREE,
        }
    }

    fn max_delay(&self) -> Duration {
        match self {
            Key::Address(_) => ADDRESS_MAX_DELAY,
            Key::Account(_) => ACCOUNT_MAX_DELAY,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    /// Attempts let through and not yet settled.
    pending: u32,
    blocked_until: Option<Instant>,
    last_seen: Instant,
}

/// The limiter of one gateway.
#[derive(Debug)]
pub struct SignInLimiter {
    entries: Mutex<HashMap<Key, Entry>>,
    checks: Arc<Semaphore>,
}

impl Default for SignInLimiter {
    fn default() -> SignInLimiter {
        SignInLimiter {
            entries: Mutex::new(HashMap::new()),
            checks: Arc::new(Semaphore::new(PARALLEL_CHECKS)),
        }
    }
}

/// The normalized account name a sign-in counts against.
fn account_key(name: &str) -> Key {
    Key::Account(
        name.trim()
            .chars()
            .take(MAX_ACCOUNT_CHARS)
            .collect::<String>()
            .to_lowercase(),
    )
}

/// The delay after `failures` failures for `key`.
fn delay(key: &Key, failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(key.free())?;
    let factor = 1u32.checked_shl(over.min(20)).unwrap_or(u32::MAX);
    Some(FIRST_DELAY.saturating_mul(factor).min(key.max_delay()))
}

impl SignInLimiter {
    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts an attempt from `address` for `account` (`None`: a token, which names no account),
    /// or says how long to wait. Settle it with [`Attempt::failed`] or [`Attempt::succeeded`];
    /// dropped unsettled (the check could not be made), it counts for nothing.
    pub fn begin(&self, address: IpAddr, account: Option<&str>) -> Result<Attempt<'_>, Duration> {
        let mut keys = vec![Key::Address(address)];
        keys.extend(account.map(account_key));
        let now = Instant::now();
        let mut entries = self.lock();
        for key in &keys {
            let Some(e) = entries.get(key) else { continue };
            if let Some(until) = e.blocked_until.filter(|u| *u > now) {
                return Err(until - now);
            }
            if e.failures + e.pending >= key.free() && e.pending > 0 {
                // Past the free failures, one attempt at a time.
                return Err(FIRST_DELAY);
            }
        }
        if entries.len() + keys.len() > MAX_ENTRIES {
            forget_stale(&mut entries, now);
        }
        for key in &keys {
            let e = entries.entry(key.clone()).or_insert(Entry {
                failures: 0,
                pending: 0,
                blocked_until: None,
                last_seen: now,
            });
            e.pending += 1;
            e.last_seen = now;
        }
        Ok(Attempt {
            limiter: self,
            keys,
            settled: false,
        })
    }

    /// A place among the password checks that may run at once.
    pub async fn check_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.checks.clone().acquire_owned().await.ok()
    }

    fn settle(&self, keys: &[Key], outcome: Option<bool>) {
        let now = Instant::now();
        let mut entries = self.lock();
        for key in keys {
            let Some(e) = entries.get_mut(key) else {
                continue;
            };
            e.pending = e.pending.saturating_sub(1);
            match outcome {
                Some(true) => {
                    e.failures = 0;
                    e.blocked_until = None;
                }
                Some(false) => {
                    e.failures = e.failures.saturating_add(1);
                    e.last_seen = now;
                    e.blocked_until = delay(key, e.failures).map(|d| now + d);
                }
                None => {}
            }
            if e.failures == 0 && e.pending == 0 {
                entries.remove(key);
            }
        }
    }
}

/// Drops entries without a failure for an hour, then, if still full, the stalest.
fn forget_stale(entries: &mut HashMap<Key, Entry>, now: Instant) {
    entries.retain(|_, e| e.pending > 0 || now.duration_since(e.last_seen) < FORGET_AFTER);
    while entries.len() >= MAX_ENTRIES {
        let Some(stalest) = entries
            .iter()
            .filter(|(_, e)| e.pending == 0)
            .min_by_key(|(_, e)| e.last_seen)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        entries.remove(&stalest);
    }
}

/// One sign-in attempt under way.
#[derive(Debug)]
pub struct Attempt<'a> {
    limiter: &'a SignInLimiter,
    keys: Vec<Key>,
    settled: bool,
}

impl Attempt<'_> {
    pub fn failed(mut self) {
        self.settled = true;
        self.limiter.settle(&self.keys, Some(false));
    }

    pub fn succeeded(mut self) {
        self.settled = true;
        self.limiter.settle(&self.keys, Some(true));
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.limiter.settle(&self.keys, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn an_address_gets_its_free_failures_then_growing_delays() {
        let limiter = SignInLimiter::default();
        for _ in 0..ADDRESS_FREE {
            limiter.begin(ip(2), Some("admin")).expect("free").failed();
        }
        let wait = limiter.begin(ip(2), Some("someone")).expect_err("delayed");
        assert!(wait <= FIRST_DELAY && wait > Duration::ZERO, "{wait:?}");
        assert_eq!(
            delay(&Key::Address(ip(2)), ADDRESS_FREE + 1),
            Some(FIRST_DELAY * 2)
        );
        assert_eq!(
            delay(&Key::Address(ip(2)), ADDRESS_FREE + 3),
            Some(FIRST_DELAY * 8)
        );
        assert_eq!(delay(&Key::Address(ip(2)), 200), Some(ADDRESS_MAX_DELAY));
        assert_eq!(delay(&account_key("admin"), 200), Some(ACCOUNT_MAX_DELAY));
        // Another address, the same account: still allowed (the account has failures to spare).
        limiter
            .begin(ip(3), Some("admin"))
            .expect("other address")
            .succeeded();
    }

    #[test]
    fn parallel_attempts_cannot_pass_the_limit() {
        let limiter = SignInLimiter::default();
        let attempts: Vec<_> = (0..100)
            .filter_map(|_| limiter.begin(ip(2), Some("admin")).ok())
            .collect();
        assert_eq!(attempts.len(), ADDRESS_FREE as usize);
        attempts.into_iter().for_each(Attempt::failed);
        assert!(limiter.begin(ip(2), Some("admin")).is_err());
    }

    #[test]
    fn an_account_guessed_from_many_addresses_is_slowed_but_others_are_not() {
        let limiter = SignInLimiter::default();
        for n in 0..ACCOUNT_FREE {
            let addr = ip(10 + u8::try_from(n).expect("small"));
            limiter.begin(addr, Some("Admin ")).expect("free").failed();
        }
        assert!(limiter.begin(ip(100), Some("admin")).is_err());
        limiter
            .begin(ip(100), Some("bob"))
            .expect("another account")
            .failed();
        limiter
            .begin(ip(101), None)
            .expect("a token names no account")
            .succeeded();
    }

    #[test]
    fn a_success_clears_and_an_unsettled_attempt_counts_for_nothing() {
        let limiter = SignInLimiter::default();
        for _ in 0..ADDRESS_FREE - 1 {
            limiter.begin(ip(2), Some("admin")).expect("free").failed();
        }
        drop(limiter.begin(ip(2), Some("admin")).expect("free"));
        limiter
            .begin(ip(2), Some("admin"))
            .expect("free")
            .succeeded();
        assert!(limiter.lock().is_empty());
    }
}
