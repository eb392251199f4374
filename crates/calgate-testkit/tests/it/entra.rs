//! Entra ID: calgate-sim's sign-in endpoints driven by unmodified msal, and calgate-auth's grants,
//! token cache and lockout guard against the simulator over real HTTPS.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use calgate_auth::RefreshTokenStore as _;
use calgate_auth::{
    AppSecret, AttemptKind, AuthError, ClientCertificate, EntraClient, FailureClass, GrantError,
    LockoutGuard, ManualClock, MemoryRefreshTokens, OAuthSettings, Refusal, Resource, SignIn,
    TokenSource,
};
use calgate_core::Code;
use calgate_sim::entra::{EntraSettings, set_settings, settings};
use calgate_sim::tokens::{Audience, verify_bearer};
use calgate_sim::{Policy, Running, SimConfig};
use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha1::Digest as _;

const UPN: &str = "attendant@contoso.com";
const PASSWORD: &str = "Attendant-Passw0rd";
const CLIENT_SECRET: &str = "app-secret-Zq8~Lw2";
const EWS_SCOPE: &str = "https://outlook.office365.com/EWS.AccessAsUser.All";

/// A self-signed RSA certificate as an app registration would hold it.
struct AppCertificate {
    cert_pem: String,
    key_pem: String,
    thumbprint_sha1_hex: String,
}

fn app_certificate() -> AppCertificate {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    let params =
        rcgen::CertificateParams::new(vec!["calgate-test-app".to_owned()]).expect("params");
    let cert = params.self_signed(&key).expect("certificate");
    let thumbprint = sha1::Sha1::digest(cert.der())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    AppCertificate {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        thumbprint_sha1_hex: thumbprint,
    }
}

struct Sim {
    running: Running,
    http: reqwest::Client,
    cert: AppCertificate,
}

impl Sim {
    async fn start() -> Sim {
        Sim::start_with(Policy::default()).await
    }

    async fn start_with(policy: Policy) -> Sim {
        let cert = app_certificate();
        let config = SimConfig {
            people: 5,
            client_secret: Some(CLIENT_SECRET.to_owned()),
            client_cert_pem: Some(cert.cert_pem.clone()),
            policy,
            ..SimConfig::default()
        };
        let running = calgate_sim::spawn(config).await.expect("simulator starts");
        let ca_path = running
            .urls
            .ca_cert_pem_path
            .clone()
            .expect("TLS simulator has a CA");
        let ca = std::fs::read(&ca_path).expect("CA file");
        let http = reqwest::Client::builder()
            .tls_certs_merge([reqwest::Certificate::from_pem(&ca).expect("CA PEM")])
            .timeout(std::time::Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Sim {
            running,
            http,
            cert,
        }
    }

    fn state(&self) -> &calgate_sim::SimState {
        &self.running.state
    }

    /// `https://127.0.0.1:PORT` — the sign-in host, without the tenant.
    fn host(&self) -> reqwest::Url {
        let authority: reqwest::Url = self.running.urls.authority.parse().expect("authority URL");
        authority.join("/").expect("root")
    }

    fn tenant(&self) -> String {
        self.state().tenant_id.clone()
    }

    fn entra(&self, clock: &ManualClock) -> EntraClient {
        EntraClient::new(
            self.http.clone(),
            &self.host(),
            &self.tenant(),
            Arc::new(clock.clone()),
        )
        .expect("client")
    }

    fn source(
        &self,
        sign_in: SignIn,
        clock: &ManualClock,
    ) -> (TokenSource, Arc<LockoutGuard>, Arc<MemoryRefreshTokens>) {
        let guard = LockoutGuard::new(Arc::new(clock.clone()));
        let store = Arc::new(MemoryRefreshTokens::default());
        let settings = OAuthSettings {
            authority: self.host(),
            tenant: self.tenant(),
            client_id: self.state().client_id.clone(),
            sign_in,
            renew_margin: calgate_auth::DEFAULT_RENEW_MARGIN,
        };
        let source = TokenSource::new(self.http.clone(), settings, guard.clone(), store.clone())
            .expect("source");
        (source, guard, store)
    }

    fn entra_settings(&self, change: impl FnOnce(&mut EntraSettings)) {
        let mut s = settings(self.state());
        change(&mut s);
        set_settings(self.state(), s);
    }

    fn stats(&self) -> calgate_sim::stats::StatsSnapshot {
        self.state()
            .stats
            .snapshot(self.state().accounts.lockouts())
    }

    /// Requests of one operation by outcome (`success`, `auth_failed`, …).
    fn count(&self, operation: &str, outcome: &str) -> u64 {
        let snapshot = serde_json::to_value(self.stats()).expect("stats");
        snapshot["outcomes"][operation][outcome]
            .as_u64()
            .unwrap_or(0)
    }

    fn requests(&self, operation: &str) -> u64 {
        self.stats().requests.get(operation).copied().unwrap_or(0)
    }

    fn account_locked(&self) -> bool {
        self.state()
            .accounts
            .view(UPN, Timestamp::now())
            .expect("account")
            .locked
    }
}

fn password_sign_in(password: &str) -> SignIn {
    SignIn::Password {
        username: UPN.to_owned(),
        password: SecretString::from(password),
    }
}

fn clock() -> ManualClock {
    ManualClock::starting_now()
}

// ---------------------------------------------------------------------------------------------
// msal, unmodified, against the simulator

fn msal_script() -> std::path::PathBuf {
    calgate_testkit::workspace_root().join("crates/calgate-testkit/python/msal_flows.py")
}

fn msal_settings(sim: &Sim, flow: &str, extra: Value) -> Value {
    let mut s = serde_json::json!({
        "authority": sim.running.urls.authority,
        "client_id": sim.state().client_id,
        "ca": sim.running.urls.ca_cert_pem_path.as_ref().expect("CA"),
        "flow": flow,
    });
    if let (Some(map), Some(more)) = (s.as_object_mut(), extra.as_object()) {
        map.extend(more.clone());
    }
    s
}

/// Runs the driver to completion on a blocking thread; returns its JSON lines by step.
async fn run_msal(settings: Value) -> BTreeMap<String, Value> {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(calgate_testkit::python())
            .arg(msal_script())
            .arg(settings.to_string())
            .output()
            .expect("python runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "msal driver failed: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        steps(&stdout)
    })
    .await
    .expect("driver thread")
}

