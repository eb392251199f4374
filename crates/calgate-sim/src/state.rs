//! The state every endpoint shares: tenant, accounts, policy, statistics, per-credential
//! throttling budgets and the seeded random source of fault decisions.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Mutex, RwLock};

use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::SimConfig;
use crate::accounts::Accounts;
use crate::policy::{Policy, PolicyError};
use crate::stats::Stats;
use crate::tenant::Tenant;

/// A throttling answer the server owes a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// EWS `ErrorServerBusy` with `BackOffMilliseconds`.
    ServerBusy { backoff_ms: u64 },
    /// HTTP 429 or 503 with `Retry-After` (seconds).
    RetryAfter { status: u16, seconds: u64 },
}

#[derive(Debug, Default)]
struct Budget {
    requests: u64,
    backoff_until: Option<Timestamp>,
    /// When the back-off was advertised.
    advertised_at: Option<Timestamp>,
}

/// A request arriving this soon after a back-off was advertised was on its way before the
/// answer could have been read (a client with several requests in flight): it is not counted as
/// a violation. A client that ignores back-offs still shows every later request.
const IN_FLIGHT_GRACE: SignedDuration = SignedDuration::from_millis(25);

/// One recorded response (kept only when `Policy::record_responses` > 0).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecordedResponse {
    pub operation: String,
    pub status: u16,
    pub body: String,
}

/// Shared by every handler as `State<Arc<SimState>>`.
pub struct SimState {
    /// `https://127.0.0.1:PORT` (no trailing slash).
    pub base_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub client_cert_pem: Option<String>,
    /// The service account's UPN, when one was configured.
    pub service_account: Option<String>,
    pub domain: String,
    /// The schemes the EWS endpoint offers.
    pub ews_auth: crate::windows::EwsAuth,
    /// Each connection's NTLM handshake.
    pub windows: crate::windows::WindowsConnections,
    pub seed: u64,
    /// The password given to generated and scripted people's accounts.
    pub people_password: String,
    pub tenant: RwLock<Tenant>,
    pub accounts: Accounts,
    pub stats: Stats,
    /// A random key generated at start, for signing tokens.
    pub token_key: [u8; 32],
    /// Room for state the sign-in and Graph sides keep (refresh tokens, device codes…), keyed
    /// by type.
    pub extensions: Mutex<axum::http::Extensions>,
    policy: RwLock<Policy>,
    budgets: Mutex<HashMap<String, Budget>>,
    rng: Mutex<StdRng>,
    responses: Mutex<VecDeque<RecordedResponse>>,
}

impl fmt::Debug for SimState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimState")
            .field("base_url", &self.base_url)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("service_account", &self.service_account)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SimState {
    /// Generates the tenant and the accounts from the configuration.
    pub fn new(config: &SimConfig, base_url: String) -> SimState {
        let mut tenant = Tenant::generate_as(
            config.seed,
            config.people,
            &config.domain,
            Timestamp::now(),
            config.today_as,
        );
        // Delta tokens of another run are not this one's.
        tenant.delta_epoch = rand::rng().random();
        let accounts = Accounts::default();
        accounts.set_policy(config.policy.lockout());
        for person in &tenant.people {
            accounts.set_password(&person.email, &config.people_password);
        }
        if let Some((upn, password)) = &config.service_account {
            accounts.set_password(upn, password);
        }
        let mut token_key = [0u8; 32];
        rand::rng().fill(&mut token_key);
        SimState {
            base_url,
            tenant_id: config.tenant_id.clone(),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            client_cert_pem: config.client_cert_pem.clone(),
            service_account: config.service_account.as_ref().map(|(upn, _)| upn.clone()),
            domain: config.domain.clone(),
            ews_auth: config.ews_auth,
            windows: crate::windows::WindowsConnections::default(),
            seed: config.seed,
            people_password: config.people_password.clone(),
            tenant: RwLock::new(tenant),
            accounts,
            stats: Stats::default(),
            token_key,
            extensions: Mutex::new(axum::http::Extensions::new()),
            policy: RwLock::new(config.policy.clone()),
            budgets: Mutex::new(HashMap::new()),
            rng: Mutex::new(StdRng::seed_from_u64(config.seed ^ 0x5eed_fa17)),
            responses: Mutex::new(VecDeque::new()),
        }
    }

    pub fn policy(&self) -> Policy {
        self.policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_policy(&self, policy: Policy) -> Result<(), PolicyError> {
        policy.validate()?;
        self.accounts.set_policy(policy.lockout());
        *self.policy.write().unwrap_or_else(|p| p.into_inner()) = policy;
        Ok(())
    }

    /// Read access to the tenant.
    pub fn tenant(&self) -> std::sync::RwLockReadGuard<'_, Tenant> {
        self.tenant.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Write access to the tenant.
    pub fn tenant_mut(&self) -> std::sync::RwLockWriteGuard<'_, Tenant> {
        self.tenant.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides whether this request of `credential` is throttled, and counts a back-off violation
    /// when it arrives before a back-off advertised to the same credential has expired.
    pub fn throttle_check(&self, credential: &str, now: Timestamp) -> Option<Throttle> {
        let policy = self.policy();
        let mut budgets = lock(&self.budgets);
        let budget = budgets.entry(credential.to_ascii_lowercase()).or_default();
        budget.requests += 1;
        if let Some(until) = budget.backoff_until {
            let concurrent = budget
                .advertised_at
                .is_some_and(|at| now.duration_since(at) < IN_FLIGHT_GRACE);
            if now >= until {
                budget.backoff_until = None;
            } else if !concurrent {
                self.stats.record_backoff_violation(credential);
            }
        }
        if policy.retry_after_s > 0 {
            let seconds = policy.retry_after_s;
            let secs = i64::try_from(seconds).unwrap_or(i64::MAX);
            budget.backoff_until = now.saturating_add(SignedDuration::from_secs(secs)).ok();
            budget.advertised_at = Some(now);
            return Some(Throttle::RetryAfter {
                status: policy.retry_after_status,
                seconds,
            });
        }
        let n = policy.busy_every_n_requests;
        if n > 0 && budget.requests.is_multiple_of(n) {
            let ms = policy.busy_backoff_ms;
            let millis = i64::try_from(ms).unwrap_or(i64::MAX);
            budget.backoff_until = now.saturating_add(SignedDuration::from_millis(millis)).ok();
            budget.advertised_at = Some(now);
            return Some(Throttle::ServerBusy { backoff_ms: ms });
        }
        None
    }

    /// Forgets every credential's budget and back-off.
    pub fn reset_budgets(&self) {
        lock(&self.budgets).clear();
    }

    /// A seeded coin toss: true with probability `rate`.
    pub fn roll(&self, rate: f64) -> bool {
        if rate <= 0.0 {
            return false;
        }
        if rate >= 1.0 {
            return true;
        }
        lock(&self.rng).random::<f64>() < rate
    }

    /// Keeps a response body when recording is on (a test-only aid for schema validation).
    pub fn record_response(&self, operation: &str, status: u16, body: &[u8]) {
        let keep = self.policy().record_responses;
        if keep == 0 {
            return;
        }
        let mut r = lock(&self.responses);
        r.push_back(RecordedResponse {
            operation: operation.to_owned(),
            status,
            body: String::from_utf8_lossy(body).into_owned(),
        });
        while r.len() > keep {
            r.pop_front();
        }
    }

    /// The recorded responses, oldest first.
    pub fn recorded_responses(&self) -> Vec<RecordedResponse> {
        lock(&self.responses).iter().cloned().collect()
    }
}
