//! The findings of the security test, each against a real gateway: a resumed stream after a
//! restart, sessions outliving a revoked token or a changed password, one global sign-in
//! lockout, open redirects after sign-in, stream memory, connections without timeouts, and the
//! smaller ones (error shapes, file modes, gauges).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use jiff::SignedDuration;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use calgate::config::ServerLimits;
use calgate::gateway::{GatewayConfig, start};
use calgate_engine::EngineOptions;
use calgate_testkit::gateway::{
    SseClient, SseEvent, TestGateway, spawn_gateway, spawn_gateway_limited,
};

use crate::drills_crash::calgate_bin;

/// Polls `check` until it answers something, for at most `within`.
async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn options() -> EngineOptions {
    EngineOptions::with_interval(SignedDuration::from_secs(300))
}

async fn gateway() -> TestGateway {
    spawn_gateway(None, options()).await
}

fn people(n: usize, domain: &str) -> Vec<String> {
    (0..n).map(|i| format!("p{i:05}@{domain}")).collect()
}

/// Reads a whole snapshot (all its parts); answers the people and the last part's id.
async fn read_snapshot(stream: &mut SseClient) -> (Vec<SseEvent>, Vec<String>, String) {
    let mut parts = Vec::new();
    let mut emails = Vec::new();
    loop {
        let ev = stream
            .next(Duration::from_secs(10))
            .await
            .expect("a snapshot part");
        assert_eq!(ev.event, "snapshot", "{ev:?}");
        let data = ev.json();
        assert_eq!(data["part"], parts.len(), "parts in order");
        for p in data["people"].as_array().expect("people") {
            emails.push(p["email"].as_str().expect("email").to_string());
        }
        let more = data["more"].as_bool().expect("more");
        parts.push(ev);
        if !more {
            let id = parts
                .last()
                .and_then(|e| e.id.clone())
                .expect("the last part has an id");
            return (parts, emails, id);
        }
    }
}

/// Polls the gateway's SSE clients gauge.
async fn sse_clients(base: &str) -> i64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix("calgate_sse_clients "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the gauge is rendered")
}

// 1. A resumed stream after a restart gets a snapshot, never silence.
#[tokio::test]
async fn a_stream_resumed_across_a_restart_starts_with_a_snapshot() {
    let gw = gateway().await;
    let watched = people(3, "contoso.com");
    gw.watch(&watched).await;
    let base = gw.url();
    let mut stream = SseClient::connect(&gw.console, &format!("{base}/api/v1/stream"), None).await;
    let (_, first, _) = read_snapshot(&mut stream).await;
    // More changes than the restarted gateway will have made when the client comes back.
    gw.watch(&people(40, "fabrikam.com")).await;
    let mut old_id = String::new();
    for _ in 0..40 {
        let ev = stream
            .next(Duration::from_secs(10))
            .await
            .expect("a change");
        assert_eq!(ev.event, "status");
        old_id = ev.id.expect("a change has an id");
    }
    assert!(first.len() <= 3);
    drop(stream);

    let TestGateway {
        gateway,
        data_dir,
        console,
        ..
    } = gw;
    gateway.shutdown(Duration::from_secs(5)).await;
    let mut config = GatewayConfig::new(
        "127.0.0.1:0".parse().expect("address"),
        data_dir.path().to_path_buf(),
    );
    config.source = calgate::state::SourceMode::Fixed(None);
    config.engine_override = Some(options());
    let restarted = start(config).await.expect("restarts");
    let base = restarted.url();
    // The old id, and an id in the old plain-number form: both get a whole snapshot.
    for id in [old_id.as_str(), "40", "zzz"] {
        let mut resumed =
            SseClient::connect(&console, &format!("{base}/api/v1/stream"), Some(id)).await;
        let (_, emails, new_id) = read_snapshot(&mut resumed).await;
        assert_eq!(emails.len(), 43, "resuming from {id:?}");
        assert_ne!(new_id, old_id);
    }
    drop(restarted);
}

