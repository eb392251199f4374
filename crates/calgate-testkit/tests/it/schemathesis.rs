//! schemathesis (the property-based API tester, pinned in `xtask/python/requirements-test.txt`)
//! against a real gateway: it reads the gateway's own `/api/v1/openapi.json`, generates requests
//! for every operation (valid and invalid bodies, queries and paths, in sequences that follow the
//! API's links) with an admin token, and checks that no answer is a server error and that every
//! answer has a documented status, content type and shape.
//!
//! The gateway is configured against a simulator on loopback (Entra ID password grant, EWS), so
//! the settings test, "Retry now" and the device-code sign-in do real work. The tool may `PUT`
//! settings; the document only lets it send an empty or refused object, and the test checks
//! afterwards that every address in the settings is still the simulator's, so a richer document
//! can never let the run point the gateway at hosts outside the machine.
//!
//! The event stream gets a run of its own: the tool checks every event it reads against the
//! document (the `data` of each event is JSON with its own schema), but an accepted request holds
//! the connection open until the tool's read timeout, so that run is short, with a short timeout.
//!
//! Also here: the regression tests for the server errors the tool found.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use calgate_sim::SimConfig;
use calgate_testkit::gateway::{TestGateway, spawn_gateway_from_settings};
use calgate_testkit::{python, sim_http_client, spawn_sim};

const SERVICE: &str = "attendant@contoso.com";
const SERVICE_PASSWORD: &str = "Attendant-Passw0rd";
/// Cases per operation and phase: the whole run stays well under a minute on two cores.
const MAX_EXAMPLES: u32 = 40;
/// Cases for the event stream, each held open for [`STREAM_READ_S`].
const STREAM_EXAMPLES: u32 = 5;
/// How long the tool reads one event stream before it judges the events it got.
const STREAM_READ_S: &str = "2";
/// A run is killed after this long (the two normally take 10 to 25 s together).
const RUN_LIMIT: Duration = Duration::from_secs(150);

/// The checks run on every answer. `negative_data_rejection` and `positive_data_acceptance` are
/// left out on purpose: the settings object is described loosely (SPEC §5.1 governs it, and a
/// precise schema would let the tool save arbitrary addresses).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance";

/// Settings for the simulator: Entra ID password grant and EWS, every address on loopback.
fn sim_settings(sim: &calgate_sim::Running) -> Value {
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS"))
        .expect("simulator CA");
    let host = sim
        .urls
        .authority
        .trim_end_matches('/')
        .trim_end_matches(sim.state.tenant_id.as_str())
        .trim_end_matches('/')
        .to_string();
    json!({
        "provider": "office365", "grant_basic_auth": false, "grant_modern_auth": true,
        "tenant_id": sim.state.tenant_id, "client_id": sim.state.client_id,
        "authority_host": host, "ews_url": sim.urls.ews_url, "graph_endpoint": sim.urls.graph_url,
        "username": SERVICE, "password": SERVICE_PASSWORD,
        "refresh_interval_s": 60, "extra_ca_pem": ca,
    })
}

