//! Windows authentication (NTLM, and Negotiate carrying NTLM bare or inside SPNEGO) on premises:
//! the gateway reads free/busy over NTLM from a simulator offering only `Negotiate` and `NTLM`,
//! and over SPNEGO from one offering `Negotiate` alone; a third-party client does both
//! (exchangelib with `auth_type=NTLM` over requests_ntlm/pyspnego, bare, and with pyspnego's
//! SPNEGO wrapper); Basic is refused there; a wrong Windows password costs exactly one failed
//! sign-in on the account, whether the gateway or exchangelib sends it, in either form; the
//! simulator forgets a connection's handshake when the connection closes.

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

/// Offering `Negotiate` alone, so that clients send it (requests_ntlm prefers `NTLM`).
fn negotiate_only() -> SimConfig {
    SimConfig {
        ews_auth: "negotiate".parse::<EwsAuth>().expect("scheme list"),
        ..windows_only()
    }
}

/// exchangelib's free/busy for `emails` signed in as `login` with the driver's `auth`: `ntlm`
/// (bare NTLM) or `negotiate` (NTLM inside SPNEGO).
async fn exchangelib_windows(
    sim: &calgate_sim::Running,
    auth: &str,
    login: &str,
    password: &str,
    emails: &[String],
) -> Value {
    let start = Timestamp::now();
    let end = start.checked_add(24.hours()).expect("end").to_string();
    let start = start.to_string();
    let mut args = vec!["--auth", auth, "--login", login];
    args.extend(["freebusy", "--start", &start, "--end", &end]);
    args.extend(emails.iter().map(String::as_str));
    exchangelib_driver(sim, password, "failfast", &args).await
}

/// exchangelib reads free/busy for 5 people with `auth`, signed in by UPN and by down-level name.
async fn exchangelib_reads_free_busy(sim: &calgate_sim::Running, auth: &str) {
    let emails: Vec<String> = sim_people(sim).into_iter().take(5).collect();
    for login in [SERVICE_UPN, "CONTOSO\\attendant"] {
        let out = exchangelib_windows(sim, auth, login, SERVICE_PASSWORD, &emails).await;
        let views = out["views"]
            .as_array()
            .unwrap_or_else(|| panic!("{login}: no views: {out}"));
        assert_eq!(views.len(), emails.len(), "{login}: {out}");
    }
    assert_eq!(service_account_failures(sim), (0, false));
}

/// The simulator's successful Windows sign-ins: `(bare NTLM, NTLM inside SPNEGO)`.
fn windows_logons(sim: &calgate_sim::Running) -> (u64, u64) {
    let logons = sim.state.stats.snapshot(0).windows_logons;
    (logons.raw, logons.spnego)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchangelib_reads_free_busy_over_ntlm() {
    let sim = spawn_sim(windows_only()).await;
    exchangelib_reads_free_busy(&sim, "ntlm").await;
    let (bare, spnego) = windows_logons(&sim);
    assert!(bare >= 2 && spnego == 0, "{bare} bare, {spnego} SPNEGO");
}

/// pyspnego's SPNEGO (a NegTokenInit offering NTLMSSP, the AUTHENTICATE in a NegTokenResp with
/// a mechListMIC) under `Negotiate`, as a Windows client sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchangelib_reads_free_busy_over_negotiate_in_spnego() {
    let sim = spawn_sim(negotiate_only()).await;
    exchangelib_reads_free_busy(&sim, "negotiate").await;
    let (bare, spnego) = windows_logons(&sim);
    assert!(spnego >= 2 && bare == 0, "{bare} bare, {spnego} SPNEGO");
    // requests_ntlm drops the final token; pyspnego itself checks its mechListMIC.
    assert_eq!(pyspnego_final_token(&sim).await, "complete");
}

/// A SPNEGO handshake by pyspnego alone, ending with the simulator's final token (the answer's
/// `WWW-Authenticate: Negotiate …`: accept-completed and the server's mechListMIC), which
/// pyspnego verifies. Prints `complete` when it did.
const PYSPNEGO_HANDSHAKE: &str = r#"
import base64, os, requests, spnego
url = os.environ["EWS_URL"]
client = spnego.client("CONTOSO\\attendant", os.environ["CALGATE_EWS_PASSWORD"], hostname="sim",
                       service="http", protocol="negotiate",
                       options=spnego.NegotiateOptions.use_negotiate)
session = requests.Session()
token = client.step()
while True:
    auth = "Negotiate " + base64.b64encode(token).decode()
    r = session.post(url, data=b"<x/>", headers={"Authorization": auth})
    offer = r.headers.get("www-authenticate", "")
    token = client.step(base64.b64decode(offer.split(" ", 1)[1])) if " " in offer else None
    if r.status_code != 401:
        break
