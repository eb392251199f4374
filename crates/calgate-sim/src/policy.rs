//! The realism policy: lockout, throttling, faults and server identity, settable at start and
//! through `PUT /_sim/policy` (SPEC §5.1 names the first fields; the rest extend them).

use serde::{Deserialize, Serialize};

use crate::accounts::{LockoutMode, LockoutPolicy};

/// Every realism switch. A `PUT /_sim/policy` body may name any subset of the fields; the others
/// keep their values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Failed sign-ins that lock an account; 0 never locks.
    pub lockout_threshold: u32,
    pub lockout_window_s: u64,
    pub lockout_duration_s: u64,
    /// How EWS Basic auth counts failures (on-premises Exchange sits on Active Directory).
    pub ews_lockout_mode: LockoutMode,
    /// Every n-th request of a credential is answered ErrorServerBusy; 0 never.
    pub busy_every_n_requests: u64,
    /// The BackOffMilliseconds advertised with ErrorServerBusy.
    pub busy_backoff_ms: u64,
    /// When non-zero, every request is answered `retry_after_status` with this Retry-After.
    pub retry_after_s: u64,
    /// 429 or 503.
    pub retry_after_status: u16,
    /// Added before every answer.
    pub latency_ms: u64,
    /// Share of requests answered with a 500 (0.0–1.0).
    pub error_rate: f64,
    /// Share of answers cut off in the middle of the body.
    pub truncate_rate: f64,
    /// Share of requests whose connection is reset without an answer.
    pub reset_rate: f64,
    /// Concurrent EWS requests beyond this get ErrorExceededConnectionCount; 0 is unlimited.
    pub max_concurrency: u32,
    /// EWS answers 403, as Exchange Online does after the 2026 shutdown.
    pub ews_disabled: bool,
    /// The Exchange build presented (`exchange2010_sp2`, `exchange2013_sp1`, `exchange2016`,
    /// `exchange2019`, `exchange_online`): its `ServerVersionInfo`, and the newest
    /// `RequestServerVersion` it accepts (newer ones get ErrorInvalidServerVersion).
    pub server_version: String,
    /// Availability windows longer than this (days) get ErrorTimeIntervalTooBig.
    pub max_window_days: u32,
    /// How many of the most recent EWS response bodies are kept for `GET /_sim/responses`.
    pub record_responses: usize,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            lockout_threshold: 5,
            lockout_window_s: 600,
            lockout_duration_s: 900,
            ews_lockout_mode: LockoutMode::ActiveDirectory,
            busy_every_n_requests: 0,
            busy_backoff_ms: 5000,
            retry_after_s: 0,
            retry_after_status: 429,
            latency_ms: 0,
            error_rate: 0.0,
            truncate_rate: 0.0,
            reset_rate: 0.0,
            max_concurrency: 27,
            ews_disabled: false,
            server_version: "exchange2019".to_owned(),
            max_window_days: 62,
            record_responses: 0,
        }
    }
}

impl Policy {
    pub fn lockout(&self) -> LockoutPolicy {
        LockoutPolicy {
            threshold: self.lockout_threshold,
            window_s: self.lockout_window_s,
            duration_s: self.lockout_duration_s,
        }
    }

    /// Applies a partial JSON object over this policy.
    pub fn merged(&self, patch: &serde_json::Value) -> Result<Policy, PolicyError> {
        let mut base = serde_json::to_value(self).map_err(|e| PolicyError(e.to_string()))?;
        let (Some(base_map), Some(patch_map)) = (base.as_object_mut(), patch.as_object()) else {
            return Err(PolicyError("the policy must be a JSON object".to_owned()));
        };
        for (k, v) in patch_map {
            base_map.insert(k.clone(), v.clone());
        }
        let policy: Policy =
            serde_json::from_value(base).map_err(|e| PolicyError(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    pub fn validate(&self) -> Result<(), PolicyError> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("truncate_rate", self.truncate_rate),
            ("reset_rate", self.reset_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(PolicyError(format!("{name} must be between 0 and 1")));
            }
        }
        if !matches!(self.retry_after_status, 429 | 503) {
            return Err(PolicyError(
                "retry_after_status must be 429 or 503".to_owned(),
            ));
        }
        if calgate_ews::server::find_build(&self.server_version).is_none() {
            return Err(PolicyError(format!(
                "unknown server_version {:?}",
                self.server_version
            )));
        }
        Ok(())
    }
}

/// A policy that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy: {0}")]
pub struct PolicyError(pub String);