// 2. Revoking a token, or changing the admin password, ends the sessions signed in with it,
// also when done by the command line while the gateway runs.
#[tokio::test]
async fn revocation_and_a_password_change_end_their_sessions_at_once() {
    let gw = gateway().await;
    let base = gw.url();
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let sign_in = |form: Vec<(&'static str, String)>| {
        let plain = plain.clone();
        let base = base.clone();
        async move {
            let resp = plain
                .post(format!("{base}/portal/login"))
                .form(&form)
                .send()
                .await
                .expect("login");
            assert_eq!(resp.status(), 303, "signed in");
            resp.headers()["set-cookie"]
                .to_str()
                .expect("cookie")
                .split(';')
                .next()
                .expect("cookie value")
                .to_string()
        }
    };
    let page = |cookie: String, path: &'static str| {
        let plain = plain.clone();
        let base = base.clone();
        async move {
            plain
                .get(format!("{base}{path}"))
                .header("cookie", cookie)
                .send()
                .await
                .expect("page")
                .status()
                .as_u16()
        }
    };
    // A session signed in with the admin API token, and one with a console token.
    let admin_cookie = sign_in(vec![("token", gw.admin_token.clone())]).await;
    let console_cookie = sign_in(vec![("token", gw.console_token.clone())]).await;
    assert_eq!(page(admin_cookie.clone(), "/portal/tokens").await, 200);
    assert_eq!(page(console_cookie.clone(), "/api/v1/people").await, 200);

    // `calgate token list` shows the ids; `revoke` takes one, while the gateway runs.
    let data_dir = gw.data_dir.path().to_path_buf();
    let cli = |args: Vec<String>| {
        let data_dir = data_dir.clone();
        async move {
            let out = Command::new(calgate_bin())
                .args(&args)
                .arg("--data-dir")
                .arg(&data_dir)
                .env("RUST_LOG", "warn")
                .env("CALGATE_ADMIN_PASSWORD", "a-new-password-for-admin")
                .output()
                .await
                .expect("calgate runs");
            assert!(out.status.success(), "{args:?}: {out:?}");
            String::from_utf8_lossy(&out.stdout).to_string()
        }
    };
    let list = cli(vec!["token".into(), "list".into()]).await;
    assert!(
        !list.contains("cgt_"),
        "the list never shows a token: {list}"
    );
    let admin_id = list
        .lines()
        .find(|l| l.contains("test admin"))
        .and_then(|l| l.split_whitespace().next())
        .expect("the admin token is listed")
        .to_string();
    // Through the API a token does not revoke itself (a script would lock its admin out).
    let own = gw
        .admin
        .delete(format!("{base}/api/v1/tokens/{admin_id}"))
        .send()
        .await
        .expect("delete");
    assert_eq!(own.status(), 409);
    let listed: Value = gw
        .admin
        .get(format!("{base}/api/v1/tokens"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    assert!(!listed.to_string().contains("cgt_"));
    cli(vec![
        "token".into(),
        "revoke".into(),
        admin_id[..8].to_string(),
    ])
    .await;
    assert_eq!(
        page(admin_cookie.clone(), "/portal/tokens").await,
        303,
        "the revoked token's session is sent to sign in"
    );
    // Nor may it post (it could create a new admin token before).
    let create = plain
        .post(format!("{base}/portal/tokens/create"))
        .header("cookie", &admin_cookie)
        .form(&[("label", "sneaky"), ("role", "admin")])
        .send()
        .await
        .expect("post");
    assert_eq!(create.status(), 403);
    let api = gw
        .admin
        .get(format!("{base}/api/v1/tokens"))
        .send()
        .await
        .expect("api");
    assert_eq!(api.status(), 401, "the token itself is revoked");

    // The console token revoked by its value.
    cli(vec![
        "token".into(),
        "revoke".into(),
        gw.console_token.clone(),
    ])
    .await;
    assert_eq!(page(console_cookie, "/api/v1/people").await, 401);

    // A password session ends when the password is set again from the command line.
    gw.gateway
        .app
        .store
        .set_admin_password("admin", &secrecy::SecretString::from("first-password-1"))
        .await
        .expect("password");
    let pw_cookie = sign_in(vec![
        ("username", "admin".to_string()),
        ("password", "first-password-1".to_string()),
    ])
    .await;
    assert_eq!(page(pw_cookie.clone(), "/portal/settings").await, 200);
    cli(vec!["admin".into(), "set-password".into()]).await;
    assert_eq!(page(pw_cookie, "/portal/settings").await, 303);
}

/// A client whose connections come from `address` (any of 127.0.0.0/8).
fn client_from(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from(address))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn try_password(client: &reqwest::Client, base: &str, user: &str, password: &str) -> u16 {
    client
        .post(format!("{base}/portal/login"))
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .expect("login")
        .status()
        .as_u16()
}

// 3. Sign-in limits per address and per account; parallel guesses cannot slip through.
#[tokio::test]
async fn guessing_locks_out_the_guesser_not_everyone() {
    let gw = gateway().await;
    let base = gw.url();
    let password = "the-admin-password-1";
    gw.gateway
        .app
        .store
        .set_admin_password("admin", &secrecy::SecretString::from(password))
        .await
        .expect("password");
    // 100 wrong passwords at once from one address: exactly 5 are checked.
    let attacker = client_from([127, 0, 0, 2]);
    let tries = (0..100).map(|_| try_password(&attacker, &base, "admin", "guess"));
    let statuses = futures::future::join_all(tries).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (5, 95), "{statuses:?}");
    // The attacker's address waits, even with the right password…
    assert_eq!(try_password(&attacker, &base, "admin", password).await, 429);
    // …while the administrator elsewhere signs in, and operators with tokens too.
    let admin = client_from([127, 0, 0, 3]);
    assert_eq!(try_password(&admin, &base, "admin", password).await, 303);
    let operator = client_from([127, 0, 0, 4]);
    let with_token = operator
        .post(format!("{base}/portal/login"))
        .form(&[("token", gw.console_token.as_str())])
        .send()
        .await
        .expect("login");
    assert_eq!(with_token.status(), 303);
    let api = gw
        .console
        .get(format!("{base}/api/v1/people"))
        .send()
        .await
        .expect("api");
    assert_eq!(api.status(), 200, "API tokens are never locked out");

    // Guessing one account from many addresses slows that account down, not another.
    for n in 10..20 {
        let from = client_from([127, 0, 0, n]);
        assert_eq!(try_password(&from, &base, "bob", "guess").await, 401);
    }
    let fresh = client_from([127, 0, 0, 30]);
    assert_eq!(try_password(&fresh, &base, "bob", "guess").await, 429);
    assert_eq!(try_password(&fresh, &base, "admin", password).await, 303);
}

