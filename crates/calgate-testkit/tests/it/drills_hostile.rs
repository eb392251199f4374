//! Failure drills, hostile input: the API and the stream fed oversized bodies, broken JSON,
//! wrong content types, path traversal in `{email}`, huge query strings, nonsense resume ids and
//! hundreds of connections at once. Outcome: a clear 4xx with the API's JSON error shape, no
//! panic, and a gateway that stays healthy and keeps answering.

use std::time::Duration;

use jiff::SignedDuration;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use calgate_engine::EngineOptions;
use calgate_testkit::gateway::{TestGateway, spawn_gateway};

async fn gateway() -> TestGateway {
    spawn_gateway(
        None,
        EngineOptions::with_interval(SignedDuration::from_secs(300)),
    )
    .await
}

/// A 4xx with the API's error body (`{code, message}`), never a 5xx or a bare text.
async fn assert_clear_4xx(resp: reqwest::Response, what: &str) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    assert!(
        (400..500).contains(&status),
        "{what}: expected a 4xx, got {status}: {text:.300}"
    );
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{what}: {status} without a JSON error body: {text:.300}"));
    assert!(
        body["code"].is_string() && body["message"].is_string(),
        "{what}: {status} {body}"
    );
    (status, body)
}

/// Sends `request` over a fresh TCP connection and returns the start of the answer (empty when
/// the server closed the connection instead).
async fn raw_exchange(addr: std::net::SocketAddr, request: String) -> String {
    let mut raw = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // The server may close before reading everything: a failed write is an answer too.
    let _ = raw.write_all(request.as_bytes()).await;
    let mut answer = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut answer))
        .await
        .map(|r| r.unwrap_or(0))
        .unwrap_or(0);
    String::from_utf8_lossy(&answer[..n]).to_string()
}

/// Like [`raw_exchange`], reading the whole answer (up to 64 KiB or the connection's end).
async fn raw_exchange_full(addr: std::net::SocketAddr, request: String) -> String {
    let mut raw = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = raw.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 8192];
    while answer.len() < 64 * 1024 {
        match tokio::time::timeout(Duration::from_secs(5), raw.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
        if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&answer).to_string()
}

