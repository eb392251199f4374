//! `/metrics` and the per-source health against a real gateway configured through its API and a
//! real simulator: the latency histogram counts exactly the GetUserAvailability requests the
//! simulator answered, an ErrorServerBusy shows as outcome `EWS_SERVER_BUSY` and a `retry_after`
//! back-off, and a refused password counts exactly one auth failure.

use std::time::Duration;

use serde_json::{Value, json};

use calgate_sim::SimConfig;
use calgate_testkit::gateway::{TestGateway, spawn_gateway_from_settings};
use calgate_testkit::{sim_http_client, spawn_sim};

use crate::drills_throttle::{eventually, get_json, set_policy, sim_stats, tenant_people};

const SERVICE: &str = "attendant@contoso.com";
const SERVICE_PASSWORD: &str = "Attendant-Passw0rd";
/// Long enough that no second round starts while a test compares counts.
const INTERVAL_S: u64 = 300;
const LABELS: &str = "source=\"default\",operation=\"availability\"";

/// EWS Basic settings for the simulator.
fn settings(sim: &calgate_sim::Running, password: &str) -> Value {
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    json!({
        "provider": "exchange", "grant_basic_auth": true, "grant_modern_auth": false,
        "ews_url": sim.urls.ews_url, "exchange_version": "exchange2013_sp1",
        "username": SERVICE, "password": password,
        "refresh_interval_s": INTERVAL_S, "extra_ca_pem": ca,
    })
}

/// People whose calendars the simulator shows to the service account.
fn people(sim: &calgate_sim::Running, n: usize) -> Vec<String> {
    tenant_people(sim, n + 1)
        .into_iter()
        .filter(|e| !e.eq_ignore_ascii_case(SERVICE))
        .take(n)
        .collect()
}

async fn scrape(gw: &TestGateway) -> String {
    let r = gw
        .admin
        .get(format!("{}/metrics", gw.url()))
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), 200);
    r.text().await.expect("metrics text")
}

/// The value of one series (name and labels exactly as rendered), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .find(|(s, _)| *s == series)
        .and_then(|(_, v)| v.parse().ok())
}

fn count(text: &str) -> Option<f64> {
    value(
        text,
        &format!("calgate_source_request_duration_seconds_count{{{LABELS}}}"),
    )
}

fn outcome(text: &str, outcome: &str) -> f64 {
    value(
        text,
        &format!("calgate_source_responses_total{{{LABELS},outcome=\"{outcome}\"}}"),
    )
    .unwrap_or(0.0)
}

fn sim_requests(stats: &Value, operation: &str) -> f64 {
    stats["requests"][operation].as_f64().unwrap_or(0.0)
}

