//! The seed's three ways to lock the service account "within few seconds", played against the
//! real simulator and a real gateway configured through its API, for EWS Basic and for the Entra
//! ID password grant, with the simulator locking after 1, 3 and 10 failures:
//!
//! (a) too-frequent refreshes (10 s interval, 150 mailboxes): no failure, no lockout;
//! (b) the password changed on the server while running: exactly one failed sign-in, health
//!     `auth_failed` with the guard's code, reason, the three likely causes and a probe ~30 min
//!     ahead; nothing more within an interval; "Retry now" makes exactly one attempt; saving the
//!     new password recovers within one interval;
//! (c) credentials changed in calgate while requests are in flight: the old ones are never sent
//!     after the change (per-credential statistics of the simulator), the new ones at once.
//!
//! Also: a quarantine survives a gateway restart; the device-code sign-in (started through the
//! API, declined or approved in the simulator; then calendars are read with the admin's bearer
//! tokens, also after a restart); automatic replies by GetMailTips; the transport's verdicts on a
//! 401 (one repeat for a refused token, none for Basic, the "both granted" rule); and no secret
//! in the gateway's logs.

use std::time::Duration;

use futures::future::join_all;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use calgate_sim::SimConfig;
use calgate_testkit::gateway::{TestGateway, spawn_gateway_from_settings};
use calgate_testkit::{sim_control_put, sim_http_client, sim_stats, spawn_sim};

const SERVICE: &str = "attendant@contoso.com";
const SERVICE_PASSWORD: &str = "Attendant-Passw0rd";
const PEOPLE_PASSWORD: &str = "People-Passw0rd";
const INTERVAL_S: u64 = 10;
/// How long the simulator keeps an account locked (only a threshold of 1 ever locks here).
const LOCK_S: u64 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    Basic,
    Entra,
}

struct Rig {
    sim: calgate_sim::Running,
    http: reqwest::Client,
    gw: TestGateway,
    auth: Auth,
    threshold: u32,
}

impl Rig {
    async fn new(auth: Auth, threshold: u32) -> Rig {
        let sim = spawn_sim(SimConfig::default()).await;
        let http = sim_http_client(&sim);
        let rig = Rig {
            gw: spawn_gateway_from_settings().await,
            sim,
            http,
            auth,
            threshold,
        };
        rig.sim_put(
            "policy",
            json!({"lockout_threshold": threshold, "lockout_window_s": 3600,
                   "lockout_duration_s": LOCK_S, "ews_lockout_mode": "active_directory"}),
        )
        .await;
        // Short-lived tokens, so a password changed on the server shows within an interval
        // (a token already issued stays valid until it expires, as at Entra ID).
        rig.sim_put(
            "entra",
            json!({"access_token_lifetime_s": 8, "device_code_interval_s": 1}),
        )
        .await;
        rig
    }

    fn control(&self) -> String {
        self.sim.urls.control_url.trim_end_matches('/').to_string()
    }

    async fn sim_put(&self, path: &str, body: Value) {
        let r = self
            .http
            .put(format!("{}/{path}", self.control()))
            .json(&body)
            .send()
            .await
            .expect("sim control");
        assert!(r.status().is_success(), "PUT /_sim/{path}: {}", r.status());
    }

