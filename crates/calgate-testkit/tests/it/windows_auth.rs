//! Windows authentication (NTLM, and Negotiate carrying NTLM) on premises: the gateway reads
//! free/busy over NTLM from a simulator offering only `Negotiate` and `NTLM`; a third-party NTLM
//! client (exchangelib with `auth_type=NTLM`, over requests_ntlm/pyspnego) does too; Basic is
//! refused there; a wrong Windows password costs exactly one failed sign-in on the account,
//! whether the gateway or exchangelib sends it.

use std::time::Duration;

use calgate_sim::{EwsAuth, SimConfig};
use calgate_testkit::gateway::{TestGateway, spawn_gateway_from_settings};
use calgate_testkit::{sim_http_client, sim_people, spawn_sim};
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};

use crate::sim_conformance::exchangelib_driver;

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
    let start = Timestamp::now();
    let end = start.checked_add(24.hours()).expect("end").to_string();
    let start = start.to_string();
    let mut args = vec!["--auth", "ntlm", "--login", login];
    args.extend(["freebusy", "--start", &start, "--end", &end]);
    args.extend(emails.iter().map(String::as_str));
    exchangelib_driver(sim, password, "failfast", &args).await
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
    assert_eq!(service_account_failures(&sim), (0, false));
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
    assert_eq!(service_account_failures(&sim), (1, false), "{out}");
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
fn readable_people(sim: &calgate_sim::Running, n: usize) -> Vec<String> {
    sim.state
        .tenant()
        .people
        .iter()
        .filter(|p| !p.is_room && p.email != SERVICE_UPN)
        .filter(|p| p.free_busy_access != calgate_sim::tenant::FreeBusyAccess::None)
        .map(|p| p.email.clone())
        .take(n)
        .collect()
}

/// The service account's failed sign-ins on the simulator, and whether it is locked.
fn service_account_failures(sim: &calgate_sim::Running) -> (u32, bool) {
    let account = sim
        .state
        .accounts
        .view(SERVICE_UPN, Timestamp::now())
        .expect("service account");
    (account.failed_attempts, account.locked)
}

/// A gateway with one `exchange` source granted `grants` (Windows authentication, say), and
/// the warning codes its settings were saved with.
async fn gateway_with(
    sim: &calgate_sim::Running,
    grants: Value,
    user: &str,
    password: &str,
) -> (TestGateway, Vec<String>) {
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    let mut settings = json!({
        "provider": "exchange", "ews_url": sim.urls.ews_url,
        "exchange_version": "exchange2013_sp1", "username": user, "password": password,
        "refresh_interval_s": 10, "extra_ca_pem": ca,
    });
    if let (Some(s), Some(g)) = (settings.as_object_mut(), grants.as_object()) {
        s.extend(g.clone());
    }
    let gw = spawn_gateway_from_settings().await;
    let answer = gw.save_settings(&settings).await;
    let codes = answer["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str().map(str::to_owned))
        .collect();
    (gw, codes)
}

/// The gateway signed in with `grants` reads every watched mailbox, with no failed sign-in.
async fn gateway_reads_everyone(
    sim: &calgate_sim::Running,
    grants: Value,
    user: &str,
) -> Vec<String> {
    let people = readable_people(sim, 12);
    let (gw, codes) = gateway_with(sim, grants, user, SERVICE_PASSWORD).await;
    gw.watch(&people).await;
    let health = gw
        .wait_fetched(people.len() as u64, Duration::from_secs(60))
        .await;
    assert_eq!(
        health["mailboxes"]["fresh"].as_u64(),
        Some(people.len() as u64),
        "{health}"
    );
    assert_eq!(service_account_failures(sim), (0, false));
    codes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_reads_free_busy_over_ntlm() {
    let sim = spawn_sim(windows_only()).await;
    let windows = json!({"grant_windows_auth": true});
    gateway_reads_everyone(&sim, windows, "CONTOSO\\attendant").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_reads_free_busy_over_negotiate_alone() {
    let sim = spawn_sim(SimConfig {
        ews_auth: "negotiate".parse::<EwsAuth>().expect("scheme list"),
        ..windows_only()
    })
    .await;
    gateway_reads_everyone(&sim, json!({"grant_windows_auth": true}), SERVICE_UPN).await;
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
    let both = json!({"grant_windows_auth": true, "grant_basic_auth": true});
    let codes = gateway_reads_everyone(&sim, both, SERVICE_UPN).await;
    assert!(codes.iter().any(|c| c == "windows_auth_order"), "{codes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_windows_password_from_the_gateway_is_one_failed_sign_in() {
    let sim = spawn_sim(windows_only()).await;
    let people = readable_people(&sim, 12);
    let windows = json!({"grant_windows_auth": true});
    let (gw, _) = gateway_with(&sim, windows, SERVICE_UPN, "Wrong-Passw0rd").await;
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
    assert_eq!(service_account_failures(&sim), (1, false));
}
