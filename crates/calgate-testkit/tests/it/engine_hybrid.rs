//! A hybrid Exchange organisation through one engine: mailboxes of `onprem.example.com` are
//! served by Exchange on premises (EWS, one simulator) and everything else by Exchange Online
//! (Graph, a second simulator), routed by a domain rule. Each mailbox is fetched by its own
//! source only, in the fewest requests; some mailboxes of each simulator are scripted busy now
//! (a subject per simulator) and the rest free, and each shows what its own simulator holds;
//! throttling one source leaves the other's mailboxes refreshing on time, and a mailbox
//! re-routed to the cloud (a migrated mailbox) is fetched from there and no longer on premises.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use calgate_core::{Availability, OperatorState};
use calgate_engine::{
    CalendarSource, Engine, EngineOptions, Routing, SourceFailure, SourceId, SourceLimits,
    SourceState, Window,
};
use calgate_sim::SimConfig;
use calgate_sim::tenant::FreeBusyAccess;
use calgate_testkit::sources::graph_app_source;
use calgate_testkit::{
    ground_truth_status, sim_control_put, sim_http_client, sim_people, sim_stats, spawn_sim,
};

use crate::drills_throttle::{ews_source_with, set_policy, sim_ca};

const CLIENT_SECRET: &str = "hybrid-app-secret-value";
const ONPREM_DOMAIN: &str = "onprem.example.com";

/// The mailboxes of every request a source was asked to make, in order.
type Calls = Arc<Mutex<Vec<Vec<String>>>>;

/// Passes every call to a real source and notes which mailboxes each request named: the
/// simulators count requests, this says which mailboxes went to which source.
struct Recorded {
    inner: Arc<dyn CalendarSource>,
    seen: Calls,
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
            .push(mailboxes.to_vec());
        self.inner.fetch(mailboxes, window)
    }
}

fn recorded(inner: Arc<dyn CalendarSource>) -> (Arc<dyn CalendarSource>, Calls) {
    let seen = Calls::default();
    let source = Recorded {
        inner,
        seen: seen.clone(),
    };
    (Arc::new(source), seen)
}

fn calls(seen: &Calls) -> Vec<Vec<String>> {
    seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// How often each mailbox was named in a request so far.
fn counts(seen: &Calls) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for email in calls(seen).iter().flatten() {
        *counts.entry(email.clone()).or_insert(0) += 1;
    }
    counts
}

/// The requests that named a mailbox for the first time: the first round.
fn first_round(seen: &Calls) -> usize {
    let mut named = BTreeSet::new();
    calls(seen)
        .iter()
        .filter(|c| {
            let before = named.len();
            named.extend(c.iter().cloned());
            named.len() > before
        })
        .count()
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

/// Puts one meeting from ten minutes ago to two hours ahead, titled `subject`, in `email`'s
/// calendar on `sim`, or empties the calendar (`None`): whatever day the test runs, the status
/// each mailbox must show is known.
pub(crate) async fn script(
    http: &reqwest::Client,
    sim: &calgate_sim::Running,
    email: &str,
    subject: Option<&str>,
) {
    let now = Timestamp::now();
    let events = match subject {
        Some(subject) => json!([{
            "start": (now - SignedDuration::from_mins(10)).to_string(),
            "end": (now + SignedDuration::from_hours(2)).to_string(),
            "busy_type": "busy", "subject": subject, "private": false, "all_day": false
        }]),
        None => json!([]),
    };
    sim_control_put(http, sim, &format!("mailboxes/{email}/events"), &events).await;
}

/// Scripts every third mailbox of `emails` (from `offset`) busy with a subject naming `side`
/// and the rest free; returns the plan.
pub(crate) async fn script_all(
    http: &reqwest::Client,
    sim: &calgate_sim::Running,
    emails: &[String],
    offset: usize,
    side: &str,
) -> BTreeMap<String, Option<String>> {
    let mut plan = BTreeMap::new();
    for (i, email) in emails.iter().enumerate() {
        let subject = (i % 3 == offset).then(|| format!("{side} meeting {i}"));
        script(http, sim, email, subject.as_deref()).await;
        plan.insert(email.clone(), subject);
    }
    plan
}

/// How a mailbox was compared with what its simulator holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compared {
    /// No free/busy access: shown unknown.
    Unreadable,
    /// Free, or busy without details.
    State,
    /// Busy with the scripted subject.
    Subject,
}

