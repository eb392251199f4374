//! Windows authentication (NTLM, and Negotiate carrying NTLM) on the simulator's EWS endpoint:
//! a third-party NTLM client (exchangelib with `auth_type=NTLM`, over requests_ntlm/pyspnego)
//! reads free/busy; Basic is refused when only Windows schemes are offered; a wrong Windows
//! password costs exactly one failed sign-in on the account.

use std::process::Stdio;

use calgate_sim::{EwsAuth, SimConfig};
use calgate_testkit::{python, sim_http_client, sim_people, spawn_sim, workspace_root};
use jiff::{Timestamp, ToSpan};
use serde_json::Value;

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
    for token in ["NTLM !!!", "Negotiate TlRMTVNTUAADAAAA", "NTLM TlRMTVNTUAABAAAA"] {
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
    assert!(people.iter().all(|p| p.ends_with("@fabrikam.com")), "{people:?}");
}
