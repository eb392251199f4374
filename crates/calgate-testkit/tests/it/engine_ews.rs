//! The refresh engine over EWS against the simulator: every watched person's status equals the
//! simulator's ground truth, a full refresh costs ceil(N / 100) requests, and a status change at a
//! meeting boundary is pushed without asking Exchange again.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use calgate_engine::{CalendarSource, EngineOptions};
use calgate_ews::ExchangeVersion;
use calgate_ews::availability::RequestedView;
use calgate_sim::SimConfig;
use calgate_sources::ews_transport::{BasicCredentials, EwsSource, EwsTransport, TransportConfig};
use calgate_testkit::gateway::{SseClient, spawn_gateway};
use calgate_testkit::{
    ground_truth_status, sim_control_put, sim_http_client, sim_people, sim_stats,
};

async fn ews_source(sim: &calgate_sim::Running, config: &SimConfig) -> Arc<dyn CalendarSource> {
    let (upn, password) = config.service_account.clone().expect("service account");
    let mut transport = TransportConfig::new(
        sim.urls.ews_url.parse().expect("EWS URL"),
        ExchangeVersion::Exchange2013Sp1,
    );
    let ca = sim.urls.ca_cert_pem_path.as_ref().expect("TLS simulator");
    transport.extra_ca_pem = Some(std::fs::read(ca).expect("CA file"));
    let transport = EwsTransport::new(
        transport,
        BasicCredentials::new(&upn, &password).expect("basic"),
    )
    .expect("transport");
    Arc::new(EwsSource::new(transport, RequestedView::Detailed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_refresh_matches_ground_truth_with_ceil_n_over_100_requests() {
    let config = SimConfig {
        people: 250,
        ..SimConfig::default()
    };
    let sim = calgate_sim::spawn(config.clone()).await.expect("simulator");
    let source = ews_source(&sim, &config).await;
    let options = EngineOptions::with_interval(SignedDuration::from_secs(300));
    let window = options.window(Timestamp::now());
    let gw = spawn_gateway(Some(source), options).await;
    let people: Vec<String> = sim_people(&sim);
    let n = people.len() as u64;
    assert_eq!(n, 250);
    gw.watch(&people).await;

    let health = gw.wait_fetched(n, Duration::from_secs(60)).await;
    assert_eq!(
        health["source"]["state"]
            .as_str()
            .map(|s| s == "ok" || s == "degraded"),
        Some(true),
        "{health}"
    );
    let sim_http = sim_http_client(&sim);
    let s = sim_stats(&sim_http, &sim).await;
    assert_eq!(s["requests"]["GetUserAvailability"], n.div_ceil(100), "{s}");

    let mut compared = 0;
    for email in &people {
        let before = Timestamp::now();
        let record = gw.person(email).await;
        let after = Timestamp::now();
        let got = record["status"]["state"].as_str().unwrap_or("");
        match (
            ground_truth_status(&sim, email, (window.start, window.end), before),
            ground_truth_status(&sim, email, (window.start, window.end), after),
        ) {
            (Some(a), Some(b)) => {
                let want_a = serde_json::to_value(a.state).expect("state");
                let want_b = serde_json::to_value(b.state).expect("state");
                assert!(
                    got == want_a || got == want_b,
                    "{email}: gateway says {got}, simulator truth {want_a}/{want_b}"
                );
                compared += 1;
            }
            _ => assert_eq!(
                got, "unknown",
                "{email}: no free/busy access must be unknown"
            ),
        }
    }
    assert!(
        compared > 200,
        "most people have readable calendars ({compared})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meeting_boundaries_are_pushed_without_asking_exchange() {
    let config = SimConfig {
        people: 20,
        ..SimConfig::default()
    };
    let sim = calgate_sim::spawn(config.clone()).await.expect("simulator");
    let sim_http = sim_http_client(&sim);
    let email = sim.state.tenant().people[0].email.clone();
    let start = Timestamp::now() + SignedDuration::from_secs(3);
    let end = start + SignedDuration::from_secs(2);
    sim_control_put(
        &sim_http,
        &sim,
        &format!("mailboxes/{email}/events"),
        &json!([{
            "start": start.to_string(), "end": end.to_string(), "busy_type": "busy",
            "subject": "Short call", "location": "Room 1", "private": false, "all_day": false
        }]),
    )
    .await;

    let source = ews_source(&sim, &config).await;
    let gw = spawn_gateway(
        Some(source),
        EngineOptions::with_interval(SignedDuration::from_secs(3600)),
    )
    .await;
    let http = gw.admin.clone();
    let base = gw.url();
    gw.watch(std::slice::from_ref(&email)).await;
    gw.wait_fetched(1, Duration::from_secs(60)).await;
    let before = sim_stats(&sim_http, &sim).await["requests"]["GetUserAvailability"].clone();

    let mut stream = SseClient::connect(&http, &format!("{base}/api/v1/stream"), None).await;
    let snapshot = stream.next(Duration::from_secs(5)).await.expect("snapshot");
    assert_eq!(snapshot.event, "snapshot");
    assert_eq!(snapshot.json()["people"][0]["status"]["state"], "free");

    let busy = stream
        .next(Duration::from_secs(10))
        .await
        .expect("busy change");
    let at_busy = Timestamp::now();
    assert_eq!(busy.json()["status"]["state"], "busy", "{}", busy.data);
    assert!(at_busy >= start, "not before the meeting starts");
    assert!(
        at_busy.duration_since(start) < SignedDuration::from_secs(1),
        "pushed within a second of the start"
    );
    let free = stream
        .next(Duration::from_secs(10))
        .await
        .expect("free change");
    assert_eq!(free.json()["status"]["state"], "free", "{}", free.data);
    assert!(Timestamp::now() >= end);

    let after = sim_stats(&sim_http, &sim).await["requests"]["GetUserAvailability"].clone();
    assert_eq!(before, after, "no request to the source for a boundary");
}

/// Issue 6: 2 000 mailboxes stay fresh with ceil(2000 / 100) requests per interval, never more
/// than the allowed requests in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_mailboxes_cost_twenty_requests_per_interval() {
    let config = SimConfig {
        people: 2000,
        ..SimConfig::default()
    };
    let sim = calgate_sim::spawn(config.clone()).await.expect("simulator");
    let source = ews_source(&sim, &config).await;
    let interval = SignedDuration::from_secs(4);
    let gw = spawn_gateway(Some(source), EngineOptions::with_interval(interval)).await;
    gw.watch(&sim_people(&sim)).await;
    gw.wait_fetched(2000, Duration::from_secs(60)).await;
    let sim_http = sim_http_client(&sim);
    let first = sim_stats(&sim_http, &sim).await;
    assert_eq!(first["requests"]["GetUserAvailability"], 20, "{first}");
    // Steady state: after the first interval, each mailbox is fetched once per interval, in
    // full batches spread over it. Count two whole intervals.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let start = sim_stats(&sim_http, &sim).await["requests"]["GetUserAvailability"]
        .as_u64()
        .unwrap_or(0);
    tokio::time::sleep(std::time::Duration::from_secs(8)).await;
    let later = sim_stats(&sim_http, &sim).await;
    let sent = later["requests"]["GetUserAvailability"]
        .as_u64()
        .unwrap_or(0)
        - start;
    assert!(
        (38..=42).contains(&sent),
        "{sent} requests in two intervals, expected 40"
    );
    let max_in_flight = later["max_in_flight"].as_u64().unwrap_or(u64::MAX);
    assert!(max_in_flight <= 2, "max in flight {max_in_flight}");
    let health = gw.health().await;
    assert_eq!(health["mailboxes"]["stale"], 0, "{health}");
}

/// Issue 6 and 7: a calendar edit on the server is seen within one interval (plus jitter) and
/// reaches a stream client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_edit_is_seen_within_one_interval() {
    let config = SimConfig {
        people: 10,
        ..SimConfig::default()
    };
    let sim = calgate_sim::spawn(config.clone()).await.expect("simulator");
    let sim_http = sim_http_client(&sim);
    let email = sim.state.tenant().people[1].email.clone();
    let control = sim.urls.control_url.trim_end_matches('/').to_string();
    sim_http
        .put(format!("{control}/mailboxes/{email}/events"))
        .json(&json!([]))
        .send()
        .await
        .expect("clear events");
    let source = ews_source(&sim, &config).await;
    let gw = spawn_gateway(
        Some(source),
        EngineOptions::with_interval(SignedDuration::from_secs(3)),
    )
    .await;
    let http = gw.admin.clone();
    let base = gw.url();
    gw.watch(std::slice::from_ref(&email)).await;
    gw.wait_fetched(1, Duration::from_secs(60)).await;
    let mut stream = SseClient::connect(&http, &format!("{base}/api/v1/stream"), None).await;
    let snapshot = stream.next(Duration::from_secs(5)).await.expect("snapshot");
    assert_eq!(snapshot.json()["people"][0]["status"]["state"], "free");

    let now = Timestamp::now();
    let edited_at = std::time::Instant::now();
    sim_http
        .put(format!("{control}/mailboxes/{email}/events"))
        .json(&json!([{
            "start": (now - SignedDuration::from_mins(5)).to_string(),
            "end": (now + SignedDuration::from_mins(30)).to_string(),
            "busy_type": "oof", "subject": "Sick leave", "private": false, "all_day": false
        }]))
        .send()
        .await
        .expect("edit");
    let change = stream.next(Duration::from_secs(8)).await.expect("a change");
    assert_eq!(change.json()["status"]["state"], "oof", "{}", change.data);
    assert!(
        edited_at.elapsed() <= Duration::from_millis(3300 + 500),
        "seen after {:?}",
        edited_at.elapsed()
    );
}

/// A first fetch that the server throttles keeps its priority: it goes out as soon as the
/// advertised back-off ends, not at the next pacing slot (here 30 s apart), and nothing is sent
/// inside the back-off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_first_fetch_is_retried_when_the_back_off_ends() {
    let config = SimConfig {
        people: 1000,
        ..SimConfig::default()
    };
    let sim = calgate_sim::spawn(config.clone()).await.expect("simulator");
    let sim_http = sim_http_client(&sim);
    sim_control_put(
        &sim_http,
        &sim,
        "policy",
        &json!({"busy_every_n_requests": 2, "busy_backoff_ms": 1000}),
    )
    .await;
    let source = ews_source(&sim, &config).await;
    let gw = spawn_gateway(
        Some(source),
        EngineOptions::with_interval(SignedDuration::from_secs(300)),
    )
    .await;
    let started = std::time::Instant::now();
    gw.watch(&sim_people(&sim)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let health = gw.health().await;
        let done = health["mailboxes"]["fresh"].as_u64().unwrap_or(0)
            + health["mailboxes"]["error"].as_u64().unwrap_or(0);
        if done >= 1000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a throttled first fetch waited for a pacing slot: {health}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the back-off was waited out"
    );
    let s = sim_stats(&sim_http, &sim).await;
    assert!(s["throttled"].as_u64().unwrap_or(0) >= 1, "{s}");
    assert_eq!(s["backoff_violations"], 0, "{s}");
}

/// The simulator counts availability requests per mailbox, EWS and Graph alike, so a test can
/// prove that no mailbox was fetched twice; `DELETE /_sim/stats` starts the count afresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_counts_availability_requests_per_mailbox() {
    const SECRET: &str = "per-mailbox-count-secret";
    let config = SimConfig {
        people: 6,
        client_secret: Some(SECRET.to_owned()),
        ..SimConfig::default()
    };
    let sim = calgate_sim::spawn(config.clone()).await.expect("simulator");
    let http = sim_http_client(&sim);
    let people = sim_people(&sim);
    let window =
        EngineOptions::with_interval(SignedDuration::from_secs(300)).window(Timestamp::now());
    let ews = ews_source(&sim, &config).await;
    let graph = calgate_testkit::sources::graph_app_source(&sim, SECRET);

    // EWS asks for the first three (one of them in capitals), Graph for the second and third.
    let mut first = people[..3].to_vec();
    first[0] = first[0].to_uppercase();
    ews.fetch(&first, window).await.expect("EWS fetch");
    graph
        .fetch(&people[1..3], window)
        .await
        .expect("Graph fetch");
    let stats = sim_stats(&http, &sim).await;
    let counted = &stats["mailbox_requests"];
    assert_eq!(counted[people[0].to_lowercase()], 1, "{stats}");
    assert_eq!(counted[people[1].to_lowercase()], 2, "{stats}");
    assert_eq!(counted[people[2].to_lowercase()], 2, "{stats}");
    assert!(counted.get(people[3].to_lowercase()).is_none(), "{stats}");
    assert_eq!(counted.as_object().map(|o| o.len()), Some(3), "{stats}");

    let reset = http
        .delete(format!(
            "{}/stats",
            sim.urls.control_url.trim_end_matches('/')
        ))
        .send()
        .await
        .expect("reset");
    assert!(reset.status().is_success());
    let stats = sim_stats(&http, &sim).await;
    assert_eq!(stats["mailbox_requests"], json!({}), "{stats}");
}
