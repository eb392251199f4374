//! Graph change notifications end to end: a gateway with a Graph source that subscribes to
//! each watched mailbox on the simulator, whose notifications reach the gateway's open
//! endpoint over real HTTP. With the safety sweep at an hour, a meeting booked on the
//! simulator turns the person busy on the API and the stream within seconds, and a cancellation
//! frees them; a wrong `clientState`, an unknown subscription, a body that is not JSON, a
//! megabyte of notifications and a validation nobody asked for change nothing and are counted;
//! `missed` reads the mailbox, `subscriptionRemoved` subscribes again; renewals come before
//! expiry when the simulator grants seconds-long subscriptions; a person no longer watched
//! loses the subscription and one watched anew gets one; switching notifications off deletes
//! the subscriptions.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use calgate_sim::SimConfig;
use calgate_testkit::gateway::{SseClient, TestGateway, spawn_gateway_from_settings};
use calgate_testkit::{sim_http_client, spawn_sim};

const SECRET: &str = "notifications-app-secret";

async fn start_sim(people: usize) -> calgate_sim::Running {
    spawn_sim(SimConfig {
        people,
        seed: 19,
        client_secret: Some(SECRET.to_owned()),
        ..SimConfig::default()
    })
    .await
}

/// App-only Graph settings against `sim` with notifications to `gw`, the sweep at an hour and
/// polling (for mailboxes without a subscription) at a minute.
fn settings(sim: &calgate_sim::Running, gw: &TestGateway, on: bool) -> Value {
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
        "change_notifications": on, "notification_url": gw.url(),
        "notification_sweep_s": 3600, "allow_insecure_http": true,
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

/// The simulator's live subscriptions.
async fn subscriptions(http: &reqwest::Client, sim: &calgate_sim::Running) -> Vec<Value> {
    let answer: Value = http
        .get(format!("{}/graph/subscriptions", sim.urls.control_url))
        .send()
        .await
        .expect("control API answers")
        .json()
        .await
        .expect("JSON");
    match answer {
        Value::Array(list) => list,
        other => other["subscriptions"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("no subscription list: {other}")),
    }
}

/// The live subscription of `email` on the simulator, if any.
fn subscription_of<'a>(subs: &'a [Value], email: &str) -> Option<&'a Value> {
    subs.iter().find(|s| {
        ["mailbox", "person", "email", "address"].iter().any(|k| {
            s[*k]
                .as_str()
                .is_some_and(|m| m.eq_ignore_ascii_case(email))
        })
    })
}

