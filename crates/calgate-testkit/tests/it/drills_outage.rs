//! Failure drills, outages: the simulator killed mid-batch and restarted on the same port after
//! seconds of refused connections, answers slower than the request timeout, truncated answers,
//! reset connections, garbage and hostile bodies, and a server certificate swapped for one
//! nobody trusts. Outcome every time: no crash, a clear health state throughout, no `free` on
//! data that outlived its limit, and recovery without anyone touching the gateway.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use calgate_sim::SimConfig;
use calgate_testkit::gateway::{TestGateway, spawn_gateway};

use crate::drills_throttle::{
    Drill, assert_no_free_on_unknown, drill_options, eventually, ews_source_with, records,
    set_policy, sim_ca, sim_stats, start_drill, tenant_people, wait_all_fresh,
};

/// Spawns a simulator on `addr`, retrying while the previous one's port is being released.
async fn spawn_sim_at(config: &SimConfig, addr: SocketAddr) -> calgate_sim::Running {
    let mut config = config.clone();
    config.listen = addr;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match calgate_sim::spawn(config.clone()).await {
            Ok(sim) => return sim,
            Err(e) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "simulator could not bind {addr} again: {e:#}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Watches health and records for `spell`, checking the no-free invariant each time, and
/// returns every source state seen (in order, without repeats).
async fn observe(
    gw: &TestGateway,
    people: &[String],
    stale_after: SignedDuration,
    spell: Duration,
    context: &str,
) -> (Vec<String>, Vec<Value>) {
    let end = tokio::time::Instant::now() + spell;
    let mut states: Vec<String> = Vec::new();
    let mut healths = Vec::new();
    while tokio::time::Instant::now() < end {
        let h = gw.health().await;
        let state = h["source"]["state"].as_str().unwrap_or("").to_string();
        if states.last() != Some(&state) {
            states.push(state);
        }
        healths.push(h);
        let recs = records(gw, people).await;
        assert_no_free_on_unknown(&recs, stale_after, context);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    (states, healths)
}

async fn wait_state(gw: &TestGateway, want: &'static str, within: Duration) {
    eventually(within, want, || async {
        let h = gw.health().await;
        if h["source"]["state"] == want {
            Ok(())
        } else {
            Err(h.to_string())
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_killed_mid_batch_refusals_then_restart_recovers() {
    let config = SimConfig {
        people: 300,
        tls: false,
        ..SimConfig::default()
    };
    let sim = calgate_testkit::spawn_sim(config.clone()).await;
    let addr = sim.addr;
    let ews_url = sim.urls.ews_url.clone();
    let control = sim.urls.control_url.clone();
    let sim_http = calgate_testkit::sim_http_client(&sim);
    let source = ews_source_with(&ews_url, &config, None, Duration::from_secs(5));
    let stale_after = SignedDuration::from_secs(4);
    let gw = spawn_gateway(Some(source), drill_options(1500, 4000)).await;
    let people = tenant_people(&sim, 250);
    gw.watch(&people).await;
    wait_all_fresh(&gw, 250, Duration::from_secs(20)).await;

    // Slow answers, so that a batch is surely in flight when the simulator dies.
    set_policy(&sim_http, &control, json!({"latency_ms": 700})).await;
    eventually(Duration::from_secs(10), "a request in flight", || async {
        let s = sim_stats(&sim_http, &control).await;
        if s["in_flight"].as_u64().unwrap_or(0) > 0 {
            Ok(())
        } else {
            Err(s.to_string())
        }
    })
    .await;
    drop(sim);

    // Six seconds of refused connections (the behaviour is the same for thirty: the back-off
    // only grows, capped at five minutes).
    let (states, healths) = observe(
        &gw,
        &people,
        stale_after,
        Duration::from_secs(6),
        "simulator down",
    )
    .await;
    assert!(
        states.iter().any(|s| s == "unreachable"),
        "health said unreachable while the simulator was down: {states:?}"
    );
    let last = healths.last().expect("observed");
    assert_eq!(last["source"]["state"], "unreachable", "{last}");
    assert_eq!(last["source"]["code"], "EWS_CONNECT", "{last}");
    assert!(
        last["source"]["next_attempt"].is_string(),
        "the next attempt is named: {last}"
    );
    // Four seconds of limit, six seconds down: everyone's data outlived it.
    let recs = records(&gw, &people).await;
    let unknown = assert_no_free_on_unknown(&recs, stale_after, "after the outage");
    assert_eq!(unknown, people.len(), "all unknown once the limit passed");

    let sim = spawn_sim_at(&config, addr).await;
    // Exponential back-off (2 s, 4 s, 8 s …) bounds how long recovery takes.
    wait_all_fresh(&gw, 250, Duration::from_secs(30)).await;
    wait_state(&gw, "ok", Duration::from_secs(5)).await;
    let stats = sim_stats(&sim_http, &sim.urls.control_url).await;
    assert_eq!(stats["backoff_violations"], 0, "{stats}");
    eprintln!("drill restart: states while down {states:?}; after restart {stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_slower_than_the_timeout_are_a_clean_error_then_recover() {
    // A one-second request timeout against ten seconds of latency.
    let Drill {
        _sim,
        sim_http,
        control,
        gw,
        people,
    } = start_drill(30, 20, Duration::from_secs(1), 1000, 3000).await;
    let stale_after = SignedDuration::from_secs(3);

    set_policy(&sim_http, &control, json!({"latency_ms": 10_000})).await;
    let (states, healths) =
        observe(&gw, &people, stale_after, Duration::from_secs(5), "latency").await;
    assert!(
        healths
            .iter()
            .any(|h| h["source"]["state"] == "unreachable" && h["source"]["code"] == "EWS_TIMEOUT"),
        "health said unreachable (timeout): {states:?}"
    );
    let recs = records(&gw, &people).await;
    assert_eq!(
        assert_no_free_on_unknown(&recs, stale_after, "latency"),
        people.len()
    );

    set_policy(&sim_http, &control, json!({"latency_ms": 0})).await;
    wait_all_fresh(&gw, 20, Duration::from_secs(20)).await;
    wait_state(&gw, "ok", Duration::from_secs(5)).await;
    eprintln!("drill latency: states {states:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_answers_and_resets_are_errors_never_free_then_recover() {
    let Drill {
        _sim,
        sim_http,
        control,
        gw,
        people,
    } = start_drill(30, 20, Duration::from_secs(5), 1000, 3000).await;
    let stale_after = SignedDuration::from_secs(3);

    let mut seen = Vec::new();
    // A reset is a body that fails at once: usually no status line reaches the client (a
    // connection error), but on a loaded machine the server may already have sent the head, and
    // then the client sees a body cut short. Either is an error, which is what the drill is about.
    for (fault, want_codes) in [
        ("error_rate", &["EWS_REQUEST_REJECTED"][..]),
        ("truncate_rate", &["EWS_MALFORMED_RESPONSE"][..]),
        ("reset_rate", &["EWS_CONNECT", "EWS_MALFORMED_RESPONSE"][..]),
    ] {
        set_policy(&sim_http, &control, json!({ fault: 1.0 })).await;
        let (states, healths) =
            observe(&gw, &people, stale_after, Duration::from_secs(4), fault).await;
        let failing: Vec<&Value> = healths
            .iter()
            .filter(|h| h["source"]["state"] == "unreachable" || h["source"]["state"] == "degraded")
            .collect();
        let last = failing
            .last()
            .unwrap_or_else(|| panic!("{fault}: a failing state was shown: {states:?}"));
        assert!(
            want_codes.contains(&last["source"]["code"].as_str().unwrap_or("")),
            "{fault}: {last}"
        );
        assert_eq!(
            states.last().map(String::as_str),
            last["source"]["state"].as_str(),
            "{fault}: never back to ok while every answer fails: {states:?}"
        );
        seen.push((fault, states));
        // Back to normal before the next fault, so each one is seen on its own.
        set_policy(&sim_http, &control, json!({ fault: 0.0 })).await;
        wait_all_fresh(&gw, 20, Duration::from_secs(20)).await;
        wait_state(&gw, "ok", Duration::from_secs(5)).await;
    }
    let stats = sim_stats(&sim_http, &control).await;
    assert_eq!(stats["backoff_violations"], 0, "{stats}");
    eprintln!("drill faults: {seen:?}");
}

/// A plain-HTTP server that answers every request with the same hostile body.
async fn hostile_server(body: Vec<u8>) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let body = Arc::new(body);
    let task = tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                // Read the request head and whatever body arrived; the answer does not depend
                // on it.
                let _ = tokio::time::timeout(Duration::from_millis(200), async {
                    let mut seen = Vec::new();
                    while let Ok(n) = conn.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        seen.extend_from_slice(&buf[..n]);
                        if seen.windows(4).any(|w| w == b"\r\n\r\n") && seen.ends_with(b">") {
                            break;
                        }
                    }
                })
                .await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/xml; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(&body).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_entity_bombs_and_huge_bodies_are_errors_never_free() {
    let config = SimConfig::default();
    let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>&lol4;</s:Body></s:Envelope>"#
        .to_vec();
    let mut huge =
        b"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>".to_vec();
    huge.resize(80 * 1024 * 1024, b' ');
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "garbage",
            (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(),
        ),
        (
            "html",
            b"<html><body>Service Unavailable</body></html>".to_vec(),
        ),
        ("entity bomb", bomb),
        ("huge body", huge),
        ("deep nesting", "<a>".repeat(100_000).into_bytes()),
    ];
    let people = vec!["anna.rossi@contoso.com".to_string()];
    for (name, body) in cases {
        let (addr, server) = hostile_server(body).await;
        let source = ews_source_with(
            &format!("http://{addr}/EWS/Exchange.asmx"),
            &config,
            None,
            Duration::from_secs(10),
        );
        let gw = spawn_gateway(Some(source), drill_options(60_000, 120_000)).await;
        gw.watch(&people).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let last = loop {
            let h = gw.health().await;
            let failed =
                h["source"]["state"] == "degraded" || h["source"]["state"] == "unreachable";
            if failed && h["source"]["code"].is_string() {
                break h;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name}: no failing health state: {h}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let recs = records(&gw, &people).await;
        assert_eq!(recs[0]["status"]["state"], "unknown", "{name}: {}", recs[0]);
        let alive = gw
            .admin
            .get(format!("{}/healthz", gw.url()))
            .send()
            .await
            .expect("healthz");
        assert_eq!(alive.status(), 200, "{name}: the gateway lives on");
        eprintln!("drill hostile body {name}: {}", last["source"]);
        server.abort();
    }
}

/// A TCP forwarder on a fixed port whose target can be switched; switching closes every
/// connection it carries, as a server change does.
struct SwitchProxy {
    addr: SocketAddr,
    target: watch::Sender<SocketAddr>,
    task: tokio::task::JoinHandle<()>,
}

impl SwitchProxy {
    async fn start(target: SocketAddr) -> SwitchProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = watch::channel(target);
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut rx = rx.clone();
                let to = *rx.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(to).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = rx.changed() => {}
                    }
                });
            }
        });
        SwitchProxy {
            addr,
            target: tx,
            task,
        }
    }

    fn switch(&self, to: SocketAddr) {
        self.target.send_replace(to);
    }
}

impl Drop for SwitchProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificate_is_unreachable_never_free_and_recovers() {
    let config = SimConfig {
        people: 30,
        ..SimConfig::default()
    };
    let trusted = calgate_testkit::spawn_sim(config.clone()).await;
    // Another simulator: its own freshly generated CA, which the gateway does not trust.
    let untrusted = calgate_testkit::spawn_sim(config.clone()).await;
    let proxy = SwitchProxy::start(trusted.addr).await;
    let source = ews_source_with(
        &format!("https://127.0.0.1:{}/EWS/Exchange.asmx", proxy.addr.port()),
        &config,
        sim_ca(&trusted),
        Duration::from_secs(5),
    );
    let stale_after = SignedDuration::from_secs(3);
    let gw = spawn_gateway(Some(source), drill_options(1000, 3000)).await;
    let people = tenant_people(&trusted, 20);
    gw.watch(&people).await;
    wait_all_fresh(&gw, 20, Duration::from_secs(20)).await;

    proxy.switch(untrusted.addr);
    let (states, healths) = observe(
        &gw,
        &people,
        stale_after,
        Duration::from_secs(5),
        "untrusted certificate",
    )
    .await;
    let last = healths.last().expect("observed");
    assert_eq!(last["source"]["state"], "unreachable", "{states:?} {last}");
    let message = last["source"]["message"].as_str().unwrap_or("");
    assert!(
        message.to_ascii_lowercase().contains("certificate"),
        "the message names the certificate: {last}"
    );
    let recs = records(&gw, &people).await;
    assert_eq!(
        assert_no_free_on_unknown(&recs, stale_after, "untrusted"),
        people.len()
    );
    let untrusted_stats = sim_stats(
        &calgate_testkit::sim_http_client(&untrusted),
        &untrusted.urls.control_url,
    )
    .await;
    assert_eq!(
        untrusted_stats["requests"]["GetUserAvailability"],
        Value::Null,
        "no request (and no password) went to the untrusted server: {untrusted_stats}"
    );

    proxy.switch(trusted.addr);
    wait_all_fresh(&gw, 20, Duration::from_secs(20)).await;
    wait_state(&gw, "ok", Duration::from_secs(5)).await;
    eprintln!("drill certificate: states {states:?}; message {message}");
}
