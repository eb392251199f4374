//! The gateway's REST API and event stream over real HTTP.

use std::time::Duration;

use jiff::SignedDuration;
use serde_json::{Value, json};

use calgate_engine::EngineOptions;
use calgate_testkit::gateway::{SseClient, spawn_gateway};

#[tokio::test]
async fn watch_list_round_trip_and_unknown_until_fetched() {
    let gw = spawn_gateway(
        None,
        EngineOptions::with_interval(SignedDuration::from_secs(300)),
    )
    .await;
    let http = gw.admin.clone();
    let base = gw.url();

    let put = http
        .put(format!("{base}/api/v1/people"))
        .json(&json!([
            {"email": " Anna.Rossi@Contoso.com ", "name": "Anna Rossi", "extension": "2041"},
            {"email": "bob@contoso.com", "name": "Bob", "extension": "2042"}
        ]))
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), 200);
    let body: Value = put.json().await.expect("json");
    assert_eq!(body["watched"], 2);

    let anna: Value = http
        .get(format!("{base}/api/v1/people/anna.rossi@contoso.com"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(anna["name"], "Anna Rossi");
    assert_eq!(anna["extension"], "2041");
    // No source: the truth is unknown, and unknown is never free.
    assert_eq!(anna["status"]["state"], "unknown");
    assert_eq!(anna["freshness"], "pending");

    let found: Value = http
        .get(format!("{base}/api/v1/people?query=2042"))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    assert_eq!(found.as_array().map(Vec::len), Some(1));
    assert_eq!(found[0]["email"], "bob@contoso.com");

    let health: Value = http
        .get(format!("{base}/api/v1/health"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(health["source"]["state"], "disabled");
    assert_eq!(health["mailboxes"]["pending"], 2);

    let del = http
        .delete(format!("{base}/api/v1/people/bob@contoso.com"))
        .send()
        .await
        .expect("delete");
    assert_eq!(del.status(), 204);
    let gone = http
        .get(format!("{base}/api/v1/people/bob@contoso.com"))
        .send()
        .await
        .expect("get");
    assert_eq!(gone.status(), 404);
    let gone_body: Value = gone.json().await.expect("json");
    assert_eq!(gone_body["code"], "not_found");
}

#[tokio::test]
async fn invalid_people_are_refused_whole_with_field_errors() {
    let gw = spawn_gateway(
        None,
        EngineOptions::with_interval(SignedDuration::from_secs(300)),
    )
    .await;
    let http = gw.admin.clone();
    let resp = http
        .put(format!("{}/api/v1/people", gw.url()))
        .json(&json!([{"email": "ok@contoso.com"}, {"email": "not an address"}]))
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "invalid_people");
    assert!(body["fields"]["[1].email"].is_string());
    let list: Value = http
        .get(format!("{}/api/v1/people", gw.url()))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(0), "nothing saved");
}

#[tokio::test]
async fn stream_starts_with_a_snapshot_and_resumes_by_event_id() {
    let gw = spawn_gateway(
        None,
        EngineOptions::with_interval(SignedDuration::from_secs(300)),
    )
    .await;
    let http = gw.admin.clone();
    let base = gw.url();
    http.put(format!("{base}/api/v1/people"))
        .json(&json!([{"email": "a@contoso.com"}]))
        .send()
        .await
        .expect("put");
    // The board learns of the person asynchronously; wait until the snapshot shows them.
    let mut snapshot = Value::Null;
    let mut last_id = String::new();
    for _ in 0..50 {
        let mut client = SseClient::connect(&http, &format!("{base}/api/v1/stream"), None).await;
        let ev = client
            .next(Duration::from_secs(5))
            .await
            .expect("snapshot event");
        assert_eq!(ev.event, "snapshot");
        snapshot = ev.json();
        last_id = ev.id.clone().expect("snapshot id");
        if snapshot["people"].as_array().is_some_and(|p| !p.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(snapshot["people"][0]["email"], "a@contoso.com");
    assert_eq!(snapshot["people"][0]["status"]["state"], "unknown");

    // Resuming from the snapshot's id: nothing missed, so no snapshot is repeated; a new
    // person's first status arrives as a change with the next id.
    let mut resumed =
        SseClient::connect(&http, &format!("{base}/api/v1/stream"), Some(&last_id)).await;
    http.put(format!("{base}/api/v1/people"))
        .json(&json!([{"email": "b@contoso.com"}]))
        .send()
        .await
        .expect("put");
    let ev = resumed
        .next(Duration::from_secs(5))
        .await
        .expect("change event");
    assert_eq!(ev.event, "status");
    assert_eq!(ev.json()["email"], "b@contoso.com");
    let id = ev
        .id
        .as_deref()
        .and_then(calgate_engine::EventId::parse)
        .expect("an EPOCH-SEQ id");
    let last = calgate_engine::EventId::parse(&last_id).expect("an EPOCH-SEQ id");
    assert_eq!((id.epoch, id.seq), (last.epoch, last.seq + 1));
}

#[tokio::test]
async fn api_needs_a_token_and_the_right_role() {
    let gw = spawn_gateway(
        None,
        EngineOptions::with_interval(SignedDuration::from_secs(300)),
    )
    .await;
    let base = gw.url();
    let anonymous = reqwest::Client::new();
    let resp = anonymous
        .get(format!("{base}/api/v1/people"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "unauthorized");
    let wrong = anonymous
        .get(format!("{base}/api/v1/people"))
        .bearer_auth("cg_not-a-real-token")
        .send()
        .await
        .expect("get");
    assert_eq!(wrong.status(), 401);

    // A console token reads but cannot change the watch list or the settings.
    let read = gw
        .console
        .get(format!("{base}/api/v1/people"))
        .send()
        .await
        .expect("get");
    assert_eq!(read.status(), 200);
    let write = gw
        .console
        .put(format!("{base}/api/v1/people"))
        .json(&json!([{"email": "a@contoso.com"}]))
        .send()
        .await
        .expect("put");
    assert_eq!(write.status(), 403);
    let settings = gw
        .console
        .get(format!("{base}/api/v1/settings/calendar"))
        .send()
        .await
        .expect("settings");
    assert_eq!(settings.status(), 403);

    // Liveness, readiness and metrics are open.
    for path in ["/healthz", "/readyz", "/metrics"] {
        let r = anonymous
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn settings_are_validated_saved_with_warnings_and_never_echo_secrets() {
    let gw = spawn_gateway(
        None,
        EngineOptions::with_interval(SignedDuration::from_secs(300)),
    )
    .await;
    let base = gw.url();
    let url = format!("{base}/api/v1/settings/calendar");

    let bad = gw
        .admin
        .put(&url)
        .json(
            &json!({"provider": "office365", "grant_basic_auth": false, "grant_modern_auth": true,
                      "tenant_id": "not a tenant!", "client_id": "nope", "refresh_interval_s": 5}),
        )
        .send()
        .await
        .expect("put");
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.expect("json");
    assert_eq!(body["code"], "invalid_settings");
    for field in ["tenant_id", "client_id", "refresh_interval_s"] {
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }

    let secret = "S3cret-Passw0rd-never-echoed";
    let good = gw
        .admin
        .put(&url)
        .json(
            &json!({"provider": "office365", "grant_basic_auth": true, "grant_modern_auth": true,
                      "tenant_id": "4b6c0d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e",
                      "client_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
                      "username": "attendant@contoso.com", "password": secret,
                      "refresh_interval_s": 30}),
        )
        .send()
        .await
        .expect("put");
    assert_eq!(good.status(), 200);
    let text = good.text().await.expect("text");
    assert!(!text.contains(secret), "a secret came back: {text}");
    let body: Value = serde_json::from_str(&text).expect("json");
    let codes: Vec<&str> = body["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    for code in [
        "both_auth_enabled",
        "basic_auth_exchange_online",
        "ews_online_retirement",
        "refresh_interval_low",
    ] {
        assert!(codes.contains(&code), "missing warning {code}: {codes:?}");
    }
    assert_eq!(body["settings"]["password_set"], true);

    let read = gw
        .admin
        .get(&url)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(!read.contains(secret));
    let read: Value = serde_json::from_str(&read).expect("json");
    assert_eq!(read["settings"]["provider"], "office365");
    assert_eq!(read["settings"]["refresh_interval_s"], 30);

    // Saved to the database: a restart would find it (the audit trail names the field, not the value).
    let audit = gw.gateway.app.store.recent_audit(10).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|a| a.fields.iter().any(|f| f == "password"))
    );
    let db = std::fs::read(gw.data_dir.path().join("calgate.db")).expect("db file");
    assert!(
        !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the password is not stored in clear"
    );
}

#[tokio::test]
async fn every_documented_path_is_routed() {
    let gw = spawn_gateway(
        None,
        EngineOptions::with_interval(SignedDuration::from_secs(300)),
    )
    .await;
    let base = gw.url();
    let doc: Value = reqwest::get(format!("{base}/api/v1/openapi.json"))
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 7);
    for (path, item) in paths {
        let concrete = path
            .replace("{email}", "nobody@contoso.com")
            .replace("{id}", "00000000-0000-4000-8000-000000000000");
        for method in ["get", "put", "post", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let req = match method {
                "get" => gw.admin.get(format!("{base}{concrete}")),
                "put" => gw.admin.put(format!("{base}{concrete}")).json(&json!({})),
                "post" => gw.admin.post(format!("{base}{concrete}")).json(&json!({})),
                _ => gw.admin.delete(format!("{base}{concrete}")),
            };
            if path == "/api/v1/stream" {
                continue; // An open stream; covered by its own test.
            }
            let status = req.send().await.expect("request").status();
            assert_ne!(status, 405, "{method} {path} is documented but not routed");
            if !path.contains('{') {
                assert_ne!(status, 404, "{method} {path} is documented but not routed");
            }
        }
    }
}

#[tokio::test]
async fn graceful_shutdown_ends_open_streams_and_keeps_the_data() {
    let gw = spawn_gateway(
        None,
        EngineOptions::with_interval(SignedDuration::from_secs(300)),
    )
    .await;
    let base = gw.url();
    gw.admin
        .put(format!("{base}/api/v1/people"))
        .json(&json!([{"email": "kept@contoso.com", "name": "Kept"}]))
        .send()
        .await
        .expect("put");
    let mut stream = SseClient::connect(&gw.console, &format!("{base}/api/v1/stream"), None).await;
    assert!(
        stream.next(Duration::from_secs(5)).await.is_some(),
        "snapshot"
    );
    let data_dir = gw.data_dir;
    let started = std::time::Instant::now();
    gw.gateway.shutdown(Duration::from_secs(5)).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "an open stream held the shutdown for {:?}",
        started.elapsed()
    );
    // The stream ended (the read returns at once) rather than going quiet (a 3 s timeout).
    let read = std::time::Instant::now();
    assert!(stream.next(Duration::from_secs(3)).await.is_none());
    assert!(
        read.elapsed() < Duration::from_secs(2),
        "the stream stayed open"
    );
    // The watch list survived.
    let store = calgate_store::Store::open(data_dir.path())
        .await
        .expect("reopen");
    let kept = store.get_person("kept@contoso.com").await.expect("read");
    assert_eq!(kept.map(|p| p.display_name), Some("Kept".to_string()));
}

/// The API description is checked in (`docs/openapi.json`) so integrators can read it without a
/// running gateway; this keeps the file and the code in step. Regenerate with
/// `CALGATE_UPDATE_OPENAPI=1 cargo test -p calgate-testkit --test it openapi`.
#[test]
fn checked_in_openapi_matches_the_code() {
    let path = calgate_testkit::workspace_root().join("docs/openapi.json");
    let generated =
        serde_json::to_string_pretty(&calgate::api::openapi::document()).expect("serialize") + "\n";
    if std::env::var_os("CALGATE_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
    }
    let checked_in = std::fs::read_to_string(&path).expect("docs/openapi.json exists");
    assert!(
        checked_in == generated,
        "docs/openapi.json is out of date; regenerate it with CALGATE_UPDATE_OPENAPI=1"
    );
}

/// Addresses are compared in one case everywhere (the API, the store, the engine), also for
/// letters beyond ASCII.
#[tokio::test]
async fn non_ascii_capitals_find_the_same_person() {
    let gw = spawn_gateway(
        None,
        EngineOptions::with_interval(SignedDuration::from_secs(300)),
    )
    .await;
    let base = gw.url();
    gw.admin
        .put(format!("{base}/api/v1/people"))
        .json(&json!([{"email": "ÉLODIE.Durand@Contoso.com", "name": "Élodie"}]))
        .send()
        .await
        .expect("put");
    let list: Value = gw
        .admin
        .get(format!("{base}/api/v1/people?query=élodie"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list[0]["email"], "élodie.durand@contoso.com", "{list}");
    // The engine watches the person under the same key the store keeps.
    let board = gw.gateway.app.engine().board().clone();
    let mut watched = false;
    for _ in 0..50 {
        if board.get("élodie.durand@contoso.com").is_some() {
            watched = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        watched,
        "the engine keys the person differently from the store"
    );
    let one = gw
        .admin
        .get(format!(
            "{base}/api/v1/people/%C3%89LODIE.durand@contoso.com"
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(one.status(), 200);
}

/// A whole directory goes in with one request: 100 000 people (about 6 MB of JSON), above the
/// 2 MiB limit of other API bodies.
#[tokio::test]
async fn a_hundred_thousand_people_in_one_upload() {
    let gw = spawn_gateway(
        None,
        EngineOptions::with_interval(SignedDuration::from_secs(300)),
    )
    .await;
    let people: Vec<Value> = (0..100_000)
        .map(|i| json!({"email": format!("person{i:06}@contoso.com"), "name": format!("Person {i}"), "extension": format!("{}", 10_000 + i)}))
        .collect();
    let body = serde_json::to_vec(&people).expect("json");
    assert!(body.len() > 2 * 1024 * 1024);
    let resp = gw
        .admin
        .put(format!("{}/api/v1/people", gw.url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.expect("json");
    assert_eq!(answer["watched"], 100_000);
}