    async fn sim_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}/{path}", self.control()))
            .send()
            .await
            .expect("sim control")
            .json()
            .await
            .expect("sim json")
    }

    async fn account(&self, upn: &str) -> (u64, bool) {
        let a = self.sim_get(&format!("accounts/{upn}")).await;
        (
            a["failed_attempts"].as_u64().expect("failed_attempts"),
            a["locked"].as_bool().expect("locked"),
        )
    }

    /// EWS requests the simulator saw from a credential, and its EWS authentication failures.
    async fn credential(&self, name: &str) -> (u64, u64) {
        let stats = self.sim_get("stats").await;
        let c = &stats["credentials"][name];
        (
            c["requests"].as_u64().unwrap_or(0),
            c["auth_failures"].as_u64().unwrap_or(0),
        )
    }

    async fn people(&self, n: usize) -> Vec<String> {
        let people = self.sim_get("people").await;
        people
            .as_array()
            .expect("people")
            .iter()
            // Mailboxes the simulator refuses to show would make the source `degraded`.
            .filter(|p| p["is_room"] == false && p["email"] != SERVICE)
            .filter(|p| p["free_busy_access"] != "none")
            .filter_map(|p| p["email"].as_str().map(str::to_string))
            .take(n)
            .collect()
    }

    fn settings(&self, username: &str, password: &str) -> Value {
        let ca = std::fs::read_to_string(self.sim.urls.ca_cert_pem_path.as_ref().expect("TLS"))
            .expect("CA");
        match self.auth {
            Auth::Basic => json!({
                "provider": "exchange", "grant_basic_auth": true, "grant_modern_auth": false,
                "ews_url": self.sim.urls.ews_url, "exchange_version": "exchange2013_sp1",
                "username": username, "password": password,
                "refresh_interval_s": INTERVAL_S, "extra_ca_pem": ca,
            }),
            Auth::Entra => {
                let host = self
                    .sim
                    .urls
                    .authority
                    .trim_end_matches('/')
                    .trim_end_matches(self.sim.state.tenant_id.as_str())
                    .trim_end_matches('/')
                    .to_string();
                json!({
                    "provider": "office365", "grant_basic_auth": false, "grant_modern_auth": true,
                    "tenant_id": self.sim.state.tenant_id, "client_id": self.sim.state.client_id,
                    "authority_host": host, "ews_url": self.sim.urls.ews_url,
                    "username": username, "password": password,
                    "refresh_interval_s": INTERVAL_S, "extra_ca_pem": ca,
                })
            }
        }
    }

    async fn save(&self, body: &Value) {
        self.gw.save_settings(body).await;
    }

    async fn watch(&self, people: &[String]) {
        self.gw.watch(people).await;
    }

    async fn health(&self) -> Value {
        self.gw.health().await
    }

    /// Waits for the source state; panics with the last health after `within`.
    async fn wait_state(&self, state: &str, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let h = self.health().await;
            if h["source"]["state"] == state {
                return h;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{:?}/{}: no {state} within {within:?}: {h}",
                self.auth,
                self.threshold
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    async fn retry_now(&self) {
        let r = self
            .gw
            .admin
            .post(format!("{}/api/v1/source/retry", self.gw.url()))
            .send()
            .await
            .expect("retry");
        assert_eq!(r.status(), 200);
    }

    /// Token requests the current source's sign-ins sent to Entra ID.
    fn token_requests(&self) -> u64 {
        let active = self.gw.gateway.app.sign_in.active_sign_ins();
        active
            .iter()
            .map(|a| match a {
                calgate_auth::Authorizer::OAuth(t) => t.token_requests(),
                calgate_auth::Authorizer::Basic(_) | calgate_auth::Authorizer::Windows(_) => 0,
            })
            .sum()
    }

    fn label(&self) -> String {
        format!("{:?} with lockout threshold {}", self.auth, self.threshold)
    }
}

/// (a) 150 mailboxes every 10 s with the right password: no failure, no lockout.
async fn frequent_refreshes(auth: Auth, threshold: u32) {
    let rig = Rig::new(auth, threshold).await;
    let label = rig.label();
    rig.watch(&rig.people(150).await).await;
    rig.save(&rig.settings(SERVICE, SERVICE_PASSWORD)).await;
    rig.wait_state("ok", Duration::from_secs(15)).await;
    let (first, _) = rig.credential(SERVICE).await;
    // Longer than one interval: every mailbox is fetched again.
    tokio::time::sleep(Duration::from_secs(INTERVAL_S + 2)).await;
    let h = rig.wait_state("ok", Duration::from_secs(1)).await;
    let (requests, failures) = rig.credential(SERVICE).await;
    assert!(requests > first, "{label}: no refresh after an interval");
    assert_eq!(failures, 0, "{label}: EWS refused the service account");
    let stats = rig.sim_get("stats").await;
    assert_eq!(stats["auth_failures"], 0, "{label}: {stats}");
    assert_eq!(stats["lockouts"], 0, "{label}: {stats}");
    assert_eq!(rig.account(SERVICE).await, (0, false), "{label}");
    assert_eq!(h["mailboxes"]["error"], 0, "{label}: {h}");
}

/// Failed sign-ins the simulator counted for the service account: Basic 401s at EWS, or
/// password grants refused by its Entra ID.
async fn failed_attempts(rig: &Rig) -> u64 {
    let stats = rig.sim_get("stats").await;
    match rig.auth {
        Auth::Basic => stats["credentials"][SERVICE]["auth_failures"]
            .as_u64()
            .unwrap_or(0),
        Auth::Entra => stats["outcomes"]["entra.token.password"]["auth_failed"]
            .as_u64()
            .unwrap_or(0),
    }
}

/// (b) The password changed on the server while calgate runs.
async fn password_changed_on_the_server(auth: Auth, threshold: u32) {
    let rig = Rig::new(auth, threshold).await;
    let label = rig.label();
    rig.watch(&rig.people(40).await).await;
    rig.save(&rig.settings(SERVICE, SERVICE_PASSWORD)).await;
    rig.wait_state("ok", Duration::from_secs(15)).await;
    assert_eq!(failed_attempts(&rig).await, 0, "{label}");

    let new_password = "Changed-Elsewhere-42";
    rig.sim_put(
        &format!("accounts/{SERVICE}/password"),
        json!({"password": new_password}),
    )
    .await;
    let h = rig
        .wait_state("auth_failed", Duration::from_secs(INTERVAL_S + 12))
        .await;
    let failed_at = Timestamp::now();
    assert_eq!(
        failed_attempts(&rig).await,
        1,
        "{label}: exactly one failed sign-in"
    );
    let lockouts = || async { rig.sim_get("stats").await["lockouts"].as_u64().unwrap_or(0) };
    // With a threshold of 1 the single failure locks the account; nothing can prevent that.
    if threshold > 1 {
        assert_eq!(lockouts().await, 0, "{label}: the account was locked");
    }
    let source = &h["source"];
    let want_code = match auth {
        Auth::Basic => "EWS_HTTP_401",
        Auth::Entra => "ENTRA_AADSTS50126",
    };
    assert_eq!(source["code"], want_code, "{label}: {h}");
    assert!(
        source["message"].as_str().is_some_and(|m| m.len() > 20),
        "{label}: a plain reason: {h}"
    );
    assert_eq!(
        source["likely_causes"].as_array().map(Vec::len),
        Some(3),
        "{label}: the three likely causes: {h}"
    );
    let next: Timestamp = source["next_attempt"]
        .as_str()
        .expect("next_attempt")
        .parse()
        .expect("timestamp");
    let ahead = next.duration_since(failed_at);
    assert!(
        ahead > SignedDuration::from_mins(29) && ahead <= SignedDuration::from_mins(30),
        "{label}: next attempt {ahead:?} ahead"
    );
    let shown = h.to_string();
    assert!(!shown.contains(SERVICE_PASSWORD) && !shown.contains(new_password));
    let token_requests = rig.token_requests();

    // More than an interval later: no further attempt.
    tokio::time::sleep(Duration::from_secs(INTERVAL_S + 1)).await;
    assert_eq!(failed_attempts(&rig).await, 1, "{label}: tried again");
    assert_eq!(
        rig.token_requests(),
        token_requests,
        "{label}: asked Entra again"
    );
    rig.wait_state("auth_failed", Duration::from_secs(1)).await;

    // "Retry now": exactly one attempt (still with the old password, so it fails once more).
    rig.retry_now().await;
    rig.wait_state("auth_failed", Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        failed_attempts(&rig).await,
        2,
        "{label}: retry now makes exactly one attempt"
    );
    assert_eq!(
        rig.token_requests(),
        token_requests + u64::from(auth == Auth::Entra),
        "{label}: one token request for the retry"
    );
    let h = rig.wait_state("auth_failed", Duration::from_secs(2)).await;
    if threshold > 1 {
        assert_eq!(lockouts().await, 0, "{label}: the account was locked: {h}");
    }

    // The fix: the new password saved in calgate. Healthy within one interval.
    tokio::time::sleep(Duration::from_secs(LOCK_S)).await; // a threshold-1 lock ends
    rig.save(&rig.settings(SERVICE, new_password)).await;
    rig.wait_state("ok", Duration::from_secs(INTERVAL_S)).await;
    if threshold > 1 {
        assert_eq!(lockouts().await, 0, "{label}: the account was locked");
    }
    assert_eq!(rig.account(SERVICE).await, (0, false), "{label}");
}

/// (c) Credentials changed in calgate while requests with the old ones are in flight.
async fn credentials_changed_in_calgate(auth: Auth, threshold: u32) {
    let rig = Rig::new(auth, threshold).await;
    let label = rig.label();
    let people = rig.people(150).await;
    let old_user = people.first().expect("a person").clone();
    rig.watch(&people).await;
    // Slow answers keep requests in flight when the settings change.
    rig.sim_put("policy", json!({"latency_ms": 700})).await;
    rig.save(&rig.settings(&old_user, PEOPLE_PASSWORD)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while rig.credential(&old_user).await.0 == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{label}: no request"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The change must meet requests in flight: wait (briefly) until the simulator holds one,
    // however loaded the machine is, and change the settings at that moment.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let stats = rig.sim_get("stats").await;
        if stats["in_flight"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{label}: nothing in flight at the change: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rig.save(&rig.settings(SERVICE, SERVICE_PASSWORD)).await;
    let changed = tokio::time::Instant::now();
    // Counted once the save is answered: until then the old settings are the saved ones, and
    // on a loaded machine the save itself can outlast a request of the old source.
    let (old_before, _) = rig.credential(&old_user).await;
    while rig.credential(SERVICE).await.0 == 0 {
        assert!(
            changed.elapsed() < Duration::from_secs(5),
            "{label}: the new credentials were not tried at once"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    rig.wait_state("ok", Duration::from_secs(INTERVAL_S)).await;
    tokio::time::sleep(Duration::from_secs(INTERVAL_S)).await;

    let (old_after, old_failures) = rig.credential(&old_user).await;
    // Only what was already on its way (at most the two requests in flight) may still arrive.
    assert!(
        old_after <= old_before + 2,
        "{label}: the old credentials were sent after the change ({old_before} → {old_after})"
    );
    let (new_requests, new_failures) = rig.credential(SERVICE).await;
    assert!(new_requests >= 2, "{label}: {new_requests} requests");
    assert_eq!((old_failures, new_failures), (0, 0), "{label}");
    assert_eq!(rig.account(&old_user).await, (0, false), "{label}");
    assert_eq!(rig.account(SERVICE).await, (0, false), "{label}");
}

async fn all_causes(auth: Auth) {
    let mut runs: Vec<futures::future::BoxFuture<'static, ()>> = Vec::new();
    for threshold in [1, 3, 10] {
        runs.push(Box::pin(frequent_refreshes(auth, threshold)));
        runs.push(Box::pin(password_changed_on_the_server(auth, threshold)));
        runs.push(Box::pin(credentials_changed_in_calgate(auth, threshold)));
    }
    join_all(runs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ews_basic_never_locks_the_account() {
    all_causes(Auth::Basic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_password_grant_never_locks_the_account() {
    all_causes(Auth::Entra).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_sign_in_feeds_ews_with_bearer_tokens() {
    let rig = Rig::new(Auth::Entra, 3).await;
    rig.watch(&rig.people(20).await).await;
    // Modern authentication without a stored password: nothing can sign in yet.
    let mut settings = rig.settings(SERVICE, "unused");
    if let Some(s) = settings.as_object_mut() {
        s.remove("password");
    }
    rig.save(&settings).await;
    rig.wait_state("misconfigured", Duration::from_secs(5))
        .await;

    let url = format!("{}/api/v1/signin/device-code", rig.gw.url());
    let start = || async {
        let r = rig.gw.admin.post(&url).send().await.expect("start");
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.expect("json")
    };
    let state = || async {
        rig.gw
            .admin
            .get(&url)
            .send()
            .await
            .expect("status")
            .json::<Value>()
            .await
            .expect("json")
    };
    let idle: Value = rig
        .gw
        .admin
        .get(&url)
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(idle["state"], "none");

    // Declined in the simulator: the gateway says so and keeps no sign-in.
    let declined = start().await;
    let code = declined["user_code"]
        .as_str()
        .expect("user_code")
        .to_string();
    let r = rig
        .http
        .post(format!("{}/devicecode/{code}/decline", rig.control()))
        .send()
        .await
        .expect("decline");
    assert!(r.status().is_success(), "decline: {}", r.status());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while state().await["state"] == "pending" {
        assert!(tokio::time::Instant::now() < deadline, "still pending");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(state().await["state"], "declined");
    rig.wait_state("misconfigured", Duration::from_secs(1))
        .await;

    let started = start().await;
    assert_eq!(started["state"], "pending", "{started}");
    let user_code = started["user_code"]
        .as_str()
        .expect("user_code")
        .to_string();
    assert!(started["verification_uri"].as_str().is_some());
    assert!(started["interval"].as_u64().is_some_and(|i| i >= 1));
    let expires: Timestamp = started["expires_at"]
        .as_str()
        .expect("expires_at")
        .parse()
        .expect("timestamp");
    assert!(expires > Timestamp::now());
    // Console tokens may not start a sign-in.
    let forbidden = rig.gw.console.post(&url).send().await.expect("post");
    assert_eq!(forbidden.status(), 403);

    // Still pending while nobody approved (the gateway polls in the background).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pending: Value = rig
        .gw
        .admin
        .get(&url)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(pending["state"], "pending", "{pending}");

    let r = rig
        .http
        .post(format!("{}/devicecode/{user_code}/approve", rig.control()))
        .json(&json!({"upn": SERVICE}))
        .send()
        .await
        .expect("approve");
    assert!(r.status().is_success(), "approve: {}", r.status());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s: Value = rig
            .gw
            .admin
            .get(&url)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if s["state"] == "done" {
            break;
        }
        assert_eq!(s["state"], "pending", "{s}");
        assert!(tokio::time::Instant::now() < deadline, "not done: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    rig.wait_state("ok", Duration::from_secs(10)).await;
    let (requests, failures) = rig.credential(SERVICE).await;
    assert!(requests >= 1, "EWS saw no bearer request as the admin");
    assert_eq!(failures, 0);

    // A restart keeps the sign-in: its refresh token comes back from the store (sealed).
    let Rig { sim: _sim, gw, .. } = rig;
    let restarted = Restarted::from(gw).await;
    restarted.wait_state("ok").await;

    // Forgotten: without a stored password nothing signs in any more, also after a restart.
    let url = format!("{}/api/v1/signin/device-code", restarted.gateway.url());
    let client = reqwest::Client::new();
    let r = client
        .delete(&url)
        .bearer_auth(&restarted.admin_token)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 204);
    restarted.wait_state("misconfigured").await;
    let s: Value = client
        .get(&url)
        .bearer_auth(&restarted.admin_token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(s["state"], "none", "{s}");
    let again = Restarted::from_running(restarted).await;
    again.wait_state("misconfigured").await;
}

/// The gateway started again on the data directory of a stopped one.
struct Restarted {
    gateway: calgate::gateway::RunningGateway,
    admin_token: String,
    _data_dir: tempfile::TempDir,
}

impl Restarted {
    async fn from(gw: TestGateway) -> Restarted {
        let TestGateway {
            mut gateway,
            data_dir,
            admin_token,
            ..
        } = gw;
        gateway.stop();
        drop(gateway);
        let config = calgate::gateway::GatewayConfig::new(
            "127.0.0.1:0".parse().expect("address"),
            data_dir.path().to_path_buf(),
        );
        Restarted {
            gateway: calgate::gateway::start(config).await.expect("restart"),
            admin_token,
            _data_dir: data_dir,
        }
    }

    /// Restarts a restarted gateway once more.
    async fn from_running(running: Restarted) -> Restarted {
        let Restarted {
            mut gateway,
            admin_token,
            _data_dir: data_dir,
        } = running;
        gateway.stop();
        drop(gateway);
        let config = calgate::gateway::GatewayConfig::new(
            "127.0.0.1:0".parse().expect("address"),
            data_dir.path().to_path_buf(),
        );
        Restarted {
            gateway: calgate::gateway::start(config).await.expect("restart"),
            admin_token,
            _data_dir: data_dir,
        }
    }

    async fn wait_state(&self, state: &str) -> Value {
        let url = format!("{}/api/v1/health", self.gateway.url());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let h: Value = reqwest::Client::new()
                .get(&url)
                .bearer_auth(&self.admin_token)
                .send()
                .await
                .expect("health")
                .json()
                .await
                .expect("json");
            if h["source"]["state"] == state {
                return h;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "restarted: not {state}: {h}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A wrong password from the start, with 150 mailboxes wanting two requests at once: one failed
/// sign-in, for Basic and for the Entra password grant. The quarantine survives a restart of the
/// gateway: the restarted gateway is `auth_failed` at once, with the same next probe, and sends
/// nothing to EWS or Entra ID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantine_survives_a_restart() {
    tokio::join!(
        wrong_password_then_restart(Auth::Basic),
        wrong_password_then_restart(Auth::Entra)
    );
}

async fn wrong_password_then_restart(auth: Auth) {
    let rig = Rig::new(auth, 3).await;
    let label = rig.label();
    rig.watch(&rig.people(150).await).await;
    rig.save(&rig.settings(SERVICE, "Wrong-Passw0rd")).await;
    let before = rig.wait_state("auth_failed", Duration::from_secs(10)).await;
    // Several intervals' worth of wanting: still one failure.
    tokio::time::sleep(Duration::from_secs(INTERVAL_S + 1)).await;
    assert_eq!(
        failed_attempts(&rig).await,
        1,
        "{label}: one failed sign-in"
    );
    assert_eq!(rig.account(SERVICE).await, (1, false), "{label}");
    let code = before["source"]["code"].clone();

    let Rig { sim, http, gw, .. } = rig;
    let restarted = Restarted::from(gw).await;
    let after = restarted.wait_state("auth_failed").await;
    assert_eq!(after["source"]["code"], code, "{label}: {after}");
    assert_eq!(
        after["source"]["next_attempt"], before["source"]["next_attempt"],
        "{label}: the probe schedule is kept"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stats: Value = http
        .get(format!(
            "{}/stats",
            sim.urls.control_url.trim_end_matches('/')
        ))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    // The simulator counts refused sign-ins per account, at EWS and at its token endpoint.
    let failures = stats["credentials"][SERVICE]["auth_failures"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(failures, 1, "{label}: tried again: {stats}");
    match auth {
        Auth::Basic => {}
        Auth::Entra => {
            let token_requests: u64 = stats["requests"]
                .as_object()
                .expect("requests")
                .iter()
                .filter(|(k, _)| k.starts_with("entra.token"))
                .filter_map(|(_, v)| v.as_u64())
                .sum();
            assert_eq!(token_requests, 1, "{label}: {stats}");
            let sent: u64 = restarted
                .gateway
                .app
                .sign_in
                .active_sign_ins()
                .iter()
                .map(|a| match a {
                    calgate_auth::Authorizer::OAuth(t) => t.token_requests(),
                    calgate_auth::Authorizer::Basic(_) | calgate_auth::Authorizer::Windows(_) => 0,
                })
                .sum();
            assert_eq!(sent, 0, "{label}: the restart asked Entra ID again");
        }
    }
    assert_eq!(stats["lockouts"], 0, "{label}");
}

/// Automatic replies: people out of office now get their reply text from one GetMailTips per
/// chunk; people not away cost nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_replies_of_people_away_now() {
    let rig = Rig::new(Auth::Basic, 3).await;
    let people = rig.people(30).await;
    let now = Timestamp::now();
    let away = &people[..3];
    for (i, email) in away.iter().enumerate() {
        rig.sim_put(
            &format!("mailboxes/{email}/events"),
            json!([{"start": now - SignedDuration::from_hours(1),
                    "end": now + SignedDuration::from_hours(3), "busy_type": "oof"}]),
        )
        .await;
        rig.sim_put(
            &format!("mailboxes/{email}/oof"),
            json!({"message": format!("Back on Monday ({i})")}),
        )
        .await;
    }
    // Away later, not now: no reply text asked for.
    let later = &people[3];
    rig.sim_put(
        &format!("mailboxes/{later}/events"),
        json!([{"start": now + SignedDuration::from_hours(30),
                "end": now + SignedDuration::from_hours(40), "busy_type": "oof"}]),
    )
    .await;
    rig.sim_put(
        &format!("mailboxes/{later}/oof"),
        json!({"message": "Not yet", "start": now + SignedDuration::from_hours(30)}),
    )
    .await;
    let _ = rig
        .http
        .delete(format!("{}/stats", rig.control()))
        .send()
        .await;
    rig.watch(&people).await;
    rig.save(&rig.settings(SERVICE, SERVICE_PASSWORD)).await;
    rig.wait_state("ok", Duration::from_secs(15)).await;

    let record = |email: String| {
        let gw = &rig.gw;
        async move { gw.person(&email).await }
    };
    for (i, email) in away.iter().enumerate() {
        let r = record(email.clone()).await;
        assert_eq!(r["status"]["state"], "oof", "{email}: {r}");
        assert_eq!(
            r["out_of_office"]["message"],
            format!("Back on Monday ({i})"),
            "{email}: {r}"
        );
    }
    let r = record(later.clone()).await;
    assert!(r["out_of_office"]["message"].is_null(), "{later}: {r}");
    let stats = rig.sim_get("stats").await;
    assert_eq!(stats["requests"]["GetMailTips"], 1, "one chunk: {stats}");

    // The next refresh reads the calendars again but reuses the replies it already has: no
    // second GetMailTips, and the text is still shown.
    let first_as_of = record(away[0].clone()).await["as_of"].clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(INTERVAL_S * 3);
    let refreshed = loop {
        let r = record(away[0].clone()).await;
        if r["as_of"] != first_as_of {
            break r;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no second refresh of {}",
            away[0]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(refreshed["out_of_office"]["message"], "Back on Monday (0)");
    let stats = rig.sim_get("stats").await;
    assert!(
        stats["requests"]["GetUserAvailability"].as_u64() >= Some(2),
        "{stats}"
    );
    assert_eq!(
        stats["requests"]["GetMailTips"], 1,
        "replies reused: {stats}"
    );
}

/// The transport's verdicts on a 401, against a scripted EWS endpoint (it answers by the
/// `Authorization` scheme) and the simulator's Entra ID for real tokens.
mod verdicts {
    use std::sync::{Arc, Mutex};

    use calgate_auth::{
        Authorizer, BasicCredential, BasicSignIn, LockoutGuard, MemoryRefreshTokens, OAuthSettings,
        SignIn, SystemClock, TokenSource,
    };
    use calgate_ews::{EwsError, EwsRequest, ExchangeVersion};
    use calgate_sources::ews_transport::{CredentialProvider, EwsTransport, TransportConfig};
    use calgate_sources::signin::EwsSignIn;
    use secrecy::SecretString;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// What the endpoint answers to a scheme: status and `WWW-Authenticate` value.
    type Script = fn(&str) -> (u16, &'static str);

    /// A one-request-per-connection HTTP endpoint; returns its URL and the `Authorization`
    /// headers it saw, in order.
    async fn endpoint(script: Script) -> (reqwest::Url, Arc<Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 4096];
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let authorization = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("authorization")
                                .then(|| v.trim().to_string())
                        })
                        .unwrap_or_default();
                    let scheme = authorization.split(' ').next().unwrap_or("").to_string();
                    log.lock().expect("log").push(authorization);
                    let (status, challenge) = script(&scheme);
                    let mut answer = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n"
                    );
                    if !challenge.is_empty() {
                        answer.push_str(&format!("WWW-Authenticate: {challenge}\r\n"));
                    }
                    answer.push_str("\r\nok");
                    let _ = sock.write_all(answer.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        (
            format!("http://{addr}/EWS/Exchange.asmx")
                .parse()
                .expect("url"),
            seen,
        )
    }

    fn request() -> EwsRequest {
        EwsRequest {
            operation: "GetUserAvailability",
            body: "<soap:Envelope/>".into(),
            anchor_mailbox: None,
        }
    }

    fn schemes(seen: &Mutex<Vec<String>>) -> Vec<String> {
        seen.lock()
            .expect("seen")
            .iter()
            .map(|a| a.split(' ').next().unwrap_or("").to_string())
            .collect()
    }

    async fn entra(password: &str) -> (calgate_sim::Running, Arc<TokenSource>) {
        let sim = spawn_sim(SimConfig {
            people: 5,
            ..SimConfig::default()
        })
        .await;
        let authority = sim
            .urls
            .authority
            .trim_end_matches('/')
            .trim_end_matches(sim.state.tenant_id.as_str())
            .trim_end_matches('/')
            .parse()
            .expect("authority");
        let tokens = TokenSource::new(
            sim_http_client(&sim),
            OAuthSettings {
                authority,
                tenant: sim.state.tenant_id.clone(),
                client_id: sim.state.client_id.clone(),
                sign_in: SignIn::Password {
                    username: SERVICE.into(),
                    password: SecretString::from(password.to_string()),
                },
                renew_margin: calgate_auth::DEFAULT_RENEW_MARGIN,
            },
            LockoutGuard::new(Arc::new(SystemClock)),
            Arc::new(MemoryRefreshTokens::default()),
        )
        .expect("token source");
        (sim, Arc::new(tokens))
    }

    fn basic(guard: Arc<LockoutGuard>) -> Authorizer {
        Authorizer::Basic(Arc::new(BasicSignIn::new(
            BasicCredential::new(SERVICE, SecretString::from(SERVICE_PASSWORD)),
            guard,
        )))
    }

    fn transport<C: CredentialProvider>(url: reqwest::Url, credentials: C) -> EwsTransport<C> {
        let mut config = TransportConfig::new(url, ExchangeVersion::Exchange2013Sp1);
        config.timeout = Duration::from_secs(10);
        EwsTransport::new(config, credentials).expect("transport")
    }

    #[tokio::test]
    async fn a_refused_token_is_replaced_once_then_the_sign_in_stops() {
        let (_sim, tokens) = entra(SERVICE_PASSWORD).await;
        let (url, seen) = endpoint(|_| {
            (
                401,
                r#"Bearer client_id="00000002-0000-0ff1-ce00-000000000000", error="invalid_token""#,
            )
        })
        .await;
        let t = transport(url, Authorizer::OAuth(tokens.clone()));
        let err = t.send(&request()).await.expect_err("refused");
        assert!(matches!(err, EwsError::Unauthorized { .. }), "{err:?}");
        let sent = seen.lock().expect("seen").clone();
        assert_eq!(sent.len(), 2, "one repeat, never a third");
        assert_ne!(sent[0], sent[1], "the repeat carries a new token");
        let stop = t.credentials().stopped().expect("stopped");
        assert_eq!(stop.code, "EWS_HTTP_401");
        // Stopped: the next request fails at once, without reaching the server or Entra.
        let before = tokens.token_requests();
        let err = t.send(&request()).await.expect_err("stopped");
        assert!(
            matches!(
                err,
                EwsError::Credential {
                    permanent: true,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(seen.lock().expect("seen").len(), 2);
        assert_eq!(tokens.token_requests(), before);
        let failure = calgate_sources::ews_transport::source_failure_with(&err, Some(stop));
        assert!(matches!(
            failure.action,
            calgate_engine::FailureAction::CredentialFailure {
                next_attempt: Some(_)
            }
        ));
    }

    #[tokio::test]
    async fn a_basic_401_is_never_repeated() {
        let (url, seen) = endpoint(|_| (401, r#"Basic realm="ews""#)).await;
        let t = transport(url, basic(LockoutGuard::new(Arc::new(SystemClock))));
        let (r1, r2) = (request(), request());
        let (a, b) = tokio::join!(t.send(&r1), t.send(&r2));
        assert!(a.is_err() && b.is_err());
        assert_eq!(schemes(&seen), ["Basic"], "one attempt for two requests");
        assert!(t.send(&request()).await.is_err());
        assert_eq!(seen.lock().expect("seen").len(), 1);
        assert_eq!(
            t.credentials().stopped().map(|s| s.code).as_deref(),
            Some("EWS_HTTP_401")
        );
    }

    #[tokio::test]
    async fn both_granted_uses_basic_only_when_the_server_offers_no_bearer() {
        let (_sim, tokens) = entra(SERVICE_PASSWORD).await;
        let (url, seen) = endpoint(|scheme| match scheme {
            "Basic" => (200, ""),
            _ => (401, r#"Basic realm="ews", NTLM"#),
        })
        .await;
        let guard = LockoutGuard::new(Arc::new(SystemClock));
        let both = Arc::new(EwsSignIn::prefer_modern(
            Authorizer::OAuth(tokens),
            basic(guard),
        ));
        let t = transport(url, both);
        t.send(&request())
            .await
            .expect("Basic after a Bearer-less challenge");
        t.send(&request()).await.expect("Basic from now on");
        assert_eq!(schemes(&seen), ["Bearer", "Basic", "Basic"]);
    }

    #[tokio::test]
    async fn both_granted_never_falls_back_to_basic_after_a_credential_failure() {
        let (_sim, tokens) = entra("Wrong-Passw0rd").await;
        let (url, seen) = endpoint(|scheme| match scheme {
            "Basic" => (200, ""),
            _ => (401, r#"Basic realm="ews""#),
        })
        .await;
        let guard = LockoutGuard::new(Arc::new(SystemClock));
        let both = Arc::new(EwsSignIn::prefer_modern(
            Authorizer::OAuth(tokens),
            basic(guard),
        ));
        let t = transport(url, both);
        assert!(t.send(&request()).await.is_err());
        assert!(t.send(&request()).await.is_err());
        assert!(seen.lock().expect("seen").is_empty(), "nothing reached EWS");
        assert_eq!(
            t.credentials().stopped().map(|s| s.code).as_deref(),
            Some("ENTRA_AADSTS50126")
        );
    }

    /// An endpoint that answers GetUserAvailability with `availability` and GetMailTips with
    /// a bare 500; returns its URL and the operations it saw.
    async fn mail_tips_failing(availability: Vec<u8>) -> (reqwest::Url, Arc<Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let availability = Arc::new(availability);
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (log, availability) = (log.clone(), availability.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    loop {
                        let mut chunk = [0u8; 8192];
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break;
                        }
                    }
                    let text = String::from_utf8_lossy(&buf);
                    let (operation, status, body) = if text.contains("GetMailTips") {
                        ("GetMailTips", 500, Vec::new())
                    } else {
                        ("GetUserAvailability", 200, availability.to_vec())
                    };
                    log.lock().expect("log").push(operation.to_string());
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(&body).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        (
            format!("http://{addr}/EWS/Exchange.asmx")
                .parse()
                .expect("url"),
            seen,
        )
    }

    /// A GetMailTips answered ErrorServerBusy keeps the batch, and its back-off is honoured
    /// by the source's next request although the scheduler never saw it.
    #[tokio::test]
    async fn a_busy_get_mail_tips_back_off_is_honoured() {
        use calgate_engine::CalendarSource;
        use calgate_ews::RequestedView;
        use calgate_sources::ews_transport::{BasicCredentials, EwsSource};

        let sim = spawn_sim(SimConfig {
            people: 5,
            ..SimConfig::default()
        })
        .await;
        let http = sim_http_client(&sim);
        let person = "away@contoso.com";
        let now = Timestamp::now();
        for (path, body) in [
            (
                format!("mailboxes/{person}/events"),
                json!([{"start": now - SignedDuration::from_hours(1),
                        "end": now + SignedDuration::from_hours(2), "busy_type": "oof"}]),
            ),
            (
                format!("mailboxes/{person}/oof"),
                json!({"message": "Away"}),
            ),
            // Every second request of the account is busy: the GetMailTips after each
            // GetUserAvailability.
            (
                "policy".to_string(),
                json!({"busy_every_n_requests": 2, "busy_backoff_ms": 1500}),
            ),
        ] {
            sim_control_put(&http, &sim, &path, &body).await;
        }
        let mut config = TransportConfig::new(
            sim.urls.ews_url.parse().expect("url"),
            ExchangeVersion::Exchange2013Sp1,
        );
        config.extra_ca_pem =
            Some(std::fs::read(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA"));
        let source = EwsSource::new(
            EwsTransport::new(
                config,
                BasicCredentials::new(SERVICE, SERVICE_PASSWORD).expect("basic"),
            )
            .expect("transport"),
            RequestedView::Detailed,
        )
        .with_mail_tips(SERVICE);
        let window = calgate_engine::Window {
            start: now - SignedDuration::from_hours(2),
            end: now + SignedDuration::from_hours(24),
        };
        let mailboxes = [person.to_string()];
        let first = source
            .fetch(&mailboxes, window)
            .await
            .expect("the batch stands");
        assert!(first.first().is_some_and(|a| a.error.is_none()));
        let started = tokio::time::Instant::now();
        source
            .fetch(&mailboxes, window)
            .await
            .expect("second batch");
        let stats = sim_stats(&http, &sim).await;
        assert_eq!(stats["requests"]["GetMailTips"], 2, "{stats}");
        assert_eq!(stats["backoff_violations"], 0, "{stats}");
        assert!(
            started.elapsed() >= Duration::from_millis(1000),
            "the second fetch did not wait ({:?})",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_failing_get_mail_tips_never_fails_the_batch() {
        use calgate_core::BusyType;
        use calgate_engine::CalendarSource;
        use calgate_ews::{AvailabilityRequest, MailboxBatch, RequestedView};
        use calgate_sources::ews_transport::{BasicCredentials, EwsSource};

        // A real answer of the simulator for someone out of office now.
        let sim = spawn_sim(SimConfig {
            people: 5,
            ..SimConfig::default()
        })
        .await;
        let http = sim_http_client(&sim);
        let person = "away@contoso.com";
        let now = Timestamp::now();
        sim_control_put(
            &http,
            &sim,
            &format!("mailboxes/{person}/events"),
            &json!([{"start": now - SignedDuration::from_hours(1),
                     "end": now + SignedDuration::from_hours(2), "busy_type": "oof"}]),
        )
        .await;
        let mut config = TransportConfig::new(
            sim.urls.ews_url.parse().expect("url"),
            ExchangeVersion::Exchange2013Sp1,
        );
        config.extra_ca_pem =
            Some(std::fs::read(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA"));
        let real = EwsTransport::new(
            config,
            BasicCredentials::new(SERVICE, SERVICE_PASSWORD).expect("basic"),
        )
        .expect("transport");
        let (start, end) = (
            now - SignedDuration::from_hours(2),
            now + SignedDuration::from_hours(24),
        );
        let batch = MailboxBatch::split([person.to_string()])
            .expect("batch")
            .pop()
            .expect("one batch");
        let request = AvailabilityRequest::new(batch, start, end, RequestedView::Detailed);
        let answer = real
            .send(&request.to_request(real.soap_header()).expect("request"))
            .await
            .expect("the simulator answers");

        let (url, seen) = mail_tips_failing(answer).await;
        let source = EwsSource::new(
            transport(
                url,
                BasicCredentials::new(SERVICE, SERVICE_PASSWORD).expect("basic"),
            ),
            RequestedView::Detailed,
        )
        .with_mail_tips(SERVICE);
        let mailboxes = [person.to_string()];
        let fetched = source
            .fetch(&mailboxes, calgate_engine::Window { start, end })
            .await
            .expect("the batch stands without mail tips");
        assert_eq!(
            *seen.lock().expect("seen"),
            ["GetUserAvailability", "GetMailTips"]
        );
        let a = fetched.first().expect("one answer");
        assert!(a.error.is_none(), "{a:?}");
        assert!(
            a.events.iter().any(|e| e.busy_type == BusyType::Oof),
            "{a:?}"
        );
        assert!(
            a.out_of_office
                .as_ref()
                .and_then(|o| o.message.as_ref())
                .is_none()
        );
    }
}

/// Everything the gateway logs (at trace level) while it signs in with Basic and with Entra ID,
/// meets a changed password and is given new credentials holds none of the passwords, their
/// Basic encodings or the stored refresh token.
#[tokio::test(flavor = "current_thread")]
async fn no_secret_reaches_the_gateway_logs() {
    let (captured, _default) = crate::entra::capture_trace_logs();

    let changed = "Changed-Secret-913";
    let (basic, entra) = tokio::join!(
        sign_in_through_a_password_change(Auth::Basic, changed),
        sign_in_through_a_password_change(Auth::Entra, changed)
    );
    let mut secrets = vec![SERVICE_PASSWORD.to_string(), changed.to_string()];
    secrets.extend(basic.into_iter().chain(entra));
    for password in [SERVICE_PASSWORD, changed] {
        let header = calgate_auth::BasicCredential::new(
            SERVICE,
            secrecy::SecretString::from(password.to_string()),
        )
        .header_value();
        let header = secrecy::ExposeSecret::expose_secret(&header);
        secrets.push(header.trim_start_matches("Basic ").to_string());
    }
    let logs = String::from_utf8_lossy(&captured.0.lock().expect("logs")).into_owned();
    assert!(logs.len() > 1000, "the run logged ({} bytes)", logs.len());
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret reached the logs ({} chars)",
            secret.len()
        );
    }
}

/// Signs in, meets a password changed on the server, is given the new one; answers the stored
/// refresh token (Entra) to look for in the logs.
async fn sign_in_through_a_password_change(auth: Auth, changed: &str) -> Option<String> {
    let rig = Rig::new(auth, 3).await;
    rig.watch(&rig.people(5).await).await;
    rig.save(&rig.settings(SERVICE, SERVICE_PASSWORD)).await;
    rig.wait_state("ok", Duration::from_secs(15)).await;
    let mut refresh_token = None;
    if auth == Auth::Entra {
        let key = {
            let active = rig.gw.gateway.app.sign_in.active_sign_ins();
            match active.first() {
                Some(calgate_auth::Authorizer::OAuth(t)) => t.account_key().credential.clone(),
                other => panic!("not an Entra sign-in: {other:?}"),
            }
        };
        let refresh = rig
            .gw
            .gateway
            .app
            .store
            .load_refresh_token(&key)
            .await
            .expect("store")
            .expect("a stored refresh token");
        refresh_token = Some(secrecy::ExposeSecret::expose_secret(&refresh).to_string());
    }
    rig.sim_put(
        &format!("accounts/{SERVICE}/password"),
        json!({"password": changed}),
    )
    .await;
    rig.wait_state("auth_failed", Duration::from_secs(INTERVAL_S + 12))
        .await;
    rig.save(&rig.settings(SERVICE, changed)).await;
    rig.wait_state("ok", Duration::from_secs(INTERVAL_S)).await;
    refresh_token
}