print("complete" if client.complete and token is None else "incomplete")
"#;

async fn pyspnego_final_token(sim: &calgate_sim::Running) -> String {
    let mut cmd = tokio::process::Command::new(calgate_testkit::python());
    cmd.arg("-c")
        .arg(PYSPNEGO_HANDSHAKE)
        .env("EWS_URL", &sim.urls.ews_url)
        .env("CALGATE_EWS_PASSWORD", SERVICE_PASSWORD);
    if let Some(ca) = &sim.urls.ca_cert_pem_path {
        cmd.env("REQUESTS_CA_BUNDLE", ca);
    }
    let out = cmd.output().await.expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
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
    // A garbage NTLM or SPNEGO token is a plain 401, never a server error; so is a SPNEGO
    // offer without NTLM (Kerberos alone), and SPNEGO under `NTLM`.
    for token in [
        "NTLM !!!",
        "Negotiate TlRMTVNTUAADAAAA",
        "NTLM TlRMTVNTUAABAAAA",
        "Negotiate YIIB",
        "Negotiate oQcwBaADCgEC",
        "Negotiate YBsGBisGAQUFAqARMA+gDTALBgkqhkiG9xIBAgI=",
        "NTLM YBsGBisGAQUFAqARMA+gDTALBgkqhkiG9xIBAgI=",
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
    for (auth, config) in [("ntlm", windows_only()), ("negotiate", negotiate_only())] {
        let sim = spawn_sim(config).await;
        let emails: Vec<String> = sim_people(&sim).into_iter().take(2).collect();
        let out =
            exchangelib_windows(&sim, auth, "CONTOSO\\attendant", "Wrong-Passw0rd", &emails).await;
        assert!(out["views"].as_array().is_none(), "{auth} refused: {out}");
        assert_eq!(service_account_failures(&sim), (1, false), "{auth}: {out}");
    }
}

/// A started NTLM handshake (a NEGOTIATE message) on each of three kept-alive connections, then
/// the clients go: the simulator's table of connections empties.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_connections_leave_the_windows_table() {
    const NEGOTIATE: &str = "NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAF1YAAAADw==";
    let sim = spawn_sim(windows_only()).await;
    let clients: Vec<reqwest::Client> = (0..3).map(|_| sim_http_client(&sim)).collect();
    for client in &clients {
        let r = client
            .post(&sim.urls.ews_url)
            .header("authorization", NEGOTIATE)
            .body("<x/>")
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status().as_u16(), 401);
        let challenge = r
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(challenge.starts_with("NTLM TlRMTVNTUAAC"), "{challenge}");
        r.bytes().await.expect("body");
    }
    assert_eq!(sim.state.windows.len(), 3);
    drop(clients);
    // exchangelib's connections go when its process ends.
    let emails: Vec<String> = sim_people(&sim).into_iter().take(2).collect();
    exchangelib_windows(&sim, "ntlm", SERVICE_UPN, SERVICE_PASSWORD, &emails).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !sim.state.windows.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} connections left",
            sim.state.windows.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
pub(crate) fn service_account_failures(sim: &calgate_sim::Running) -> (u32, bool) {
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
    let (bare, spnego) = windows_logons(&sim);
    assert!(bare >= 1 && spnego == 0, "{bare} bare, {spnego} SPNEGO");
}

/// Under `Negotiate` the gateway wraps NTLM in SPNEGO, as Windows clients do, and checks the
/// simulator's mechListMIC in the final token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_reads_free_busy_over_negotiate_alone() {
    let sim = spawn_sim(negotiate_only()).await;
    gateway_reads_everyone(&sim, json!({"grant_windows_auth": true}), SERVICE_UPN).await;
    let (bare, spnego) = windows_logons(&sim);
    assert!(spnego >= 1 && bare == 0, "{bare} bare, {spnego} SPNEGO");
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

/// Everything logged at trace level (sspi's instrumented SPNEGO and NTLM steps included) while
/// the gateway signs in over SPNEGO holds no password.
#[tokio::test(flavor = "current_thread")]
async fn no_windows_password_reaches_the_logs() {
    let (captured, _default) = crate::entra::capture_trace_logs();
    let sim = spawn_sim(negotiate_only()).await;
    gateway_reads_everyone(&sim, json!({"grant_windows_auth": true}), SERVICE_UPN).await;
    assert!(windows_logons(&sim).1 >= 1);
    let logs = String::from_utf8_lossy(&captured.0.lock().expect("logs")).into_owned();
    assert!(logs.len() > 1000, "the run logged ({} bytes)", logs.len());
    assert!(
        !logs.contains(SERVICE_PASSWORD),
        "the password reached the logs"
    );
}
