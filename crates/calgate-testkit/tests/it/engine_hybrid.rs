//! A hybrid Exchange organisation through one engine: mailboxes of `onprem.example.com` are
//! served by Exchange on premises (EWS, one simulator) and everything else by Exchange Online
//! (Graph, a second simulator), routed by a domain rule. Each mailbox is fetched by its own
//! source only, statuses equal each simulator's ground truth, throttling one source leaves the
//! other's mailboxes refreshing on time, and a mailbox re-routed to the cloud (a migrated
//! mailbox) is fetched from there.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use calgate_auth::{
    AppSecret, Authorizer, LockoutGuard, MemoryRefreshTokens, OAuthSettings, SignIn, SystemClock,
    TokenSource,
};
use calgate_core::{Availability, OperatorState};
use calgate_engine::graph_source::{Anchor, GraphConfig, GraphSource, http_client};
use calgate_engine::{
    CalendarSource, Engine, EngineOptions, Routing, SourceFailure, SourceId, SourceLimits,
    SourceState, Window,
};
use calgate_sim::SimConfig;
use calgate_testkit::{ground_truth_status, sim_http_client, sim_stats, spawn_sim};

use crate::drills_throttle::{ews_source_with, set_policy, sim_ca};

const CLIENT_SECRET: &str = "hybrid-app-secret-value";
const ONPREM_DOMAIN: &str = "onprem.example.com";

/// Passes every call to a real source and notes which mailboxes each request named: the
/// simulators count requests, this says which mailboxes went to which source.
struct Recorded {
    inner: Arc<dyn CalendarSource>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl CalendarSource for Recorded {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn limits(&self) -> SourceLimits {
        self.inner.limits()
    }

    fn fetch<'a>(
        &'a self,
        mailboxes: &'a [String],
        window: Window,
    ) -> BoxFuture<'a, Result<Vec<Availability>, SourceFailure>> {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(mailboxes.iter().cloned());
        self.inner.fetch(mailboxes, window)
    }
}

fn recorded(inner: Arc<dyn CalendarSource>) -> (Arc<dyn CalendarSource>, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let source = Recorded {
        inner,
        seen: seen.clone(),
    };
    (Arc::new(source), seen)
}

/// How often each mailbox was named in a request so far.
fn counts(seen: &Arc<Mutex<Vec<String>>>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for email in seen.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        *counts.entry(email.clone()).or_insert(0) += 1;
    }
    counts
}

