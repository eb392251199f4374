//! calgate-sim's Graph change notifications, driven over HTTPS with calgate-graph's own wire
//! types: subscriptions with the validation handshake to a receiver running in the test,
//! refusals in Graph's words, notifications when a mailbox's events change through the control
//! API (and none when only its out-of-office does), lifecycle events on demand, and expiry on a
//! simulated short clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use calgate_graph::ServiceError;
use calgate_graph::subscriptions::{
    DOCUMENTED_MAX_LIFETIME_MINUTES, LifecycleEvent, NewSubscription, Notification,
    NotificationCollection, RenewSubscription, Subscription, SubscriptionPage, read_time,
    refused_lifetime_minutes,
};
use calgate_sim::{Running, SimConfig};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::graph::{app_token, https_client, user_token};

const SECRET: &str = "graph-test-client-secret";

async fn start_sim() -> Running {
    let config = SimConfig {
        people: 20,
        seed: 11,
        client_secret: Some(SECRET.to_owned()),
        ..SimConfig::default()
    };
    calgate_sim::spawn(config).await.expect("simulator starts")
}

/// How the receiver answers a validation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answering {
    /// The token, as `text/plain`.
    Echo,
    /// 200 with another body.
    WrongToken,
    /// The token echoed, but every notification refused with a 500.
    RefuseNotifications,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    validation_token: Option<String>,
    content_type: String,
    body: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    answering: Answering,
}

impl Receiver {
    /// Starts a receiver on 127.0.0.1:0; answers its base URL (`http://127.0.0.1:PORT`).
    async fn start(answering: Answering) -> (Receiver, String) {
        let receiver = Receiver {
            got: Arc::new(Mutex::new(Vec::new())),
            answering,
        };
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("receiver binds");
        let addr = listener.local_addr().expect("receiver address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (receiver, format!("http://{addr}"))
    }

    fn all(&self) -> Vec<Received> {
        self.got.lock().expect("receiver lock").clone()
    }

    fn validations(&self) -> Vec<Received> {
        self.all()
            .into_iter()
            .filter(|r| r.validation_token.is_some())
            .collect()
    }

    /// Every notification posted to `path`, collection by collection.
    fn collections(&self, path: &str) -> Vec<Vec<Notification>> {
        self.all()
            .into_iter()
            .filter(|r| r.validation_token.is_none() && r.path == path)
            .map(|r| NotificationCollection::read(&r.body, 1 << 20).expect("a collection"))
            .collect()
    }

    /// Waits (up to a generous deadline) until `path` got at least `n` collections.
    async fn wait_for(&self, path: &str, n: usize) -> Vec<Vec<Notification>> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        loop {
            let got = self.collections(path);
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = query.get("validationToken").cloned();
    receiver.got.lock().expect("receiver lock").push(Received {
        path: uri.path().to_owned(),
        validation_token: token.clone(),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
        body: body.to_vec(),
    });
    match (token, receiver.answering) {
        (Some(token), Answering::Echo | Answering::RefuseNotifications) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            token,
        )
            .into_response(),
        (Some(_), Answering::WrongToken) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            "not the token",
        )
            .into_response(),
        (None, Answering::RefuseNotifications) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        (None, _) => StatusCode::ACCEPTED.into_response(),
    }
}

/// A test's simulator, HTTPS client and app token.
struct Graph {
    sim: Running,
    http: reqwest::Client,
    token: String,
}

