//! Microsoft Teams presence end to end: a gateway with a Graph source reading presence from the
//! simulator. A presence set on the simulator (`Busy`/`InACall`) shows on the person record, in
//! the list and on the event stream within a few intervals; an out-of-office calendar stays out
//! of office whatever Teams says; a person the directory does not know has unknown presence,
//! never available; a source with presence off never asks for it; and 1 000 watched people cost
//! ⌈1000/650⌉ = 2 presence requests a round.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use calgate_sim::SimConfig;
use calgate_testkit::gateway::{SseClient, TestGateway, spawn_gateway_from_settings};
use calgate_testkit::{sim_http_client, sim_people, sim_stats, spawn_sim};

const SECRET: &str = "presence-app-secret";

async fn start_sim(people: usize) -> calgate_sim::Running {
    spawn_sim(SimConfig {
        people,
        seed: 18,
        client_secret: Some(SECRET.to_owned()),
        ..SimConfig::default()
    })
    .await
}

/// App-only Graph settings against `sim`, presence as asked.
fn graph_settings(sim: &calgate_sim::Running, presence: bool) -> Value {
    let base = sim
        .urls
        .graph_url
        .trim_end_matches('/')
        .trim_end_matches("/v1.0")
        .to_string();
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS"))
        .expect("CA readable");
    json!({
        "provider": "microsoft365", "tenant_id": sim.state.tenant_id,
        "client_id": sim.state.client_id, "client_secret": SECRET,
        "authority_host": base, "graph_endpoint": base,
        "refresh_interval_s": 60, "extra_ca_pem": ca,
        "presence": presence, "presence_interval_s": 10,
    })
}

/// Everyone of the tenant but rooms and the service account.
fn colleagues(sim: &calgate_sim::Running) -> Vec<String> {
    let service = sim.state.service_account.clone().unwrap_or_default();
    sim.state
        .tenant()
        .people
        .iter()
        .filter(|p| !p.is_room && !p.email.eq_ignore_ascii_case(&service))
        .map(|p| p.email.clone())
        .collect()
}

async fn set_presence(
    http: &reqwest::Client,
    sim: &calgate_sim::Running,
    email: &str,
    availability: &str,
    activity: &str,
) {
    let response = http
        .put(format!(
            "{}/mailboxes/{email}/presence",
            sim.urls.control_url
        ))
        .json(&json!({"availability": availability, "activity": activity}))
        .send()
        .await
        .expect("control API answers");
    assert_eq!(response.status(), 204, "presence not set for {email}");
}