async fn wait_fresh(gw: &TestGateway, n: u64) {
    let http = gw.admin.clone();
    let url = format!("{}/api/v1/health", gw.url());
    eventually(Duration::from_secs(30), "every mailbox fresh", || async {
        let h = get_json(&http, &url).await;
        if h["mailboxes"]["fresh"].as_u64().unwrap_or(0) >= n {
            Ok(())
        } else {
            Err(h.to_string())
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_histogram_and_outcomes_match_what_the_simulator_answered() {
    let sim = spawn_sim(SimConfig::default()).await;
    let sim_http = sim_http_client(&sim);
    let control = sim.urls.control_url.clone();
    let gw = spawn_gateway_from_settings().await;
    gw.save_settings(&settings(&sim, SERVICE_PASSWORD)).await;
    let everyone = people(&sim, 160);
    assert_eq!(everyone.len(), 160, "the simulator has enough people");
    // 150 people: two GetUserAvailability requests of at most 100.
    gw.watch(&everyone[..150]).await;
    wait_fresh(&gw, 150).await;

    let text = scrape(&gw).await;
    let stats = sim_stats(&sim_http, &control).await;
    let answered = sim_requests(&stats, "GetUserAvailability");
    assert!(answered >= 2.0, "{stats}");
    assert_eq!(count(&text), Some(answered), "histogram count:\n{text}");
    assert_eq!(
        value(
            &text,
            &format!("calgate_source_request_duration_seconds_bucket{{{LABELS},le=\"+Inf\"}}")
        ),
        Some(answered)
    );
    assert_eq!(outcome(&text, "ok"), answered, "{text}");
    let sum = value(
        &text,
        &format!("calgate_source_request_duration_seconds_sum{{{LABELS}}}"),
    );
    assert!(sum.is_some_and(|s| s > 0.0), "{sum:?}");
    assert_eq!(
        value(
            &text,
            "calgate_source_health_state{source=\"default\",state=\"ok\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "calgate_source_info{source=\"default\",protocol=\"ews\"}"
        ),
        Some(1.0),
        "{text}"
    );

    let health = gw.health().await;
    let sources = health["sources"].as_array().expect("sources array");
    assert_eq!(sources.len(), 1, "{health}");
    assert_eq!(sources[0]["id"], "default", "{health}");
    assert_eq!(sources[0]["state"], "ok", "{health}");
    assert!(sources[0]["last_success"].is_string(), "{health}");
    assert_eq!(
        health["source"]["state"], "ok",
        "top level unchanged: {health}"
    );

    // Every request is ErrorServerBusy (1 s back-off) while five new people are fetched.
    set_policy(
        &sim_http,
        &control,
        json!({"busy_every_n_requests": 1, "busy_backoff_ms": 1000}),
    )
    .await;
    gw.watch(&everyone).await;
    let admin = gw.admin.clone();
    let metrics_url = format!("{}/metrics", gw.url());
    eventually(
        Duration::from_secs(20),
        "a server-busy answer counted",
        || async {
            let text = admin
                .get(&metrics_url)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .text()
                .await
                .map_err(|e| e.to_string())?;
            if outcome(&text, "EWS_SERVER_BUSY") >= 1.0 {
                Ok(())
            } else {
                Err(text)
            }
        },
    )
    .await;
    set_policy(&sim_http, &control, json!({"busy_every_n_requests": 0})).await;
    wait_fresh(&gw, 160).await;

    // Settled: every answer the simulator gave is counted once, by what it was.
    let text = scrape(&gw).await;
    let stats = sim_stats(&sim_http, &control).await;
    let answered = sim_requests(&stats, "GetUserAvailability");
    let busy = stats["outcomes"]["GetUserAvailability"]["throttled"]
        .as_f64()
        .unwrap_or(0.0);
    assert!(busy >= 1.0, "{stats}");
    assert_eq!(count(&text), Some(answered), "{stats}\n{text}");
    assert_eq!(outcome(&text, "EWS_SERVER_BUSY"), busy, "{stats}\n{text}");
    assert_eq!(outcome(&text, "ok") + busy, answered, "{stats}\n{text}");
    assert_eq!(
        value(
            &text,
            "calgate_source_backoffs_total{source=\"default\",kind=\"retry_after\"}"
        ),
        Some(busy),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "calgate_source_auth_failures_total{source=\"default\"}"
        ),
        Some(0.0)
    );
    eprintln!(
        "metrics: {answered} GetUserAvailability answered, {busy} of them ErrorServerBusy; \
         histogram sum {:?} s",
        value(
            &text,
            &format!("calgate_source_request_duration_seconds_sum{{{LABELS}}}")
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_password_counts_one_auth_failure() {
    let sim = spawn_sim(SimConfig::default()).await;
    let sim_http = sim_http_client(&sim);
    let control = sim.urls.control_url.clone();
    set_policy(
        &sim_http,
        &control,
        json!({"lockout_threshold": 3, "lockout_window_s": 3600, "lockout_duration_s": 60,
               "ews_lockout_mode": "active_directory"}),
    )
    .await;
    let gw = spawn_gateway_from_settings().await;
    let before = scrape(&gw).await;
    assert_eq!(
        value(
            &before,
            "calgate_source_auth_failures_total{source=\"default\"}"
        ),
        Some(0.0),
        "{before}"
    );
    // 60 people: one request, so exactly one sign-in is refused.
    gw.watch(&people(&sim, 60)).await;
    gw.save_settings(&settings(&sim, "Not-The-Passw0rd")).await;
    let admin = gw.admin.clone();
    let health_url = format!("{}/api/v1/health", gw.url());
    eventually(Duration::from_secs(20), "auth_failed", || async {
        let h = get_json(&admin, &health_url).await;
        if h["source"]["state"] == "auth_failed" {
            Ok(())
        } else {
            Err(h.to_string())
        }
    })
    .await;
    // Nothing more is tried with the refused password: the count stays at one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let text = scrape(&gw).await;
    let stats = sim_stats(&sim_http, &control).await;
    assert_eq!(stats["auth_failures"], 1, "{stats}");
    assert_eq!(
        value(
            &text,
            "calgate_source_auth_failures_total{source=\"default\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "calgate_source_health_state{source=\"default\",state=\"auth_failed\"}"
        ),
        Some(1.0),
        "{text}"
    );
    let health = get_json(&admin, &health_url).await;
    assert_eq!(health["sources"][0]["id"], "default", "{health}");
    assert_eq!(health["sources"][0]["state"], "auth_failed", "{health}");
    assert_eq!(
        health["sources"][0]["code"], health["source"]["code"],
        "{health}"
    );
}