/// Checks a mailbox against what the test scripted on its own simulator: busy with that
/// simulator's subject (where the calendar shows details), or free.
fn assert_scripted(
    engine: &Engine,
    sim: &calgate_sim::Running,
    email: &str,
    subject: Option<&str>,
) -> Compared {
    let access = sim.state.tenant().person(email).map(|p| p.free_busy_access);
    let status = engine
        .board()
        .get(email)
        .expect("on the board")
        .status
        .clone();
    match (access, subject) {
        (None | Some(FreeBusyAccess::None), _) => {
            assert_eq!(status.state, OperatorState::Unknown, "{email}: {status:?}");
            Compared::Unreadable
        }
        (Some(access), Some(subject)) => {
            assert_eq!(status.state, OperatorState::Busy, "{email}: {status:?}");
            if access == FreeBusyAccess::Detailed {
                assert_eq!(
                    status.event.as_ref().and_then(|e| e.subject.as_deref()),
                    Some(subject),
                    "{email}: {status:?}"
                );
                Compared::Subject
            } else {
                Compared::State
            }
        }
        (Some(_), None) => {
            assert_eq!(status.state, OperatorState::Free, "{email}: {status:?}");
            Compared::State
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
    let onprem_people = sim_people(&onprem_sim);
    let cloud_people = sim_people(&cloud_sim);
    assert!(
        onprem_people.iter().all(|e| e.ends_with(ONPREM_DOMAIN))
            && cloud_people.iter().all(|e| !e.ends_with(ONPREM_DOMAIN)),
        "two tenants, two domains"
    );
    // Some mailboxes of each simulator busy now, each simulator with its own subjects, the
    // rest free (the generated calendars hold no meetings at weekends, so without this every
    // comparison would be free against free).
    let onprem_plan = script_all(&onprem_http, &onprem_sim, &onprem_people, 1, "On-premises").await;
    let cloud_plan = script_all(&cloud_http, &cloud_sim, &cloud_people, 2, "Cloud").await;

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
    let (graph, graph_seen) = recorded(Arc::new(graph_app_source(&cloud_sim, CLIENT_SECRET)));
    let ews_batch = ews.limits().batch_size;
    let graph_batch = graph.limits().batch_size;
    let onprem = SourceId::new("onprem");
    let engine = Engine::start(Some(graph), options.clone());
    engine.add_source(onprem.clone(), ews, options.clone());
    engine.set_routing(Routing::new().with_domain(ONPREM_DOMAIN, onprem.clone()));
    let all: Vec<String> = onprem_people.iter().chain(&cloud_people).cloned().collect();
    let started = std::time::Instant::now();
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
    // The first round named everyone in ceil(N / batch) requests per source. It may already
    // have run into the next (1 s) interval on a busy machine, but no mailbox is asked again
    // before an interval has passed since its last answer, so in the time elapsed each was
    // named at most once per started interval; and every request the simulators counted is a
    // recorded one (recorded before it is sent).
    let named: Vec<(String, usize)> = counts(&ews_seen)
        .into_iter()
        .chain(counts(&graph_seen))
        .collect();
    let ews_calls = calls(&ews_seen).len() as u64;
    let graph_calls = calls(&graph_seen).len() as u64;
    // Measured after reading the notes, so that no request can slip in past the bound.
    let elapsed = started.elapsed();
    let interval_ms = Duration::try_from(interval).expect("interval").as_millis();
    let rounds = 1 + usize::try_from(elapsed.as_millis() / interval_ms).unwrap_or(usize::MAX);
    assert_eq!(
        first_round(&ews_seen),
        onprem_people.len().div_ceil(ews_batch),
        "{:?}",
        calls(&ews_seen)
    );
    assert_eq!(
        first_round(&graph_seen),
        cloud_people.len().div_ceil(graph_batch),
        "{:?}",
        calls(&graph_seen)
    );
    for (email, n) in named {
        assert!(n <= rounds, "{email} asked {n} times in {elapsed:?}");
    }
    let ews_requests = requests(&onprem_stats, "GetUserAvailability");
    assert!(
        (1..=ews_calls).contains(&ews_requests),
        "{ews_requests} EWS requests, {ews_calls} sent: {onprem_stats}"
    );
    assert_eq!(
        requests(&onprem_stats, "graph.getSchedule"),
        0,
        "{onprem_stats}"
    );
    let graph_requests = requests(&cloud_stats, "graph.getSchedule");
    assert!(
        (3..=graph_calls).contains(&graph_requests),
        "{graph_requests} getSchedule requests, {graph_calls} sent: {cloud_stats}"
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
    // Each mailbox shows what its own simulator holds: the other simulator's subjects, or a
    // free mailbox shown busy, would fail here.
    let mut compared = 0;
    let mut subjects = [0, 0];
    for (side, sim, plan) in [(0, &onprem_sim, &onprem_plan), (1, &cloud_sim, &cloud_plan)] {
        for (email, subject) in plan {
            compared += usize::from(assert_matches_ground_truth(&engine, sim, email, window));
            if assert_scripted(&engine, sim, email, subject.as_deref()) == Compared::Subject {
                subjects[side] += 1;
            }
        }
    }
    assert!(compared > 90, "most calendars readable ({compared})");
    assert!(
        subjects.iter().all(|n| *n >= 3),
        "busy with a subject on both sides: {subjects:?}"
    );
    for (id, h) in engine.health_by_source() {
        assert!(
            matches!(h.state, SourceState::Ok | SourceState::Degraded),
            "{id}: {h:?}"
        );
    }

    // Exchange on premises throttles every request (ErrorServerBusy, 8 s back-off): the cloud
    // mailboxes keep being refreshed every interval and their source stays well.
    let graph_before = requests(
        &sim_stats(&cloud_http, &cloud_sim).await,
        "graph.getSchedule",
    );
    set_policy(
        &onprem_http,
        &onprem_sim.urls.control_url,
        json!({"busy_every_n_requests": 1, "busy_backoff_ms": 8000}),
    )
    .await;
    let throttled_from = Timestamp::now();
    let mut saw_throttled = false;
    let mut oldest_cloud = SignedDuration::ZERO;
    let end = std::time::Instant::now() + Duration::from_secs(6);
    while std::time::Instant::now() < end {
        let now = Timestamp::now();
        for email in &cloud_people {
            let at = fetched_at(&engine, email).expect("fetched");
            let age = now.duration_since(at);
            oldest_cloud = oldest_cloud.max(age);
            // One interval (1 s) plus a slot, and three seconds of slack for a busy machine;
            // a back-off shared with on-premises (8 s from its first busy answer, within a
            // second of the throttle) would push it past 4 s within these 6 s.
            assert!(
                age < SignedDuration::from_millis(4000),
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
    // answer), which still matches their calendars: within its limit it is shown as it was,
    // busy with on-premises subjects where scripted.
    for (email, subject) in &onprem_plan {
        let at = fetched_at(&engine, email).expect("fetched");
        assert!(
            at < throttled_from + SignedDuration::from_millis(1500),
            "{email} fetched at {at} though every request is refused"
        );
        assert_matches_ground_truth(&engine, &onprem_sim, email, window);
        assert_scripted(&engine, &onprem_sim, email, subject.as_deref());
    }
    let onprem_stats = sim_stats(&onprem_http, &onprem_sim).await;
    let cloud_stats = sim_stats(&cloud_http, &cloud_sim).await;
    let graph_during = requests(&cloud_stats, "graph.getSchedule") - graph_before;
    println!(
        "hybrid throttle: EWS throttled answers {}, EWS back-off violations {}, Graph getSchedule \
         during 6 s {graph_during}, oldest cloud data {} ms, Graph back-off \
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
    // Three batches per 1 s interval for 6 s.
    assert!(graph_during >= 12, "Graph kept its pace: {graph_during}");

    // The throttle ends; one on-premises mailbox has moved to the cloud (its calendar there
    // says out of office now, on premises it is empty): re-routed, it is fetched from Graph.
    set_policy(
        &onprem_http,
        &onprem_sim.urls.control_url,
        json!({"busy_every_n_requests": 0}),
    )
    .await;
    // Its back-off is waited out (never cut short), then it answers well again.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
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
    // From now on EWS is not asked for it again, while it goes on refreshing every other
    // on-premises mailbox: wait until each has been asked again, then count.
    let ews_moved = counts(&ews_seen).get(&moved).copied().unwrap_or(0);
    let ews_before = counts(&ews_seen);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = counts(&ews_seen);
        let waiting: Vec<&String> = onprem_people[1..]
            .iter()
            .filter(|e| now.get(*e) <= ews_before.get(*e))
            .collect();
        if waiting.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "on-premises refreshes did not resume for {waiting:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        counts(&ews_seen).get(&moved).copied().unwrap_or(0),
        ews_moved,
        "EWS asked for {moved}"
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