// 4. Only our own pages are followed after sign-in.
#[tokio::test]
async fn sign_in_never_redirects_to_another_host() {
    let gw = gateway().await;
    let base = gw.url();
    let client = client_from([127, 0, 0, 1]);
    for next in [
        "/\t/evil.example/",
        "/portal/x\nSet-Cookie: a=b",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
    ] {
        let resp = client
            .post(format!("{base}/portal/login"))
            .form(&[("token", gw.console_token.as_str()), ("next", next)])
            .send()
            .await
            .expect("login");
        assert_eq!(resp.status(), 303, "{next:?}");
        assert_eq!(resp.headers()["location"], "/console", "{next:?}");
        let page = client
            .get(format!("{base}/portal/login?next={}", url_escape(next)))
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), 200, "{next:?}");
        let html = page.text().await.expect("html");
        assert!(
            html.contains("name=\"next\" value=\"/portal/settings\""),
            "{next:?}"
        );
    }
    // An admin session follows a local page.
    gw.gateway
        .app
        .store
        .set_admin_password(
            "admin",
            &secrecy::SecretString::from("the-admin-password-1"),
        )
        .await
        .expect("password");
    let resp = client
        .post(format!("{base}/portal/login"))
        .form(&[
            ("username", "admin"),
            ("password", "the-admin-password-1"),
            ("next", "/portal/people?notice=hi"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(resp.headers()["location"], "/portal/people?notice=hi");
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// 5. Snapshots in pages, a capped number of streams, a narrowed stream, and the gauge.
#[tokio::test]
async fn streams_are_paged_capped_narrowed_and_counted() {
    let limits = ServerLimits {
        max_stream_clients: 2,
        ..ServerLimits::default()
    };
    let gw = spawn_gateway_limited(options(), limits).await;
    let base = gw.url();
    let all = people(1_200, "contoso.com");
    gw.watch(&all).await;
    let url = format!("{base}/api/v1/stream");
    let mut first = SseClient::connect(&gw.console, &url, None).await;
    let (parts, emails, _) = read_snapshot(&mut first).await;
    assert_eq!(parts.len(), 3, "500 people a part");
    assert_eq!(
        parts[0].id.as_deref(),
        Some(""),
        "the first part clears the id"
    );
    assert_eq!(parts[1].id, None);
    assert_eq!(emails, all);

    let wanted = format!("{},{}", all[7], all[1_100]);
    let mut narrow = SseClient::connect(&gw.console, &format!("{url}?people={wanted}"), None).await;
    let (_, emails, _) = read_snapshot(&mut narrow).await;
    assert_eq!(emails, vec![all[7].clone(), all[1_100].clone()]);
    assert_eq!(sse_clients(&base).await, 2);

    // The third is refused, clearly, with a time to come back.
    let refused = gw.console.get(&url).send().await.expect("third stream");
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.expect("JSON error");
    assert_eq!(body["code"], "stream_clients_full");

    // A change for someone outside the narrowed stream does not reach it.
    gw.watch(&["zz-new@contoso.com".to_string()]).await;
    let ev = first
        .next(Duration::from_secs(10))
        .await
        .expect("the full stream sees the new person");
    assert_eq!(ev.json()["email"], "zz-new@contoso.com");
    assert!(
        narrow.next(Duration::from_millis(800)).await.is_none(),
        "the narrowed stream does not"
    );

    // Clients that leave free their place and the gauge comes down, with no change to push.
    drop(first);
    drop(narrow);
    eventually(Duration::from_secs(10), "the gauge back to 0", || {
        let base = gw.url();
        async move { (sse_clients(&base).await == 0).then_some(()) }
    })
    .await;
}

// 5 and 6. A stream client that never reads is closed by the write timeout.
#[tokio::test]
async fn a_stream_client_that_never_reads_is_closed() {
    let limits = ServerLimits {
        write_timeout_s: 1,
        ..ServerLimits::default()
    };
    let gw = spawn_gateway_limited(options(), limits).await;
    // A snapshot larger than the kernel's socket buffers can hold (about 10 MB), and a
    // client that takes in little.
    gw.watch(&people(60_000, "contoso.com")).await;
    let addr = gw.gateway.addr;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("small buffer");
    let mut raw = socket.connect(addr).await.expect("connect");
    raw.write_all(
        format!(
            "GET /api/v1/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n",
            gw.console_token
        )
        .as_bytes(),
    )
    .await
    .expect("request");
    let base = gw.url();
    eventually(Duration::from_secs(10), "the stream opened", || {
        let base = base.clone();
        async move { (sse_clients(&base).await == 1).then_some(()) }
    })
    .await;
    // Never read: the snapshot fills the socket buffers, the write stalls, the server closes.
    eventually(Duration::from_secs(20), "the stalled client closed", || {
        let base = base.clone();
        async move { (sse_clients(&base).await == 0).then_some(()) }
    })
    .await;
    drop(raw);
}

/// Whether the server closes `stream` within `within` (a read returns the end or an error).
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    let mut buf = vec![0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

// 6. Idle connections, trickled headers and bodies that never come are closed; connections
// are capped.
#[tokio::test]
async fn slow_and_idle_connections_are_closed_and_capped() {
    let limits = ServerLimits {
        header_timeout_s: 1,
        body_timeout_s: 1,
        max_connections: 4,
        ..ServerLimits::default()
    };
    let gw = spawn_gateway_limited(options(), limits).await;
    let addr: SocketAddr = gw.gateway.addr;
    // Idle from the start.
    let mut idle = tokio::net::TcpStream::connect(addr).await.expect("connect");
    assert!(
        closed_within(&mut idle, Duration::from_secs(5)).await,
        "idle"
    );
    // Headers a byte at a time.
    let mut trickle = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let started = std::time::Instant::now();
    let mut closed = false;
    for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaa" {
        if trickle.write_all(&[*b]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        closed || closed_within(&mut trickle, Duration::from_secs(3)).await,
        "trickled headers"
    );
    assert!(started.elapsed() < Duration::from_secs(12));
    // A body announced and never sent.
    let mut no_body = tokio::net::TcpStream::connect(addr).await.expect("connect");
    no_body
        .write_all(
            format!(
                "PUT /api/v1/people HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[",
                gw.admin_token
            )
            .as_bytes(),
        )
        .await
        .expect("head");
    let mut answer = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), no_body.read(&mut answer))
        .await
        .expect("answered or closed within 5 s")
        .unwrap_or(0);
    let answer = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(
        n == 0 || answer.starts_with("HTTP/1.1 408") || answer.starts_with("HTTP/1.1 400"),
        "{answer}"
    );

    // The cap: with four connections held, a fifth is not served until one goes.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("partial head");
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fifth = tokio::net::TcpStream::connect(addr).await.expect("backlog");
    fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut buf = vec![0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), fifth.read(&mut buf)).await;
    assert!(early.is_err(), "served beyond the cap: {early:?}");
    drop(held);
    let n = tokio::time::timeout(Duration::from_secs(5), fifth.read(&mut buf))
        .await
        .expect("served once a place is free")
        .expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

// 8. The smaller findings.
#[tokio::test]
async fn unknown_api_paths_long_targets_and_big_headers_get_json_errors() {
    let gw = gateway().await;
    let base = gw.url();
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/nothing-here"),
        (reqwest::Method::POST, "/api/v1/nothing-here"),
        (reqwest::Method::DELETE, "/api/nope"),
    ] {
        let resp = gw
            .console
            .request(method.clone(), format!("{base}{path}"))
            .send()
            .await
            .expect("answer");
        assert_eq!(resp.status(), 404, "{method} {path}");
        let body: Value = resp.json().await.expect("JSON");
        assert_eq!(body["code"], "not_found");
    }
    let long = format!("{base}/api/v1/people?query={}", "a".repeat(20_000));
    let resp = gw.console.get(long).send().await.expect("answer");
    assert_eq!(resp.status(), 414);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["code"], "uri_too_long");
    let resp = gw
        .console
        .get(format!("{base}/api/v1/health"))
        .header("x-big", "b".repeat(20_000))
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 431);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["code"], "headers_too_large");
}

