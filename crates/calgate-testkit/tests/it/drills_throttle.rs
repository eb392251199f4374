//! Failure drills, throttling: a real gateway refreshing from a real simulator that answers
//! ErrorServerBusy with BackOffMilliseconds, storms of 429 with Retry-After, and
//! ErrorExceededConnectionCount. Outcome: the simulator sees no request inside an advertised
//! back-off, health says `throttled` with the back-off's end, and a status turns `unknown` only
//! once its data outlives the limit — never `free`.
//!
//! The helpers here are shared by the other drill modules (outages, crashes, disk, hostile input).

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use calgate_engine::{CalendarSource, EngineOptions};
use calgate_ews::ExchangeVersion;
use calgate_ews::availability::RequestedView;
use calgate_sim::SimConfig;
use calgate_sim::tenant::FreeBusyAccess;
use calgate_sources::ews_transport::{BasicCredentials, EwsSource, EwsTransport, TransportConfig};
use calgate_testkit::gateway::{TestGateway, spawn_gateway};

/// An EWS source for the simulator, trusting `ca_pem` (or nothing extra for plain HTTP).
pub(crate) fn ews_source_with(
    ews_url: &str,
    config: &SimConfig,
    ca_pem: Option<Vec<u8>>,
    timeout: Duration,
) -> Arc<dyn CalendarSource> {
    let (upn, password) = config.service_account.clone().expect("service account");
    let mut transport = TransportConfig::new(
        ews_url.parse().expect("EWS URL"),
        ExchangeVersion::Exchange2013Sp1,
    );
    transport.extra_ca_pem = ca_pem;
    transport.timeout = timeout;
    transport.connect_timeout = timeout;
    let transport = EwsTransport::new(
        transport,
        BasicCredentials::new(&upn, &password).expect("basic"),
    )
    .expect("transport");
    Arc::new(EwsSource::new(transport, RequestedView::Detailed))
}

/// The simulator's CA, when it serves HTTPS.
pub(crate) fn sim_ca(sim: &calgate_sim::Running) -> Option<Vec<u8>> {
    sim.urls
        .ca_cert_pem_path
        .as_ref()
        .map(|p| std::fs::read(p).expect("CA file"))
}

/// Engine options with a short interval and a short staleness limit, so a drill sees data
/// outlive its limit within seconds.
pub(crate) fn drill_options(interval_ms: i64, stale_after_ms: i64) -> EngineOptions {
    let mut options = EngineOptions::with_interval(SignedDuration::from_millis(interval_ms));
    options.status.stale_after = SignedDuration::from_millis(stale_after_ms);
    options.on_demand_after = SignedDuration::from_secs(3600);
    options
}

pub(crate) async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

pub(crate) async fn sim_stats(sim_http: &reqwest::Client, control_url: &str) -> Value {
    get_json(
        sim_http,
        &format!("{}/stats", control_url.trim_end_matches('/')),
    )
    .await
}

pub(crate) async fn set_policy(sim_http: &reqwest::Client, control_url: &str, patch: Value) {
    let resp = sim_http
        .put(format!("{}/policy", control_url.trim_end_matches('/')))
        .json(&patch)
        .send()
        .await
        .expect("policy");
    assert!(
        resp.status().is_success(),
        "policy {patch}: {}",
        resp.status()
    );
}

/// The first `n` people of the simulated tenant whose calendars the service account may read
/// (the others answer a per-mailbox error, which would hide the source's own health).
pub(crate) fn tenant_people(sim: &calgate_sim::Running, n: usize) -> Vec<String> {
    sim.state
        .tenant()
        .people
        .iter()
        .filter(|p| !matches!(p.free_busy_access, FreeBusyAccess::None))
        .take(n)
        .map(|p| p.email.clone())
        .collect()
}