/// Waits until `check` holds for the person's record, and returns it.
async fn wait_record(
    gw: &TestGateway,
    email: &str,
    within: Duration,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let record = gw.person(email).await;
        if check(&record) {
            return record;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{email} never reached the awaited record: {record}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_call_shows_on_the_record_and_the_stream_and_never_overrides_out_of_office() {
    let sim = start_sim(8).await;
    let http = sim_http_client(&sim);
    let people = colleagues(&sim);
    let (caller, away) = (people[0].clone(), people[1].clone());
    // `away` is out of office all day by the calendar, yet Available in Teams.
    let now = Timestamp::now();
    let response = http
        .put(format!("{}/mailboxes/{away}/events", sim.urls.control_url))
        .json(&json!([{"start": now - SignedDuration::from_hours(1),
                       "end": now + SignedDuration::from_hours(5), "busy_type": "oof"}]))
        .send()
        .await
        .expect("control API answers");
    assert!(response.status().is_success());
    set_presence(&http, &sim, &away, "Available", "Available").await;

    let gw = spawn_gateway_from_settings().await;
    gw.save_settings(&graph_settings(&sim, true)).await;
    let stranger = format!("nobody-{}@unknown.example", std::process::id());
    let mut watched = people.clone();
    watched.push(stranger.clone());
    gw.watch(&watched).await;
    gw.wait_fetched(watched.len() as u64, Duration::from_secs(60))
        .await;

    // Everyone's first round: the default is Available; the stranger is unknown.
    let record = wait_record(&gw, &caller, Duration::from_secs(30), |r| {
        r["presence"]["availability"] == "Available"
    })
    .await;
    assert!(record["presence"]["as_of"].is_string(), "{record}");
    let record = wait_record(&gw, &stranger, Duration::from_secs(30), |r| {
        r["presence"].is_object()
    })
    .await;
    assert_eq!(record["presence"]["availability"], "PresenceUnknown");
    assert_eq!(record["presence"]["activity"], "PresenceUnknown");

    let mut stream =
        SseClient::connect(&gw.console, &format!("{}/api/v1/stream", gw.url()), None).await;
    let snapshot = stream
        .next(Duration::from_secs(10))
        .await
        .expect("a snapshot");
    assert_eq!(snapshot.event, "snapshot");
    let listed = snapshot.json()["people"]
        .as_array()
        .expect("people")
        .iter()
        .find(|p| p["email"] == caller.as_str())
        .cloned()
        .expect("the caller is in the snapshot");
    assert_eq!(listed["presence"]["availability"], "Available", "{listed}");

    set_presence(&http, &sim, &caller, "Busy", "InACall").await;
    set_presence(&http, &sim, &away, "DoNotDisturb", "Presenting").await;

    // The stream carries the change within a few intervals (10 s each).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(35);
    let change = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let event = stream
            .next(left)
            .await
            .expect("the presence change arrives on the stream");
        if event.event == "status" && event.json()["email"] == caller.as_str() {
            let data = event.json();
            if data["presence"]["activity"] == "InACall" {
                break data;
            }
        }
    };
    assert_eq!(change["presence"]["availability"], "Busy");
    assert!(change["status"]["state"].is_string(), "{change}");

    let record = wait_record(&gw, &caller, Duration::from_secs(5), |r| {
        r["presence"]["activity"] == "InACall"
    })
    .await;
    assert_eq!(record["presence"]["availability"], "Busy");
    // The list carries it too.
    let listed = gw.get_json("/api/v1/people?limit=100").await;
    let summary = listed
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["email"] == caller.as_str())
        .cloned()
        .expect("listed");
    assert_eq!(summary["presence"]["activity"], "InACall", "{summary}");

    // Out of office by the calendar stays out of office, whatever Teams says.
    let record = wait_record(&gw, &away, Duration::from_secs(30), |r| {
        r["presence"]["activity"] == "Presenting"
    })
    .await;
    assert_eq!(record["status"]["state"], "oof", "{record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_off_never_asks_and_a_thousand_people_cost_two_requests_a_round() {
    // Presence off: the schedule is read, presence never.
    let sim = start_sim(12).await;
    let http = sim_http_client(&sim);
    let gw = spawn_gateway_from_settings().await;
    gw.save_settings(&graph_settings(&sim, false)).await;
    let people = colleagues(&sim);
    gw.watch(&people).await;
    gw.wait_fetched(people.len() as u64, Duration::from_secs(60))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stats = sim_stats(&http, &sim).await;
    assert!(stats["requests"]["graph.getSchedule"].as_u64() > Some(0));
    assert!(stats["requests"]["graph.presence"].is_null(), "{stats}");
    let record = gw.person(&people[0]).await;
    assert!(record.get("presence").is_none(), "{record}");
    drop(gw);
    drop(sim);

    // 1 000 watched people: one round is two presence requests (650 + 350).
    let sim = start_sim(1000).await;
    let http = sim_http_client(&sim);
    let gw = spawn_gateway_from_settings().await;
    gw.save_settings(&graph_settings(&sim, true)).await;
    let everyone = sim_people(&sim);
    assert_eq!(everyone.len(), 1000);
    gw.watch(&everyone).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let listed = gw.get_json("/api/v1/people?limit=2000").await;
        let with_presence = listed
            .as_array()
            .expect("a list")
            .iter()
            .filter(|p| p["presence"].is_object())
            .count();
        if with_presence == 1000 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{with_presence} of 1000 have presence"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let stats = sim_stats(&http, &sim).await;
    assert_eq!(stats["requests"]["graph.presence"], 2, "{stats}");
    // The ids were listed once, in pages of 999.
    assert_eq!(stats["requests"]["graph.users"], 2, "{stats}");
}

/// The console shows Teams presence in words beside the calendar status ("Teams: In a call"),
/// in Chromium against the demo with presence switched on for its Microsoft 365 half.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_teams_presence_in_words() {
    let (demo, _dir) = crate::pages::demo(12).await;
    let base = demo.gateway.url();
    let put = crate::pages::admin_client(&demo.admin_token)
        .put(format!("{base}/api/v1/sources/online"))
        .json(&json!({"presence": true, "presence_interval_s": 10}))
        .send()
        .await
        .expect("source PUT");
    assert!(put.status().is_success(), "{}", put.status());
    let online = sim_people(&demo.online_sim);
    let caller = online
        .iter()
        .find(|e| e.ends_with(calgate::demo::ONLINE_DOMAIN))
        .cloned()
        .expect("a Microsoft 365 colleague");
    let http = sim_http_client(&demo.online_sim);
    set_presence(&http, &demo.online_sim, &caller, "Busy", "InACall").await;

    let mut b = crate::pages::Browser::launch(&base).await;
    b.sign_in().await;
    b.goto("/console").await;
    b.wait("#results li[data-email]").await;
    b.fill("#search", &caller).await;
    let row = format!("#results li[data-email=\"{caller}\"]");
    b.cmd(json!({"op": "waitText", "sel": row, "text": "Teams: In a call", "timeout": 40000}))
        .await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "no script errors: {errors:?}");
    b.quit().await;
}