/// App-only Graph against `sim`'s Entra ID and Graph endpoints.
fn graph_source(sim: &calgate_sim::Running) -> Arc<dyn CalendarSource> {
    let ca = std::fs::read(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    let http =
        http_client(Some(&ca), Duration::from_secs(20), Duration::from_secs(5)).expect("http");
    let host: reqwest::Url = sim
        .urls
        .graph_url
        .trim_end_matches('/')
        .trim_end_matches("/v1.0")
        .parse()
        .expect("URL");
    let tokens = TokenSource::new(
        http.clone(),
        OAuthSettings {
            authority: host.clone(),
            tenant: sim.state.tenant_id.clone(),
            client_id: sim.state.client_id.clone(),
            sign_in: SignIn::App(AppSecret::ClientSecret(secrecy::SecretString::from(
                CLIENT_SECRET,
            ))),
            renew_margin: calgate_auth::DEFAULT_RENEW_MARGIN,
        },
        LockoutGuard::new(Arc::new(SystemClock)),
        Arc::new(MemoryRefreshTokens::default()),
    )
    .expect("token source");
    let source = GraphSource::with_client(
        http,
        GraphConfig::new(host, Anchor::FirstInBatch),
        Authorizer::OAuth(Arc::new(tokens)),
    )
    .expect("Graph source");
    Arc::new(source)
}

fn people(sim: &calgate_sim::Running) -> Vec<String> {
    sim.state
        .tenant()
        .people
        .iter()
        .map(|p| p.email.clone())
        .collect()
}

fn requests(stats: &Value, operation: &str) -> u64 {
    stats["requests"][operation].as_u64().unwrap_or(0)
}

fn health_of(engine: &Engine, id: &str) -> calgate_engine::SourceHealth {
    engine
        .health_by_source()
        .into_iter()
        .find(|(i, _)| i.as_str() == id)
        .map(|(_, h)| h)
        .unwrap_or_else(|| panic!("no source {id} in {:?}", engine.health_by_source()))
}

/// When each mailbox's data was fetched (`None`: never).
fn fetched_at(engine: &Engine, email: &str) -> Option<Timestamp> {
    engine
        .board()
        .get(email)
        .and_then(|p| p.availability.map(|a| a.fetched_at))
}

/// Compares a mailbox's status on the board with its simulator's ground truth around the read.
fn assert_matches_ground_truth(
    engine: &Engine,
    sim: &calgate_sim::Running,
    email: &str,
    window: Window,
) -> bool {
    let before = Timestamp::now();
    let entry = engine.board().get(email).expect("on the board");
    let after = Timestamp::now();
    let got = entry.status.state;
    match (
        ground_truth_status(sim, email, (window.start, window.end), before),
        ground_truth_status(sim, email, (window.start, window.end), after),
    ) {
        (Some(a), Some(b)) => {
            assert!(
                got == a.state || got == b.state,
                "{email}: engine says {got:?}, simulator truth {:?}/{:?}",
                a.state,
                b.state
            );
            true
        }
        _ => {
            assert_eq!(got, OperatorState::Unknown, "{email}: no free/busy access");
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hybrid_routing_keeps_each_source_to_its_own_mailboxes() {
    let onprem_config = SimConfig {
        people: 60,
        domain: ONPREM_DOMAIN.to_owned(),
        seed: 11,
        ..SimConfig::default()
    };
    let onprem_sim = spawn_sim(onprem_config.clone()).await;
    let cloud_sim = spawn_sim(SimConfig {
        people: 60,
        seed: 12,
        client_secret: Some(CLIENT_SECRET.to_owned()),
        ..SimConfig::default()
    })
    .await;
    let onprem_http = sim_http_client(&onprem_sim);
    let cloud_http = sim_http_client(&cloud_sim);
    let onprem_people = people(&onprem_sim);
    let cloud_people = people(&cloud_sim);
    assert!(
        onprem_people.iter().all(|e| e.ends_with(ONPREM_DOMAIN))
            && cloud_people.iter().all(|e| !e.ends_with(ONPREM_DOMAIN)),
        "two tenants, two domains"
    );

    // One batch per second on each source; data stays known far longer than this test runs.
    let interval = SignedDuration::from_secs(1);
    let options = EngineOptions::with_interval(interval);
    let window = options.window(Timestamp::now());
    let (ews, ews_seen) = recorded(ews_source_with(
        &onprem_sim.urls.ews_url,
        &onprem_config,
        sim_ca(&onprem_sim),
        Duration::from_secs(10),
    ));
    let (graph, graph_seen) = recorded(graph_source(&cloud_sim));
    let onprem = SourceId::new("onprem");
    let engine = Engine::start(Some(graph), options.clone());
    engine.add_source(onprem.clone(), ews, options.clone());
    engine.set_routing(Routing::new().with_domain(ONPREM_DOMAIN, onprem.clone()));
    let all: Vec<String> = onprem_people.iter().chain(&cloud_people).cloned().collect();
    engine.set_watch_list(all.clone());

    // Everyone fetched once, each by its own source, in the fewest requests.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while all.iter().any(|e| fetched_at(&engine, e).is_none()) {
        assert!(
            std::time::Instant::now() < deadline,
            "not all fetched: {:?}",
            engine.health_by_source()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let onprem_stats = sim_stats(&onprem_http, &onprem_sim).await;
    let cloud_stats = sim_stats(&cloud_http, &cloud_sim).await;
    println!(
        "hybrid first round: EWS GetUserAvailability {}, Graph getSchedule {}",
        requests(&onprem_stats, "GetUserAvailability"),
        requests(&cloud_stats, "graph.getSchedule")
    );
    // The first round may already have run into the next (1 s) interval: at least the fewest
    // requests, never a request to the wrong simulator.
    assert!(
        requests(&onprem_stats, "GetUserAvailability") >= 1,
        "{onprem_stats}"
    );
    assert_eq!(
        requests(&onprem_stats, "graph.getSchedule"),
        0,
        "{onprem_stats}"
    );
    assert!(
        requests(&cloud_stats, "graph.getSchedule") >= 3,
        "{cloud_stats}"
    );
    assert_eq!(
        requests(&cloud_stats, "GetUserAvailability"),
        0,
        "{cloud_stats}"
    );
    let onprem_set: BTreeSet<&String> = onprem_people.iter().collect();
    let cloud_set: BTreeSet<&String> = cloud_people.iter().collect();
    let ews_named = counts(&ews_seen);
    let graph_named = counts(&graph_seen);
    assert_eq!(
        ews_named.keys().collect::<BTreeSet<_>>(),
        onprem_set,
        "EWS fetched exactly the on-premises mailboxes"
    );
    assert_eq!(
        graph_named.keys().collect::<BTreeSet<_>>(),
        cloud_set,
        "Graph fetched exactly the cloud mailboxes"
    );
    let mut compared = 0;
    for email in &onprem_people {
        compared += usize::from(assert_matches_ground_truth(
            &engine,
            &onprem_sim,
            email,
            window,
        ));
    }
    for email in &cloud_people {
        compared += usize::from(assert_matches_ground_truth(
            &engine, &cloud_sim, email, window,
        ));
    }
    assert!(compared > 90, "most calendars readable ({compared})");
    for (id, h) in engine.health_by_source() {
        assert!(
            matches!(h.state, SourceState::Ok | SourceState::Degraded),
            "{id}: {h:?}"
        );
    }

    // Exchange on premises throttles every request (ErrorServerBusy, 4 s back-off): the cloud
    // mailboxes keep being refreshed every interval and their source stays well.
    let graph_before = requests(
        &sim_stats(&cloud_http, &cloud_sim).await,
        "graph.getSchedule",
    );
    set_policy(
        &onprem_http,
        &onprem_sim.urls.control_url,
        json!({"busy_every_n_requests": 1, "busy_backoff_ms": 4000}),
    )
    .await;
    let throttled_from = Timestamp::now();
    let mut saw_throttled = false;
    let mut oldest_cloud = SignedDuration::ZERO;
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < end {
        let now = Timestamp::now();
        for email in &cloud_people {
            let at = fetched_at(&engine, email).expect("fetched");
            let age = now.duration_since(at);
            oldest_cloud = oldest_cloud.max(age);
            // One interval (1 s) plus a slot and slack for a busy machine; a shared back-off
            // (4 s) would push it past 4 s.
            assert!(
                age < SignedDuration::from_millis(3000),
                "{email}: cloud data {age:?} old while on-premises is throttled"
            );
        }
        let cloud = health_of(&engine, SourceId::DEFAULT);
        assert!(
            matches!(cloud.state, SourceState::Ok | SourceState::Degraded),
            "the cloud source is not marked by the other's throttling: {cloud:?}"
        );
        let h = health_of(&engine, "onprem");
        if h.state == SourceState::Throttled {
            assert!(h.next_attempt.is_some(), "names the back-off's end: {h:?}");
            saw_throttled = true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(saw_throttled, "on-premises shown throttled");
    assert_eq!(health_of(&engine, "onprem").state, SourceState::Throttled);
    // On-premises mailboxes keep their last data (no fetch got through since the first busy
    // answer), which still matches their calendars: within its limit it is shown as it was.
    for email in &onprem_people {
        let at = fetched_at(&engine, email).expect("fetched");
        assert!(
            at < throttled_from + SignedDuration::from_millis(1500),
            "{email} fetched at {at} though every request is refused"
        );
        assert_matches_ground_truth(&engine, &onprem_sim, email, window);
    }
    let onprem_stats = sim_stats(&onprem_http, &onprem_sim).await;
    let cloud_stats = sim_stats(&cloud_http, &cloud_sim).await;
    let graph_during = requests(&cloud_stats, "graph.getSchedule") - graph_before;
    println!(
        "hybrid throttle: EWS throttled answers {}, EWS back-off violations {}, Graph getSchedule \
         during 5 s {graph_during}, oldest cloud data {} ms, Graph back-off \
         violations {}",
        onprem_stats["throttled"],
        onprem_stats["backoff_violations"],
        oldest_cloud.as_millis(),
        cloud_stats["backoff_violations"]
    );
    assert!(
        onprem_stats["throttled"].as_u64().unwrap_or(0) >= 1,
        "{onprem_stats}"
    );
    assert_eq!(onprem_stats["backoff_violations"], 0, "{onprem_stats}");
    assert_eq!(cloud_stats["backoff_violations"], 0, "{cloud_stats}");
    // Three batches per 1 s interval for 5 s.
    assert!(graph_during >= 10, "Graph kept its pace: {graph_during}");

    // The throttle ends; one on-premises mailbox has moved to the cloud (its calendar there
    // says out of office now, on premises it is empty): re-routed, it is fetched from Graph.
    set_policy(
        &onprem_http,
        &onprem_sim.urls.control_url,
        json!({"busy_every_n_requests": 0}),
    )
    .await;
    // Its back-off is waited out (never cut short), then it answers well again.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let h = health_of(&engine, "onprem");
        if matches!(h.state, SourceState::Ok | SourceState::Degraded) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "on-premises stays {h:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let moved = onprem_people[0].clone();
    let now = Timestamp::now();
    let oof = json!([{
        "start": (now - SignedDuration::from_mins(10)).to_string(),
        "end": (now + SignedDuration::from_hours(2)).to_string(),
        "busy_type": "oof", "subject": "Moved", "private": false, "all_day": false
    }]);
    let cloud_control = cloud_sim.urls.control_url.trim_end_matches('/').to_string();
    let onprem_control = onprem_sim
        .urls
        .control_url
        .trim_end_matches('/')
        .to_string();
    for (http, url, body) in [
        (
            &cloud_http,
            format!("{cloud_control}/mailboxes/{moved}/events"),
            oof,
        ),
        (
            &onprem_http,
            format!("{onprem_control}/mailboxes/{moved}/events"),
            json!([]),
        ),
    ] {
        let resp = http.put(url).json(&body).send().await.expect("script");
        assert!(resp.status().is_success(), "control API: {}", resp.status());
    }
    engine.set_routing(
        Routing::new()
            .with_domain(ONPREM_DOMAIN, onprem.clone())
            .with_mailbox(&moved, SourceId::default()),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let state = engine.board().get(&moved).expect("entry").status.state;
        if state == OperatorState::Oof && counts(&graph_seen).contains_key(&moved) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{moved} not fetched from the cloud: {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(assert_matches_ground_truth(
        &engine, &cloud_sim, &moved, window
    ));
    // From now on EWS is not asked for it again, while it fetches the other on-premises
    // mailboxes as before.
    let ews_moved = counts(&ews_seen).get(&moved).copied().unwrap_or(0);
    let ews_total = ews_seen.lock().unwrap_or_else(|e| e.into_inner()).len();
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let ews_after = counts(&ews_seen);
    assert_eq!(
        ews_after.get(&moved).copied().unwrap_or(0),
        ews_moved,
        "EWS asked for {moved}"
    );
    let ews_total_after = ews_seen.lock().unwrap_or_else(|e| e.into_inner()).len();
    assert!(
        ews_total_after >= ews_total + onprem_people.len() - 1,
        "on-premises refreshes resumed: {ews_total} then {ews_total_after}"
    );
    assert_eq!(
        engine.board().get(&moved).expect("entry").status.state,
        OperatorState::Oof
    );
    assert_eq!(
        sim_stats(&onprem_http, &onprem_sim).await["backoff_violations"],
        0
    );
}
