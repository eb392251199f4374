//! The web pages in a real headless Chromium (Debian's, driven by playwright-core through
//! `browser/driver.mjs`) against a real gateway watching the simulated tenant of `calgate demo`.
//! One browser per test; the Rust side decides and asserts, the driver only acts on the page.
//!
//! Needs `cargo xtask setup` (installs chromium and playwright-core); fails, never skips, when
//! either is missing.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use calgate::config::BootConfig;
use calgate::demo::{DEMO_ADMIN_PASSWORD, Demo, start_demo};
use calgate_core::{BusyType, CalendarEvent};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn screenshot_path(name: &str) -> String {
    let dir = workspace_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir.join(name).display().to_string()
}

/// One headless Chromium behind the JSON-lines driver.
pub(crate) struct Browser {
    child: Child,
    stdin: ChildStdin,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
    base: String,
}

impl Browser {
    pub(crate) async fn launch(base: &str) -> Browser {
        let playwright = std::env::var_os("CALGATE_TEST_PLAYWRIGHT")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                workspace_root().join("target/browser-node/node_modules/playwright-core")
            });
        assert!(
            playwright.join("package.json").exists(),
            "playwright-core is missing at {} — run `cargo xtask setup` (or set CALGATE_TEST_PLAYWRIGHT)",
            playwright.display()
        );
        let chromium = std::env::var("CALGATE_TEST_CHROMIUM")
            .unwrap_or_else(|_| "/usr/bin/chromium".to_string());
        assert!(
            Path::new(&chromium).exists(),
            "Chromium is missing at {chromium} — run `cargo xtask setup` (apt package chromium)"
        );
        let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/driver.mjs");
        let mut child = Command::new("node")
            .arg(&driver)
            .env("CALGATE_TEST_PLAYWRIGHT", &playwright)
            .env("CALGATE_TEST_CHROMIUM", &chromium)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts the browser driver");
        let stdin = child.stdin.take().expect("driver stdin");
        let stdout = BufReader::new(child.stdout.take().expect("driver stdout")).lines();
        Browser {
            child,
            stdin,
            stdout,
            base: base.to_string(),
        }
    }

    /// Sends one command; returns its value or the driver's error.
    pub(crate) async fn try_cmd(&mut self, cmd: Value) -> Result<Value, String> {
        let line = format!("{cmd}\n");
        self.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| format!("driver stdin: {e}"))?;
        self.stdin.flush().await.map_err(|e| e.to_string())?;
        let answer = tokio::time::timeout(Duration::from_secs(60), self.stdout.next_line())
            .await
            .map_err(|_| format!("driver did not answer {cmd}"))?
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "the browser driver exited".to_string())?;
        let v: Value = serde_json::from_str(&answer).map_err(|e| format!("{e}: {answer}"))?;
        if v["ok"].as_bool() == Some(true) {
            Ok(v["value"].clone())
        } else {
            Err(v["error"].as_str().unwrap_or("driver error").to_string())
        }
    }

    pub(crate) async fn cmd(&mut self, cmd: Value) -> Value {
        let shown = cmd.to_string();
        match self.try_cmd(cmd).await {
            Ok(v) => v,
            Err(e) => {
                // Leave what the page looked like next to the other screenshots.
                let path = screenshot_path("failure.png");
                let _ = self
                    .try_cmd(json!({"op": "screenshot", "path": path}))
                    .await;
                let url = self.try_cmd(json!({"op": "url"})).await.unwrap_or_default();
                let body = self
                    .try_cmd(json!({"op": "text", "sel": "body"}))
                    .await
                    .unwrap_or_default();
                panic!(
                    "browser command {shown} failed: {e}\nat {url}\npage text: {body}\nscreenshot: {path}"
                )
            }
        }
    }

    pub(crate) async fn goto(&mut self, path: &str) -> u64 {
        let url = format!("{}{path}", self.base);
        self.cmd(json!({"op": "goto", "url": url}))
            .await
            .as_u64()
            .unwrap_or(0)
    }

    pub(crate) async fn url(&mut self) -> String {
        self.cmd(json!({"op": "url"}))
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub(crate) async fn fill(&mut self, sel: &str, value: &str) {
        self.cmd(json!({"op": "fill", "sel": sel, "value": value}))
            .await;
    }

    pub(crate) async fn click(&mut self, sel: &str) {
        self.cmd(json!({"op": "click", "sel": sel})).await;
    }

    /// Clicks and waits for the navigation it starts (a form post).
    pub(crate) async fn submit(&mut self, sel: &str) {
        self.cmd(json!({"op": "clickNav", "sel": sel})).await;
    }

    pub(crate) async fn text(&mut self, sel: &str) -> String {
        self.cmd(json!({"op": "text", "sel": sel}))
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub(crate) async fn visible(&mut self, sel: &str) -> bool {
        self.cmd(json!({"op": "visible", "sel": sel}))
            .await
            .as_bool()
            == Some(true)
    }

    pub(crate) async fn wait(&mut self, sel: &str) {
        self.cmd(json!({"op": "wait", "sel": sel})).await;
    }

    pub(crate) async fn screenshot(&mut self, name: &str) -> String {
        let path = screenshot_path(name);
        self.cmd(json!({"op": "screenshot", "path": path})).await;
        path
    }

    /// The session cookie as a `Cookie` header value.
    pub(crate) async fn session_cookie(&mut self) -> String {
        let cookies = self.cmd(json!({"op": "cookies"})).await;
        let c = cookies
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == "calgate_session"))
            .expect("a session cookie after signing in");
        assert_eq!(c["httpOnly"], true, "the session cookie is HttpOnly");
        assert_eq!(
            c["sameSite"], "Strict",
            "the session cookie is SameSite=Strict"
        );
        format!("calgate_session={}", c["value"].as_str().unwrap_or(""))
    }

    /// Script errors and CSP refusals logged by the pages (HTTP error statuses such as the 401
    /// of a refused sign-in are expected and left out).
    pub(crate) async fn console_errors(&mut self) -> Vec<String> {
        let all: Vec<String> =
            serde_json::from_value(self.cmd(json!({"op": "consoleErrors"})).await)
                .unwrap_or_default();
        all.into_iter()
            .filter(|e| !e.starts_with("Failed to load resource"))
            .collect()
    }

    pub(crate) async fn sign_in(&mut self) {
        self.goto("/portal/login").await;
        self.fill("#username", "admin").await;
        self.fill("#password", DEMO_ADMIN_PASSWORD).await;
        self.submit("#login-submit").await;
    }

    pub(crate) async fn quit(mut self) {
        let _ = self.stdin.write_all(b"{\"op\":\"quit\"}\n").await;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// With `CALGATE_UPDATE_DOCS_SCREENSHOTS` set, copies a screenshot into `docs/` for the README.
pub(crate) fn publish(shot: &str, name: &str) {
    if std::env::var_os("CALGATE_UPDATE_DOCS_SCREENSHOTS").is_some() {
        let docs = workspace_root().join("docs");
        std::fs::create_dir_all(&docs).expect("docs dir");
        std::fs::copy(shot, docs.join(name)).expect("copy the screenshot");
    }
}

pub(crate) async fn demo(people: usize) -> (Demo, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let boot = BootConfig {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: dir.path().to_path_buf(),
        database_url: None,
        site_time_zone: "UTC".to_string(),
        default_language: calgate::i18n::Lang::En,
        limits: calgate::config::ServerLimits::default(),
        https: calgate::config::HttpsConfig::default(),
    };
    let demo = start_demo(&boot, people).await.expect("demo starts");
    (demo, dir)
}

pub(crate) fn admin_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

async fn saved_settings(demo: &Demo) -> Value {
    admin_client(&demo.admin_token)
        .get(format!("{}/api/v1/settings/calendar", demo.gateway.url()))
        .send()
        .await
        .expect("settings GET")
        .json()
        .await
        .expect("settings JSON")
}

/// Polls a page until `sel` reads `want` (the health page is not live; an operator reloads it).
async fn reload_until(
    b: &mut Browser,
    path: &str,
    sel: &str,
    want: &str,
    within: Duration,
) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        b.goto(path).await;
        // A state is shown in words; its code is the element's `data-state`.
        let state = b
            .cmd(json!({"op": "attr", "sel": sel, "name": "data-state"}))
            .await;
        if state == want || b.text(sel).await.trim() == want {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_portal_in_chromium() {
    let (demo, _dir) = demo(20).await;
    let base = demo.gateway.url();
    let first = demo
        .sim
        .state
        .tenant()
        .people
        .iter()
        .find(|p| !p.is_room)
        .map(|p| p.email.to_ascii_lowercase())
        .expect("a person in the tenant");
    let mut b = Browser::launch(&base).await;

    // Not signed in: the portal sends the browser to the sign-in page.
    b.goto("/portal/settings").await;
    assert!(
        b.url().await.contains("/portal/login"),
        "redirected to sign in"
    );

    // A wrong password is refused.
    b.fill("#username", "admin").await;
    b.fill("#password", "not-the-password").await;
    b.submit("#login-submit").await;
    assert!(
        b.text("#login-error")
            .await
            .contains("Wrong username or password")
    );
    assert!(b.url().await.contains("/portal/login"));

    // The right one opens the settings page named as in the seed.
    b.fill("#password", DEMO_ADMIN_PASSWORD).await;
    b.submit("#login-submit").await;
    assert!(
        b.url().await.ends_with("/portal/settings"),
        "back to the page asked for"
    );
    assert_eq!(b.text("h1").await, "Calendar Integration Settings");
    assert_eq!(
        b.text("#state-password .badge").await,
        "set",
        "the stored password shows as set, never as its value"
    );
    let html = b.cmd(json!({"op": "content"})).await;
    assert!(
        !html.as_str().unwrap_or("").contains("Attendant-Passw0rd"),
        "the page never holds the password"
    );
    // Exchange: Version and EWS URL shown, the Office 365 grants not.
    assert!(b.visible("#f-exchange_version").await);
    assert!(b.visible("#f-ews_url").await);
    assert!(
        !b.visible("#f-client_secret").await,
        "no Graph app-only secret for Exchange"
    );
    b.screenshot("settings-exchange.png").await;

    // A POST without the form's CSRF token is refused, even with the session cookie.
    let cookie = b.session_cookie().await;
    let plain = reqwest::Client::new();
    let refused = plain
        .post(format!("{base}/portal/settings"))
        .header("cookie", &cookie)
        .form(&[("provider", "exchange"), ("refresh_interval_s", "10")])
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), 403, "CSRF-less POST refused");
    assert!(refused.headers().contains_key("content-security-policy"));
    assert_eq!(
        saved_settings(&demo).await["settings"]["refresh_interval_s"],
        60
    );
    // And a page answer carries the strict CSP.
    let page = plain
        .get(format!("{base}/portal/settings"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap_or("")
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );

    // Office 365 shows the two grants with tenant and client IDs, and hides Exchange's Version.
    b.cmd(json!({"op": "select", "sel": "#f-provider", "value": "office365"}))
        .await;
    assert!(b.visible("#f-grant_basic_auth").await);
    assert!(b.visible("#f-grant_modern_auth").await);
    assert!(b.visible("#f-tenant_id").await);
    assert!(b.visible("#f-client_id").await);
    assert!(
        !b.visible("#f-exchange_version").await,
        "no Version for Office 365"
    );
    assert!(
        b.visible("#device-code").await,
        "the device-code place is marked"
    );
    // Microsoft 365 (Graph) adds the app-only secret and certificate.
    b.cmd(json!({"op": "select", "sel": "#f-provider", "value": "microsoft365"}))
        .await;
    assert!(b.visible("#f-client_secret").await);
    assert!(!b.visible("#f-ews_url").await);
    b.cmd(json!({"op": "select", "sel": "#f-provider", "value": "office365"}))
        .await;

    // An invalid tenant ID: an inline field error, and nothing saved.
    b.cmd(json!({"op": "check", "sel": "#f-grant_basic_auth"}))
        .await;
    b.cmd(json!({"op": "check", "sel": "#f-grant_modern_auth"}))
        .await;
    b.fill("#f-tenant_id", "not a tenant!").await;
    b.fill("#f-client_id", "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d")
        .await;
    b.submit("#save").await;
    let error = b.text("#err-tenant_id").await;
    assert!(!error.is_empty(), "tenant error shown inline");
    assert!(
        b.text("#errors-summary")
            .await
            .contains("Nothing was saved")
    );
    assert_eq!(
        b.cmd(json!({"op": "attr", "sel": "#f-tenant_id", "name": "aria-invalid"}))
            .await,
        "true"
    );
    let after = saved_settings(&demo).await;
    assert_eq!(after["settings"]["provider"], "exchange", "nothing saved");
    assert_eq!(after["settings"]["tenant_id"], Value::Null);

    // Both grants with valid IDs: saved, and the seed's warning shown with its explanation.
    b.fill("#f-tenant_id", "4b6c0d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e")
        .await;
    b.submit("#save").await;
    b.wait("#saved").await;
    let warning = b.text("#warnings [data-code=both_auth_enabled]").await;
    assert!(
        warning.contains("If you keep both authentications enabled, a warning is displayed"),
        "{warning}"
    );
    let after = saved_settings(&demo).await;
    assert_eq!(after["settings"]["provider"], "office365");
    assert_eq!(after["settings"]["grant_basic_auth"], true);
    assert_eq!(after["settings"]["grant_modern_auth"], true);
    assert_eq!(after["settings"]["exchange_version"], "exchange2013_sp1");
    // The save is in the history with its author and fields, never a value.
    let history = b.text("#history").await;
    assert!(
        history.contains("portal:admin") && history.contains("Directory (tenant) ID"),
        "{history}"
    );
    let entries: Vec<String> =
        serde_json::from_value(b.cmd(json!({"op": "texts", "sel": "#history li"})).await)
            .unwrap_or_default();
    assert!(
        entries
            .iter()
            .filter(|e| e.contains("portal:admin"))
            .all(|e| !e.contains("Extra trusted CA certificates")),
        "an untouched PEM is saved unchanged: {entries:?}"
    );
    b.screenshot("settings-warnings.png").await;

    // Back to on-premises Exchange with Basic, then test the connection against the simulator.
    b.cmd(json!({"op": "select", "sel": "#f-provider", "value": "exchange"}))
        .await;
    b.cmd(json!({"op": "uncheck", "sel": "#f-grant_modern_auth"}))
        .await;
    b.submit("#save").await;
    b.wait("#saved").await;
    assert_eq!(
        saved_settings(&demo).await["settings"]["provider"],
        "exchange"
    );
    b.fill("#mailbox", &first).await;
    b.submit("#run-test").await;
    b.wait("#test-result.ok").await;
    let state = b.text("#test-state").await;
    assert!(!state.trim().is_empty(), "a sample status is shown");
    let shot = b.screenshot("settings-test-ok.png").await;
    publish(&shot, "screenshot-settings.png");

    // The test uses what the form holds, saved or not: a wrong path on the same server fails,
    // the form keeps what was typed, and nothing is saved.
    let saved_url = saved_settings(&demo).await["settings"]["ews_url"]
        .as_str()
        .expect("ews_url")
        .to_string();
    let wrong = saved_url.replace("/EWS/Exchange.asmx", "/EWS/Nowhere.asmx");
    assert_ne!(wrong, saved_url);
    b.fill("#f-ews_url", &wrong).await;
    b.fill("#mailbox", &first).await;
    b.submit("#run-test").await;
    b.wait("#test-result.fail").await;
    assert!(b.visible("#tested-unsaved").await);
    assert_eq!(
        b.cmd(json!({"op": "attr", "sel": "#f-ews_url", "name": "value"}))
            .await,
        wrong.as_str(),
        "the form keeps what was typed"
    );
    assert_eq!(
        saved_settings(&demo).await["settings"]["ews_url"],
        saved_url.as_str(),
        "a test saves nothing"
    );
    // Without a mailbox, the first watched person this source serves is tested.
    let first_watched = demo
        .gateway
        .app
        .store
        .list_people()
        .await
        .expect("watch list")
        .into_iter()
        .map(|p| p.email)
        .find(|e| demo.gateway.app.source_of(e) == "default")
        .expect("someone on premises");
    b.goto("/portal/settings").await;
    b.fill("#mailbox", "").await;
    b.submit("#run-test").await;
    b.wait("#test-result").await;
    let result = b.text("#test-result").await;
    assert!(result.contains(&first_watched), "{result}");

    // A wrong password: the test shows the auth error with guidance; the source goes auth_failed.
    b.fill("#f-password", "Wrong-Passw0rd").await;
    b.submit("#save").await;
    b.wait("#saved").await;
    b.fill("#mailbox", &first).await;
    b.submit("#run-test").await;
    b.wait("#test-result.fail").await;
    let code = b.text("#test-code").await;
    assert!(
        code.contains("401") || code.contains("AADSTS"),
        "auth code shown: {code}"
    );
    assert!(b.text("#test-result").await.contains("Likely cause"));
    b.goto("/portal/health").await;
    b.click("#retry-now").await;
    assert!(
        reload_until(
            &mut b,
            "/portal/health",
            "#state",
            "auth_failed",
            Duration::from_secs(20)
        )
        .await,
        "the health page reaches auth_failed"
    );
    let guidance = b.text("#auth-guidance").await;
    assert!(
        guidance.contains("changed the service account's password"),
        "{guidance}"
    );
    assert!(guidance.contains("refresh"), "{guidance}");
    let shot = b.screenshot("health-auth-failed.png").await;
    publish(&shot, "screenshot-health-auth-failed.png");

    // Device-code sign-in for Office 365: started from the page, the code and URL shown, approved
    // at the simulated Entra ID, and the page follows to "signed in" without a reload.
    let sim_defaults = calgate_sim::SimConfig::default();
    // The simulator's authority URL names the tenant; the setting is the host alone.
    let authority_host = demo
        .sim
        .urls
        .authority
        .trim_end_matches(&format!("/{}", sim_defaults.tenant_id))
        .to_string();
    let put = admin_client(&demo.admin_token)
        .put(format!("{base}/api/v1/settings/calendar"))
        .json(&json!({
            "provider": "office365",
            "grant_basic_auth": false,
            "grant_modern_auth": true,
            "tenant_id": sim_defaults.tenant_id,
            "client_id": sim_defaults.client_id,
            "authority_host": authority_host,
        }))
        .send()
        .await
        .expect("settings PUT");
    assert!(
        put.status().is_success(),
        "{}",
        put.text().await.unwrap_or_default()
    );
    b.goto("/portal/settings").await;
    assert!(b.visible("#device-code").await);
    b.submit("#device-start").await;
    let device_box = b.text("#device-code").await;
    assert!(device_box.contains("enter the code"), "{device_box}");
    let user_code = b.text("#device-user-code").await;
    assert!(!user_code.trim().is_empty(), "the code is shown");
    assert!(
        !b.text("#device-uri").await.trim().is_empty(),
        "the URL is shown"
    );
    assert_eq!(
        b.cmd(json!({"op": "attr", "sel": "#device-state", "name": "data-state"}))
            .await,
        "pending"
    );
    b.cmd(json!({"op": "focus", "sel": "#device-start"})).await;
    b.screenshot("settings-device-code.png").await;
    let approved = calgate_testkit::sim_http_client(&demo.sim)
        .post(format!(
            "{}/devicecode/{}/approve",
            demo.sim.urls.control_url,
            user_code.trim()
        ))
        .send()
        .await
        .expect("approve");
    assert_eq!(approved.status(), 204);
    b.cmd(json!({"op": "waitAttr", "sel": "#device-state", "name": "data-state", "value": "done", "timeout": 20000}))
        .await;
    assert!(b.text("#device-state").await.contains("Signed in"));

    // Watch list: a pasted import of 200 people with one bad row: preview, refusal, import.
    let mut rows = String::from("email,name,extension\n");
    for i in 0..200 {
        rows.push_str(&format!(
            "import{i:03}@contoso.com,Imported Person {i},{}\n",
            5000 + i
        ));
    }
    rows.push_str("broken-line,Nobody,1\n");
    b.goto("/portal/people").await;
    b.fill("#rows", &rows).await;
    b.submit("#preview").await;
    assert_eq!(
        b.text("#preview-summary").await,
        "200 valid, 1 with errors."
    );
    assert!(
        b.text("#preview-table tr.bad")
            .await
            .contains("not an email address")
    );
    b.submit("#import").await;
    assert!(
        b.text("#people-error")
            .await
            .contains("Nothing was imported")
    );
    let count_before = demo.gateway.app.store.count_people().await.expect("count");
    b.cmd(json!({"op": "check", "sel": "input[name=skip_invalid]"}))
        .await;
    b.submit("#import").await;
    assert!(b.text("#notice").await.contains("Imported 200 people"));
    let count_after = demo.gateway.app.store.count_people().await.expect("count");
    assert_eq!(count_after, count_before + 200);
    b.fill("#q", "import123").await;
    b.submit("form[role=search] button").await;
    assert!(
        b.text("#people-table tbody")
            .await
            .contains("Imported Person 123")
    );
    b.screenshot("people.png").await;

    // What people type is shown as text, never as markup.
    b.fill("#add-email", "eve.markup@contoso.com").await;
    b.fill("#add-name", "<i>Eve</i> & co").await;
    b.submit("#add-form button").await;
    assert!(
        b.text("#notice")
            .await
            .contains("Added eve.markup@contoso.com")
    );
    b.fill("#q", "eve.markup").await;
    b.submit("form[role=search] button").await;
    assert!(
        b.text("#people-table tbody")
            .await
            .contains("<i>Eve</i> & co")
    );
    assert_eq!(
        b.cmd(json!({"op": "count", "sel": "#people-table i"}))
            .await,
        0
    );
    b.submit("button[aria-label='Remove eve.markup@contoso.com']")
        .await;
    assert!(
        b.text("#notice")
            .await
            .contains("Removed eve.markup@contoso.com")
    );
    assert!(
        demo.gateway
            .app
            .store
            .get_person("eve.markup@contoso.com")
            .await
            .expect("store")
            .is_none()
    );

    // API tokens: created with its secret shown once; it works; revoked, it no longer does.
    b.goto("/portal/tokens").await;
    b.fill("#label", "reception desk").await;
    b.submit("#create-token").await;
    let secret = b.text("#token-secret").await;
    assert!(secret.len() > 20, "a token secret is shown");
    let people_url = format!("{base}/api/v1/people?query=");
    let with_token = plain
        .get(&people_url)
        .bearer_auth(&secret)
        .send()
        .await
        .expect("api");
    assert_eq!(with_token.status(), 200);
    // An operator signs in to the pages with it: the console opens, the admin pages do not.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let op_login = no_redirect
        .post(format!("{base}/portal/login"))
        .form(&[("token", secret.as_str())])
        .send()
        .await
        .expect("login");
    assert_eq!(op_login.headers()["location"], "/console");
    let op_cookie = op_login.headers()["set-cookie"]
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    let console_page = no_redirect
        .get(format!("{base}/console"))
        .header("cookie", &op_cookie)
        .send()
        .await
        .expect("console");
    assert_eq!(console_page.status(), 200);
    let admin_page = no_redirect
        .get(format!("{base}/portal/settings"))
        .header("cookie", &op_cookie)
        .send()
        .await
        .expect("settings");
    assert_eq!(
        admin_page.status(),
        403,
        "operators do not reach the admin pages"
    );
    b.goto("/portal/tokens").await;
    b.submit("button[aria-label='Revoke reception desk']").await;
    assert!(b.text("#notice").await.contains("Revoked"));
    assert!(!b.text("#tokens-table").await.contains("reception desk"));
    let revoked = plain
        .get(&people_url)
        .bearer_auth(&secret)
        .send()
        .await
        .expect("api");
    assert_eq!(revoked.status(), 401, "a revoked token is refused");
    b.screenshot("tokens.png").await;

    // Without script the form still works: "Show the fields" re-renders for the chosen provider
    // and saves nothing.
    let csrf = b
        .cmd(json!({"op": "attr", "sel": "input[name=csrf]", "name": "value"}))
        .await
        .as_str()
        .unwrap_or("")
        .to_string();
    let switched = plain
        .post(format!("{base}/portal/settings"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("provider", "microsoft365"),
            ("_action", "switch"),
        ])
        .send()
        .await
        .expect("switch");
    assert_eq!(switched.status(), 200);
    let html = switched.text().await.expect("body");
    assert!(
        html.contains(r#"id="row-client_secret">"#),
        "Graph fields shown"
    );
    assert!(
        html.contains(r#"id="row-ews_url" hidden>"#),
        "EWS fields hidden"
    );
    assert_eq!(
        saved_settings(&demo).await["settings"]["provider"],
        "office365",
        "switching the form saves nothing"
    );

    // The log files' entries, filtered by level, markup shown as text; the recent errors on the
    // health page come from the same files.
    let logs = demo.gateway.app.store.data_dir().join("logs");
    std::fs::create_dir_all(&logs).expect("log dir");
    let line = |level: &str, message: &str| {
        json!({"timestamp": "2026-11-27T10:00:00.000000Z", "level": level,
               "fields": {"message": message, "code": "EWS_HTTP_401"}, "target": "calgate"})
        .to_string()
    };
    std::fs::write(
        logs.join("calgate.2026-11-27.log"),
        [
            line("INFO", "calendar settings saved"),
            line("WARN", "source refused <b>credentials</b>"),
            line("ERROR", "store unavailable"),
        ]
        .join("\n")
            + "\n",
    )
    .expect("log file");
    b.goto("/portal/logs?level=WARN").await;
    let rows = b
        .cmd(json!({"op": "count", "sel": "table.log tbody tr"}))
        .await;
    assert_eq!(rows, 2, "WARN and ERROR only");
    assert!(
        b.text("table.log")
            .await
            .contains("source refused <b>credentials</b>")
    );
    assert_eq!(b.cmd(json!({"op": "count", "sel": "table.log b"})).await, 0);
    b.goto("/portal/health").await;
    assert!(b.text("table.log").await.contains("store unavailable"));

    // Logs page and download answer.
    assert_eq!(b.goto("/portal/logs").await, 200);
    b.screenshot("logs.png").await;
    let download = plain
        .get(format!("{base}/portal/logs/download"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("download");
    assert_eq!(download.status(), 200);
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap_or("")
            .contains("attachment")
    );

    // Signing out ends the session: the old cookie no longer opens a page.
    b.goto("/portal/settings").await;
    b.submit("button:has-text('Sign out')").await;
    assert!(b.url().await.contains("/portal/login"));
    let after_logout = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{base}/portal/settings"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(after_logout.status(), 303, "redirected to sign in");

    // Guessing is rate-limited: after a few failures even the right password waits.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = no_redirect
            .post(format!("{base}/portal/login"))
            .form(&[("username", "admin"), ("password", "guess")])
            .send()
            .await
            .expect("login");
        statuses.push(r.status().as_u16());
    }
    assert!(
        statuses.contains(&401) && statuses.ends_with(&[429]),
        "{statuses:?}"
    );
    let locked = no_redirect
        .post(format!("{base}/portal/login"))
        .form(&[("username", "admin"), ("password", DEMO_ADMIN_PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(locked.status(), 429);
    assert!(
        locked
            .text()
            .await
            .unwrap_or_default()
            .contains("Too many failed sign-ins")
    );

    let errors = b.console_errors().await;
    assert!(
        errors.is_empty(),
        "no script or CSP errors in the pages: {errors:?}"
    );
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_console_in_chromium() {
    let (demo, _dir) = demo(20).await;
    let base = demo.gateway.url();
    let app = demo.gateway.app.clone();

    // A scripted colleague with an empty calendar, and one the server does not know.
    let live_email = "live.test@contoso.com";
    demo.sim.state.tenant_mut().push(
        calgate_sim::Tenant::scripted_person(live_email),
        calgate_sim::tenant::Mailbox::default(),
    );
    app.upsert_people(vec![
        calgate::view::Person {
            email: live_email.into(),
            name: Some("Lena Live".into()),
            extension: Some("7001".into()),
            origin: None,
        },
        calgate::view::Person {
            email: "nobody.here@contoso.com".into(),
            name: Some("Nora Nobody".into()),
            extension: Some("7002".into()),
            origin: None,
        },
    ])
    .await
    .expect("watch list");

    // Calendar edits are seen within the refresh interval: the shortest allowed keeps this quick.
    let put = admin_client(&demo.admin_token)
        .put(format!("{base}/api/v1/settings/calendar"))
        .json(&json!({"refresh_interval_s": 10}))
        .send()
        .await
        .expect("settings PUT");
    assert!(put.status().is_success(), "{}", put.status());

    // A few colleagues in different states right now, so the directory shows each kind.
    let now = Timestamp::now();
    let mut names: Vec<(String, String)> = demo
        .sim
        .state
        .tenant()
        .people
        .iter()
        .filter(|p| !p.is_room)
        .map(|p| (p.name.clone(), p.email.to_ascii_lowercase()))
        .collect();
    names.sort();
    let scripted = [
        (
            0,
            BusyType::Busy,
            Some("Budget review"),
            Some("Room 2"),
            false,
            45,
        ),
        (
            1,
            BusyType::Tentative,
            Some("Supplier call"),
            None,
            false,
            30,
        ),
        (3, BusyType::WorkingElsewhere, None, None, false, 240),
        (4, BusyType::Busy, Some("Dentist"), None, true, 60),
    ];
    for (i, busy, subject, location, private, minutes) in scripted {
        let Some((_, email)) = names.get(i) else {
            continue;
        };
        let mut e = CalendarEvent::new(
            now - SignedDuration::from_mins(5),
            now + SignedDuration::from_mins(minutes),
            busy,
        );
        e.subject = subject.map(Into::into);
        e.location = location.map(Into::into);
        e.is_private = private;
        if let Some(m) = demo.sim.state.tenant_mut().mailbox_mut(email) {
            m.events.retain(|x| x.end <= now || x.start >= e.end);
            m.events.push(e);
            m.events.sort_by_key(|x| x.start);
            m.oof = None;
        }
    }

    let mut b = Browser::launch(&base).await;
    b.sign_in().await;
    b.goto("/console").await;
    b.cmd(json!({"op": "waitText", "sel": "#live", "text": "live"}))
        .await;
    b.wait("#results li").await;

    // Keyboard only: type the extension anywhere, Enter opens the person.
    b.click("#detail .hint").await;
    b.cmd(json!({"op": "type", "text": "7001"})).await;
    b.cmd(json!({"op": "waitCount", "sel": "#results li", "count": 1}))
        .await;
    assert!(b.text("#results li").await.contains("Lena Live"));
    b.cmd(json!({"op": "press", "key": "Enter"})).await;
    b.cmd(json!({"op": "waitText", "sel": "#detail h2", "text": "Lena Live"}))
        .await;
    // Empty calendar: free once the engine has read it.
    b.cmd(json!({"op": "waitAttr", "sel": "#detail-status", "name": "data-state", "value": "free", "timeout": 20000}))
        .await;
    assert!(b.text("#detail-status").await.starts_with("✓Free"));
    // Working hours in the person's zone and in the operator's (the browser runs at UTC+05:30).
    let hours = b.text("#detail-hours").await;
    assert!(
        hours.contains("09:00–17:00") && hours.contains("14:30–22:30 your time"),
        "{hours}"
    );

    // A meeting appears in the simulator starting in a few seconds; the open page turns busy
    // at its start, without a reload.
    let start = Timestamp::now() + SignedDuration::from_secs(12);
    let mut meeting =
        CalendarEvent::new(start, start + SignedDuration::from_mins(30), BusyType::Busy);
    meeting.subject = Some("Quarterly <b>review</b>".into());
    meeting.location = Some("Room 4".into());
    if let Some(m) = demo.sim.state.tenant_mut().mailbox_mut(live_email) {
        m.events.push(meeting);
    }
    let waited = b
        .cmd(json!({"op": "waitAttr", "sel": "#detail-status", "name": "data-state", "value": "busy", "timeout": 30000}))
        .await;
    let seen = Timestamp::now();
    let lag = seen.duration_since(start);
    println!(
        "pages: busy shown {:.2} s after the meeting's start (waited {} ms in the page)",
        lag.as_secs_f64(),
        waited
    );
    let words = b.text("#detail-status").await;
    assert!(words.contains("In a meeting until"), "{words}");
    let detail = b.text("#detail").await;
    assert!(
        detail.contains("Quarterly <b>review</b>"),
        "subject shown as text: {detail}"
    );
    // The day's timeline follows the edit without a reload.
    b.cmd(json!({"op": "waitText", "sel": "#timeline", "text": "Quarterly"}))
        .await;
    let bold = b.cmd(json!({"op": "count", "sel": "#detail b"})).await;
    assert_eq!(bold, 0, "calendar text is never markup");
    assert_eq!(
        b.cmd(json!({"op": "attr", "sel": "#results li", "name": "data-state"}))
            .await,
        "busy",
        "the list row changed colour too"
    );
    b.screenshot("console-busy.png").await;

    // Unknown is never shown like free: its own state, words and colour.
    b.fill("#search", "7002").await;
    b.cmd(json!({"op": "waitText", "sel": "#results", "text": "Nora Nobody"}))
        .await;
    b.cmd(json!({"op": "waitCount", "sel": "#results li", "count": 1}))
        .await;
    assert!(b.text("#results li").await.contains("Nora Nobody"));
    b.cmd(json!({"op": "waitAttr", "sel": "#results li", "name": "data-state", "value": "unknown", "timeout": 20000}))
        .await;
    // The reason in words, not a code.
    let row = b.text("#results li").await;
    assert!(
        row.contains("Unknown: ") && row.contains("does not know this mailbox"),
        "{row}"
    );
    assert_eq!(
        b.cmd(json!({"op": "attr", "sel": "#results li", "name": "class"}))
            .await,
        "st-unknown"
    );
    b.cmd(json!({"op": "press", "key": "Enter"})).await;
    b.cmd(json!({"op": "waitText", "sel": "#detail h2", "text": "Nora Nobody"}))
        .await;
    assert_eq!(
        b.cmd(json!({"op": "attr", "sel": "#detail-status", "name": "data-state"}))
            .await,
        "unknown"
    );

    // The full directory with a demo person opened, for the eye (and the README).
    b.fill("#search", "").await;
    b.cmd(json!({"op": "waitText", "sel": "#results", "text": "Lena Live"}))
        .await;
    // The scripted meeting reached the directory through a regular refresh.
    b.cmd(json!({"op": "waitAttr", "sel": "#results li", "name": "data-state", "value": "busy", "timeout": 20000}))
        .await;
    b.cmd(json!({"op": "press", "key": "Enter"})).await;
    b.cmd(json!({"op": "waitText", "sel": "#detail", "text": "Budget review"}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shot = b.screenshot("console.png").await;
    publish(&shot, "screenshot-console.png");
    // A narrow window still shows the list and the detail.
    b.cmd(json!({"op": "viewport", "width": 420, "height": 800}))
        .await;
    assert!(b.visible("#search").await && b.visible("#detail-status").await);
    b.screenshot("console-narrow.png").await;

    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "no script or CSP errors: {errors:?}");

    // When the sign-in ends, the next search sends the operator to the sign-in page.
    b.cmd(json!({"op": "clearCookies"})).await;
    b.fill("#search", "anna").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !b.url().await.contains("/portal/login?next=%2Fconsole") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not sent to sign in"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    b.quit().await;
}

/// The `value` of a page's first `name="csrf"` input.
fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field in the page")
        .to_string()
}

async fn routing_of(demo: &Demo) -> Value {
    admin_client(&demo.admin_token)
        .get(format!("{}/api/v1/routing", demo.gateway.url()))
        .send()
        .await
        .expect("routing GET")
        .json()
        .await
        .expect("routing JSON")
}

async fn source_ids(demo: &Demo) -> Vec<String> {
    let list: Value = admin_client(&demo.admin_token)
        .get(format!("{}/api/v1/sources", demo.gateway.url()))
        .send()
        .await
        .expect("sources GET")
        .json()
        .await
        .expect("sources JSON");
    list.as_array()
        .expect("a list")
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_and_routing_in_chromium() {
    let (demo, _dir) = demo(6).await;
    let base = demo.gateway.url();
    let first = demo
        .sim
        .state
        .tenant()
        .people
        .iter()
        .find(|p| !p.is_room)
        .map(|p| p.email.to_ascii_lowercase())
        .expect("a person in the tenant");
    let domain = first.rsplit_once('@').expect("an address").1.to_string();
    let (upn, password) = calgate_sim::SimConfig::default()
        .service_account
        .expect("the simulator's service account");
    let ca = std::fs::read_to_string(demo.sim.urls.ca_cert_pem_path.as_ref().expect("TLS"))
        .expect("the simulator's CA");
    let mut b = Browser::launch(&base).await;
    b.sign_in().await;

    // The list starts with `default`, which is reset, never removed.
    b.goto("/portal/sources").await;
    assert!(b.text("#sources-table").await.contains("default"));
    assert_eq!(b.text("button[aria-label='Reset default']").await, "Reset");

    // A malformed id is refused on the page; a good one leads to the new source's form.
    b.fill("#add-id", "Lab Source").await;
    b.submit("#add-source-button").await;
    assert!(b.text("#add-error").await.contains("a-z"), "id refused");
    b.fill("#add-id", "lab").await;
    b.fill("#add-name", "Lab Exchange").await;
    b.submit("#add-source-button").await;
    assert!(b.url().await.contains("/portal/settings?source=lab"));
    assert!(
        b.text("#source-title")
            .await
            .contains("created when you save")
    );
    assert_eq!(
        b.cmd(json!({"op": "attr", "sel": "#f-display_name", "name": "value"}))
            .await,
        "Lab Exchange"
    );
    b.cmd(json!({"op": "check", "sel": "#f-grant_basic_auth"}))
        .await;
    b.fill("#f-username", &upn).await;
    b.fill("#f-password", &password).await;
    b.fill("#f-ews_url", &demo.sim.urls.ews_url).await;
    b.click("details.group summary").await;
    b.fill("#f-extra_ca_pem", &ca).await;
    b.submit("#save").await;
    b.wait("#saved").await;
    assert_eq!(b.text("#state-password .badge").await, "set");
    let html = b.cmd(json!({"op": "content"})).await;
    assert!(
        !html.as_str().unwrap_or("").contains(&password),
        "the page never holds the password"
    );
    assert_eq!(source_ids(&demo).await, ["default", "lab", "online"]);
    b.screenshot("settings-source.png").await;
    // Test connection on this form uses this source's settings.
    b.fill("#mailbox", &first).await;
    b.submit("#run-test").await;
    b.wait("#test-result.ok").await;

    // Listed with its name, provider and state; a domain routed to it.
    b.goto("/portal/sources").await;
    let row = b.text("tr[data-source=lab]").await;
    assert!(
        row.contains("Lab Exchange") && row.contains("Exchange"),
        "{row}"
    );
    assert!(!b.text("tr[data-source=lab] .state").await.is_empty());
    b.fill("#routing-domains", &format!("{domain} = lab")).await;
    b.submit("#save-routing").await;
    assert!(b.text("#notice").await.contains("Routing saved"));
    let routed = routing_of(&demo).await;
    assert_eq!(routed["domains"], json!({ domain.as_str(): "lab" }));
    assert!(
        reload_until(
            &mut b,
            "/portal/sources",
            "tr[data-source=lab] .state",
            "ok",
            Duration::from_secs(20)
        )
        .await,
        "the routed source reads calendars"
    );
    assert!(b.text("tr[data-source=lab]").await.contains("1 domain"));
    b.screenshot("sources.png").await;

    // A route to a source that does not exist: its message, what was typed kept, nothing saved.
    b.fill(
        "#routing-domains",
        &format!("{domain} = lab\nfabrikam.com = ghost"),
    )
    .await;
    b.submit("#save-routing").await;
    assert!(
        b.text("#routing-errors li[data-field='domains.fabrikam.com']")
            .await
            .contains("no source has the id \"ghost\"")
    );
    assert!(
        b.text("#routing-domains")
            .await
            .contains("fabrikam.com = ghost")
    );
    assert_eq!(routing_of(&demo).await, routed, "nothing saved");
    // The same from a crafted post: an unknown default and a malformed domain.
    let cookie = b.session_cookie().await;
    let csrf = b
        .cmd(json!({"op": "attr", "sel": "#routing-form input[name=csrf]", "name": "value"}))
        .await
        .as_str()
        .unwrap_or("")
        .to_string();
    let crafted = reqwest::Client::new()
        .post(format!("{base}/portal/routing"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("default", "nowhere"),
            ("domains", "not_a_domain = lab"),
            ("mailboxes", ""),
        ])
        .send()
        .await
        .expect("routing POST");
    assert_eq!(crafted.status(), 422);
    let html = crafted.text().await.expect("body");
    assert!(
        html.contains(r#"data-field="default""#) && html.contains("no source has the id"),
        "{html}"
    );
    assert!(html.contains(r#"data-field="domains.not_a_domain""#));
    assert_eq!(routing_of(&demo).await, routed, "nothing saved");

    // Health lists every source (the demo's two and the new one).
    b.goto("/portal/health").await;
    assert!(!b.text("#state").await.is_empty());
    assert!(
        b.text("#sources-health-table tr[data-source=lab]")
            .await
            .contains("Lab Exchange")
    );
    assert_eq!(
        b.cmd(json!({"op": "count", "sel": "#sources-health-table tbody tr"}))
            .await,
        3
    );
    b.screenshot("health-sources.png").await;

    // Removing the routed source asks first, then is refused; nothing removed.
    b.goto("/portal/sources").await;
    b.submit("button[aria-label='Remove lab']").await;
    assert!(
        b.text("#confirm-remove")
            .await
            .contains("routing still names it")
    );
    b.submit("#confirm-remove-yes").await;
    assert!(b.text("#sources-error").await.contains("was not removed"));
    assert_eq!(source_ids(&demo).await, ["default", "lab", "online"]);

    // Routed back to default, it goes.
    b.fill("#routing-domains", "").await;
    b.submit("#save-routing").await;
    assert!(b.text("#notice").await.contains("Routing saved"));
    assert_eq!(routing_of(&demo).await["domains"], json!({}));
    b.submit("button[aria-label='Remove lab']").await;
    b.submit("#confirm-remove-yes").await;
    assert!(b.text("#notice").await.contains("Removed the source lab"));
    assert_eq!(
        b.cmd(json!({"op": "count", "sel": "tr[data-source=lab]"}))
            .await,
        0
    );
    assert_eq!(source_ids(&demo).await, ["default", "online"]);

    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "no script or CSP errors: {errors:?}");
    b.quit().await;
}

/// Without a browser: a malformed source id is a clear 400 (never a 500), a new id a blank
/// form, and the sources forms refuse posts without a session or without the form token.
#[tokio::test]
async fn sources_pages_refuse_bad_ids_and_sessionless_posts() {
    let gw = calgate_testkit::gateway::spawn_gateway_from_settings().await;
    let base = gw.url();
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = plain
        .post(format!("{base}/portal/login"))
        .form(&[("token", gw.admin_token.as_str())])
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 303);
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    let get = |path: &str| {
        plain
            .get(format!("{base}{path}"))
            .header("cookie", &cookie)
            .send()
    };

    let bad = get("/portal/settings?source=BAD%20ID").await.expect("GET");
    assert_eq!(bad.status(), 400);
    let html = bad.text().await.expect("body");
    assert!(
        html.contains("No such source") && html.contains("a-z"),
        "{html}"
    );
    let new = get("/portal/settings?source=lab").await.expect("GET");
    assert_eq!(new.status(), 200);
    let html = new.text().await.expect("body");
    assert!(html.contains("created when you save"), "{html}");
    let csrf = csrf_of(&html);
    let post = |path: &str, form: Vec<(&str, &str)>, with_session: bool| {
        let mut req = plain.post(format!("{base}{path}")).form(&form);
        if with_session {
            req = req.header("cookie", &cookie);
        }
        req.send()
    };

    // Without a session, or without the form token, nothing is removed.
    let no_session = post(
        "/portal/sources/remove",
        vec![("csrf", &csrf), ("id", "default"), ("confirmed", "yes")],
        false,
    )
    .await
    .expect("POST");
    assert_eq!(no_session.status(), 403);
    let no_token = post(
        "/portal/sources/remove",
        vec![("id", "default"), ("confirmed", "yes")],
        true,
    )
    .await
    .expect("POST");
    assert_eq!(no_token.status(), 403);
    let no_session = post(
        "/portal/routing",
        vec![("csrf", &csrf), ("default", "default")],
        false,
    )
    .await
    .expect("POST");
    assert_eq!(no_session.status(), 403);

    // With both: a malformed or unknown id is named, never a server error; nothing created.
    for (path, form, status) in [
        (
            "/portal/settings",
            vec![
                ("csrf", csrf.as_str()),
                ("source", "../x"),
                ("provider", "exchange"),
            ],
            400,
        ),
        (
            "/portal/settings/test",
            vec![
                ("csrf", csrf.as_str()),
                ("source", "lab"),
                ("mailbox", "a@b.com"),
            ],
            409,
        ),
        (
            "/portal/sources/remove",
            vec![
                ("csrf", csrf.as_str()),
                ("id", "nope"),
                ("confirmed", "yes"),
            ],
            404,
        ),
        (
            "/portal/sources/retry",
            vec![("csrf", csrf.as_str()), ("id", "BAD ID")],
            400,
        ),
        (
            "/portal/sources/retry",
            vec![("csrf", csrf.as_str()), ("id", "default")],
            303,
        ),
        // The routing's default names `default`: resetting it is refused.
        (
            "/portal/sources/remove",
            vec![
                ("csrf", csrf.as_str()),
                ("id", "default"),
                ("confirmed", "yes"),
            ],
            409,
        ),
        (
            "/portal/sources/add",
            vec![
                ("csrf", csrf.as_str()),
                ("id", "default"),
                ("display_name", "x"),
            ],
            422,
        ),
    ] {
        let resp = post(path, form, true).await.expect("POST");
        assert_eq!(resp.status(), status, "{path}");
    }
    let sources = gw.get_json("/api/v1/sources").await;
    assert_eq!(sources.as_array().map(Vec::len), Some(1), "{sources}");
}
