//! Starting a gateway on port 0 and talking to it over real HTTP, including its event stream.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use calgate::gateway::{GatewayConfig, RunningGateway, create_token, start};
use calgate::state::SourceMode;
use calgate_engine::{CalendarSource, EngineOptions};
use calgate_store::ApiRole;

/// A gateway on port 0 with a temp data dir, and clients holding its API tokens.
#[derive(Debug)]
pub struct TestGateway {
    pub gateway: RunningGateway,
    pub data_dir: tempfile::TempDir,
    /// Sends the admin token with every request.
    pub admin: reqwest::Client,
    /// Sends the console token with every request.
    pub console: reqwest::Client,
    pub admin_token: String,
    pub console_token: String,
}

impl TestGateway {
    pub fn url(&self) -> String {
        self.gateway.url()
    }

    /// Saves calendar settings as the admin and returns the settings view.
    ///
    /// # Panics
    /// When the gateway refuses them: the test must fail with the gateway's answer.
    pub async fn save_settings(&self, body: &serde_json::Value) -> serde_json::Value {
        let resp = self
            .admin
            .put(format!("{}/api/v1/settings/calendar", self.url()))
            .json(body)
            .send()
            .await
            .expect("put settings");
        let status = resp.status();
        let text = resp.text().await.expect("settings answer");
        assert_eq!(status, 200, "settings refused: {text}");
        serde_json::from_str(&text).expect("settings json")
    }

    /// `GET` of `path` (such as `/api/v1/health`) as the admin, answered with JSON.
    ///
    /// # Panics
    /// When the gateway does not answer with JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let url = format!("{}{path}", self.url());
        self.admin
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
    }

    /// `GET /api/v1/health`.
    pub async fn health(&self) -> serde_json::Value {
        self.get_json("/api/v1/health").await
    }

    /// One watched person's record, `GET /api/v1/people/{email}`.
    pub async fn person(&self, email: &str) -> serde_json::Value {
        self.get_json(&format!("/api/v1/people/{email}")).await
    }

    /// Waits until `n` watched mailboxes are fresh or in error (one full refresh), and returns
    /// the last `GET /api/v1/health` answer.
    ///
    /// # Panics
    /// When that does not happen `within` the given time.
    pub async fn wait_fetched(&self, n: u64, within: Duration) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let health: serde_json::Value = self
                .admin
                .get(format!("{}/api/v1/health", self.url()))
                .send()
                .await
                .expect("health")
                .json()
                .await
                .expect("health as JSON");
            let done = health["mailboxes"]["fresh"].as_u64().unwrap_or(0)
                + health["mailboxes"]["error"].as_u64().unwrap_or(0);
            if done >= n {
                return health;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not all mailboxes fetched in time: {health}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `method` of `path` as the admin with an optional JSON body: the status and the JSON answer
    /// (`Null` for an empty or non-JSON one).
    ///
    /// # Panics
    /// When the gateway cannot be reached.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.url());
        let mut request = self.admin.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let resp = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// A client signed in to the portal as `admin` (the password is set to a test one first):
    /// it sends the session cookie with every request and follows no redirect.
    ///
    /// # Panics
    /// When the sign-in is refused.
    pub async fn portal_client(&self) -> reqwest::Client {
        let password = "portal-test-password-1";
        self.gateway
            .app
            .store
            .set_admin_password("admin", &secrecy::SecretString::from(password))
            .await
            .expect("admin password");
        let plain = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let resp = plain
            .post(format!("{}/portal/login", self.url()))
            .form(&[("username", "admin"), ("password", password)])
            .send()
            .await
            .expect("portal sign-in");
        assert_eq!(resp.status().as_u16(), 303, "portal sign-in refused");
        let cookie = resp
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .collect::<Vec<_>>()
            .join("; ");
        let mut headers = reqwest::header::HeaderMap::new();
        let mut value = reqwest::header::HeaderValue::from_str(&cookie).expect("cookie header");
        value.set_sensitive(true);
        headers.insert(reqwest::header::COOKIE, value);
        reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Adds people to the watch list by address, as the admin.
    ///
    /// # Panics
    /// When the gateway refuses them.
    pub async fn watch(&self, people: &[String]) {
        let list: Vec<serde_json::Value> = people
            .iter()
            .map(|e| serde_json::json!({"email": e}))
            .collect();
        let resp = self
            .admin
            .put(format!("{}/api/v1/people", self.url()))
            .json(&list)
            .send()
            .await
            .expect("put people");
        let status = resp.status();
        let text = resp.text().await.expect("people answer");
        assert_eq!(status, 200, "people refused: {text}");
    }
}

fn client_with(token: &str, roots: &[reqwest::Certificate]) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
        .expect("token is a header value");
    value.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, value);
    let mut builder = reqwest::Client::builder().default_headers(headers);
    if !roots.is_empty() {
        builder = builder.tls_certs_only(roots.iter().cloned());
    }
    builder.build().expect("client")
}