async fn put_json(gw: &TestGateway, path: &str, body: &Value) -> (u16, Value) {
    let resp = gw
        .admin
        .put(format!("{}{path}", gw.url()))
        .json(body)
        .send()
        .await
        .expect("gateway answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client
        .get(url)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON")
}

/// The first number before `what` on the line after `Test cases:` in the tool's summary.
fn summary_count(output: &str, what: &str) -> Option<u64> {
    let mut lines = output.lines();
    lines.find(|l| l.trim() == "Test cases:")?;
    let line = lines.next()?;
    line.split(',').find_map(|part| {
        let mut words = part.split_whitespace();
        let n = words.next()?.parse().ok()?;
        (words.next() == Some(what)).then_some(n)
    })
}

/// Fails (never skips) when schemathesis is not installed in the test venv.
fn require_schemathesis(python: &std::path::Path) -> String {
    let out = std::process::Command::new(python)
        .args(["-c", "import schemathesis; print(schemathesis.__version__)"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "schemathesis is not installed in the test venv ({}); run `cargo xtask setup`: {}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// What one schemathesis run did.
struct Run {
    generated: u64,
    passed: u64,
    stdout: String,
}

/// Runs schemathesis from the test venv against `gw`'s own document with the admin token;
/// fails the test when the tool reports anything or exits otherwise than with 0.
async fn run_schemathesis(python: &std::path::Path, gw: &TestGateway, args: &[&str]) -> Run {
    let work_dir = tempfile::tempdir().expect("temp dir");
    let child = tokio::process::Command::new(python)
        // The console script's own two lines, so the venv's python is the one that runs.
        .args([
            "-c",
            "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
        ])
        .arg("run")
        .arg(format!("{}/api/v1/openapi.json", gw.url()))
        .args([
            "--header",
            &format!("Authorization: Bearer {}", gw.admin_token),
        ])
        .args(["--checks", CHECKS, "--workers", "1"])
        .args(["--generation-database", "none", "--no-color"])
        .arg("--continue-on-failure")
        .args(args)
        // No configuration file or example database from elsewhere is picked up.
        .current_dir(work_dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("schemathesis starts");
    let out = tokio::time::timeout(RUN_LIMIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ran longer than {RUN_LIMIT:?}"))
        .expect("schemathesis output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis {args:?} found problems (exit {:?}):\n{stdout}\n{stderr}",
        out.status.code()
    );
    Run {
        generated: summary_count(&stdout, "generated")
            .unwrap_or_else(|| panic!("no case count in:\n{stdout}")),
        passed: summary_count(&stdout, "passed")
            .unwrap_or_else(|| panic!("no count of passed cases in:\n{stdout}")),
        stdout,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_undocumented_answer() {
    let python = python();
    let version = require_schemathesis(&python);

    let sim = spawn_sim(SimConfig {
        people: 20,
        ..SimConfig::default()
    })
    .await;
    let sim_http = sim_http_client(&sim);
    let control = sim.urls.control_url.trim_end_matches('/').to_string();
    let gw = spawn_gateway_from_settings().await;
    let (status, answer) = put_json(&gw, "/api/v1/settings/calendar", &sim_settings(&sim)).await;
    assert_eq!(status, 200, "settings refused: {answer}");
    let people: Vec<Value> = get_json(&sim_http, &format!("{control}/people"))
        .await
        .as_array()
        .expect("people")
        .iter()
        .filter(|p| p["is_room"] == false && p["email"] != SERVICE)
        .take(3)
        .map(|p| json!({"email": p["email"], "name": p["name"]}))
        .collect();
    let (status, answer) = put_json(&gw, "/api/v1/people", &Value::Array(people)).await;
    assert_eq!(status, 200, "watch list refused: {answer}");

    let started = Instant::now();
    let main = run_schemathesis(
        &python,
        &gw,
        &[
            "--max-examples",
            &MAX_EXAMPLES.to_string(),
            "--exclude-path",
            "/api/v1/stream",
            // A directory the tool could save would be synced against whatever server it
            // names, and a CSV body is not something it can write: both have tests of their own
            // (directory_sync).
            "--exclude-operation-id",
            "putDirectory",
            "--exclude-operation-id",
            "importPeople",
            "--request-timeout",
            "20",
        ],
    )
    .await;
    let stream = run_schemathesis(
        &python,
        &gw,
        &[
            "--max-examples",
            &STREAM_EXAMPLES.to_string(),
            "--include-path",
            "/api/v1/stream",
            "--phases",
            "fuzzing",
            "--request-timeout",
            STREAM_READ_S,
        ],
    )
    .await;
    let elapsed = started.elapsed();
    println!(
        "schemathesis {version}: {} cases generated, {} passed ({} and {} on the event stream), \
         in {:.1} s",
        main.generated + stream.generated,
        main.passed + stream.passed,
        stream.generated,
        stream.passed,
        elapsed.as_secs_f64()
    );
    assert!(
        main.generated >= 100,
        "too few cases ran: {}\n{}",
        main.generated,
        main.stdout
    );
    assert!(
        stream.generated >= 1,
        "no event-stream case ran\n{}",
        stream.stdout
    );

    // The run could not point the gateway anywhere but the simulator.
    let saved = get_json(&gw.admin, &format!("{}/api/v1/settings/calendar", gw.url())).await;
    let base = sim
        .urls
        .control_url
        .trim_end_matches('/')
        .trim_end_matches("/_sim")
        .to_string();
    for field in ["authority_host", "ews_url", "graph_endpoint"] {
        let value = saved["settings"][field].as_str().unwrap_or("");
        assert!(
            value.starts_with(&base),
            "{field} moved off the simulator: {value}"
        );
    }
    // Nor could it add a directory (a sync would reach the server it names).
    let directories = get_json(&gw.admin, &format!("{}/api/v1/directories", gw.url())).await;
    assert_eq!(directories, json!([]), "no directory was saved");
    // Nor could it add a source that reads from anywhere else.
    let sources = get_json(&gw.admin, &format!("{}/api/v1/sources", gw.url())).await;
    for source in sources.as_array().expect("sources") {
        if let Some(url) = source["settings"]["ews_url"].as_str() {
            assert!(
                url.starts_with(&base),
                "a source reads from {url}: {source}"
            );
        }
    }
    // The gateway did real work against the simulator meanwhile, and never harmed the account.
    let stats = get_json(&sim_http, &format!("{control}/stats")).await;
    println!(
        "simulator during the run: {} EWS availability requests, {} token requests, lockouts {}, \
         back-off violations {}",
        stats["requests"]["GetUserAvailability"],
        ["entra.token.password", "entra.token.refresh_token"]
            .iter()
            .filter_map(|k| stats["requests"][k].as_u64())
            .sum::<u64>(),
        stats["lockouts"],
        stats["backoff_violations"]
    );
    assert!(
        stats["requests"]["GetUserAvailability"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "the gateway never read a calendar: {stats}"
    );
    assert_eq!(stats["lockouts"], 0, "{stats}");
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert_eq!(stats["backoff_violations"], 0, "{stats}");
}

/// Found by schemathesis: a name over 256 characters (or an extension over 32, or either with a
/// control character) passed the API's checks, the store refused it, and the refusal was answered
/// `503 store_unavailable`, which invites a client to retry the same request for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlong_or_unprintable_names_are_refused_per_field_not_as_a_server_error() {
    let gw = spawn_gateway_from_settings().await;
    let long_local = "a".repeat(260);
    let body = json!([
        {"email": "ok@contoso.com", "name": "Fine"},
        {"email": "anna@contoso.com", "name": "N".repeat(257)},
        {"email": "bruno@contoso.com", "extension": "1".repeat(33)},
        {"email": "carla@contoso.com", "name": "Carla\u{1b}[31m", "extension": "12\u{7}"},
        {"email": format!("{long_local}@contoso.com")},
    ]);
    let (status, answer) = put_json(&gw, "/api/v1/people", &body).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["code"], "invalid_people", "{answer}");
    let fields = answer["fields"].as_object().expect("fields");
    let mut named: Vec<&str> = fields.keys().map(String::as_str).collect();
    named.sort_unstable();
    assert_eq!(
        named,
        [
            "[1].name",
            "[2].extension",
            "[3].extension",
            "[3].name",
            "[4].email"
        ],
        "{answer}"
    );
    // Nothing was saved, not even the valid entry.
    let list = get_json(&gw.admin, &format!("{}/api/v1/people", gw.url())).await;
    assert_eq!(list, json!([]), "{list}");

    // The limits themselves are accepted.
    let body = json!([{"email": "dora@contoso.com", "name": "N".repeat(256), "extension": "1".repeat(32)}]);
    let (status, answer) = put_json(&gw, "/api/v1/people", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["watched"], 1, "{answer}");
}

/// An address that grows beyond 320 bytes when lower-cased in full Unicode ('İ' becomes 'i' and a
/// combining dot) is answered 422 for that field, never 503: the API lower-cases exactly as the
/// store does, so it refuses the entry itself before the store sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlong_unicode_address_is_a_client_error() {
    let gw = spawn_gateway_from_settings().await;
    let email = format!("{}@contoso.com", "İ".repeat(150));
    assert!(email.len() <= 320, "the API's own check lets it through");
    let (status, answer) = put_json(
        &gw,
        "/api/v1/people",
        &json!([{"email": email, "name": "Dotted"}]),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["code"], "invalid_people", "{answer}");
    assert!(answer["fields"]["[0].email"].is_string(), "{answer}");
    let health = gw.health().await;
    assert_eq!(health["store"]["state"], "ok", "{health}");
}

#[test]
fn the_case_count_is_read_from_the_summary() {
    let text = "Test cases:\n  1742 generated, 1740 passed, 2 skipped\n\nSeed: 1\n";
    assert_eq!(summary_count(text, "generated"), Some(1742));
    assert_eq!(summary_count(text, "passed"), Some(1740));
    assert_eq!(summary_count("no summary", "generated"), None);
}