/// Waits until every one of `n` mailboxes has been fetched and is fresh.
pub(crate) async fn wait_all_fresh(gw: &TestGateway, n: u64, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let h = gw.health().await;
        if h["mailboxes"]["fresh"].as_u64().unwrap_or(0) >= n {
            return h;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all {n} mailboxes fresh within {within:?}: {h}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A drill under way: a simulator, a gateway refreshing some of its people through EWS, and
/// every one of them fresh.
pub(crate) struct Drill {
    /// Kept so that the simulator runs as long as the drill.
    pub(crate) _sim: calgate_sim::Running,
    pub(crate) sim_http: reqwest::Client,
    pub(crate) control: String,
    pub(crate) gw: TestGateway,
    pub(crate) people: Vec<String>,
}

/// Starts a simulator of `tenant` people, a gateway asking it with a request `timeout` and
/// `drill_options(interval_ms, stale_after_ms)`, watches `watched` of them and waits until they
/// are all fresh.
pub(crate) async fn start_drill(
    tenant: usize,
    watched: usize,
    timeout: Duration,
    interval_ms: i64,
    stale_after_ms: i64,
) -> Drill {
    let config = SimConfig {
        people: tenant,
        ..SimConfig::default()
    };
    let sim = calgate_testkit::spawn_sim(config.clone()).await;
    let sim_http = calgate_testkit::sim_http_client(&sim);
    let control = sim.urls.control_url.clone();
    let source = ews_source_with(&sim.urls.ews_url, &config, sim_ca(&sim), timeout);
    let gw = spawn_gateway(Some(source), drill_options(interval_ms, stale_after_ms)).await;
    let people = tenant_people(&sim, watched);
    gw.watch(&people).await;
    wait_all_fresh(&gw, watched as u64, Duration::from_secs(20)).await;
    Drill {
        _sim: sim,
        sim_http,
        control,
        gw,
        people,
    }
}

/// Every watched person's record.
/// Every watched person's record, each with the instant just before it was asked for
/// (`_asked_at`), which the invariant below judges it by.
pub(crate) async fn records(gw: &TestGateway, people: &[String]) -> Vec<Value> {
    let mut out = Vec::with_capacity(people.len());
    for email in people {
        let asked_at = Timestamp::now();
        let mut record = gw.person(email).await;
        record["_asked_at"] = Value::String(asked_at.to_string());
        out.push(record);
    }
    out
}

/// The drills' core invariant: a person whose data is older than `stale_after` (or who has no
/// data) is `unknown`, never anything else, least of all `free`. Returns how many are unknown.
pub(crate) fn assert_no_free_on_unknown(
    records: &[Value],
    stale_after: SignedDuration,
    context: &str,
) -> usize {
    let mut unknown = 0;
    for r in records {
        let state = r["status"]["state"].as_str().unwrap_or("");
        let as_of: Option<Timestamp> = r["as_of"].as_str().and_then(|s| s.parse().ok());
        // Judged at the instant the record was asked for (it was answered later, so the data
        // was at least this old), with a quarter second for the board's timer to fire.
        let asked_at: Timestamp = r["_asked_at"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(Timestamp::now);
        let outlived = as_of.is_none_or(|t| {
            asked_at.duration_since(t) > stale_after + SignedDuration::from_millis(250)
        });
        if outlived || r["error"].is_object() {
            assert_eq!(state, "unknown", "{context}: data without truth shown: {r}");
        }
        if state == "unknown" {
            unknown += 1;
        }
    }
    unknown
}

/// Polls `f` until it is true or `within` passes.
pub(crate) async fn eventually<F, Fut>(within: Duration, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match f().await {
            Ok(()) => return,
            Err(last) => assert!(
                tokio::time::Instant::now() < deadline,
                "{what} did not happen within {within:?}; last: {last}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

fn violations(stats: &Value) -> u64 {
    stats["backoff_violations"]
        .as_u64()
        .expect("backoff_violations")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sustained_server_busy_is_waited_out_and_statuses_stay_known() {
    let Drill {
        _sim,
        sim_http,
        control,
        gw,
        people,
    } = start_drill(90, 60, Duration::from_secs(10), 1000, 8000).await;
    // One batch a second; data may be 8 s old before it turns unknown.
    let stale_after = SignedDuration::from_secs(8);

    // Every second request is ErrorServerBusy with a 1.5 s back-off, for 8 s.
    set_policy(
        &sim_http,
        &control,
        json!({"busy_every_n_requests": 2, "busy_backoff_ms": 1500}),
    )
    .await;
    let end = tokio::time::Instant::now() + Duration::from_secs(8);
    let mut saw_throttled = None;
    while tokio::time::Instant::now() < end {
        let h = gw.health().await;
        if h["source"]["state"] == "throttled" {
            let next: Option<Timestamp> = h["source"]["next_attempt"]
                .as_str()
                .and_then(|s| s.parse().ok());
            assert!(next.is_some(), "throttled names the back-off's end: {h}");
            saw_throttled = Some(h);
        }
        let recs = records(&gw, &people).await;
        // The back-off (1.5 s) is far shorter than the limit (8 s): nobody may turn unknown
        // for staleness, and nobody without data may show anything but unknown.
        assert_no_free_on_unknown(&recs, stale_after, "server busy");
        for r in &recs {
            assert_ne!(
                r["status"]["unknown_reason"], "STALE",
                "went unknown before its data outlived the limit: {r}"
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let h = saw_throttled.expect("health showed `throttled` during the busy spell");
    assert_eq!(h["source"]["code"], "EWS_SERVER_BUSY", "{h}");
    let stats = sim_stats(&sim_http, &control).await;
    assert!(stats["throttled"].as_u64().unwrap_or(0) >= 2, "{stats}");
    assert_eq!(violations(&stats), 0, "requests inside a back-off: {stats}");
    eprintln!(
        "drill server-busy: throttled answers {}, backoff_violations {}",
        stats["throttled"],
        violations(&stats)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_storm_turns_old_data_unknown_never_free_and_recovers() {
    let Drill {
        _sim,
        sim_http,
        control,
        gw,
        people,
    } = start_drill(60, 40, Duration::from_secs(10), 1000, 3000).await;
    let stale_after = SignedDuration::from_secs(3);

    // Every request answered 429 with Retry-After: 4 for 9 s.
    set_policy(&sim_http, &control, json!({"retry_after_s": 4})).await;
    let storm_started = Timestamp::now();
    let end = tokio::time::Instant::now() + Duration::from_secs(9);
    let mut throttled_seen = false;
    let mut all_unknown_seen = false;
    while tokio::time::Instant::now() < end {
        let h = gw.health().await;
        let state = h["source"]["state"].as_str().unwrap_or("").to_string();
        if state == "throttled" {
            throttled_seen = true;
            let next: Timestamp = h["source"]["next_attempt"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("throttled without the back-off's end: {h}"));
            let since: Timestamp = h["source"]["since"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("since");
            assert!(
                next.duration_since(since) >= SignedDuration::from_millis(3900),
                "the advertised 4 s are kept: {h}"
            );
        }
        let recs = records(&gw, &people).await;
        let unknown = assert_no_free_on_unknown(&recs, stale_after, "429 storm");
        if unknown == people.len() {
            all_unknown_seen = true;
        }
        if Timestamp::now().duration_since(storm_started) < SignedDuration::from_millis(1500) {
            // Data one refresh old is still within its limit: it must still be shown.
            for r in &recs {
                assert_ne!(r["status"]["unknown_reason"], "STALE", "too early: {r}");
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(throttled_seen, "health showed `throttled` during the storm");
    assert!(
        all_unknown_seen,
        "after the limit every status is unknown while throttled"
    );
    let during = sim_stats(&sim_http, &control).await;

    set_policy(&sim_http, &control, json!({"retry_after_s": 0})).await;
    wait_all_fresh(&gw, 40, Duration::from_secs(15)).await;
    eventually(Duration::from_secs(5), "health back to ok", || async {
        let h = gw.health().await;
        if h["source"]["state"] == "ok" {
            Ok(())
        } else {
            Err(h.to_string())
        }
    })
    .await;
    let stats = sim_stats(&sim_http, &control).await;
    assert_eq!(violations(&stats), 0, "requests inside a back-off: {stats}");
    // 9 s of storm with a 4 s wait: a handful of 429s, not one a second.
    let throttled = during["throttled"].as_u64().unwrap_or(0);
    assert!((1..=6).contains(&throttled), "429 answers: {during}");
    eprintln!(
        "drill 429 storm: throttled answers {throttled}, backoff_violations {}",
        violations(&stats)
    );

    // The same with 503 Service Unavailable and Retry-After: 2, for 5 s.
    set_policy(
        &sim_http,
        &control,
        json!({"retry_after_s": 2, "retry_after_status": 503}),
    )
    .await;
    let end = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut code_503 = false;
    while tokio::time::Instant::now() < end {
        let h = gw.health().await;
        if h["source"]["state"] == "throttled" && h["source"]["next_attempt"].is_string() {
            code_503 |= h["source"]["code"] == "EWS_HTTP_503";
        }
        let recs = records(&gw, &people).await;
        assert_no_free_on_unknown(&recs, stale_after, "503 storm");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(code_503, "health showed throttled by a 503");
    set_policy(&sim_http, &control, json!({"retry_after_s": 0})).await;
    wait_all_fresh(&gw, 40, Duration::from_secs(15)).await;
    let stats = sim_stats(&sim_http, &control).await;
    assert_eq!(
        violations(&stats),
        0,
        "requests inside a 503 back-off: {stats}"
    );
    eprintln!(
        "drill 503 storm: throttled answers in all {}, backoff_violations {}",
        stats["throttled"],
        violations(&stats)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_count_limit_lowers_concurrency_and_everyone_is_fetched() {
    let config = SimConfig {
        people: 500,
        ..SimConfig::default()
    };
    let sim = calgate_testkit::spawn_sim(config.clone()).await;
    let sim_http = calgate_testkit::sim_http_client(&sim);
    let control = sim.urls.control_url.clone();
    // One connection at a time, and slow answers so that two requests overlap.
    set_policy(
        &sim_http,
        &control,
        json!({"max_concurrency": 1, "latency_ms": 300}),
    )
    .await;
    let source = ews_source_with(
        &sim.urls.ews_url,
        &config,
        sim_ca(&sim),
        Duration::from_secs(10),
    );
    let gw = spawn_gateway(Some(source), drill_options(60_000, 180_000)).await;
    let people = tenant_people(&sim, 400);
    gw.watch(&people).await;
    let mut throttled_seen = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let h = gw.health().await;
        if h["source"]["state"] == "throttled" {
            throttled_seen = true;
            assert_eq!(h["source"]["code"], "EWS_EXCEEDED_CONNECTION_COUNT", "{h}");
        }
        if h["mailboxes"]["fresh"].as_u64().unwrap_or(0) >= 400 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all fetched under the connection limit: {h}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stats = sim_stats(&sim_http, &control).await;
    assert_eq!(violations(&stats), 0, "{stats}");
    let refused = stats["throttled"].as_u64().unwrap_or(0);
    eprintln!(
        "drill connection limit: refused for the connection count {refused}, outcomes {}, \
         max_in_flight {}, backoff_violations {}",
        stats["outcomes"],
        stats["max_in_flight"],
        violations(&stats)
    );
    assert!(
        refused >= 1,
        "two requests overlapped and one was refused: {stats}"
    );
    assert!(
        throttled_seen,
        "health showed `throttled` for the connection limit"
    );
}
