//! `calgate demo` as a user meets it: the simulated tenant, the gateway configured through the
//! settings path, the connection check succeeding, and no secret in the database or the logs.

use jiff::Timestamp;
use serde_json::Value;

use calgate::config::BootConfig;
use calgate::demo::start_demo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_people_and_the_check_succeeds_without_leaking_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The only test that installs the process-wide log subscriber: the JSON log files are real.
    let _guard = calgate::logging::init(dir.path()).expect("logging");
    let boot = BootConfig::load(None, Some("127.0.0.1:0"), Some(dir.path())).expect("boot config");
    let demo = start_demo(&boot, 60).await.expect("demo starts");
    let base = demo.gateway.url();
    let http = reqwest::Client::new();
    let person = |email: &str| {
        let request = http
            .get(format!("{base}/api/v1/people/{email}"))
            .bearer_auth(&demo.console_token);
        async move {
            request
                .send()
                .await
                .expect("person")
                .json::<Value>()
                .await
                .expect("json")
        }
    };

    // The connection test, exactly as `calgate check` runs it, against the saved settings.
    let app = &demo.gateway.app;
    let mailbox = demo
        .sim
        .state
        .tenant()
        .people
        .iter()
        .find(|p| !p.is_room)
        .map(|p| p.email.to_ascii_lowercase())
        .expect("a person");
    let answer = calgate::check::run(&app.settings(), &app.sign_in, &app.options(), &mailbox).await;
    assert!(answer.ok, "check failed: {answer:?}");
    let check_json = serde_json::to_value(&answer).expect("json");
    assert_eq!(check_json["ok"], true);

    // Everyone becomes fresh through the real EWS path.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let health: Value = http
            .get(format!("{base}/api/v1/health"))
            .bearer_auth(&demo.console_token)
            .send()
            .await
            .expect("health")
            .json()
            .await
            .expect("json");
        let fetched = health["mailboxes"]["fresh"].as_u64().unwrap_or(0)
            + health["mailboxes"]["error"].as_u64().unwrap_or(0);
        if fetched >= demo.people as u64 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{health}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let record = person(&mailbox).await;
    assert_eq!(record["freshness"], "fresh", "{record}");
    assert_eq!(record["source"], "default", "on premises: {record}");
    assert_ne!(record["status"]["state"], "unknown", "{record}");
    let as_of: Timestamp = record["as_of"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("as_of");
    assert!(as_of <= Timestamp::now());

    // The Microsoft 365 half is served by its own source, over Graph.
    let online_email = demo
        .online_sim
        .state
        .tenant()
        .people
        .iter()
        .find(|p| !p.is_room && p.free_busy_access != calgate_sim::tenant::FreeBusyAccess::None)
        .map(|p| p.email.to_ascii_lowercase())
        .expect("a person online");
    assert!(online_email.ends_with(calgate::demo::ONLINE_DOMAIN));
    let record = person(&online_email).await;
    assert_eq!(record["source"], "online", "{record}");
    assert_eq!(record["freshness"], "fresh", "{record}");

    // No plaintext secret anywhere on disk: the service password, the API tokens, the admin
    // password.
    let (_, service_password) = calgate_sim::SimConfig::default()
        .service_account
        .expect("service account");
    let secrets = [
        service_password.as_str(),
        calgate::demo::DEMO_APP_SECRET,
        demo.console_token.as_str(),
        demo.admin_token.as_str(),
        calgate::demo::DEMO_ADMIN_PASSWORD,
    ];
    // Give the non-blocking log writer a moment.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut files = 0;
    for entry in walk(dir.path()) {
        if entry.starts_with(dir.path().join("sim")) {
            continue; // The simulator's own CA material, not the gateway's.
        }
        let bytes = std::fs::read(&entry).expect("read");
        files += 1;
        for secret in secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a secret in clear",
                entry.display()
            );
        }
    }
    let logs = calgate::logging::recent(dir.path(), 1000);
    assert!(!logs.is_empty(), "the JSON log file has entries");
    assert!(
        files >= 3,
        "database, key file and logs were searched ({files} files)"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