/// Starts a gateway on 127.0.0.1:0 with a fixed source (or none) and fixed engine options.
pub async fn spawn_gateway(
    source: Option<Arc<dyn CalendarSource>>,
    options: EngineOptions,
) -> TestGateway {
    spawn_gateway_with(SourceMode::Fixed(source), Some(options)).await
}

/// Starts a gateway whose source comes from the settings saved through its API.
pub async fn spawn_gateway_from_settings() -> TestGateway {
    spawn_gateway_with(SourceMode::FromSettings, None).await
}

/// Starts a gateway from the settings saved in `data_dir` (a data directory made beforehand,
/// such as one written by an older release).
pub async fn spawn_gateway_on(data_dir: tempfile::TempDir) -> TestGateway {
    spawn_gateway_in(
        data_dir,
        SourceMode::FromSettings,
        None,
        calgate::config::ServerLimits::default(),
        Https::default(),
    )
    .await
}

/// Starts a gateway from saved settings with its HTTPS configuration (`tls_cert`/`tls_key`,
/// the redirect listener, trusted proxies); its API-token clients trust only `roots` when
/// some are given.
pub async fn spawn_gateway_https(
    https: calgate::config::HttpsConfig,
    roots: &[reqwest::Certificate],
) -> TestGateway {
    spawn_gateway_in(
        tempfile::tempdir().expect("temp dir"),
        SourceMode::FromSettings,
        None,
        calgate::config::ServerLimits::default(),
        Https {
            config: https,
            roots: roots.to_vec(),
        },
    )
    .await
}

/// HTTPS settings of a test gateway and the roots its clients trust.
#[derive(Default)]
struct Https {
    config: calgate::config::HttpsConfig,
    roots: Vec<reqwest::Certificate>,
}

/// Like [`spawn_gateway`] without a source, with the server's limits set.
pub async fn spawn_gateway_limited(
    options: EngineOptions,
    limits: calgate::config::ServerLimits,
) -> TestGateway {
    spawn_gateway_in(
        tempfile::tempdir().expect("temp dir"),
        SourceMode::Fixed(None),
        Some(options),
        limits,
        Https::default(),
    )
    .await
}

async fn spawn_gateway_with(source: SourceMode, options: Option<EngineOptions>) -> TestGateway {
    spawn_gateway_in(
        tempfile::tempdir().expect("temp dir"),
        source,
        options,
        calgate::config::ServerLimits::default(),
        Https::default(),
    )
    .await
}

async fn spawn_gateway_in(
    data_dir: tempfile::TempDir,
    source: SourceMode,
    options: Option<EngineOptions>,
    limits: calgate::config::ServerLimits,
    https: Https,
) -> TestGateway {
    let mut config = GatewayConfig::new(
        "127.0.0.1:0".parse().expect("loopback address"),
        data_dir.path().to_path_buf(),
    );
    config.source = source;
    config.engine_override = options;
    config.limits = limits;
    config.https = https.config;
    let gateway = start(config).await.expect("gateway starts");
    let admin_token = create_token(&gateway.app.store, ApiRole::Admin, "test admin")
        .await
        .expect("admin token");
    let console_token = create_token(&gateway.app.store, ApiRole::Console, "test console")
        .await
        .expect("console token");
    TestGateway {
        admin: client_with(&admin_token, &https.roots),
        console: client_with(&console_token, &https.roots),
        gateway,
        data_dir,
        admin_token,
        console_token,
    }
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).expect("event data is JSON")
    }
}

/// A connected event-stream client.
pub struct SseClient {
    stream: futures::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    buffer: String,
}

impl std::fmt::Debug for SseClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseClient").finish_non_exhaustive()
    }
}

impl SseClient {
    /// Connects to `url`, resuming after `last_event_id` when given.
    pub async fn connect(
        client: &reqwest::Client,
        url: &str,
        last_event_id: Option<&str>,
    ) -> SseClient {
        let mut req = client.get(url).header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let resp = req.send().await.expect("stream request");
        assert!(
            resp.status().is_success(),
            "stream status {}",
            resp.status()
        );
        SseClient {
            stream: resp.bytes_stream().map(|r| r.map(|b| b.to_vec())).boxed(),
            buffer: String::new(),
        }
    }

    /// The next event (comments and keep-alives skipped), or `None` after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(pos) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..pos + 2).collect();
                let mut event = SseEvent {
                    event: "message".into(),
                    id: None,
                    data: String::new(),
                };
                let mut has_data = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        event.id = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        if has_data {
                            event.data.push('\n');
                        }
                        event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        has_data = true;
                    }
                }
                if has_data {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next()).await;
            match chunk {
                Ok(Some(Ok(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }
}
