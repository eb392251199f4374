//! When the next request to a source may be sent, and how many may be in flight.
//!
//! The rule: nothing is sent before an advertised back-off ends. Server-named waits
//! (`BackOffMilliseconds`, `Retry-After`) are honoured exactly (plus a little positive jitter);
//! anonymous failures back off exponentially with jitter.

use jiff::{SignedDuration, Timestamp};
use rand::Rng;

use crate::source::FailureAction;

/// The shortest and longest exponential back-off.
const BASE: SignedDuration = SignedDuration::from_secs(2);
const CAP: SignedDuration = SignedDuration::from_mins(5);
/// Successes needed before a lowered concurrency is raised again by one.
const SUCCESSES_TO_RAISE: u32 = 20;

/// The back-off state of one source.
#[derive(Debug, Clone)]
pub struct BackOff {
    not_before: Option<Timestamp>,
    consecutive_failures: u32,
    concurrency: usize,
    max_concurrency: usize,
    successes_since_lowered: u32,
}

impl BackOff {
    pub fn new(max_concurrency: usize) -> BackOff {
        let max = max_concurrency.max(1);
        BackOff {
            not_before: None,
            consecutive_failures: 0,
            concurrency: max,
            max_concurrency: max,
            successes_since_lowered: 0,
        }
    }

    /// The earliest instant a request may be sent, if a back-off is running.
    pub fn not_before(&self) -> Option<Timestamp> {
        self.not_before
    }

    /// Whether a request may be sent at `now`.
    pub fn allows(&self, now: Timestamp) -> bool {
        self.not_before.is_none_or(|t| now >= t)
    }

    /// Requests allowed in flight now.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    pub fn on_success(&mut self, now: Timestamp) {
        self.consecutive_failures = 0;
        if self.not_before.is_some_and(|t| t <= now) {
            self.not_before = None;
        }
        if self.concurrency < self.max_concurrency {
            self.successes_since_lowered += 1;
            if self.successes_since_lowered >= SUCCESSES_TO_RAISE {
                self.concurrency += 1;
                self.successes_since_lowered = 0;
            }
        }
    }

    /// Records a failure and returns the instant before which nothing may be sent
    /// (`None` for a credential failure without a probe time: wait for new credentials).
    pub fn on_failure(&mut self, action: &FailureAction, now: Timestamp) -> Option<Timestamp> {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let mut rng = rand::rng();
        let until = match action {
            FailureAction::RetryAfter(wait) => {
                // A server that asks for a pause wants less load afterwards too: one request
                // fewer in flight until it has answered well for a while.
                self.concurrency = (self.concurrency.saturating_sub(1)).max(1);
                self.successes_since_lowered = 0;
                // Never earlier than advertised; up to 10% later so a fleet does not return at once.
                let extra_ms = (wait.as_millis() as f64 * rng.random_range(0.0..0.1)) as i64;
                Some(plus(now, *wait + SignedDuration::from_millis(extra_ms + 1)))
            }
            FailureAction::LowerConcurrency => {
                self.concurrency = (self.concurrency.saturating_sub(1)).max(1);
                self.successes_since_lowered = 0;
                Some(plus(now, self.exponential(&mut rng)))
            }
            FailureAction::Transient | FailureAction::Misconfigured => {
                Some(plus(now, self.exponential(&mut rng)))
            }
            FailureAction::CredentialFailure { next_attempt } => *next_attempt,
        };
        // A later failure never shortens a running back-off.
        self.not_before = match (self.not_before, until) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (_, b) => b,
        };
        if matches!(
            action,
            FailureAction::CredentialFailure { next_attempt: None }
        ) {
            self.not_before = Some(Timestamp::MAX);
        }
        self.not_before
    }

    /// Forgets every back-off (new credentials, new source, "retry now").
    pub fn reset(&mut self) {
        *self = BackOff::new(self.max_concurrency);
    }

    fn exponential(&self, rng: &mut impl Rng) -> SignedDuration {
        let shift = self.consecutive_failures.saturating_sub(1).min(16);
        let full = BASE.saturating_mul(1i32 << shift).min(CAP);
        // "Equal jitter": between half and all of the exponential step.
        let ms = full.as_millis() as f64 * rng.random_range(0.5..=1.0);
        SignedDuration::from_millis(ms as i64)
    }
}

fn plus(now: Timestamp, d: SignedDuration) -> Timestamp {
    now.checked_add(d).unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn advertised_wait_is_never_shortened() {
        let mut b = BackOff::new(2);
        let now = t0();
        let until = b
            .on_failure(
                &FailureAction::RetryAfter(SignedDuration::from_millis(5000)),
                now,
            )
            .expect("a wait");
        assert!(until >= plus(now, SignedDuration::from_millis(5000)));
        assert!(until <= plus(now, SignedDuration::from_millis(5501)));
        assert_eq!(
            b.concurrency(),
            1,
            "a pause request also lowers the concurrency"
        );
        assert!(!b.allows(plus(now, SignedDuration::from_millis(4999))));
        // A shorter anonymous failure afterwards keeps the longer wait.
        let again = b
            .on_failure(&FailureAction::Transient, now)
            .expect("a wait");
        assert!(again >= until);
        assert!(b.allows(again));
    }

    #[test]
    fn exponential_growth_is_capped_and_jittered() {
        let mut b = BackOff::new(2);
        let now = t0();
        let mut last = SignedDuration::ZERO;
        for i in 0..12 {
            b.not_before = None;
            let until = b
                .on_failure(&FailureAction::Transient, now)
                .expect("a wait");
            let wait = until.duration_since(now);
            assert!(wait <= CAP, "step {i}: {wait:?}");
            assert!(wait >= BASE / 2, "step {i}: {wait:?}");
            if i < 5 {
                assert!(wait * 2 >= last, "grows: {last:?} then {wait:?}");
            }
            last = wait;
        }
    }

    #[test]
    fn connection_limit_lowers_then_slowly_raises_concurrency() {
        let mut b = BackOff::new(2);
        let now = t0();
        b.on_failure(&FailureAction::LowerConcurrency, now);
        assert_eq!(b.concurrency(), 1);
        b.on_failure(&FailureAction::LowerConcurrency, now);
        assert_eq!(b.concurrency(), 1, "never below one");
        for _ in 0..SUCCESSES_TO_RAISE {
            b.on_success(now);
        }
        assert_eq!(b.concurrency(), 2);
    }

    #[test]
    fn credential_failure_without_probe_blocks_until_reset() {
        let mut b = BackOff::new(2);
        let now = t0();
        b.on_failure(
            &FailureAction::CredentialFailure { next_attempt: None },
            now,
        );
        assert!(!b.allows(plus(now, SignedDuration::from_hours(24 * 365))));
        b.reset();
        assert!(b.allows(now));
        let probe = plus(now, SignedDuration::from_mins(30));
        b.on_failure(
            &FailureAction::CredentialFailure {
                next_attempt: Some(probe),
            },
            now,
        );
        assert!(!b.allows(plus(now, SignedDuration::from_mins(29))));
        assert!(b.allows(probe));
    }
}