#[tokio::test]
async fn a_huge_invalid_watch_list_gets_a_short_answer() {
    let gw = gateway().await;
    let bad: Vec<Value> = (0..50_000)
        .map(|i| json!({"email": format!("x{i}")}))
        .collect();
    let resp = gw
        .admin
        .put(format!("{}/api/v1/people", gw.url()))
        .json(&bad)
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 422);
    let text = resp.text().await.expect("body");
    assert!(text.len() < 16 * 1024, "{} bytes", text.len());
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(body["fields"].as_object().map(|f| f.len()), Some(100));
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("50000")),
        "{body}"
    );
}

#[tokio::test]
async fn the_data_directory_and_logs_are_private() {
    let root = tempfile::tempdir().expect("temp dir");
    let data_dir = root.path().join("calgate-data");
    let token = crate::drills_crash::create_admin_token(&data_dir).await;
    let gw = crate::drills_crash::GatewayProcess::start(&data_dir, &token).await;
    // A failed sign-in with a huge user name is logged short.
    let huge = "u".repeat(100_000);
    let resp = client_from([127, 0, 0, 1])
        .post(format!("{}/portal/login", gw.url))
        .form(&[("username", huge.as_str()), ("password", "x")])
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 401);
    let html = resp.text().await.expect("page");
    assert!(html.len() < 20_000, "the page echoes {} bytes", html.len());
    let logs = data_dir.join("logs");
    let log_text = eventually(Duration::from_secs(10), "the refusal logged", || {
        let logs = logs.clone();
        async move {
            let text: String = std::fs::read_dir(&logs)
                .ok()?
                .filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect();
            text.contains("portal sign-in refused").then_some(text)
        }
    })
    .await;
    assert!(
        !log_text.contains(&"u".repeat(100)),
        "the whole name was logged"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&data_dir), 0o700);
    assert_eq!(mode(&logs), 0o700);
    for entry in std::fs::read_dir(&logs)
        .expect("logs")
        .filter_map(Result::ok)
    {
        assert_eq!(mode(&entry.path()), 0o600, "{}", entry.path().display());
    }
    assert_eq!(mode(&data_dir.join("calgate.db")), 0o600);
    gw.kill9().await;
}

