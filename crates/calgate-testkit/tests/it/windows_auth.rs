//! Windows authentication (NTLM, and Negotiate carrying NTLM) on premises: the gateway reads
//! free/busy over NTLM from a simulator offering only `Negotiate` and `NTLM`; a third-party NTLM
//! client (exchangelib with `auth_type=NTLM`, over requests_ntlm/pyspnego) does too; Basic is
//! refused there; a wrong Windows password costs exactly one failed sign-in on the account,
//! whether the gateway or exchangelib sends it.

use std::process::Stdio;
use std::time::Duration;

use calgate_sim::{EwsAuth, SimConfig};
use calgate_testkit::gateway::{TestGateway, spawn_gateway_from_settings};
use calgate_testkit::{python, sim_http_client, sim_people, spawn_sim, workspace_root};
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};

const SERVICE_UPN: &str = "attendant@contoso.com";
const SERVICE_PASSWORD: &str = "Attendant-Passw0rd";

fn windows_only() -> SimConfig {
    SimConfig {
        people: 20,
        ews_auth: "ntlm,negotiate".parse::<EwsAuth>().expect("scheme list"),
        ..SimConfig::default()
    }
}

/// exchangelib's free/busy for `emails` over NTLM, signed in as `login`.
async fn exchangelib_ntlm(
    sim: &calgate_sim::Running,
    login: &str,
    password: &str,
    emails: &[String],
) -> Value {
    let script = workspace_root().join("crates/calgate-testkit/python/exchangelib_driver.py");
    let start = Timestamp::now();
    let end = start.checked_add(24.hours()).expect("end");
    let mut cmd = tokio::process::Command::new(python());
    cmd.arg(script)
        .args(["--endpoint", &sim.urls.ews_url, "--user", SERVICE_UPN])
        .args(["--auth", "ntlm", "--login", login, "--policy", "failfast"])
        .args(["freebusy", "--start", &start.to_string(), "--end"])
        .arg(end.to_string())
        .args(emails)
        .env("CALGATE_EWS_PASSWORD", password)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(ca) = &sim.urls.ca_cert_pem_path {
        cmd.env("REQUESTS_CA_BUNDLE", ca);
    }
    let out = cmd.output().await.expect("exchangelib driver runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "driver output is not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchangelib_reads_free_busy_over_ntlm() {
    let sim = spawn_sim(windows_only()).await;
    let emails: Vec<String> = sim_people(&sim).into_iter().take(5).collect();
    for login in [SERVICE_UPN, "CONTOSO\\attendant"] {
        let out = exchangelib_ntlm(&sim, login, SERVICE_PASSWORD, &emails).await;
        let views = out["views"]
            .as_array()
            .unwrap_or_else(|| panic!("{login}: no views: {out}"));
        assert_eq!(views.len(), emails.len(), "{login}: {out}");
    }
    let account = sim
        .state
        .accounts
        .view(SERVICE_UPN, Timestamp::now())
        .expect("service account");
    assert_eq!(account.failed_attempts, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_is_refused_when_only_windows_schemes_are_offered() {
    let sim = spawn_sim(windows_only()).await;
    let http = sim_http_client(&sim);
    let r = http
        .post(&sim.urls.ews_url)
        .basic_auth(SERVICE_UPN, Some(SERVICE_PASSWORD))
        .body("<x/>")
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 401);
    let offers: Vec<String> = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert_eq!(offers, ["Negotiate", "NTLM"]);
    // A garbage NTLM token is a plain 401, never a server error.
    for token in [
        "NTLM !!!",
        "Negotiate TlRMTVNTUAADAAAA",
        "NTLM TlRMTVNTUAABAAAA",
    ] {
        let r = http
            .post(&sim.urls.ews_url)
            .header("authorization", token)
            .body("<x/>")
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status().as_u16(), 401, "{token}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_windows_password_is_one_failed_sign_in() {
    let sim = spawn_sim(windows_only()).await;
    let emails: Vec<String> = sim_people(&sim).into_iter().take(2).collect();
    let out = exchangelib_ntlm(&sim, "CONTOSO\\attendant", "Wrong-Passw0rd", &emails).await;
    assert!(out["views"].as_array().is_none(), "refused: {out}");
    let account = sim
        .state
        .accounts
        .view(SERVICE_UPN, Timestamp::now())
        .expect("service account");
    assert_eq!(account.failed_attempts, 1, "{out}");
    assert!(!account.locked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_domain_flag_names_the_generated_people() {
    let sim = spawn_sim(SimConfig {
        people: 10,
        domain: "fabrikam.com".to_owned(),
        ..SimConfig::default()
    })
    .await;
    let people = sim_people(&sim);
    assert!(!people.is_empty());
    assert!(
        people.iter().all(|p| p.ends_with("@fabrikam.com")),
        "{people:?}"
    );
}

/// Mailboxes the gateway can read (people, not rooms, with free/busy shared), up to `n`.
async fn readable_people(sim: &calgate_sim::Running, n: usize) -> Vec<String> {
    let people: Value = sim_http_client(sim)
        .get(format!(
            "{}/people",
            sim.urls.control_url.trim_end_matches('/')
        ))
        .send()
        .await
        .expect("people")
        .json()
        .await
        .expect("people as JSON");
    people
        .as_array()
        .expect("people list")
        .iter()
        .filter(|p| p["is_room"] == false && p["email"] != SERVICE_UPN)
        .filter(|p| p["free_busy_access"] != "none")
        .filter_map(|p| p["email"].as_str().map(str::to_owned))
        .take(n)
        .collect()
}

/// A gateway with one `exchange` source signing in with Windows authentication only.
async fn windows_gateway(sim: &calgate_sim::Running, user: &str, password: &str) -> TestGateway {
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    let gw = spawn_gateway_from_settings().await;
    gw.save_settings(&json!({
        "provider": "exchange", "grant_windows_auth": true,
        "ews_url": sim.urls.ews_url, "exchange_version": "exchange2013_sp1",
        "username": user, "password": password,
        "refresh_interval_s": 10, "extra_ca_pem": ca,
    }))
    .await;
    gw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_reads_free_busy_over_ntlm() {
    let sim = spawn_sim(windows_only()).await;
    gateway_reads_over_windows(&sim, "CONTOSO\\attendant").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_reads_free_busy_over_negotiate_alone() {
    let sim = spawn_sim(SimConfig {
        ews_auth: "negotiate".parse::<EwsAuth>().expect("scheme list"),
        ..windows_only()
    })
    .await;
    gateway_reads_over_windows(&sim, SERVICE_UPN).await;
}

/// Several grants against a server without Windows authentication: Windows is skipped without
/// a failed sign-in, and Basic, the next granted scheme the server offers, reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_then_basic_uses_basic_where_windows_is_not_offered() {
    let sim = spawn_sim(SimConfig {
        people: 20,
        ..SimConfig::default()
    })
    .await;
    let people = readable_people(&sim, 8).await;
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    let gw = spawn_gateway_from_settings().await;
    let answer = gw
        .save_settings(&json!({
            "provider": "exchange", "grant_windows_auth": true, "grant_basic_auth": true,
            "ews_url": sim.urls.ews_url, "exchange_version": "exchange2013_sp1",
            "username": SERVICE_UPN, "password": SERVICE_PASSWORD,
            "refresh_interval_s": 10, "extra_ca_pem": ca,
        }))
        .await;
    let codes: Vec<&str> = answer["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert!(codes.contains(&"windows_auth_order"), "{codes:?}");
    gw.watch(&people).await;
    let health = gw
        .wait_fetched(people.len() as u64, Duration::from_secs(60))
        .await;
    assert_eq!(
        health["mailboxes"]["fresh"].as_u64(),
        Some(people.len() as u64),
        "{health}"
    );
    let account = sim
        .state
        .accounts
        .view(SERVICE_UPN, Timestamp::now())
        .expect("service account");
    assert_eq!(account.failed_attempts, 0);
}

async fn gateway_reads_over_windows(sim: &calgate_sim::Running, user: &str) {
    let people = readable_people(sim, 12).await;
    let gw = windows_gateway(sim, user, SERVICE_PASSWORD).await;
    gw.watch(&people).await;
    let health = gw
        .wait_fetched(people.len() as u64, Duration::from_secs(60))
        .await;
    assert_eq!(
        health["mailboxes"]["fresh"].as_u64(),
        Some(people.len() as u64),
        "{health}"
    );
    let account = sim
        .state
        .accounts
        .view(SERVICE_UPN, Timestamp::now())
        .expect("service account");
    assert_eq!(account.failed_attempts, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_windows_password_from_the_gateway_is_one_failed_sign_in() {
    let sim = spawn_sim(windows_only()).await;
    let people = readable_people(&sim, 12).await;
    let gw = windows_gateway(&sim, SERVICE_UPN, "Wrong-Passw0rd").await;
    gw.watch(&people).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let h = gw.health().await;
        if h["source"]["state"] == "auth_failed" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no auth_failed: {h}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    // Every mailbox wanted a request; the guard let one handshake go.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let account = sim
        .state
        .accounts
        .view(SERVICE_UPN, Timestamp::now())
        .expect("service account");
    assert_eq!(account.failed_attempts, 1);
    assert!(!account.locked);
}