fn steps(stdout: &str) -> BTreeMap<String, Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| Some((v["step"].as_str()?.to_owned(), v)))
        .collect()
}

fn access_token(step: &Value) -> &str {
    step["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token in {step}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msal_password_grant_refresh_and_wrong_password() {
    let sim = Sim::start().await;
    // Every use of a refresh token retires it: msal must keep the rotated one to refresh twice.
    sim.entra_settings(|s| s.revoke_rotated_refresh_tokens = true);
    let ok = run_msal(msal_settings(
        &sim,
        "password",
        serde_json::json!({"username": UPN, "password": PASSWORD, "scopes": [EWS_SCOPE], "refreshes": 2}),
    ))
    .await;
    let claims = verify_bearer(sim.state(), access_token(&ok["password"]), Audience::Ews)
        .expect("valid EWS token");
    assert_eq!(claims.upn.as_deref(), Some(UPN));
    assert!(
        claims.scopes.iter().any(|s| s == "EWS.AccessAsUser.All"),
        "{claims:?}"
    );
    assert_eq!(
        ok["accounts"]["count"], 1,
        "msal built an account from id_token and client_info"
    );
    for step in ["refresh0", "refresh1"] {
        let refreshed = access_token(&ok[step]);
        assert_ne!(refreshed, access_token(&ok["password"]));
        verify_bearer(sim.state(), refreshed, Audience::Ews).expect("refreshed token is valid");
    }
    assert_eq!(sim.count("entra.token.refresh_token", "success"), 2);
    assert_eq!(sim.count("entra.token.password", "success"), 1);

    let wrong = run_msal(msal_settings(
        &sim,
        "password",
        serde_json::json!({"username": UPN, "password": "Not-The-Password", "scopes": [EWS_SCOPE]}),
    ))
    .await;
    assert_eq!(wrong["password"]["error"], "invalid_grant");
    assert_eq!(wrong["password"]["error_codes"], serde_json::json!([50126]));
    assert!(
        wrong["password"]["trace_id"].is_string()
            && wrong["password"]["correlation_id"].is_string()
    );
    assert_eq!(sim.count("entra.token.password", "auth_failed"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msal_device_code_flow_with_approval() {
    let sim = Sim::start().await;
    sim.entra_settings(|s| s.device_code_interval_s = 1);
    let settings = msal_settings(&sim, "device", serde_json::json!({"scopes": [EWS_SCOPE]}));
    let mut child = Command::new(calgate_testkit::python())
        .arg(msal_script())
        .arg(settings.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    let stdout = child.stdout.take().expect("stdout");
    let (first, rest) = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        (first, lines)
    })
    .await
    .expect("reader");
    let flow: Value =
        serde_json::from_str(&first).unwrap_or_else(|_| panic!("device flow line: {first:?}"));
    let user_code = flow["user_code"].as_str().expect("user code");
    // A couple of pending polls happen before the admin approves.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let approved = sim
        .http
        .post(format!(
            "{}/devicecode/{user_code}/approve",
            sim.running.urls.control_url
        ))
        .send()
        .await
        .expect("approve");
    assert_eq!(approved.status(), 204);
    let remaining = tokio::task::spawn_blocking(move || {
        let text: Vec<String> = rest.map_while(Result::ok).collect();
        let status = child.wait().expect("python exits");
        (text.join("\n"), status)
    })
    .await
    .expect("reader");
    assert!(remaining.1.success(), "driver failed: {}", remaining.0);
    let result = steps(&remaining.0);
    let claims = verify_bearer(
        sim.state(),
        access_token(&result["device_token"]),
        Audience::Ews,
    )
    .expect("valid token");
    assert_eq!(claims.upn.as_deref(), Some(UPN));
    assert!(
        sim.count("entra.token.device_code", "error") >= 1,
        "msal saw authorization_pending first"
    );
    assert_eq!(sim.count("entra.token.device_code", "success"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msal_client_credentials_with_a_certificate() {
    let sim = Sim::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let key_path = dir.path().join("app-key.pem");
    let cert_path = dir.path().join("app-cert.pem");
    let foreign_path = dir.path().join("foreign-key.pem");
    std::fs::write(&key_path, &sim.cert.key_pem).expect("key");
    std::fs::write(&cert_path, &sim.cert.cert_pem).expect("cert");
    std::fs::write(&foreign_path, app_certificate().key_pem).expect("foreign key");
    let out = run_msal(msal_settings(
        &sim,
        "client_certificate",
        serde_json::json!({
            "scopes": ["https://graph.microsoft.com/.default"],
            "private_key_pem_path": key_path, "certificate_pem_path": cert_path,
            "thumbprint": sim.cert.thumbprint_sha1_hex, "foreign_private_key_pem_path": foreign_path,
        }),
    ))
    .await;
    for step in ["certificate_sha1", "certificate_sha256"] {
        let claims = verify_bearer(sim.state(), access_token(&out[step]), Audience::Graph)
            .expect("valid Graph token");
        assert_eq!(claims.upn, None, "app-only token");
        assert!(
            claims.roles.iter().any(|r| r == "Calendars.ReadBasic.All"),
            "{claims:?}"
        );
    }
    assert_eq!(out["certificate_forged"]["error"], "invalid_client");
    assert_eq!(
        out["certificate_forged"]["error_codes"],
        serde_json::json!([700027])
    );
}

// ---------------------------------------------------------------------------------------------
// calgate-auth against the simulator

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_grant_then_rotating_refresh_tokens_are_stored_at_once() {
    let sim = Sim::start().await;
    sim.entra_settings(|s| {
        s.revoke_rotated_refresh_tokens = true;
        s.access_token_lifetime_s = Some(3600);
    });
    let clock = clock();
    let (source, _guard, store) = sim.source(password_sign_in(PASSWORD), &clock);

    let first = source.access_token(Resource::Ews).await.expect("token");
    let claims =
        verify_bearer(sim.state(), first.token.expose_secret(), Audience::Ews).expect("EWS token");
    assert_eq!(claims.upn.as_deref(), Some(UPN));
    assert_eq!(sim.requests("entra.token.password"), 1);
    // Cached until the renewal margin.
    clock.advance(SignedDuration::from_mins(54));
    source.access_token(Resource::Ews).await.expect("cached");
    assert_eq!(sim.requests("entra.token.refresh_token"), 0);
    // Past expires_in minus the margin: renewed with the refresh token, three times in a row,
    // which only works if each rotated token was stored (the simulator retires used ones).
    for round in 1..=3u64 {
        clock.advance(SignedDuration::from_mins(56));
        let renewed = source.access_token(Resource::Ews).await.expect("renewed");
        assert_ne!(renewed.token.expose_secret(), first.token.expose_secret());
        assert_eq!(sim.count("entra.token.refresh_token", "success"), round);
    }
    assert_eq!(
        sim.requests("entra.token.password"),
        1,
        "the password grant ran only once"
    );
    assert_eq!(
        store.saves(),
        4,
        "one refresh token from the password grant, three rotations"
    );

    // The same refresh token serves Graph (refresh tokens are not tied to a resource).
    let graph = source
        .access_token(Resource::Graph)
        .await
        .expect("Graph token");
    let claims = verify_bearer(sim.state(), graph.token.expose_secret(), Audience::Graph)
        .expect("Graph token");
    assert!(
        claims.scopes.iter().any(|s| s == "Calendars.ReadBasic"),
        "{claims:?}"
    );
    assert_eq!(sim.requests("entra.token.password"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_sign_in_respects_interval_and_slow_down_then_lives_on_refresh_tokens() {
    let sim = Sim::start().await;
    sim.entra_settings(|s| {
        s.device_code_interval_s = 1;
        s.slow_down_polls = 1;
    });
    let clock = clock();
    let entra = sim.entra(&clock);
    let client_id = sim.state().client_id.clone();
    let scopes = calgate_auth::scopes::join(&Resource::Ews.delegated_scopes());
    let device = entra
        .start_device_code(&client_id, &scopes)
        .await
        .expect("device code");
    assert_eq!(device.interval, 1);
    assert!(device.message.contains(&device.user_code));

    let approver = {
        let http = sim.http.clone();
        let url = format!(
            "{}/devicecode/{}/approve",
            sim.running.urls.control_url, device.user_code
        );
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            http.post(url).send().await.map(|r| r.status().as_u16())
        })
    };
    let started = std::time::Instant::now();
    let grant = entra
        .wait_for_device_code(&client_id, &device)
        .await
        .expect("signed in");
    let waited = started.elapsed();
    assert_eq!(
        approver.await.expect("approver").expect("approve request"),
        204
    );
    // One slow_down: 1 s, then 1 + 5 s before the next poll.
    assert!(
        waited >= std::time::Duration::from_secs(6),
        "slow_down honoured: {waited:?}"
    );
    let stats = serde_json::to_value(sim.stats()).expect("stats");
    assert_eq!(stats["outcomes"]["entra.token.device_code"]["success"], 1);
    assert_eq!(
        sim.requests("entra.token.device_code"),
        2,
        "one slow_down, then the token: no extra polls"
    );

    // The refresh token of the device-code sign-in now carries the source.
    let sign_in = SignIn::DeviceCode {
        username: UPN.to_owned(),
        sign_in_id: "admin-2026-11-27".to_owned(),
    };
    let (source, _guard, _store) = sim.source(sign_in, &clock);
    source
        .adopt_device_code_grant(Resource::Ews, grant)
        .expect("EWS token kept");
    // MFA becomes mandatory for the account: the admin satisfied it in the browser, so the
    // device-code sign-in's refresh tokens keep working (a password sign-in's would not).
    sim.entra_settings(|s| s.blocked_accounts = [(UPN.to_owned(), 50076)].into());
    let graph = source
        .access_token(Resource::Graph)
        .await
        .expect("Graph token from the refresh token");
    verify_bearer(sim.state(), graph.token.expose_secret(), Audience::Graph).expect("valid");
    assert_eq!(sim.count("entra.token.refresh_token", "success"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_with_secret_and_certificate() {
    let sim = Sim::start().await;
    let clock = clock();
    let (secret_source, _, _) = sim.source(
        SignIn::App(AppSecret::ClientSecret(SecretString::from(CLIENT_SECRET))),
        &clock,
    );
    let token = secret_source
        .access_token(Resource::Graph)
        .await
        .expect("secret works");
    let claims = verify_bearer(sim.state(), token.token.expose_secret(), Audience::Graph)
        .expect("Graph token");
    assert!(claims.roles.iter().any(|r| r == "Calendars.ReadBasic.All"));

    let cert = ClientCertificate::from_pem(
        &sim.cert.cert_pem,
        SecretString::from(sim.cert.key_pem.clone()),
    )
    .expect("certificate");
    assert_eq!(
        cert.thumbprint_hex(),
        sim.cert.thumbprint_sha1_hex.to_ascii_uppercase()
    );
    let (cert_source, _, _) = sim.source(SignIn::App(AppSecret::Certificate(cert)), &clock);
    let token = cert_source
        .access_token(Resource::Ews)
        .await
        .expect("certificate works");
    let claims =
        verify_bearer(sim.state(), token.token.expose_secret(), Audience::Ews).expect("EWS token");
    assert_eq!(claims.roles, vec!["full_access_as_app".to_owned()]);

    // A certificate the registration does not hold is refused, and then not used again.
    let other = app_certificate();
    let foreign = ClientCertificate::from_pem(&other.cert_pem, SecretString::from(other.key_pem))
        .expect("certificate");
    let (foreign_source, _, _) = sim.source(SignIn::App(AppSecret::Certificate(foreign)), &clock);
    let err = foreign_source
        .access_token(Resource::Graph)
        .await
        .expect_err("unknown certificate");
    assert_eq!(err.code(), "ENTRA_AADSTS700027");
    let before = sim.requests("entra.token.client_credentials");
    let again = foreign_source
        .access_token(Resource::Graph)
        .await
        .expect_err("quarantined");
    assert!(matches!(again, AuthError::AuthFailed(_)));
    assert_eq!(
        sim.requests("entra.token.client_credentials"),
        before,
        "no request after the failure"
    );

    let (wrong_secret, _, _) = sim.source(
        SignIn::App(AppSecret::ClientSecret(SecretString::from("nope"))),
        &clock,
    );
    let err = wrong_secret
        .access_token(Resource::Graph)
        .await
        .expect_err("wrong secret");
    assert_eq!(err.code(), "ENTRA_AADSTS7000215");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_callers_cause_one_token_request() {
    let sim = Sim::start().await;
    let clock = clock();
    let (source, _, _) = sim.source(password_sign_in(PASSWORD), &clock);
    let source = Arc::new(source);
    let callers: Vec<_> = (0..100)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.access_token(Resource::Ews).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for caller in callers {
        tokens.push(
            caller
                .await
                .expect("task")
                .expect("token")
                .token
                .expose_secret()
                .to_owned(),
        );
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every caller got the same token");
    assert_eq!(sim.requests("entra.token.password"), 1);
    assert_eq!(sim.requests("entra.token.refresh_token"), 0);
    assert_eq!(source.token_requests(), 1);
}

/// Runs `callers` concurrent token requests; returns how many were refused as `auth_failed`.
async fn crowd(source: &Arc<TokenSource>, callers: usize) -> usize {
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.access_token(Resource::Ews).await })
        })
        .collect();
    let mut refused = 0;
    for t in tasks {
        if let Err(AuthError::AuthFailed(_)) = t.await.expect("task") {
            refused += 1;
        }
    }
    refused
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_tried_once_then_only_probed_and_never_locks_the_account() {
    for threshold in [1u32, 3, 10] {
        let sim = Sim::start_with(Policy {
            lockout_threshold: threshold,
            ..Policy::default()
        })
        .await;
        let clock = clock();
        let (source, guard, _) = sim.source(password_sign_in("Stale-Passw0rd"), &clock);
        let source = Arc::new(source);

        assert_eq!(
            crowd(&source, 50).await,
            50,
            "threshold {threshold}: every caller gets auth_failed"
        );
        assert_eq!(
            sim.requests("entra.token.password"),
            1,
            "threshold {threshold}: exactly one failed sign-in"
        );
        let failed = source.auth_failed().expect("auth_failed");
        assert_eq!(failed.code(), "ENTRA_AADSTS50126");
        assert!(failed.reason().contains("password"));
        assert_eq!(failed.likely_causes().len(), 3);

        // Several refresh intervals of 5 min before the first probe: nothing reaches Entra.
        for _ in 0..5 {
            clock.advance(SignedDuration::from_mins(5));
            crowd(&source, 50).await;
        }
        assert_eq!(sim.requests("entra.token.password"), 1);

        // A simulated day in 5-minute steps: the probes at 30 min, 2 h 30 and 10 h 30 only.
        let mut attempts_at = Vec::new();
        for step in 0..(24 * 12) {
            clock.advance(SignedDuration::from_mins(5));
            let before = sim.requests("entra.token.password");
            crowd(&source, if step % 12 == 0 { 50 } else { 3 }).await;
            if sim.requests("entra.token.password") > before {
                attempts_at.push(step);
            }
        }
        assert_eq!(
            sim.requests("entra.token.password"),
            4,
            "threshold {threshold}: the failure and three probes in 24 h"
        );
        assert_eq!(attempts_at.len(), 3);
        let q = guard
            .quarantine_of(source.fingerprint())
            .expect("still quarantined");
        assert_eq!(q.failed_probes, 3);

        let view = sim
            .state()
            .accounts
            .view(UPN, Timestamp::now())
            .expect("account");
        if threshold == 1 {
            // A directory that locks on the first wrong password is locked by that one attempt;
            // calgate adds no failure beyond it (its probes meet the lock, not the counter).
            assert_eq!(sim.state().accounts.lockouts(), 1);
        } else {
            assert!(!view.locked, "threshold {threshold}: never locked");
            assert_eq!(sim.state().accounts.lockouts(), 0);
        }

        // "Retry now" after the admin fixed the password: one attempt at once, then normal life.
        let (fixed, _, _) = sim.source(password_sign_in(PASSWORD), &clock);
        if threshold != 1 {
            fixed
                .access_token(Resource::Ews)
                .await
                .expect("new credentials are tried at once");
        }
        source.retry_now();
        let before = sim.requests("entra.token.password");
        let _ = source.access_token(Resource::Ews).await;
        assert_eq!(
            sim.requests("entra.token.password"),
            before + 1,
            "retry now makes exactly one attempt"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_password_over_many_refresh_intervals_never_fails_a_sign_in() {
    for threshold in [1u32, 3, 10] {
        let sim = Sim::start_with(Policy {
            lockout_threshold: threshold,
            ..Policy::default()
        })
        .await;
        sim.entra_settings(|s| s.access_token_lifetime_s = Some(3600));
        let clock = clock();
        let (source, _, _) = sim.source(password_sign_in(PASSWORD), &clock);
        let source = Arc::new(source);
        // Ten hours of 5-minute refresh intervals with 20 concurrent users each.
        for _ in 0..120 {
            assert_eq!(crowd(&source, 20).await, 0);
            clock.advance(SignedDuration::from_mins(5));
        }
        assert_eq!(
            sim.requests("entra.token.password"),
            1,
            "threshold {threshold}"
        );
        // 55 min of usable life per token: a renewal every 55-60 min of simulated time.
        let refreshes = sim.requests("entra.token.refresh_token");
        assert!(
            (9..=11).contains(&refreshes),
            "threshold {threshold}: {refreshes} refreshes in 10 h"
        );
        assert_eq!(sim.stats().auth_failures, 0);
        assert!(!sim.account_locked());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_changed_elsewhere_stops_everything_after_one_failure() {
    let sim = Sim::start_with(Policy {
        lockout_threshold: 3,
        ..Policy::default()
    })
    .await;
    let clock = clock();
    let (source, _, store) = sim.source(password_sign_in(PASSWORD), &clock);
    let source = Arc::new(source);
    assert_eq!(crowd(&source, 50).await, 0);

    // The password changes in the directory; Entra revokes the refresh tokens with it.
    let changed = sim
        .http
        .put(format!(
            "{}/accounts/{UPN}/password",
            sim.running.urls.control_url
        ))
        .json(&serde_json::json!({"password": "Changed-Elsewhere-1"}))
        .send()
        .await
        .expect("control API");
    assert_eq!(changed.status(), 204);
    clock.advance(SignedDuration::from_mins(90));
    assert_eq!(crowd(&source, 50).await, 50);
    // The revoked refresh token, then the stored (stale) password once — and nothing more.
    assert_eq!(sim.count("entra.token.refresh_token", "auth_failed"), 1);
    assert_eq!(sim.count("entra.token.password", "auth_failed"), 1);
    assert_eq!(
        source.auth_failed().expect("auth_failed").code(),
        "ENTRA_AADSTS50126"
    );
    assert!(
        store.load(source.account_key()).is_none(),
        "the revoked refresh token is discarded"
    );
    clock.advance(SignedDuration::from_mins(10));
    crowd(&source, 50).await;
    assert_eq!(sim.requests("entra.token.password"), 2);
    assert!(!sim.account_locked());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refused_twice_by_the_resource_is_a_credential_failure() {
    let sim = Sim::start().await;
    let clock = clock();
    let (source, _, _) = sim.source(password_sign_in(PASSWORD), &clock);
    let first = source.access_token(Resource::Ews).await.expect("token");
    // EWS answered 401: drop the token and fetch a new one (by refresh token) once.
    assert!(matches!(
        source.refused(&first, Code::EwsHttp(401)),
        Refusal::RetryWithNewToken
    ));
    let second = source.access_token(Resource::Ews).await.expect("new token");
    assert_ne!(second.token.expose_secret(), first.token.expose_secret());
    assert_eq!(sim.count("entra.token.refresh_token", "success"), 1);
    // The late answer of another request that still used the first token changes nothing.
    assert!(matches!(
        source.refused(&first, Code::EwsHttp(401)),
        Refusal::RetryWithNewToken
    ));
    // The fresh token is refused too: the credential is stopped.
    match source.refused(&second, Code::EwsHttp(401)) {
        Refusal::Stop(failed) => assert_eq!(failed.code(), "EWS_HTTP_401"),
        other => panic!("expected a stop, got {other:?}"),
    }
    let requests = sim.requests("entra.token.refresh_token") + sim.requests("entra.token.password");
    assert!(matches!(
        source.access_token(Resource::Ews).await,
        Err(AuthError::AuthFailed(_))
    ));
    assert_eq!(
        sim.requests("entra.token.refresh_token") + sim.requests("entra.token.password"),
        requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_error_class_is_classified_from_the_wire() {
    let sim = Sim::start().await;
    let clock = clock();
    let entra = sim.entra(&clock);
    let client_id = sim.state().client_id.clone();
    let scopes = calgate_auth::scopes::join(&Resource::Ews.delegated_scopes());
    let secret = SecretString::from(PASSWORD);
    let refused = |r: Result<calgate_auth::TokenGrant, GrantError>| match r {
        Err(GrantError::Refused(f)) => *f,
        other => panic!("expected a refusal, got {other:?}"),
    };

    let f = refused(
        entra
            .password(&client_id, "nobody@contoso.com", &secret, &scopes)
            .await,
    );
    assert_eq!(
        (f.code.as_str(), f.class),
        ("ENTRA_AADSTS50034", FailureClass::Credential)
    );
    assert!(f.trace_id.is_some() && f.correlation_id.is_some() && f.timestamp.is_some());

    let f = refused(
        entra
            .password(
                "00000000-0000-0000-0000-000000000001",
                UPN,
                &secret,
                &scopes,
            )
            .await,
    );
    assert_eq!(
        (f.code.as_str(), f.class),
        ("ENTRA_AADSTS700016", FailureClass::Configuration)
    );

    let f = refused(
        entra
            .password(&client_id, UPN, &secret, "https://example.com/Nope.All")
            .await,
    );
    assert_eq!(
        (f.code.as_str(), f.class),
        ("ENTRA_AADSTS70011", FailureClass::Configuration)
    );

    let other_tenant = EntraClient::new(
        sim.http.clone(),
        &sim.host(),
        "11111111-2222-3333-4444-555555555555",
        Arc::new(clock.clone()),
    )
    .expect("client");
    let f = refused(
        other_tenant
            .password(&client_id, UPN, &secret, &scopes)
            .await,
    );
    assert_eq!(
        (f.code.as_str(), f.class),
        ("ENTRA_AADSTS90002", FailureClass::Configuration)
    );

    // The password is right but the account may not sign in: each answer keeps its code, is a
    // credential failure, and tells the admin what to do.
    for (code, words) in [
        (50055, "expired"),
        (50057, "disabled"),
        (50076, "multi-factor"),
        (50079, "multi-factor"),
        (53003, "Conditional Access"),
    ] {
        sim.entra_settings(|s| s.blocked_accounts = [(UPN.to_owned(), code)].into());
        let f = refused(entra.password(&client_id, UPN, &secret, &scopes).await);
        assert_eq!(
            (f.code.clone(), f.class),
            (format!("ENTRA_AADSTS{code}"), FailureClass::Credential)
        );
        assert!(
            f.admin_message().contains(words),
            "{code}: {}",
            f.admin_message()
        );
    }
    sim.entra_settings(|s| {
        s.blocked_accounts.clear();
        s.unconsented_permissions = vec!["EWS.AccessAsUser.All".to_owned()];
    });
    let f = refused(entra.password(&client_id, UPN, &secret, &scopes).await);
    assert_eq!(
        (f.code.as_str(), f.class),
        ("ENTRA_AADSTS65001", FailureClass::Credential)
    );
    assert!(f.admin_message().contains("consent"));

    sim.entra_settings(|s| {
        s.unconsented_permissions.clear();
        s.public_client_flows = false;
    });
    let f = refused(entra.password(&client_id, UPN, &secret, &scopes).await);
    assert_eq!(
        (f.code.as_str(), f.class, f.http_status),
        (
            "ENTRA_AADSTS7000218",
            FailureClass::Configuration,
            Some(401)
        )
    );

    sim.entra_settings(|s| {
        s.public_client_flows = true;
        s.unavailable_requests = 1;
    });
    let f = refused(entra.password(&client_id, UPN, &secret, &scopes).await);
    assert_eq!(
        (f.class, f.http_status, f.retry_after_secs),
        (FailureClass::Transient, Some(503), Some(1.0))
    );

    let f = refused(
        entra
            .refresh(&client_id, &SecretString::from("0.sim.unknown"), &scopes)
            .await,
    );
    assert_eq!(f.class, FailureClass::Credential, "{f:?}");

    // A transient failure through the token source: no quarantine, no request before the
    // Retry-After has passed, and then it works.
    sim.entra_settings(|s| s.unavailable_requests = 1);
    let (source, guard, _) = sim.source(password_sign_in(PASSWORD), &clock);
    let err = source.access_token(Resource::Ews).await.expect_err("busy");
    assert!(
        matches!(err, AuthError::Unavailable(_)) && err.retry_after_secs() == Some(1.0),
        "{err:?}"
    );
    assert!(guard.quarantine_of(source.fingerprint()).is_none());
    let sent = sim.requests("entra.token.password");
    let early = source
        .access_token(Resource::Ews)
        .await
        .expect_err("Retry-After not over");
    assert!(matches!(early, AuthError::Unavailable(_)), "{early:?}");
    assert_eq!(
        sim.requests("entra.token.password"),
        sent,
        "nothing sent before Retry-After"
    );
    clock.advance(SignedDuration::from_secs(1));
    source
        .access_token(Resource::Ews)
        .await
        .expect("works after the outage");
    assert_eq!(
        guard.admit(source.fingerprint(), "x").expect("open").kind(),
        AttemptKind::Normal
    );
}

/// A log sink shared with the test.
#[derive(Clone, Default)]
pub(crate) struct Captured(pub(crate) Arc<Mutex<Vec<u8>>>);

/// Sends every log line of this thread, at trace level, to the returned sink until the guard is
/// dropped.
pub(crate) fn capture_trace_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    // Other tests' threads register callsites concurrently; a callsite whose interest was
    // cached before this subscriber existed would stay silent here. Recompute them all now.
    tracing::callsite::rebuild_interest_cache();
    (captured, guard)
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_reaches_the_logs_or_debug_output() {
    let (captured, _default) = capture_trace_logs();

    let sim = Sim::start().await;
    sim.entra_settings(|s| s.revoke_rotated_refresh_tokens = true);
    let clock = clock();
    let (source, _, store) = sim.source(password_sign_in(PASSWORD), &clock);
    let token = source.access_token(Resource::Ews).await.expect("token");
    clock.advance(SignedDuration::from_hours(2));
    let renewed = source.access_token(Resource::Ews).await.expect("renewed");
    let refresh = store.load(source.account_key()).expect("refresh token");
    let (wrong, _, _) = sim.source(password_sign_in("Wrong-Secret-77"), &clock);
    let failure = wrong
        .access_token(Resource::Ews)
        .await
        .expect_err("wrong password");
    let (app, _, _) = sim.source(
        SignIn::App(AppSecret::ClientSecret(SecretString::from(CLIENT_SECRET))),
        &clock,
    );
    let app_token = app.access_token(Resource::Graph).await.expect("app token");

    let debug = format!(
        "{source:?} {token:?} {renewed:?} {failure:?} {failure} {wrong:?} {app:?} {app_token:?} {refresh:?}"
    );
    let logs =
        String::from_utf8_lossy(&captured.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(
        logs.contains("credential refused"),
        "the capture works: {logs}"
    );
    let secrets = [
        PASSWORD.to_owned(),
        "Wrong-Secret-77".to_owned(),
        CLIENT_SECRET.to_owned(),
        token.token.expose_secret().to_owned(),
        renewed.token.expose_secret().to_owned(),
        refresh.expose_secret().to_owned(),
        app_token.token.expose_secret().to_owned(),
    ];
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs");
        assert!(
            !debug.contains(secret.as_str()),
            "a secret reached Debug/Display output"
        );
    }
}

/// GET /v1.0/users with the authorizer's header; the HTTP status.
async fn list_users(sim: &Sim, authorization: &calgate_auth::Authorization) -> u16 {
    sim.http
        .get(format!("{}/users?$top=2", sim.running.urls.graph_url))
        .header(
            reqwest::header::AUTHORIZATION,
            authorization.header_value().clone(),
        )
        .send()
        .await
        .expect("graph answers")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_refusing_a_token_gets_one_new_token_and_a_second_refusal_stops_the_credential() {
    let sim = Sim::start().await;
    // Tokens live two seconds, but calgate's clock stands still: it believes them valid, so only
    // Graph's 401 tells it otherwise.
    sim.entra_settings(|s| s.access_token_lifetime_s = Some(2));
    let clock = clock();
    let secret = SignIn::App(AppSecret::ClientSecret(SecretString::from(CLIENT_SECRET)));
    let (source, _, _) = sim.source(secret, &clock);
    let authorizer = calgate_auth::Authorizer::OAuth(Arc::new(source));
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(3100));

    let first = authorizer.authorize(Resource::Graph).await.expect("token");
    pause().await;
    assert_eq!(list_users(&sim, &first).await, 401, "expired at Graph");
    assert!(matches!(
        authorizer.refused(first, Code::GraphHttp(401)),
        Refusal::RetryWithNewToken
    ));
    let second = authorizer
        .authorize(Resource::Graph)
        .await
        .expect("new token");
    assert_eq!(list_users(&sim, &second).await, 200);
    authorizer.accepted(second);
    assert_eq!(sim.requests("entra.token.client_credentials"), 2);

    // Later the token is refused again: one new token (the earlier refusal was forgiven by the
    // success), refused as well → the credential is stopped.
    let third = authorizer
        .authorize(Resource::Graph)
        .await
        .expect("cached token");
    pause().await;
    assert_eq!(list_users(&sim, &third).await, 401);
    assert!(matches!(
        authorizer.refused(third, Code::GraphHttp(401)),
        Refusal::RetryWithNewToken
    ));
    let fourth = authorizer
        .authorize(Resource::Graph)
        .await
        .expect("new token");
    pause().await;
    assert_eq!(list_users(&sim, &fourth).await, 401);
    match authorizer.refused(fourth, Code::GraphHttp(401)) {
        Refusal::Stop(failed) => assert_eq!(failed.code(), "GRAPH_HTTP_401"),
        other => panic!("expected a stop, got {other:?}"),
    }
    assert!(matches!(
        authorizer.authorize(Resource::Graph).await,
        Err(AuthError::AuthFailed(_))
    ));
    assert_eq!(
        sim.requests("entra.token.client_credentials"),
        3,
        "nothing sent after the stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaced_credentials_are_never_sent_again_even_by_callers_already_waiting() {
    let sim = Sim::start().await;
    let clock = clock();
    let (old, _, _) = sim.source(password_sign_in("Old-Passw0rd-1"), &clock);
    let old = Arc::new(old);
    let waiting: Vec<_> = (0..50)
        .map(|_| {
            let old = old.clone();
            tokio::spawn(async move { old.access_token(Resource::Ews).await })
        })
        .collect();
    // The admin saves new credentials while those requests are in flight.
    old.retire();
    let (new, _, _) = sim.source(password_sign_in(PASSWORD), &clock);
    let sent_before_change = old.token_requests();
    assert!(
        sent_before_change <= 1,
        "at most the one request already on the wire"
    );
    let mut retired = 0;
    for w in waiting {
        if let Err(AuthError::Retired) = w.await.expect("task") {
            retired += 1;
        }
    }
    assert!(retired >= 49, "{retired} callers refused");
    assert!(matches!(
        old.access_token(Resource::Ews).await,
        Err(AuthError::Retired)
    ));
    assert_eq!(
        old.token_requests(),
        sent_before_change,
        "the old password is never sent after the change"
    );
    new.access_token(Resource::Ews)
        .await
        .expect("new credentials work at once");
    assert_eq!(sim.count("entra.token.password", "success"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_refresh_token_falls_back_to_the_password_once_but_a_locked_account_does_not() {
    let sim = Sim::start_with(Policy {
        lockout_threshold: 3,
        ..Policy::default()
    })
    .await;
    let clock = clock();
    let (source, _, store) = sim.source(password_sign_in(PASSWORD), &clock);
    // A refresh token Entra does not know (a damaged store, another tenant's token).
    store.save(
        source.account_key(),
        &SecretString::from("0.sim.not-a-token"),
    );
    source
        .access_token(Resource::Ews)
        .await
        .expect("password grant after the refresh failed");
    assert_eq!(sim.count("entra.token.refresh_token", "auth_failed"), 1);
    assert_eq!(sim.count("entra.token.password", "success"), 1);

    // The account gets locked by someone else's guesses; the next refresh is refused with
    // AADSTS50053, and the stored password is not tried on a locked account.
    for guess in ["guess-1", "guess-2", "guess-3"] {
        let _ = sim.state().accounts.check_password(
            UPN,
            guess,
            calgate_sim::LockoutMode::EntraSmart,
            Timestamp::now(),
        );
    }
    assert!(sim.account_locked());
    clock.advance(SignedDuration::from_hours(2));
    let err = source
        .access_token(Resource::Ews)
        .await
        .expect_err("locked");
    assert_eq!(err.code(), "ENTRA_AADSTS50053");
    assert_eq!(
        sim.requests("entra.token.password"),
        1,
        "no password attempt against a locked account"
    );
    assert!(
        store.load(source.account_key()).is_some(),
        "the refresh token is kept for after the lockout"
    );
}

const SERVER_TIME_ZONES: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></soap:Header>
  <soap:Body><m:GetServerTimeZones ReturnFullTimeZoneData="false"/></soap:Body>
</soap:Envelope>"#;

/// One EWS request with whatever header the authorizer gives, reporting the verdict back.
/// `None` when the authorizer refused to give a header (quarantined).
async fn ews_request(
    sim: &Sim,
    authorizer: &calgate_auth::Authorizer,
    resource: Resource,
) -> Option<u16> {
    let authorization = authorizer.authorize(resource).await.ok()?;
    let status = sim
        .http
        .post(&sim.running.urls.ews_url)
        .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
        .header(
            reqwest::header::AUTHORIZATION,
            authorization.header_value().clone(),
        )
        .body(SERVER_TIME_ZONES)
        .send()
        .await
        .expect("EWS answers")
        .status()
        .as_u16();
    if status == 401 {
        let _ = authorizer.refused(authorization, Code::EwsHttp(401));
    } else {
        authorizer.accepted(authorization);
    }
    Some(status)
}

async fn ews_crowd(
    sim: &Arc<Sim>,
    authorizer: &calgate_auth::Authorizer,
    callers: usize,
) -> Vec<Option<u16>> {
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (sim, authorizer) = (sim.clone(), authorizer.clone());
            tokio::spawn(async move { ews_request(&sim, &authorizer, Resource::Ews).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_wrong_password_at_ews_costs_one_failed_attempt_however_many_requests_wanted_to_go() {
    // Active Directory counts every failed attempt; three lock the account.
    let sim = Arc::new(
        Sim::start_with(Policy {
            lockout_threshold: 3,
            ..Policy::default()
        })
        .await,
    );
    let clock = clock();
    let guard = LockoutGuard::new(Arc::new(clock.clone()));
    let wrong = calgate_auth::Authorizer::Basic(Arc::new(calgate_auth::BasicSignIn::new(
        calgate_auth::BasicCredential::new(UPN, SecretString::from("Stale-Passw0rd")),
        guard.clone(),
    )));
    let answers = ews_crowd(&sim, &wrong, 50).await;
    assert_eq!(
        answers.iter().filter(|a| **a == Some(401)).count(),
        1,
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|a| a.is_none()).count(),
        49,
        "the others never sent the password"
    );
    let view = sim
        .state()
        .accounts
        .view(UPN, Timestamp::now())
        .expect("account");
    assert_eq!((view.failed_attempts, view.locked), (1, false));
    match wrong.authorize(Resource::Ews).await {
        Err(AuthError::AuthFailed(failed)) => assert_eq!(failed.code(), "EWS_HTTP_401"),
        other => panic!("expected auth_failed, got {other:?}"),
    }
    // Half an hour later exactly one probe goes out.
    clock.advance(SignedDuration::from_mins(30));
    let answers = ews_crowd(&sim, &wrong, 50).await;
    assert_eq!(
        answers.iter().filter(|a| a.is_some()).count(),
        1,
        "{answers:?}"
    );
    let view = sim
        .state()
        .accounts
        .view(UPN, Timestamp::now())
        .expect("account");
    assert_eq!((view.failed_attempts, view.locked), (2, false));

    // The right password: the first request goes alone, then everyone.
    let right = calgate_auth::Authorizer::Basic(Arc::new(calgate_auth::BasicSignIn::new(
        calgate_auth::BasicCredential::new(UPN, SecretString::from(PASSWORD)),
        guard,
    )));
    let answers = ews_crowd(&sim, &right, 50).await;
    assert!(
        answers.iter().all(|a| matches!(a, Some(s) if *s != 401)),
        "{answers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ews_accepts_calgate_tokens_for_its_audience_only() {
    let sim = Arc::new(Sim::start().await);
    let clock = clock();
    let (source, _, _) = sim.source(password_sign_in(PASSWORD), &clock);
    let authorizer = calgate_auth::Authorizer::OAuth(Arc::new(source));
    let status = ews_request(&sim, &authorizer, Resource::Ews)
        .await
        .expect("token");
    assert_ne!(status, 401, "an EWS token is accepted by EWS");
    // A Graph token carries the wrong audience for EWS.
    let status = ews_request(&sim, &authorizer, Resource::Graph)
        .await
        .expect("token");
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_codes_end_when_declined_expired_or_unknown() {
    let sim = Sim::start().await;
    sim.entra_settings(|s| s.device_code_interval_s = 1);
    let clock = clock();
    let entra = sim.entra(&clock);
    let client_id = sim.state().client_id.clone();
    let scopes = calgate_auth::scopes::join(&Resource::Ews.delegated_scopes());

    let declined = entra
        .start_device_code(&client_id, &scopes)
        .await
        .expect("code");
    let answer = sim
        .http
        .post(format!(
            "{}/devicecode/{}/decline",
            sim.running.urls.control_url, declined.user_code
        ))
        .send()
        .await
        .expect("decline");
    assert_eq!(answer.status(), 204);
    let ended = entra
        .wait_for_device_code(&client_id, &declined)
        .await
        .expect_err("declined");
    assert_eq!(ended.code(), "ENTRA_DEVICE_CODE_DECLINED");

    sim.entra_settings(|s| s.device_code_expires_in_s = 1);
    let expired = entra
        .start_device_code(&client_id, &scopes)
        .await
        .expect("code");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    match entra.poll_device_code(&client_id, &expired).await {
        Err(GrantError::DeviceCodeEnded(calgate_auth::DeviceCodeEnd::Expired)) => {}
        other => panic!("expected expired_token, got {other:?}"),
    }
    // Approving a code nobody asked for is refused by the control API.
    let unknown = sim
        .http
        .post(format!(
            "{}/devicecode/NOSUCHCODE/approve",
            sim.running.urls.control_url
        ))
        .send()
        .await
        .expect("approve");
    assert_eq!(unknown.status(), 404);
}
