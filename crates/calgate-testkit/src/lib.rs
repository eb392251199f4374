//! Test kit: where the shared material lives, the pinned third-party clients, the EWS schema
//! validator, and (as they land) `spawn_sim()` / `spawn_gateway()` on port 0 with a temp data dir.
//!
//! Prerequisites that are missing make a test fail with a message naming `cargo xtask test`;
//! they never make it pass silently.

pub mod gateway;
pub mod slapd;
pub mod sources;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The read-only shared material beside the project (`../shared`), or `CALGATE_SHARED_DIR`.
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CALGATE_SHARED_DIR") {
        return PathBuf::from(dir);
    }
    workspace_root().join("..").join("shared")
}

/// The Python of the test venv holding exchangelib, msal and O365 (made by `cargo xtask test`).
///
/// # Panics
/// When the venv is missing: the conformance checks must not pass without running.
pub fn python() -> PathBuf {
    let path = std::env::var_os("CALGATE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/test-venv/bin/python"));
    assert!(
        path.exists(),
        "test venv python not found at {}; run `cargo xtask setup` (or `cargo xtask test`)",
        path.display()
    );
    path
}

/// Which root element the EWS validator expects.
#[derive(Debug, Clone, Copy)]
pub enum EwsDocument {
    /// A full SOAP 1.1 envelope, Header and Body children checked strictly.
    Envelope,
    /// A bare operation element such as `m:GetUserAvailabilityRequest`.
    Body,
}

/// Validates XML against Microsoft's EWS schema with `shared/ews-validate/validate.sh`.
/// Returns xmllint's complaint on failure.
///
/// # Panics
/// When xmllint is not installed (`cargo xtask setup` installs it).
pub fn validate_ews(kind: EwsDocument, xml: &str) -> Result<(), String> {
    let script = shared_dir().join("ews-validate/validate.sh");
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, xml).map_err(|e| e.to_string())?;
    let mode = match kind {
        EwsDocument::Envelope => "env",
        EwsDocument::Body => "body",
    };
    let out = Command::new("sh")
        .arg(&script)
        .arg(mode)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("xmllint: not found") && !stderr.contains("xmllint: command not found"),
        "xmllint is missing; run `cargo xtask setup`"
    );
    if out.status.success() {
        Ok(())
    } else {
        Err(stderr)
    }
}

/// A simulator on `127.0.0.1`, port 0, HTTPS with its generated CA (the config's `listen` and
/// `tls` are kept as given; everything else too).
///
/// # Panics
/// When the simulator cannot start: every test that needs one must fail loudly.
pub async fn spawn_sim(config: calgate_sim::SimConfig) -> calgate_sim::Running {
    calgate_sim::spawn(config)
        .await
        .unwrap_or_else(|e| panic!("calgate-sim did not start: {e:#}"))
}

/// Every address in the simulated tenant's directory, in directory order.
pub fn sim_people(sim: &calgate_sim::Running) -> Vec<String> {
    sim.state
        .tenant()
        .people
        .iter()
        .map(|p| p.email.clone())
        .collect()
}

/// An HTTP client that trusts the simulator's CA (plain HTTP works too).
///
/// # Panics
/// When the CA file cannot be read.
pub fn sim_http_client(sim: &calgate_sim::Running) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60));
    if let Some(path) = &sim.urls.ca_cert_pem_path {
        let pem = std::fs::read(path)
            .unwrap_or_else(|e| panic!("cannot read the simulator CA {}: {e}", path.display()));
        let cert = reqwest::Certificate::from_pem(&pem)
            .unwrap_or_else(|e| panic!("the simulator CA is not PEM: {e}"));
        builder = builder.tls_certs_merge([cert]);
    }
    builder
        .build()
        .unwrap_or_else(|e| panic!("cannot build an HTTP client: {e}"))
}

/// `PUT` of `body` to the simulator's control API at `path` (such as `policy` or
/// `mailboxes/{email}/events`).
///
/// # Panics
/// When the simulator refuses it.
pub async fn sim_control_put(
    http: &reqwest::Client,
    sim: &calgate_sim::Running,
    path: &str,
    body: &serde_json::Value,
) {
    let resp = http
        .put(format!(
            "{}/{path}",
            sim.urls.control_url.trim_end_matches('/')
        ))
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("control API {path}: {e}"));
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
}

/// `GET /_sim/stats` of a running simulator.
///
/// # Panics
/// When the simulator does not answer with JSON.
pub async fn sim_stats(http: &reqwest::Client, sim: &calgate_sim::Running) -> serde_json::Value {
    http.get(format!(
        "{}/stats",
        sim.urls.control_url.trim_end_matches('/')
    ))
    .send()
    .await
    .expect("simulator stats")
    .json()
    .await
    .expect("simulator stats as JSON")
}

/// The status the simulator's own events for `email` give at `at` over `window`, through
/// calgate-core's rules: the ground truth a gateway's answer is compared with. `None` when the
/// simulator grants no free/busy access to that calendar (the gateway must say unknown).
pub fn ground_truth_status(
    sim: &calgate_sim::Running,
    email: &str,
    window: (jiff::Timestamp, jiff::Timestamp),
    at: jiff::Timestamp,
) -> Option<calgate_core::OperatorStatus> {
    let tenant = sim.state.tenant();
    let person = tenant.person(email)?;
    if matches!(
        person.free_busy_access,
        calgate_sim::tenant::FreeBusyAccess::None
    ) {
        return None;
    }
    let events: Vec<calgate_core::CalendarEvent> = tenant
        .mailbox(email)?
        .events
        .iter()
        .filter(|e| e.start < window.1 && e.end > window.0)
        .cloned()
        .collect();
    let availability = calgate_core::Availability {
        mailbox: email.to_string(),
        window_start: window.0,
        window_end: window.1,
        events,
        working_hours: None,
        out_of_office: None,
        fetched_at: at,
        error: None,
    };
    Some(calgate_core::compute_status(
        Some(&availability),
        at,
        &calgate_core::StatusOptions::default(),
    ))
}
