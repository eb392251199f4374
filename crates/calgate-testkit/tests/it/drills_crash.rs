//! Failure drills, crashes: the real `calgate` binary killed with SIGKILL while settings are
//! being saved and while a refresh cycle runs, then started again on the same data directory.
//! Outcome: no acknowledged setting is lost, SQLite's own `PRAGMA integrity_check` passes, and a
//! warm restart serves the last-known data (stale by its age, never turned `free`).
//!
//! `cargo xtask test` builds the binary first; a test run without it fails naming the command.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use calgate_sim::SimConfig;

use crate::drills_throttle::{eventually, get_json, set_policy, sim_stats, tenant_people};

/// The `calgate` binary beside this test binary (`target/debug/calgate`).
pub(crate) fn calgate_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("calgate"))
        .expect("target directory");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p calgate` (or `cargo xtask test`, which builds it)",
        bin.display()
    );
    bin
}

/// A `calgate serve` process on a data directory, with an admin token.
pub(crate) struct GatewayProcess {
    child: Child,
    pub url: String,
    pub http: reqwest::Client,
}

impl GatewayProcess {
    /// Creates an admin token (first start only), then starts `calgate serve` on port 0.
    pub(crate) async fn start(data_dir: &Path, token: &str) -> GatewayProcess {
        GatewayProcess::start_logging(data_dir, token, None).await
    }

    /// Like [`GatewayProcess::start`], with the human-readable log (stderr) kept in `stderr_to`.
    pub(crate) async fn start_logging(
        data_dir: &Path,
        token: &str,
        stderr_to: Option<&Path>,
    ) -> GatewayProcess {
        GatewayProcess::launch(data_dir, token, stderr_to, &[]).await
    }

    /// Like [`GatewayProcess::start`], with these environment variables set for the gateway.
    pub(crate) async fn start_with_env(
        data_dir: &Path,
        token: &str,
        env: &[(&str, &str)],
    ) -> GatewayProcess {
        GatewayProcess::launch(data_dir, token, None, env).await
    }

    async fn launch(
        data_dir: &Path,
        token: &str,
        stderr_to: Option<&Path>,
        env: &[(&str, &str)],
    ) -> GatewayProcess {
        let stderr = match stderr_to {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("stderr file")),
            None => Stdio::null(),
        };
        let mut child = Command::new(calgate_bin())
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("calgate serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("calgate listening on ") {
                    return url.trim().to_string();
                }
            }
            panic!("calgate serve ended without listening");
        })
        .await
        .expect("calgate serve listens within 30 s");
        // Keep draining stdout so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        GatewayProcess {
            child,
            url,
            http: admin_client(token),
        }
    }

    /// `GET` of `path` (such as `/api/v1/health`) as the admin, answered with JSON.
    pub(crate) async fn get_json(&self, path: &str) -> Value {
        get_json(&self.http, &format!("{}{path}", self.url)).await
    }

    /// SIGKILL: no destructor, no flush, no graceful shutdown.
    pub(crate) async fn kill9(mut self) {
        self.child.start_kill().expect("kill -9");
        let status = self.child.wait().await.expect("wait");
        assert!(!status.success(), "killed, not exited: {status}");
    }
}

fn admin_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// `calgate token create --role admin` on a data directory.
pub(crate) async fn create_admin_token(data_dir: &Path) -> String {
    let out = Command::new(calgate_bin())
        .args(["token", "create", "--role", "admin", "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("calgate token create");
    assert!(out.status.success(), "token create: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `GET /api/v1/health` of `url`, its failures as text: for polling with `eventually` while a
/// gateway may still be starting.
pub(crate) async fn try_health(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    http.get(format!("{url}/api/v1/health"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())
}

/// SQLite's own verdict on the database file, from Python's sqlite3 module (not our code).
pub(crate) fn integrity_check(data_dir: &Path) -> String {
    let db = data_dir.join(calgate_store::DB_FILE);
    let out = std::process::Command::new(calgate_testkit::python())
        .arg("-c")
        .arg(
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             print(';'.join(r[0] for r in c.execute('PRAGMA integrity_check')))",
        )
        .arg(&db)
        .output()
        .expect("python sqlite3");
    assert!(out.status.success(), "integrity check ran: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn exchange_settings(sim: &calgate_sim::Running, config: &SimConfig, interval: u32) -> Value {
    let (upn, password) = config.service_account.clone().expect("service account");
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    json!({
        "provider": "exchange",
        "grant_basic_auth": true,
        "grant_modern_auth": false,
        "username": upn,
        "password": password,
        "exchange_version": "exchange2013_sp1",
        "ews_url": sim.urls.ews_url,
        "refresh_interval_s": interval,
        "extra_ca_pem": ca,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_settings_saves_loses_no_acknowledged_setting() {
    let config = SimConfig {
        people: 10,
        ..SimConfig::default()
    };
    let sim = calgate_testkit::spawn_sim(config.clone()).await;
    let data = tempfile::tempdir().expect("temp dir");
    let token = create_admin_token(data.path()).await;
    let mut next_interval = 10u32;
    for round in 0..3u64 {
        let gw = GatewayProcess::start(data.path(), &token).await;
        // What the restarted gateway holds must be the last acknowledged save, or the one that
        // was in flight at the kill (saved but not yet answered).
        let current = gw.get_json("/api/v1/settings/calendar").await;
        if round > 0 {
            let got = current["settings"]["refresh_interval_s"]
                .as_u64()
                .expect("interval");
            let acked = u64::from(next_interval - 1);
            assert!(
                got == acked || got == acked + 1,
                "round {round}: last acknowledged {acked}, restarted with {got}"
            );
            next_interval = u32::try_from(got).expect("small") + 1;
            assert_eq!(current["settings"]["password_set"], true, "{current}");
        }
        let http = gw.http.clone();
        let url = gw.url.clone();
        let body_for = |i: u32| exchange_settings(&sim, &config, i);
        let bodies: Vec<Value> = (next_interval..next_interval + 10_000)
            .map(body_for)
            .collect();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
        let saver = tokio::spawn(async move {
            for body in bodies {
                let i =
                    u32::try_from(body["refresh_interval_s"].as_u64().unwrap_or(0)).unwrap_or(0);
                match http
                    .put(format!("{url}/api/v1/settings/calendar"))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => {
                        let _ = tx.send(i);
                    }
                    Ok(r) => panic!("save {i} refused: {}", r.status()),
                    // The kill cuts the connection: that save was not acknowledged.
                    Err(_) => return,
                }
            }
        });
        // Kill at an arbitrary moment between 0.4 and 1.4 s into the saves.
        tokio::time::sleep(Duration::from_millis(400 + (round * 397) % 1000)).await;
        gw.kill9().await;
        let _ = saver.await;
        let mut last_acked = None;
        while let Ok(i) = rx.try_recv() {
            last_acked = Some(i);
        }
        let last_acked = last_acked.expect("some saves were acknowledged before the kill");
        eprintln!(
            "drill kill during saves: round {round}, last acknowledged interval {last_acked}"
        );
        next_interval = last_acked + 1;
        assert_eq!(integrity_check(data.path()), "ok", "round {round}");
    }
    let gw = GatewayProcess::start(data.path(), &token).await;
    let current = gw.get_json("/api/v1/settings/calendar").await;
    let got = current["settings"]["refresh_interval_s"]
        .as_u64()
        .expect("interval");
    let acked = u64::from(next_interval - 1);
    assert!(got == acked || got == acked + 1, "final: {acked} vs {got}");
    gw.kill9().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_refresh_then_warm_restart_serves_last_known_data_as_stale() {
    let config = SimConfig {
        people: 40,
        ..SimConfig::default()
    };
    let sim = calgate_testkit::spawn_sim(config.clone()).await;
    let sim_http = calgate_testkit::sim_http_client(&sim);
    let control = sim.urls.control_url.clone();
    let data = tempfile::tempdir().expect("temp dir");
    let token = create_admin_token(data.path()).await;
    let gw = GatewayProcess::start(data.path(), &token).await;
    let resp = gw
        .http
        .put(format!("{}/api/v1/settings/calendar", gw.url))
        .json(&exchange_settings(&sim, &config, 10))
        .send()
        .await
        .expect("put settings");
    assert_eq!(resp.status(), 200);
    let people = tenant_people(&sim, 30);
    let list: Vec<Value> = people.iter().map(|e| json!({"email": e})).collect();
    let resp = gw
        .http
        .put(format!("{}/api/v1/people", gw.url))
        .json(&list)
        .send()
        .await
        .expect("put people");
    assert_eq!(resp.status(), 200);
    let http = gw.http.clone();
    let url = gw.url.clone();
    eventually(Duration::from_secs(30), "everyone fresh", || async {
        let h = try_health(&http, &url).await?;
        if h["mailboxes"]["fresh"].as_u64() == Some(30) {
            Ok(())
        } else {
            Err(h.to_string())
        }
    })
    .await;
    // Last-known data is saved every 5 s; then a refresh is put in flight (slow answers) and
    // the process is killed in the middle of it.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let before = person_states(&gw.http, &gw.url, &people).await;
    set_policy(&sim_http, &control, json!({"latency_ms": 3000})).await;
    eventually(Duration::from_secs(15), "a refresh in flight", || async {
        let s = sim_stats(&sim_http, &control).await;
        if s["in_flight"].as_u64().unwrap_or(0) > 0 {
            Ok(())
        } else {
            Err(s.to_string())
        }
    })
    .await;
    gw.kill9().await;
    assert_eq!(integrity_check(data.path()), "ok");
    // Exchange is gone too: the restarted gateway has only what it saved.
    drop(sim);

    let gw = GatewayProcess::start(data.path(), &token).await;
    let after = person_states(&gw.http, &gw.url, &people).await;
    let now = jiff::Timestamp::now();
    for (b, a) in before.iter().zip(&after) {
        // The saved copy is at most one save period (5 s) older than what was shown.
        let as_of = a["as_of"]
            .as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .unwrap_or_else(|| panic!("last-known data served: {a}"));
        assert!(as_of < now, "{a}");
        assert_ne!(a["freshness"], "pending", "{a}");
        if a["as_of"] != b["as_of"] {
            continue;
        }
        // Unless a meeting boundary passed in between, the status is the one before the crash.
        let boundary_passed = b["status"]["until"]
            .as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .is_some_and(|u| u <= now);
        if !boundary_passed {
            assert_eq!(a["status"]["state"], b["status"]["state"], "{b} then {a}");
        }
    }
    // Older than two intervals, the data is reported stale (and still not free-by-default).
    let http = gw.http.clone();
    let url = gw.url.clone();
    let people2 = people.clone();
    eventually(Duration::from_secs(30), "stale after the restart", || {
        let http = http.clone();
        let url = url.clone();
        let people = people2.clone();
        async move {
            let recs = person_states(&http, &url, &people).await;
            if recs.iter().all(|r| r["freshness"] == "stale") {
                Ok(())
            } else {
                Err(recs[0].to_string())
            }
        }
    })
    .await;
    let h = gw.get_json("/api/v1/health").await;
    assert_eq!(h["mailboxes"]["stale"], 30, "{h}");
    assert_eq!(h["source"]["state"], "unreachable", "{h}");
    eprintln!("drill kill during refresh: health after warm restart {h}");
    gw.kill9().await;
    assert_eq!(integrity_check(data.path()), "ok");
}

async fn person_states(http: &reqwest::Client, url: &str, people: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for email in people {
        out.push(get_json(http, &format!("{url}/api/v1/people/{email}")).await);
    }
    out
}

fn modern_settings(sim: &calgate_sim::Running, config: &SimConfig, interval: u32) -> Value {
    let (upn, password) = config.service_account.clone().expect("service account");
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    let host = sim
        .urls
        .authority
        .trim_end_matches('/')
        .trim_end_matches(sim.state.tenant_id.as_str())
        .trim_end_matches('/')
        .to_string();
    json!({
        "provider": "office365",
        "grant_basic_auth": false,
        "grant_modern_auth": true,
        "tenant_id": sim.state.tenant_id,
        "client_id": sim.state.client_id,
        "authority_host": host,
        "ews_url": sim.urls.ews_url,
        "username": upn,
        "password": password,
        "refresh_interval_s": interval,
        "extra_ca_pem": ca,
    })
}

/// How many token requests of `grant` the simulated Entra answered, by outcome.
fn grants(stats: &Value, grant: &str) -> (u64, u64) {
    let outcomes = &stats["outcomes"][format!("entra.token.{grant}")];
    let success = outcomes["success"].as_u64().unwrap_or(0);
    let total: u64 = outcomes
        .as_object()
        .map(|o| o.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    (success, total - success)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_token_rotation_keeps_the_newest_refresh_token() {
    let config = SimConfig {
        people: 400,
        ..SimConfig::default()
    };
    let sim = calgate_testkit::spawn_sim(config.clone()).await;
    let sim_http = calgate_testkit::sim_http_client(&sim);
    let control = sim.urls.control_url.clone();
    // Four-second access tokens (renewed after two): nearly every request renews, and a used refresh
    // token is dead at once, so only the newest one can sign in again.
    let resp = sim_http
        .put(format!("{}/entra", control.trim_end_matches('/')))
        .json(&json!({"access_token_lifetime_s": 4, "revoke_rotated_refresh_tokens": true}))
        .send()
        .await
        .expect("entra settings");
    assert!(resp.status().is_success(), "{}", resp.status());
    let data = tempfile::tempdir().expect("temp dir");
    let token = create_admin_token(data.path()).await;
    let people = tenant_people(&sim, 300);
    let list: Vec<Value> = people.iter().map(|e| json!({"email": e})).collect();

    let mut gw = GatewayProcess::start(data.path(), &token).await;
    let resp = gw
        .http
        .put(format!("{}/api/v1/settings/calendar", gw.url))
        .json(&modern_settings(&sim, &config, 10))
        .send()
        .await
        .expect("put settings");
    assert_eq!(resp.status(), 200);
    let resp = gw
        .http
        .put(format!("{}/api/v1/people", gw.url))
        .json(&list)
        .send()
        .await
        .expect("put people");
    assert_eq!(resp.status(), 200);

    for round in 0..3u64 {
        // Wait for a rotation, then kill shortly after it, while the next ones are due.
        let before = grants(&sim_stats(&sim_http, &control).await, "refresh_token").0;
        eventually(Duration::from_secs(20), "a token rotation", || async {
            let stats = sim_stats(&sim_http, &control).await;
            let now = grants(&stats, "refresh_token").0;
            if now > before {
                Ok(())
            } else {
                Err(format!("{now} rotations: {}", stats["outcomes"]))
            }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(20 + (round * 173) % 400)).await;
        gw.kill9().await;
        assert_eq!(integrity_check(data.path()), "ok", "round {round}");
        gw = GatewayProcess::start(data.path(), &token).await;
        // The restarted gateway signs in with the newest refresh token: no password grant
        // again, no refused refresh token, and data flows.
        let http = gw.http.clone();
        let url = gw.url.clone();
        eventually(Duration::from_secs(30), "signed in again", || async {
            let h = try_health(&http, &url).await?;
            if h["source"]["state"] == "ok" && h["source"]["last_success"].is_string() {
                Ok(())
            } else {
                Err(h.to_string())
            }
        })
        .await;
        let stats = sim_stats(&sim_http, &control).await;
        let (passwords, password_failures) = grants(&stats, "password");
        let (rotations, refused) = grants(&stats, "refresh_token");
        eprintln!(
            "drill kill during rotation: round {round}, password grants {passwords}, \
             rotations {rotations}, refused refresh tokens {refused}"
        );
        assert_eq!(
            passwords, 1,
            "the password was used once, at the first sign-in: {stats}"
        );
        assert_eq!(password_failures, 0, "{stats}");
        assert_eq!(refused, 0, "no stale refresh token was presented: {stats}");
        assert_eq!(stats["lockouts"], 0, "{stats}");
    }
    gw.kill9().await;
}