// 7 and 8. A stored password is not sent to a new host; connection tests are rate-limited.
#[tokio::test]
async fn a_new_host_needs_the_password_again_and_tests_are_limited() {
    let gw = calgate_testkit::gateway::spawn_gateway_from_settings().await;
    let saved = gw
        .save_settings(&json!({
            "provider": "exchange", "username": "svc@contoso.com", "password": "stored-secret-1",
            "ews_url": "http://127.0.0.1:1/EWS/Exchange.asmx", "allow_insecure_http": true}))
        .await;
    let codes: Vec<&str> = saved["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert!(codes.contains(&"local_target"), "{codes:?}");
    let url = format!("{}/api/v1/settings/calendar", gw.url());
    let moved = gw
        .admin
        .put(&url)
        .json(&json!({"ews_url": "https://evil.example/EWS/Exchange.asmx"}))
        .send()
        .await
        .expect("put");
    assert_eq!(moved.status(), 422);
    let body: Value = moved.json().await.expect("JSON");
    assert_eq!(body["field_codes"]["password"], "secret_reentry_required");
    let metadata = gw
        .admin
        .put(&url)
        .json(&json!({"ews_url": "http://2852039166/EWS/Exchange.asmx", "password": "x"}))
        .send()
        .await
        .expect("put");
    assert_eq!(metadata.status(), 422);

    let test_url = format!("{url}/test");
    let mut statuses = Vec::new();
    for _ in 0..calgate::check::TESTS_PER_WINDOW + 1 {
        let resp = gw
            .admin
            .post(&test_url)
            .json(&json!({"mailbox": "a@contoso.com"}))
            .send()
            .await
            .expect("test");
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            assert!(resp.headers().contains_key("retry-after"));
            let body: Value = resp.json().await.expect("JSON");
            assert_eq!(body["code"], "too_many_tests");
        }
    }
    let mut expected = vec![200; calgate::check::TESTS_PER_WINDOW];
    expected.push(429);
    assert_eq!(statuses, expected);
}
