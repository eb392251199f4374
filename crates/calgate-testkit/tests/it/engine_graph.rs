//! The refresh engine over Microsoft Graph against the simulator, configured the way an
//! administrator does it: a real gateway, `PUT /api/v1/settings/calendar` with provider
//! `microsoft365`, app-only sign-in at the simulated Entra ID. Statuses equal the simulator's
//! ground truth, a full refresh costs ceil(N / 20) getSchedule requests with at most four in
//! flight, out-of-office text reaches the person record, Retry-After is honoured, and a wrong
//! client secret costs exactly one token request.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};

use calgate_engine::EngineOptions;
use calgate_sim::{SimConfig, tenant::FreeBusyAccess};
use calgate_testkit::gateway::{TestGateway, spawn_gateway_from_settings};
use calgate_testkit::{
    ground_truth_status, sim_control_put, sim_http_client, sim_people, sim_stats,
};

const CLIENT_SECRET: &str = "graph-app-secret-value";

fn control(sim: &calgate_sim::Running) -> String {
    sim.urls.control_url.trim_end_matches('/').to_string()
}

/// `https://127.0.0.1:PORT`: the sign-in host and the Graph endpoint (the gateway adds the
/// tenant and `/v1.0`).
fn base(sim: &calgate_sim::Running) -> String {
    sim.urls
        .graph_url
        .trim_end_matches('/')
        .trim_end_matches("/v1.0")
        .to_string()
}

/// The settings body of an app-only `microsoft365` configuration for `sim`.
fn graph_settings(sim: &calgate_sim::Running, secret: &str) -> Value {
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    json!({
        "provider": "microsoft365",
        "grant_basic_auth": false,
        "grant_modern_auth": false,
        "tenant_id": sim.state.tenant_id,
        "client_id": sim.state.client_id,
        "client_secret": secret,
        "authority_host": base(sim),
        "graph_endpoint": base(sim),
        "extra_ca_pem": ca,
        "refresh_interval_s": 300,
    })
}