/// The gateway still answers and its engine still runs.
async fn assert_alive(gw: &TestGateway) {
    let resp = gw
        .admin
        .get(format!("{}/api/v1/health", gw.url()))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("health answers");
    assert_eq!(resp.status(), 200);
    let ready = gw
        .admin
        .get(format!("{}/readyz", gw.url()))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_bodies_and_content_types_get_clear_4xx() {
    let gw = gateway().await;
    let base = gw.url();
    let people = format!("{base}/api/v1/people");
    let settings = format!("{base}/api/v1/settings/calendar");

    // Oversized: a 40 MB body announced, its first 10 KB sent. The answer must come
    // before the rest is read (the connection may then close under the sender).
    let head = format!(
        "PUT /api/v1/people HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n[",
        gw.admin_token,
        40 * 1024 * 1024
    );
    let answer = raw_exchange_full(
        gw.gateway.addr,
        head + &"{\"email\":\"a@contoso.com\"},".repeat(300),
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "oversized body: {answer:.300}"
    );
    assert!(
        answer.contains("\"code\":\"body_too_large\""),
        "oversized body answered in the API's shape: {answer:.600}"
    );

    for (what, content_type, body) in [
        ("broken JSON", "application/json", "[{\"email\": "),
        ("not JSON at all", "application/json", "\u{0}\u{1}garbage"),
        ("wrong shape", "application/json", "{\"email\": 7}"),
        ("wrong content type", "text/plain", "[]"),
        (
            "form instead of JSON",
            "application/x-www-form-urlencoded",
            "email=a",
        ),
        ("deeply nested", "application/json", &"[".repeat(100_000)),
    ] {
        for url in [&people, &settings] {
            let resp = gw
                .admin
                .put(url)
                .header("content-type", content_type)
                .body(body.to_string())
                .send()
                .await
                .expect("answered");
            assert_clear_4xx(resp, &format!("{what} to {url}")).await;
        }
    }
    // Missing content type entirely.
    let resp = gw
        .admin
        .put(&people)
        .body("[]")
        .send()
        .await
        .expect("answered");
    assert_clear_4xx(resp, "no content type").await;
    // The test-connection endpoint with rubbish.
    let resp = gw
        .admin
        .post(format!("{settings}/test"))
        .json(&json!({"mailbox": {"$ne": 1}}))
        .send()
        .await
        .expect("answered");
    assert_clear_4xx(resp, "test with an object mailbox").await;
    assert_alive(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_traversal_and_huge_queries_are_refused_cleanly() {
    let gw = gateway().await;
    let base = gw.url();
    gw.admin
        .put(format!("{base}/api/v1/people"))
        .json(&json!([{"email": "anna@contoso.com"}]))
        .send()
        .await
        .expect("put");
    for path in [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "..%2F..%2Fcalgate.db",
        "%2e%2e%2f%2e%2e%2fsecret.key",
        "anna@contoso.com%00.json",
        "anna@contoso.com%2F..%2F..%2Fsettings",
        "%C0%AE%C0%AE%C0%AF",
        "%FF%FE",
    ] {
        let url = format!("{base}/api/v1/people/{path}");
        for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
            let resp = gw
                .admin
                .request(method.clone(), &url)
                .send()
                .await
                .expect("answered");
            let (status, body) = assert_clear_4xx(resp, &format!("{method} {path}")).await;
            assert!(
                !body.to_string().contains("root:") && !body.to_string().contains("BEGIN"),
                "{path}: nothing from disk leaks: {body}"
            );
            assert!(matches!(status, 400 | 404 | 422), "{path}: {status}");
        }
    }
    // The person is still there: no traversal deleted anything.
    let anna = gw
        .admin
        .get(format!("{base}/api/v1/people/anna@contoso.com"))
        .send()
        .await
        .expect("get");
    assert_eq!(anna.status(), 200);

    // A huge query string: refused or answered, never a crash.
    for size in [10_000usize, 60_000] {
        let q = "a".repeat(size);
        let resp = gw
            .admin
            .get(format!("{base}/api/v1/people?query={q}&limit=5"))
            .send()
            .await
            .expect("answered");
        let status = resp.status().as_u16();
        assert!(
            status == 200 || (400..500).contains(&status),
            "query of {size}: {status}"
        );
    }
    // Beyond what an HTTP client library will even send: a 1 MB request line over a raw socket.
    let answer = raw_exchange(
        gw.gateway.addr,
        format!(
            "GET /api/v1/people?query={} HTTP/1.1\r\nHost: x\r\n\r\n",
            "a".repeat(1_000_000)
        ),
    )
    .await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "1 MB request line: {answer:.200}"
    );
    for bad in [
        "limit=-1",
        "limit=abc",
        "limit=99999999999999999999",
        "query=%ZZ",
    ] {
        let resp = gw
            .admin
            .get(format!("{base}/api/v1/people?{bad}"))
            .send()
            .await
            .expect("answered");
        let status = resp.status().as_u16();
        if status != 200 {
            assert_clear_4xx(resp, bad).await;
        }
    }
    assert_alive(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonsense_resume_ids_and_many_connections_leave_the_gateway_healthy() {
    let gw = gateway().await;
    let base = gw.url();
    let stream = format!("{base}/api/v1/stream");
    for id in [
        "abc",
        "-1",
        "18446744073709551616",
        "99999999999",
        "1e9",
        "",
        &"9".repeat(5000),
    ] {
        let resp = gw
            .console
            .get(&stream)
            .header("accept", "text/event-stream")
            .header("last-event-id", id)
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        match resp {
            Ok(r) => {
                let status = r.status().as_u16();
                assert!(
                    status == 200 || (400..500).contains(&status),
                    "Last-Event-ID {id:.20}: {status}"
                );
            }
            // A 5000-character header may be refused by the HTTP layer itself.
            Err(e) => assert!(id.len() > 1000, "Last-Event-ID {id:.20}: {e}"),
        }
    }

    // 400 idle raw connections and 100 stream clients at once.
    let addr = gw.gateway.addr;
    let mut idle = Vec::new();
    for _ in 0..400 {
        if let Ok(c) = tokio::net::TcpStream::connect(addr).await {
            idle.push(c);
        }
    }
    assert!(idle.len() >= 300, "connections accepted: {}", idle.len());
    let mut streams = Vec::new();
    for _ in 0..100 {
        let resp = gw
            .console
            .get(&stream)
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("stream");
        assert_eq!(resp.status(), 200);
        streams.push(resp);
    }
    // Slowloris: a request head that never ends, on a few of the idle connections.
    for c in idle.iter_mut().take(20) {
        let _ = c
            .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await;
    }
    assert_alive(&gw).await;
    // A raw request with a header block far beyond any limit.
    let answer = raw_exchange(
        addr,
        format!(
            "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "b".repeat(2_000_000)
        ),
    )
    .await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "oversized header block: {answer}"
    );
    drop(idle);
    drop(streams);
    assert_alive(&gw).await;
}