impl Graph {
    async fn start() -> Graph {
        let sim = start_sim().await;
        let http = https_client(&sim);
        let token = app_token(&http, &sim).await;
        Graph { sim, http, token }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.sim.urls.graph_url)
    }

    fn control(&self, path: &str) -> String {
        format!("{}/{path}", self.sim.urls.control_url)
    }

    /// The nth person of the tenant: (address, directory id).
    fn person(&self, n: usize) -> (String, String) {
        let tenant = self.sim.state.tenant();
        let p = tenant.people.get(n).expect("person");
        (p.email.clone(), p.id.clone())
    }

    async fn post_json(&self, body: &Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url("subscriptions"))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("Graph answers");
        let status = StatusCode::from_u16(r.status().as_u16()).expect("status");
        let body: Value = r.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn subscribe(&self, s: &NewSubscription) -> (StatusCode, Value) {
        self.post_json(&serde_json::to_value(s).expect("JSON"))
            .await
    }

    async fn renew(&self, id: &str, until: Timestamp) -> (StatusCode, Value) {
        let r = self
            .http
            .patch(self.url(&format!("subscriptions/{id}")))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(RenewSubscription::until(until).to_json())
            .send()
            .await
            .expect("Graph answers");
        let status = StatusCode::from_u16(r.status().as_u16()).expect("status");
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn set_events(&self, address: &str, events: Value) {
        let r = self
            .http
            .put(self.control(&format!("mailboxes/{address}/events")))
            .json(&events)
            .send()
            .await
            .expect("control answers");
        assert_eq!(r.status(), 204);
    }

    async fn lifecycle(&self, id: &str, event: &str) -> (u16, Value) {
        let r = self
            .http
            .post(self.control(&format!("graph/subscriptions/{id}/lifecycle")))
            .json(&json!({ "event": event }))
            .send()
            .await
            .expect("control answers");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn control_list(&self) -> Vec<Value> {
        self.http
            .get(self.control("graph/subscriptions"))
            .send()
            .await
            .expect("control answers")
            .json()
            .await
            .expect("JSON list")
    }

    async fn stats(&self) -> Value {
        self.http
            .get(self.control("stats"))
            .send()
            .await
            .expect("control answers")
            .json()
            .await
            .expect("stats JSON")
    }

    async fn put_graph_settings(&self, body: Value) {
        let r = self
            .http
            .put(self.control("graph"))
            .json(&body)
            .send()
            .await
            .expect("control answers");
        assert_eq!(r.status(), 200);
    }
}

fn in_hours(h: i64) -> Timestamp {
    Timestamp::now() + SignedDuration::from_hours(h)
}

fn one_meeting(from_now_h: i64) -> Value {
    let start = in_hours(from_now_h);
    json!([{ "start": start, "end": start + SignedDuration::from_hours(1), "busy_type": "busy" }])
}

fn graph_error(status: StatusCode, body: &Value) -> ServiceError {
    ServiceError::read(status.as_u16(), None, body.to_string().as_bytes())
}

#[tokio::test]
async fn a_subscription_is_created_after_the_validation_handshake() {
    let g = Graph::start().await;
    let (receiver, base) = Receiver::start(Answering::Echo).await;
    let (address, id) = g.person(1);
    let asked = NewSubscription::events(
        &address,
        &format!("{base}/notify"),
        &format!("{base}/lifecycle"),
        in_hours(24),
        "state-1",
    );
    let (status, body) = g.subscribe(&asked).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: Subscription = serde_json::from_value(body.clone()).expect("a subscription");
    let accepted = created.accepted().expect("an id and an expiry");
    assert_eq!(
        accepted.expires,
        read_time(&asked.expiration_date_time).expect("time")
    );
    assert_eq!(created.client_state.as_deref(), Some("state-1"));
    assert_eq!(created.resource.as_deref(), Some(asked.resource.as_str()));
    assert_eq!(
        created.change_type.as_deref(),
        Some("created,updated,deleted")
    );
    assert_eq!(
        created.application_id.as_deref(),
        Some(SimConfig::default().client_id.as_str())
    );

    // Both URLs were validated: a POST with a token in the query, no body, text/plain; the
    // receiver echoed it.
    let validations = receiver.validations();
    let paths: Vec<&str> = validations.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(paths, ["/notify", "/lifecycle"]);
    for v in &validations {
        let token = v.validation_token.as_deref().expect("a token");
        assert!(token.starts_with("Validation: "), "{token}");
        assert!(v.body.is_empty());
        assert!(
            v.content_type.starts_with("text/plain"),
            "{}",
            v.content_type
        );
    }
    assert_ne!(
        validations[0].validation_token,
        validations[1].validation_token
    );

    // The SDKs' PascalCase, on the directory id, without a lifecycle URL or client state.
    let (status, body) = g
        .post_json(&json!({
            "ChangeType": "updated",
            "NotificationUrl": format!("{base}/notify"),
            "Resource": format!("Users/{id}/Events"),
            "ExpirationDateTime": calgate_graph::subscriptions::write_time(in_hours(1)),
        }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let second: Subscription = serde_json::from_value(body).expect("a subscription");
    assert_eq!(second.client_state, None);
    assert_eq!(second.change_type.as_deref(), Some("updated"));

    // The listing names both, without their client state; one reads back.
    let r = g
        .http
        .get(g.url("subscriptions"))
        .bearer_auth(&g.token)
        .send()
        .await
        .expect("Graph answers");
    assert_eq!(r.status(), 200);
    let page = SubscriptionPage::read(&r.bytes().await.expect("body")).expect("a page");
    let listed = page.value.expect("value");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].id, created.id);
    assert!(listed.iter().all(|s| s.client_state.is_none()));
    assert_eq!(page.next_link, None);
    let r = g
        .http
        .get(g.url(&format!("subscriptions/{}", accepted.id)))
        .bearer_auth(&g.token)
        .send()
        .await
        .expect("Graph answers");
    assert_eq!(r.status(), 200);

    let control = g.control_list().await;
    assert_eq!(control.len(), 2);
    assert_eq!(control[0]["address"], address.as_str());
    assert_eq!(control[0]["person_id"], id.as_str());
    assert_eq!(control[0]["renewals"], 0);

    let stats = g.stats().await;
    assert_eq!(
        stats["requests"]["graph.subscriptions.create"], 2,
        "{stats}"
    );
    assert_eq!(stats["requests"]["graph.subscriptions.list"], 1, "{stats}");
    assert_eq!(
        stats["outbound"]["graph.subscriptions.validations.sent"], 3,
        "{stats}"
    );
    assert!(stats["outbound"]["graph.subscriptions.validations.failed"].is_null());
}

#[tokio::test]
async fn what_graph_refuses_the_simulator_refuses_in_graphs_words() {
    let g = Graph::start().await;
    let (wrong, wrong_base) = Receiver::start(Answering::WrongToken).await;
    let (_, base) = Receiver::start(Answering::Echo).await;
    let (address, _) = g.person(2);
    let good = || {
        NewSubscription::events(
            &address,
            &format!("{base}/notify"),
            &format!("{base}/lifecycle"),
            in_hours(24),
            "cs",
        )
    };

    // A receiver that answers another token: no subscription.
    let mut s = good();
    s.notification_url = format!("{wrong_base}/notify");
    let (status, body) = g.subscribe(&s).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let e = graph_error(status, &body);
    assert_eq!(e.graph_code.as_deref(), Some("ValidationError"));
    // (The client's reader clips messages; the body has Graph's whole sentence.)
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Notification endpoint must respond with 200 OK"),
        "{message}"
    );
    assert_eq!(wrong.validations().len(), 1);
    assert!(g.control_list().await.is_empty());
    // The same for a lifecycle URL that fails.
    let mut s = good();
    s.lifecycle_notification_url = Some(format!("{wrong_base}/lifecycle"));
    let (status, _) = g.subscribe(&s).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(g.control_list().await.is_empty());

    // Plain HTTP off loopback, and no URL at all.
    for url in ["http://gateway.example.test/notify", "gateway"] {
        let mut s = good();
        s.notification_url = url.to_owned();
        let (status, body) = g.subscribe(&s).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
    }
    let mut s = good();
    s.lifecycle_notification_url = Some("http://10.1.2.3/lifecycle".to_owned());
    assert_eq!(g.subscribe(&s).await.0, StatusCode::BAD_REQUEST);

    // An expiry beyond the maximum names the limit; so does a shorter one set for the test.
    let mut s = good();
    s.expiration_date_time = calgate_graph::subscriptions::write_time(
        Timestamp::now()
            + SignedDuration::from_mins(i64::from(DOCUMENTED_MAX_LIFETIME_MINUTES) + 5),
    );
    let (status, body) = g.subscribe(&s).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = graph_error(status, &body).message.unwrap_or_default();
    assert_eq!(
        refused_lifetime_minutes(&message),
        Some(DOCUMENTED_MAX_LIFETIME_MINUTES),
        "{message}"
    );
    g.put_graph_settings(json!({ "subscription_max_minutes": 60 }))
        .await;
    let mut s = good();
    s.expiration_date_time = calgate_graph::subscriptions::write_time(in_hours(2));
    let (status, body) = g.subscribe(&s).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = graph_error(status, &body).message.unwrap_or_default();
    assert_eq!(refused_lifetime_minutes(&message), Some(60), "{message}");

    // An expiry in the past or unreadable, unknown change types, a long client state.
    let mut s = good();
    s.expiration_date_time = "2020-01-01T00:00:00Z".to_owned();
    assert_eq!(g.subscribe(&s).await.0, StatusCode::BAD_REQUEST);
    let mut s = good();
    s.expiration_date_time = "tomorrow".to_owned();
    assert_eq!(g.subscribe(&s).await.0, StatusCode::BAD_REQUEST);
    for change in ["", "created,moved"] {
        let mut s = good();
        s.change_type = change.to_owned();
        assert_eq!(g.subscribe(&s).await.0, StatusCode::BAD_REQUEST, "{change}");
    }
    let mut s = good();
    s.client_state = Some("x".repeat(129));
    assert_eq!(g.subscribe(&s).await.0, StatusCode::BAD_REQUEST);
    // A missing property.
    let (status, body) = g.post_json(&json!({ "resource": "users/x/events" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Another resource, or a person the tenant does not know.
    let mut s = good();
    s.resource = format!("users/{address}/messages");
    assert_eq!(g.subscribe(&s).await.0, StatusCode::BAD_REQUEST);
    let mut s = good();
    s.resource = "users/nobody@elsewhere.test/events".to_owned();
    let (status, body) = g.subscribe(&s).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(
        graph_error(status, &body).graph_code.as_deref(),
        Some("ResourceNotFound")
    );
    assert!(g.control_list().await.is_empty());

    // Unknown ids.
    assert_eq!(
        g.renew("00000000-0000-0000-0000-000000000000", in_hours(1))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let r = g
        .http
        .delete(g.url("subscriptions/nope"))
        .bearer_auth(&g.token)
        .send()
        .await
        .expect("Graph answers");
    assert_eq!(r.status(), 404);

    // A token without a calendar permission.
    let weak = user_token(&g.http, &g.sim, "https://graph.microsoft.com/User.Read").await;
    let r = g
        .http
        .post(g.url("subscriptions"))
        .bearer_auth(&weak)
        .body(good().to_json())
        .send()
        .await
        .expect("Graph answers");
    assert_eq!(r.status(), 403);
    let e = ServiceError::read(403, None, &r.bytes().await.expect("body"));
    assert_eq!(e.graph_code.as_deref(), Some("ErrorAccessDenied"));
    // No token at all.
    let r = g
        .http
        .get(g.url("subscriptions"))
        .send()
        .await
        .expect("Graph answers");
    assert_eq!(r.status(), 401);

    // None of the refusals made a subscription; the good one still works.
    g.put_graph_settings(json!({ "subscription_max_minutes": DOCUMENTED_MAX_LIFETIME_MINUTES }))
        .await;
    assert_eq!(g.subscribe(&good()).await.0, StatusCode::CREATED);
    assert_eq!(g.control_list().await.len(), 1);
    let stats = g.stats().await;
    assert_eq!(
        stats["outbound"]["graph.subscriptions.validations.failed"], 2,
        "{stats}"
    );
}

#[tokio::test]
async fn changed_events_notify_the_subscribers_and_out_of_office_does_not() {
    let g = Graph::start().await;
    let (receiver, base) = Receiver::start(Answering::Echo).await;
    let (address, person_id) = g.person(3);
    let (other, _) = g.person(4);
    // Two subscriptions on the same person (by address and by directory id, in another case),
    // one on someone else.
    let by_address = NewSubscription::events(
        &address.to_uppercase(),
        &format!("{base}/notify"),
        &format!("{base}/lifecycle"),
        in_hours(24),
        "by-address",
    );
    let by_id = NewSubscription::events(
        &person_id,
        &format!("{base}/notify"),
        &format!("{base}/lifecycle"),
        in_hours(24),
        "by-id",
    );
    let elsewhere = NewSubscription::events(
        &other,
        &format!("{base}/elsewhere"),
        &format!("{base}/lifecycle"),
        in_hours(24),
        "other",
    );
    // Whatever the generator gave them, both start empty (before anyone subscribes).
    g.set_events(&address, json!([])).await;
    g.set_events(&other, json!([])).await;
    let mut ids = HashMap::new();
    for s in [&by_address, &by_id, &elsewhere] {
        let (status, body) = g.subscribe(s).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().expect("id").to_owned();
        ids.insert(s.client_state.clone().expect("client state"), id);
    }

    // A meeting added through the control API: one collection with both of that person's
    // subscriptions, within the deadline; the control call itself does not wait for it.
    let before = std::time::Instant::now();
    g.set_events(&address, one_meeting(1)).await;
    assert!(before.elapsed() < Duration::from_secs(1));
    let got = receiver.wait_for("/notify", 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let mut seen: Vec<(String, String)> = got[0]
        .iter()
        .map(|n| {
            assert_eq!(n.change_type.as_deref(), Some("created"));
            assert_eq!(
                n.tenant_id.as_deref(),
                Some(SimConfig::default().tenant_id.as_str())
            );
            let resource = n.resource.as_deref().expect("resource");
            assert!(
                resource.starts_with(&format!("Users/{person_id}/Events/")),
                "{resource}"
            );
            assert_eq!(n.lifecycle_event(), None);
            (
                n.client_state.clone().expect("client state"),
                n.subscription_id.clone().expect("subscription id"),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("by-address".to_owned(), ids["by-address"].clone()),
            ("by-id".to_owned(), ids["by-id"].clone()),
        ]
    );

    // Out-of-office is not an event: no notification. The next events change is the second
    // collection, and nothing came in between.
    let r = g
        .http
        .put(g.control(&format!("mailboxes/{address}/oof")))
        .json(&json!({ "message": "Away" }))
        .send()
        .await
        .expect("control answers");
    assert!(r.status().is_success());
    // One subscription fewer: deleted.
    let r = g
        .http
        .delete(g.url(&format!("subscriptions/{}", ids["by-id"])))
        .bearer_auth(&g.token)
        .send()
        .await
        .expect("Graph answers");
    assert_eq!(r.status(), 204);
    g.set_events(&address, json!([])).await;
    let got = receiver.wait_for("/notify", 2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1].len(), 1);
    assert_eq!(got[1][0].client_state.as_deref(), Some("by-address"));
    assert_eq!(got[1][0].change_type.as_deref(), Some("deleted"));
    // The other person's subscriber heard nothing.
    assert!(receiver.collections("/elsewhere").is_empty());

    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let stats = loop {
        let stats = g.stats().await;
        if stats["outbound"]["graph.subscriptions.notifications.sent"] == 3
            || tokio::time::Instant::now() >= deadline
        {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        stats["outbound"]["graph.subscriptions.notifications.sent"], 3,
        "{stats}"
    );
    assert!(stats["outbound"]["graph.subscriptions.notifications.failed"].is_null());
    let control = g.control_list().await;
    let mine = control
        .iter()
        .find(|s| s["id"] == ids["by-address"].as_str())
        .expect("listed");
    assert_eq!(mine["notifications_sent"], 2);
}

#[tokio::test]
async fn lifecycle_events_are_sent_on_demand() {
    let g = Graph::start().await;
    let (receiver, base) = Receiver::start(Answering::Echo).await;
    let (address, _) = g.person(5);
    let s = NewSubscription::events(
        &address,
        &format!("{base}/notify"),
        &format!("{base}/lifecycle"),
        in_hours(24),
        "life",
    );
    let (status, body) = g.subscribe(&s).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();

    let (status, answer) = g.lifecycle(&id, "missed").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["receiver_status"], 202);
    assert_eq!(answer["removed"], false);
    let got = receiver.wait_for("/lifecycle", 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0][0].lifecycle_event(), Some(LifecycleEvent::Missed));
    assert_eq!(got[0][0].subscription_id.as_deref(), Some(id.as_str()));
    assert_eq!(got[0][0].client_state.as_deref(), Some("life"));
    // Still there: it renews.
    let (status, renewed) = g.renew(&id, in_hours(48)).await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    assert_eq!(g.control_list().await[0]["renewals"], 1);

    let (status, answer) = g.lifecycle(&id, "subscriptionRemoved").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["removed"], true);
    let got = receiver.wait_for("/lifecycle", 2).await;
    assert_eq!(
        got[1][0].lifecycle_event(),
        Some(LifecycleEvent::SubscriptionRemoved)
    );
    assert_eq!(g.renew(&id, in_hours(48)).await.0, StatusCode::NOT_FOUND);
    assert!(g.control_list().await.is_empty());
    assert_eq!(g.lifecycle(&id, "missed").await.0, 404);

    // Without a lifecycle URL there is nowhere to send one; an unknown event is refused.
    let mut bare = s.clone();
    bare.lifecycle_notification_url = None;
    let (status, body) = g.subscribe(&bare).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let bare_id = body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        g.lifecycle(&bare_id, "reauthorizationRequired").await.0,
        409
    );
    assert_eq!(g.lifecycle(&bare_id, "somethingNew").await.0, 400);
    assert_eq!(g.control_list().await.len(), 1);

    let stats = g.stats().await;
    assert_eq!(
        stats["outbound"]["graph.subscriptions.lifecycle.sent"], 2,
        "{stats}"
    );
}

#[tokio::test]
async fn on_a_short_clock_subscriptions_expire_and_fall_silent() {
    let g = Graph::start().await;
    let (receiver, base) = Receiver::start(Answering::Echo).await;
    let (address, _) = g.person(6);
    g.put_graph_settings(json!({ "subscription_lifetime_cap_s": 2 }))
        .await;
    // A day asked for, two seconds given; the answer says so.
    let s = NewSubscription::events(
        &address,
        &format!("{base}/notify"),
        &format!("{base}/lifecycle"),
        in_hours(24),
        "short",
    );
    let (status, body) = g.subscribe(&s).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let accepted = serde_json::from_value::<Subscription>(body)
        .expect("a subscription")
        .accepted()
        .expect("id and expiry");
    assert!(accepted.expires <= Timestamp::now() + SignedDuration::from_secs(2));
    // A renewal is capped the same way.
    let (status, body) = g.renew(&accepted.id, in_hours(24)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renewed = serde_json::from_value::<Subscription>(body)
        .expect("a subscription")
        .accepted()
        .expect("id and expiry");
    assert!(renewed.expires <= Timestamp::now() + SignedDuration::from_secs(2));

    // Past its expiry it is gone: not renewed, not listed, and a change sends nothing.
    while Timestamp::now() <= renewed.expires + SignedDuration::from_millis(200) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        g.renew(&accepted.id, in_hours(1)).await.0,
        StatusCode::NOT_FOUND
    );
    g.set_events(&address, one_meeting(2)).await;
    assert!(g.control_list().await.is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.collections("/notify").is_empty());
    let stats = g.stats().await;
    assert_eq!(
        stats["outbound"]["graph.subscriptions.expired"], 1,
        "{stats}"
    );
    assert!(stats["outbound"]["graph.subscriptions.notifications.sent"].is_null());
}

#[tokio::test]
async fn the_listing_is_paged_by_next_links() {
    let g = Graph::start().await;
    let (_, base) = Receiver::start(Answering::Echo).await;
    let (address, _) = g.person(7);
    let mut made = Vec::new();
    for n in 0..101 {
        let s = NewSubscription::events(
            &address,
            &format!("{base}/notify"),
            &format!("{base}/lifecycle"),
            in_hours(24),
            &format!("cs-{n}"),
        );
        let (status, body) = g.subscribe(&s).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        made.push(body["id"].as_str().expect("id").to_owned());
    }
    let mut listed = Vec::new();
    let mut url = g.url("subscriptions");
    let mut pages = 0;
    loop {
        let r = g
            .http
            .get(&url)
            .bearer_auth(&g.token)
            .send()
            .await
            .expect("Graph answers");
        assert_eq!(r.status(), 200);
        let page = SubscriptionPage::read(&r.bytes().await.expect("body")).expect("a page");
        pages += 1;
        listed.extend(page.value.expect("value").into_iter().filter_map(|s| s.id));
        match page.next_link {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(listed, made);
}

#[tokio::test]
async fn notifications_a_receiver_refuses_are_counted_as_failed() {
    let g = Graph::start().await;
    let (receiver, base) = Receiver::start(Answering::RefuseNotifications).await;
    let (address, _) = g.person(8);
    let s = NewSubscription::events(
        &address,
        &format!("{base}/notify"),
        &format!("{base}/lifecycle"),
        in_hours(24),
        "refused",
    );
    let (status, body) = g.subscribe(&s).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();
    g.set_events(&address, one_meeting(3)).await;
    assert_eq!(receiver.wait_for("/notify", 1).await.len(), 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let stats = loop {
        let stats = g.stats().await;
        if !stats["outbound"]["graph.subscriptions.notifications.failed"].is_null()
            || tokio::time::Instant::now() >= deadline
        {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        stats["outbound"]["graph.subscriptions.notifications.sent"], 1,
        "{stats}"
    );
    assert_eq!(
        stats["outbound"]["graph.subscriptions.notifications.failed"], 1,
        "{stats}"
    );
    let (status, answer) = g.lifecycle(&id, "reauthorizationRequired").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["receiver_status"], 500);
    let listed = g.control_list().await;
    assert_eq!(listed[0]["notifications_failed"], 1);
    let stats = g.stats().await;
    assert_eq!(
        stats["outbound"]["graph.subscriptions.lifecycle.failed"], 1,
        "{stats}"
    );
}