/// Waits until the simulator holds a subscription for each of `people`, and returns them.
async fn wait_subscribed(
    http: &reqwest::Client,
    sim: &calgate_sim::Running,
    people: &[String],
    within: Duration,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let subs = subscriptions(http, sim).await;
        if people.iter().all(|p| subscription_of(&subs, p).is_some()) {
            return subs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not everyone subscribed in time: {subs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn set_events(
    http: &reqwest::Client,
    sim: &calgate_sim::Running,
    email: &str,
    events: Value,
) {
    let response = http
        .put(format!("{}/mailboxes/{email}/events", sim.urls.control_url))
        .json(&events)
        .send()
        .await
        .expect("control API answers");
    assert!(response.status().is_success(), "events not set for {email}");
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One sample of the gateway's `/metrics`, by its full name with labels.
async fn metric(gw: &TestGateway, sample: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", gw.url()))
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| {
            l.strip_prefix(sample)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

/// A gateway with notifications on, watching `people`, everyone subscribed and read once.
async fn started(
    sim: &calgate_sim::Running,
    http: &reqwest::Client,
    people: &[String],
) -> TestGateway {
    let gw = spawn_gateway_from_settings().await;
    gw.save_settings(&settings(sim, &gw, true)).await;
    gw.watch(people).await;
    gw.wait_fetched(people.len() as u64, Duration::from_secs(60))
        .await;
    wait_subscribed(http, sim, people, Duration::from_secs(30)).await;
    gw
}

fn busy_now() -> Value {
    let now = Timestamp::now();
    json!([{"start": now - SignedDuration::from_mins(5),
            "end": now + SignedDuration::from_hours(1), "busy_type": "busy"}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_booked_now_shows_within_seconds_and_a_cancellation_frees_again() {
    let sim = start_sim(6).await;
    let http = sim_http_client(&sim);
    let people = colleagues(&sim);
    let person = people[0].clone();
    // Nothing in the calendar to start with.
    set_events(&http, &sim, &person, json!([])).await;
    let gw = started(&sim, &http, &people).await;
    let record = wait_record(&gw, &person, Duration::from_secs(10), |r| {
        r["status"]["state"] == "free"
    })
    .await;
    assert_eq!(record["freshness"], "fresh", "{record}");

    let mut stream =
        SseClient::connect(&gw.console, &format!("{}/api/v1/stream", gw.url()), None).await;
    let snapshot = stream
        .next(Duration::from_secs(10))
        .await
        .expect("a snapshot");
    assert_eq!(snapshot.event, "snapshot");

    // Booked now: busy on the stream and the record within 5 s (polling would take a minute,
    // the sweep an hour).
    let booked = tokio::time::Instant::now();
    set_events(&http, &sim, &person, busy_now()).await;
    let change = next_state(&mut stream, &person, "busy", Duration::from_secs(5)).await;
    assert_eq!(change["status"]["state"], "busy", "{change}");
    let record = wait_record(&gw, &person, Duration::from_secs(1), |r| {
        r["status"]["state"] == "busy"
    })
    .await;
    assert_eq!(record["freshness"], "fresh");
    assert!(booked.elapsed() < Duration::from_secs(5));

    // Cancelled: free again.
    set_events(&http, &sim, &person, json!([])).await;
    let change = next_state(&mut stream, &person, "free", Duration::from_secs(5)).await;
    assert_eq!(change["status"]["state"], "free", "{change}");

    // Counted: notifications accepted, none dropped, the delay recorded, and the subscriptions
    // on Health.
    assert!(metric(&gw, "calgate_notifications_total{outcome=\"accepted\"}").await >= 2.0);
    assert_eq!(
        metric(
            &gw,
            "calgate_notifications_total{outcome=\"dropped_client_state\"}"
        )
        .await,
        0.0
    );
    assert!(metric(&gw, "calgate_notification_delay_seconds_count").await >= 2.0);
    let health = gw.health().await;
    assert_eq!(
        health["notifications"]["subscriptions"].as_u64(),
        Some(people.len() as u64),
        "{health}"
    );
}

/// The next status event of `email` in `state`.
async fn next_state(stream: &mut SseClient, email: &str, state: &str, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let event = stream
            .next(left)
            .await
            .unwrap_or_else(|| panic!("{email} did not turn {state} on the stream in time"));
        if event.event == "status" {
            let data = event.json();
            if data["email"] == email && data["status"]["state"] == state {
                return data;
            }
        }
    }
}

/// A delivery posted straight to the gateway's endpoint: the status answered.
async fn post(gw: &TestGateway, path: &str, body: impl Into<reqwest::Body>) -> u16 {
    reqwest::Client::new()
        .post(format!("{}{path}", gw.url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the gateway answers")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_malformed_notifications_change_nothing_and_are_counted() {
    let sim = start_sim(4).await;
    let http = sim_http_client(&sim);
    let people = colleagues(&sim);
    let person = people[0].clone();
    set_events(&http, &sim, &person, json!([])).await;
    let gw = started(&sim, &http, &people).await;
    let subs = subscriptions(&http, &sim).await;
    let id = subscription_of(&subs, &person).expect("subscribed")["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let before = wait_record(&gw, &person, Duration::from_secs(10), |r| {
        r["status"]["state"] == "free"
    })
    .await;

    // Forged notifications for a real subscription must not make the gateway read it.
    let path = "/api/v1/notifications/graph";
    let forged = json!({"value": [{"subscriptionId": id, "clientState": "guessed",
                                   "changeType": "updated", "resource": "Users/x/Events/y"}]});
    assert_eq!(post(&gw, path, forged.to_string()).await, 202);
    let unknown = json!({"value": [{"subscriptionId": "not-ours", "clientState": "x"}]});
    assert_eq!(post(&gw, path, unknown.to_string()).await, 202);
    let no_state = json!({"value": [{"subscriptionId": id}]});
    assert_eq!(post(&gw, path, no_state.to_string()).await, 202);
    assert_eq!(post(&gw, path, "this is not JSON").await, 400);
    assert_eq!(post(&gw, path, "{\"value\": 7}").await, 400);
    let megabyte = json!({"value": vec![json!({"subscriptionId": id, "clientState": "x".repeat(100)}); 8_000]});
    assert!(megabyte.to_string().len() > 1_000_000);
    assert_eq!(post(&gw, path, megabyte.to_string()).await, 413);
    // A validation nobody asked for (no subscription is being made now).
    let validation = reqwest::Client::new()
        .post(format!("{}{path}?validationToken=hello", gw.url()))
        .send()
        .await
        .expect("answers");
    assert_eq!(validation.status(), 403);
    let forged_lifecycle = json!({"value": [{"subscriptionId": id, "clientState": "guessed",
                                             "lifecycleEvent": "missed"}]});
    assert_eq!(
        post(
            &gw,
            &format!("{path}/lifecycle"),
            forged_lifecycle.to_string()
        )
        .await,
        202
    );

    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let after = gw.person(&person).await;
    assert_eq!(after["as_of"], before["as_of"], "nothing was read: {after}");
    assert_eq!(after["status"]["state"], "free");
    assert_eq!(
        metric(
            &gw,
            "calgate_notifications_total{outcome=\"dropped_client_state\"}"
        )
        .await,
        3.0
    );
    assert_eq!(
        metric(
            &gw,
            "calgate_notifications_total{outcome=\"dropped_unknown_subscription\"}"
        )
        .await,
        1.0
    );
    assert_eq!(
        metric(
            &gw,
            "calgate_notifications_total{outcome=\"refused_malformed\"}"
        )
        .await,
        2.0
    );
    assert_eq!(
        metric(
            &gw,
            "calgate_notifications_total{outcome=\"refused_too_large\"}"
        )
        .await,
        1.0
    );
    assert_eq!(
        metric(
            &gw,
            "calgate_notification_validations_total{outcome=\"refused\"}"
        )
        .await,
        1.0
    );
    assert_eq!(
        metric(
            &gw,
            "calgate_notification_lifecycle_events_total{event=\"missed\"}"
        )
        .await,
        0.0
    );
    // The gateway still works: a real change still arrives.
    set_events(&http, &sim, &person, busy_now()).await;
    wait_record(&gw, &person, Duration::from_secs(5), |r| {
        r["status"]["state"] == "busy"
    })
    .await;
}

async fn lifecycle(http: &reqwest::Client, sim: &calgate_sim::Running, id: &str, event: &str) {
    let response = http
        .post(format!(
            "{}/graph/subscriptions/{id}/lifecycle",
            sim.urls.control_url
        ))
        .json(&json!({"event": event}))
        .send()
        .await
        .expect("control API answers");
    assert!(
        response.status().is_success(),
        "lifecycle {event} not sent: {}",
        response.text().await.unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_reads_the_mailbox_and_a_removed_subscription_is_made_again() {
    let sim = start_sim(4).await;
    let http = sim_http_client(&sim);
    let people = colleagues(&sim);
    let person = people[0].clone();
    let gw = started(&sim, &http, &people).await;
    let subs = subscriptions(&http, &sim).await;
    let id = subscription_of(&subs, &person).expect("subscribed")["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let before = gw.person(&person).await;

    lifecycle(&http, &sim, &id, "missed").await;
    let after = wait_record(&gw, &person, Duration::from_secs(5), |r| {
        r["as_of"] != before["as_of"]
    })
    .await;
    assert_eq!(after["freshness"], "fresh");
    assert_eq!(
        metric(
            &gw,
            "calgate_notification_lifecycle_events_total{event=\"missed\"}"
        )
        .await,
        1.0
    );

    lifecycle(&http, &sim, &id, "subscriptionRemoved").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let renewed_id = loop {
        let subs = subscriptions(&http, &sim).await;
        if let Some(new) = subscription_of(&subs, &person).and_then(|s| s["id"].as_str())
            && new != id
        {
            break new.to_owned();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no new subscription for {person}: {subs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_ne!(renewed_id, id);
    // The new subscription carries notifications again.
    set_events(&http, &sim, &person, busy_now()).await;
    wait_record(&gw, &person, Duration::from_secs(5), |r| {
        r["status"]["state"] == "busy"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_are_renewed_before_they_expire_and_deleted_when_switched_off() {
    let sim = start_sim(3).await;
    let http = sim_http_client(&sim);
    // A simulated short clock: every subscription lives 4 s, whatever is asked.
    let response = http
        .put(format!("{}/graph", sim.urls.control_url))
        .json(&json!({"subscription_lifetime_cap_s": 4}))
        .send()
        .await
        .expect("control API answers");
    assert!(response.status().is_success());
    let people = colleagues(&sim);
    let person = people[0].clone();
    let gw = started(&sim, &http, &people).await;
    let first = subscriptions(&http, &sim).await;
    let first_id = subscription_of(&first, &person).expect("subscribed")["id"].clone();

    // Three lifetimes later the same subscriptions are alive: renewed each time before the end.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let later = subscriptions(&http, &sim).await;
    let same = subscription_of(&later, &person).expect("still subscribed");
    assert_eq!(same["id"], first_id, "renewed, not made again: {same}");
    assert!(
        metric(
            &gw,
            "calgate_notification_subscription_changes_total{change=\"renewed\"}"
        )
        .await
            >= 6.0
    );
    assert_eq!(
        metric(
            &gw,
            "calgate_notification_subscription_changes_total{change=\"lost\"}"
        )
        .await,
        0.0
    );
    set_events(&http, &sim, &person, busy_now()).await;
    wait_record(&gw, &person, Duration::from_secs(5), |r| {
        r["status"]["state"] == "busy"
    })
    .await;

    // A person no longer watched loses the subscription; a person watched anew gets one.
    let (status, _) = gw
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/people/{person}"),
            None,
        )
        .await;
    assert!(status < 300, "unwatch answered {status}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let subs = subscriptions(&http, &sim).await;
        if subscription_of(&subs, &person).is_none() {
            assert_eq!(subs.len(), people.len() - 1, "{subs:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{person}'s subscription outlived the watch: {subs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    gw.watch(std::slice::from_ref(&person)).await;
    wait_subscribed(&http, &sim, &people, Duration::from_secs(10)).await;

    // Off: every subscription is deleted.
    gw.save_settings(&settings(&sim, &gw, false)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let subs = subscriptions(&http, &sim).await;
        if subs.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscriptions left after switching off: {subs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