async fn graph_sim(people: usize) -> calgate_sim::Running {
    calgate_sim::spawn(SimConfig {
        people,
        client_secret: Some(CLIENT_SECRET.to_owned()),
        ..SimConfig::default()
    })
    .await
    .expect("simulator")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_mailboxes_in_ceil_n_over_20_requests_match_ground_truth() {
    let sim = graph_sim(2000).await;
    let sim_http = sim_http_client(&sim);
    // Answers that take a little while, so that requests overlap and the limit of four in
    // flight is what bounds them.
    sim_control_put(&sim_http, &sim, "policy", &json!({"latency_ms": 20})).await;
    let gw = spawn_gateway_from_settings().await;
    let people: Vec<String> = sim_people(&sim);
    let n = people.len() as u64;
    assert_eq!(n, 2000);
    gw.watch(&people).await;
    let started = std::time::Instant::now();
    gw.save_settings(&graph_settings(&sim, CLIENT_SECRET)).await;
    let window =
        EngineOptions::with_interval(jiff::SignedDuration::from_secs(300)).window(Timestamp::now());

    let h = gw.wait_fetched(n, Duration::from_secs(120)).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(h["source"]["state"].as_str(), Some("ok" | "degraded")),
        "{h}"
    );
    let s = sim_stats(&sim_http, &sim).await;
    println!(
        "graph: {n} mailboxes fresh in {:.2} s; getSchedule {}, getMailTips {}, token {}, max in flight {}",
        elapsed.as_secs_f64(),
        s["requests"]["graph.getSchedule"],
        s["requests"]["graph.getMailTips"],
        s["requests"]["entra.token.client_credentials"],
        s["max_in_flight"]
    );
    assert_eq!(s["requests"]["graph.getSchedule"], n.div_ceil(20), "{s}");
    assert_eq!(s["requests"]["entra.token.client_credentials"], 1, "{s}");
    let max_in_flight = s["max_in_flight"].as_u64().unwrap_or(99);
    assert!((2..=4).contains(&max_in_flight), "{s}");
    assert_eq!(s["throttled"], 0, "{s}");

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
                    "{email}: gateway says {got}, simulator truth {want_a}/{want_b}: {record}"
                );
                compared += 1;
            }
            _ => {
                assert_eq!(got, "unknown", "{email}: no free/busy access: {record}");
                assert_eq!(
                    record["error"]["code"], "GRAPH_ERROR_NO_FREE_BUSY_ACCESS",
                    "{record}"
                );
            }
        }
    }
    assert!(compared > 1500, "most calendars are readable ({compared})");

    // Out of office now, with a readable calendar: the automatic reply reaches the record.
    let now = Timestamp::now();
    let away: Vec<(String, String)> = {
        let tenant = sim.state.tenant();
        tenant
            .people
            .iter()
            .zip(tenant.mailboxes.iter())
            .filter(|(p, _)| !matches!(p.free_busy_access, FreeBusyAccess::None))
            .filter_map(|(p, m)| {
                let oof = m.oof.as_ref()?;
                let active = oof.start.is_none_or(|s| s <= now) && oof.end.is_none_or(|e| now < e);
                Some((p.email.clone(), oof.message.clone()?)).filter(|_| active)
            })
            .collect()
    };
    assert!(!away.is_empty(), "the tenant has people out of office now");
    for (email, message) in &away {
        let record = gw.person(email).await;
        assert_eq!(record["status"]["state"], "oof", "{email}: {record}");
        // The server's HTML reaches operators as text.
        let shown = record["out_of_office"]["message"].as_str().unwrap_or("");
        assert_eq!(
            shown,
            calgate_core::text::plain_text(message),
            "{email}: {record}"
        );
        assert!(
            !shown.is_empty() && !shown.contains('<'),
            "{email}: {record}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_storm_is_honoured_and_an_unknown_user_is_unknown() {
    let sim = graph_sim(120).await;
    let sim_http = sim_http_client(&sim);
    let gw = spawn_gateway_from_settings().await;
    let mut people: Vec<String> = sim_people(&sim);
    let stranger = "nobody-here@contoso.com".to_string();
    people.push(stranger.clone());
    gw.watch(&people).await;
    let mut settings = graph_settings(&sim, CLIENT_SECRET);
    // Calls made on the service account's mailbox; the shortest refresh interval, so that the
    // engine's pacing slots (interval / batches, 1.4 s here) come faster than the 2.5 s wait.
    settings["username"] = json!("attendant@contoso.com");
    settings["refresh_interval_s"] = json!(10);
    gw.save_settings(&settings).await;
    gw.wait_fetched(people.len() as u64, Duration::from_secs(30))
        .await;

    let record = gw.person(&stranger).await;
    assert_eq!(record["status"]["state"], "unknown", "{record}");
    assert_eq!(
        record["error"]["code"], "GRAPH_ERROR_MAIL_RECIPIENT_NOT_FOUND",
        "{record}"
    );

    // The storm, during the paced refresh: every fourth request of the application is answered
    // 429 with `Retry-After: 2.5`.
    let resp = sim_http
        .delete(format!("{}/stats", control(&sim)))
        .send()
        .await
        .expect("reset stats");
    assert!(resp.status().is_success(), "stats: {}", resp.status());
    sim_control_put(
        &sim_http,
        &sim,
        "policy",
        &json!({"busy_every_n_requests": 4, "busy_backoff_ms": 2500}),
    )
    .await;
    // Until two 429s were answered and the refresh went on after them.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let s = loop {
        let s = sim_stats(&sim_http, &sim).await;
        let throttled = s["throttled"].as_u64().unwrap_or(0);
        let requests = s["credentials"][sim.state.client_id.as_str()]["requests"]
            .as_u64()
            .unwrap_or(0);
        if throttled >= 2 && requests >= 9 {
            break s;
        }
        assert!(tokio::time::Instant::now() < deadline, "no storm: {s}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    println!(
        "graph storm: throttled {}, back-off violations {}, getSchedule {}, getMailTips {}",
        s["throttled"],
        s["backoff_violations"],
        s["requests"]["graph.getSchedule"],
        s["requests"]["graph.getMailTips"]
    );
    assert!(s["throttled"].as_u64().unwrap_or(0) >= 2, "a storm: {s}");
    assert_eq!(s["backoff_violations"], 0, "{s}");
    // Throttled refreshes leave data a little older (stale at worst), never lost.
    let h = gw.health().await;
    let counted = ["fresh", "stale", "error"]
        .iter()
        .map(|k| h["mailboxes"][k].as_u64().unwrap_or(0))
        .sum::<u64>();
    assert_eq!(counted, people.len() as u64, "{h}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_client_secret_costs_one_token_request_and_stops() {
    let sim = graph_sim(30).await;
    let sim_http = sim_http_client(&sim);
    let gw = spawn_gateway_from_settings().await;
    let people: Vec<String> = sim_people(&sim);
    gw.watch(&people).await;
    let wrong = "a-revoked-secret-value";
    gw.save_settings(&graph_settings(&sim, wrong)).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let h = loop {
        let h = gw.health().await;
        if h["source"]["state"] == "auth_failed" {
            break h;
        }
        assert!(tokio::time::Instant::now() < deadline, "{h}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(h["source"]["code"], "ENTRA_AADSTS7000215", "{h}");
    let message = h["source"]["message"].as_str().unwrap_or("");
    assert!(!message.contains(wrong), "the secret leaked: {message}");
    // AADSTS7000215's guidance: what is wrong and what to do.
    assert!(
        message.contains("client secret") && message.contains("new secret"),
        "{message}"
    );
    assert!(
        h["source"]["next_attempt"].is_string(),
        "the lockout guard's probe time is shown: {h}"
    );
    // Give the engine time to (wrongly) try again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let s = sim_stats(&sim_http, &sim).await;
    assert_eq!(s["requests"]["entra.token.client_credentials"], 1, "{s}");
    assert!(s["requests"]["graph.getSchedule"].is_null(), "{s}");
    assert_eq!(gw.health().await["source"]["state"], "auth_failed");
    let record = gw.person(&people[0]).await;
    assert_eq!(record["status"]["state"], "unknown", "{record}");

    // The administrator saves the right secret: one immediate sign-in, and the data comes.
    gw.save_settings(&json!({"client_secret": CLIENT_SECRET}))
        .await;
    gw.wait_fetched(people.len() as u64, Duration::from_secs(20))
        .await;
    let s = sim_stats(&sim_http, &sim).await;
    assert_eq!(s["requests"]["entra.token.client_credentials"], 2, "{s}");
    assert_eq!(
        s["outcomes"]["entra.token.client_credentials"]["auth_failed"], 1,
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_office365_to_microsoft365_keeps_ids_and_watch_list() {
    let sim = graph_sim(10).await;
    let gw = spawn_gateway_from_settings().await;
    let people: Vec<String> = sim_people(&sim);
    gw.watch(&people).await;
    gw.save_settings(&json!({
        "provider": "office365",
        "grant_basic_auth": false,
        "grant_modern_auth": true,
        "tenant_id": sim.state.tenant_id,
        "client_id": sim.state.client_id,
        "username": "attendant@contoso.com",
        "password": "Attendant-Passw0rd",
    }))
    .await;

    // Only what changes is sent: provider, Graph sign-in and where Graph and Entra answer.
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    let saved = gw
        .save_settings(&json!({
            "provider": "microsoft365",
            "client_secret": CLIENT_SECRET,
            "authority_host": base(&sim),
            "graph_endpoint": base(&sim),
            "extra_ca_pem": ca,
        }))
        .await;
    assert_eq!(saved["settings"]["provider"], "microsoft365", "{saved}");
    assert_eq!(
        saved["settings"]["tenant_id"], sim.state.tenant_id,
        "{saved}"
    );
    assert_eq!(
        saved["settings"]["client_id"], sim.state.client_id,
        "{saved}"
    );
    let listed: Value = gw
        .admin
        .get(format!("{}/api/v1/people", gw.url()))
        .send()
        .await
        .expect("people")
        .json()
        .await
        .expect("json");
    let mut emails: Vec<String> = listed
        .as_array()
        .or_else(|| listed["people"].as_array())
        .expect("a list of people")
        .iter()
        .filter_map(|p| p["email"].as_str().map(str::to_owned))
        .collect();
    emails.sort();
    let mut want = people.clone();
    want.sort();
    assert_eq!(emails, want);
    // And the watch list is served through Graph now.
    let h = gw
        .wait_fetched(people.len() as u64, Duration::from_secs(30))
        .await;
    assert!(
        matches!(h["source"]["state"].as_str(), Some("ok" | "degraded")),
        "{h}"
    );
    let s = sim_stats(&sim_http_client(&sim), &sim).await;
    assert!(
        s["requests"]["graph.getSchedule"].as_u64().unwrap_or(0) >= 1,
        "{s}"
    );
}

/// Waits for every mailbox and checks the source is healthy and Graph was asked.
async fn assert_served_through_graph(
    gw: &TestGateway,
    sim: &calgate_sim::Running,
    n: u64,
) -> Value {
    let h = gw.wait_fetched(n, Duration::from_secs(30)).await;
    assert!(
        matches!(h["source"]["state"].as_str(), Some("ok" | "degraded")),
        "{h}"
    );
    let s = sim_stats(&sim_http_client(sim), sim).await;
    assert_eq!(s["requests"]["graph.getSchedule"], n.div_ceil(20), "{s}");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_only_with_a_certificate_bundle() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    let cert = rcgen::CertificateParams::new(vec!["calgate-graph-app".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("certificate");
    let sim = calgate_sim::spawn(SimConfig {
        people: 30,
        client_cert_pem: Some(cert.pem()),
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let gw = spawn_gateway_from_settings().await;
    let people: Vec<String> = sim_people(&sim);
    gw.watch(&people).await;
    let mut settings = graph_settings(&sim, "unused");
    settings
        .as_object_mut()
        .expect("object")
        .remove("client_secret");
    // Certificate and private key pasted together, as the portal takes them.
    settings["client_certificate_pem"] = json!(format!("{}{}", cert.pem(), key.serialize_pem()));
    let saved = gw.save_settings(&settings).await;
    assert!(!saved.to_string().contains("PRIVATE KEY"), "{saved}");
    let s = assert_served_through_graph(&gw, &sim, people.len() as u64).await;
    assert_eq!(s["requests"]["entra.token.client_credentials"], 1, "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegated_service_account_sign_in_calls_graph_as_me() {
    let sim = graph_sim(30).await;
    let gw = spawn_gateway_from_settings().await;
    let people: Vec<String> = sim_people(&sim);
    gw.watch(&people).await;
    let mut settings = graph_settings(&sim, "unused");
    settings
        .as_object_mut()
        .expect("object")
        .remove("client_secret");
    settings["grant_modern_auth"] = json!(true);
    settings["username"] = json!("attendant@contoso.com");
    settings["password"] = json!("Attendant-Passw0rd");
    gw.save_settings(&settings).await;
    let s = assert_served_through_graph(&gw, &sim, people.len() as u64).await;
    assert_eq!(s["requests"]["entra.token.password"], 1, "{s}");
    assert!(
        s["requests"]["entra.token.client_credentials"].is_null(),
        "{s}"
    );
    // Throttling budgets are the signed-in account's.
    assert!(
        s["credentials"]["attendant@contoso.com"]["requests"]
            .as_u64()
            .unwrap_or(0)
            >= 2,
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_first_mailbox_hands_the_anchor_to_the_next() {
    use calgate_engine::CalendarSource;

    let sim = graph_sim(5).await;
    let source = calgate_testkit::sources::graph_app_source(&sim, CLIENT_SECRET);
    let shown = format!("{source:?}");
    assert!(!shown.contains(CLIENT_SECRET), "{shown}");
    let known: Vec<String> = sim
        .state
        .tenant()
        .people
        .iter()
        .take(2)
        .map(|p| p.email.clone())
        .collect();
    let mailboxes = vec![
        "ghost@contoso.com".to_string(),
        known[0].clone(),
        known[1].clone(),
    ];
    let window =
        EngineOptions::with_interval(jiff::SignedDuration::from_secs(300)).window(Timestamp::now());
    let answers = source.fetch(&mailboxes, window).await.expect("fetch");
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0].mailbox, "ghost@contoso.com");
    assert_eq!(
        answers[0].error.as_ref().map(|e| e.code.as_str()),
        Some("GRAPH_ERROR_MAIL_RECIPIENT_NOT_FOUND")
    );
    assert!(answers[0].events.is_empty());
    for (answer, email) in answers[1..].iter().zip(&known) {
        assert_eq!(&answer.mailbox, email);
        let readable = !matches!(
            sim.state.tenant().person(email).map(|p| p.free_busy_access),
            Some(FreeBusyAccess::None)
        );
        assert_eq!(answer.error.is_none(), readable, "{answer:?}");
    }
    let s = sim_stats(&sim_http_client(&sim), &sim).await;
    // One refused on the unknown anchor, one on the next mailbox.
    assert_eq!(s["requests"]["graph.getSchedule"], 2, "{s}");
}

/// An automatic reply read by getMailTips is reused by the next refresh instead of asked again,
/// and still reaches the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_replies_are_read_once_and_reused() {
    use calgate_engine::CalendarSource;

    let sim = graph_sim(5).await;
    let http = sim_http_client(&sim);
    let email = sim
        .state
        .tenant()
        .people
        .iter()
        .find(|p| !matches!(p.free_busy_access, FreeBusyAccess::None))
        .map(|p| p.email.clone())
        .expect("a readable calendar");
    let now = Timestamp::now();
    for (path, body) in [
        (
            format!("mailboxes/{email}/events"),
            json!([{"start": now - jiff::SignedDuration::from_hours(1),
                    "end": now + jiff::SignedDuration::from_hours(5), "busy_type": "oof"}]),
        ),
        (
            format!("mailboxes/{email}/oof"),
            json!({"message": "At a conference until Friday"}),
        ),
    ] {
        sim_control_put(&http, &sim, &path, &body).await;
    }
    let source = calgate_testkit::sources::graph_app_source(&sim, CLIENT_SECRET);
    let window =
        EngineOptions::with_interval(jiff::SignedDuration::from_secs(300)).window(Timestamp::now());
    let mailboxes = vec![email.clone()];
    for round in 0..2 {
        let answers = source.fetch(&mailboxes, window).await.expect("fetch");
        assert_eq!(
            answers[0]
                .out_of_office
                .as_ref()
                .and_then(|o| o.message.as_deref()),
            Some("At a conference until Friday"),
            "round {round}: {:?}",
            answers[0]
        );
    }
    let s = sim_stats(&http, &sim).await;
    assert_eq!(s["requests"]["graph.getSchedule"], 2, "{s}");
    assert_eq!(s["requests"]["graph.getMailTips"], 1, "read once: {s}");
}
