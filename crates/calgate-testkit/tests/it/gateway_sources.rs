//! Several sources through the gateway's API, end to end: a hybrid organisation with one
//! simulator as on-premises Exchange offering only Windows authentication (NTLM/Negotiate) and
//! a second as Microsoft 365 over Graph in another domain, configured as two sources and routed
//! by domain; every watched person shows what its own simulator holds, with `source` naming the
//! right one; a wrong Windows password costs exactly one failed sign-in on premises while the
//! Graph half stays fresh. Also: bad input to sources and routing is refused with nothing saved
//! half, and a data directory written by release 0.1.0 opens with its settings as the source
//! `default`, its sealed password usable.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};

use calgate_sim::tenant::FreeBusyAccess;
use calgate_sim::{EwsAuth, SimConfig};
use calgate_testkit::gateway::{TestGateway, spawn_gateway_from_settings, spawn_gateway_on};
use calgate_testkit::{sim_http_client, sim_stats, spawn_sim};

use crate::engine_hybrid::script_all;

const SERVICE_UPN: &str = "attendant@contoso.com";
const SERVICE_PASSWORD: &str = "Attendant-Passw0rd";
const CLIENT_SECRET: &str = "hybrid-gateway-app-secret";
const ONLINE_DOMAIN: &str = "fabrikam.com";

fn ca_of(sim: &calgate_sim::Running) -> String {
    std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA")
}

/// The settings of the on-premises source: EWS with Windows authentication only.
fn onprem_settings(sim: &calgate_sim::Running, password: &str) -> Value {
    json!({
        "display_name": "Exchange on premises",
        "provider": "exchange", "grant_windows_auth": true, "ews_url": sim.urls.ews_url,
        "username": "CONTOSO\\attendant", "password": password,
        "refresh_interval_s": 10, "extra_ca_pem": ca_of(sim),
    })
}

/// The settings of the online source: app-only Graph.
fn online_settings(sim: &calgate_sim::Running) -> Value {
    let base = sim
        .urls
        .graph_url
        .trim_end_matches('/')
        .trim_end_matches("/v1.0")
        .to_string();
    json!({
        "display_name": "Microsoft 365",
        "provider": "microsoft365", "tenant_id": sim.state.tenant_id,
        "client_id": sim.state.client_id, "client_secret": CLIENT_SECRET,
        "authority_host": base, "graph_endpoint": base,
        "refresh_interval_s": 10, "extra_ca_pem": ca_of(sim),
    })
}

/// Everyone of `sim` but rooms and the service account.
fn people_of(sim: &calgate_sim::Running) -> Vec<String> {
    sim.state
        .tenant()
        .people
        .iter()
        .filter(|p| !p.is_room && p.email != SERVICE_UPN)
        .map(|p| p.email.clone())
        .collect()
}

/// `method` of `path` as the admin: the JSON answer, after checking its status is `want`.
async fn expect_status(
    gw: &TestGateway,
    method: Method,
    path: &str,
    body: Option<&Value>,
    want: u16,
) -> Value {
    let (status, answer) = gw.call(method.clone(), path, body).await;
    assert_eq!(status, want, "{method} {path}: {answer}");
    answer
}

/// A source's health state as `GET /api/v1/sources` lists it.
async fn source_state(gw: &TestGateway, id: &str) -> String {
    let sources = expect_status(gw, Method::GET, "/api/v1/sources", None, 200).await;
    sources
        .as_array()
        .expect("a list")
        .iter()
        .find(|s| s["id"] == id)
        .and_then(|s| s["health"]["state"].as_str())
        .unwrap_or("")
        .to_string()
}

async fn wait_source_state(gw: &TestGateway, id: &str, want: &str, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let state = source_state(gw, id).await;
        if state == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "source {id} is {state:?}, not {want}: {}",
            gw.call(Method::GET, "/api/v1/sources", None).await.1
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Checks a person's record against the plan scripted on its simulator.
fn check_person(
    record: &Value,
    sim: &calgate_sim::Running,
    source: &str,
    subject: Option<&String>,
) {
    let email = record["email"].as_str().expect("email");
    assert_eq!(record["source"], source, "{record}");
    let access = sim.state.tenant().person(email).map(|p| p.free_busy_access);
    let state = &record["status"]["state"];
    match (access, subject) {
        (None | Some(FreeBusyAccess::None), _) => assert_eq!(state, "unknown", "{record}"),
        (Some(access), Some(subject)) => {
            assert_eq!(state, "busy", "{record}");
            if access == FreeBusyAccess::Detailed {
                assert_eq!(
                    record["status"]["event"]["subject"],
                    subject.as_str(),
                    "{record}"
                );
            }
        }
        (Some(_), None) => assert_eq!(state, "free", "{record}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hybrid_gateway_serves_each_half_from_its_own_source() {
    let onprem = spawn_sim(SimConfig {
        people: 24,
        seed: 31,
        ews_auth: "ntlm,negotiate".parse::<EwsAuth>().expect("scheme list"),
        ..SimConfig::default()
    })
    .await;
    let online = spawn_sim(SimConfig {
        people: 24,
        seed: 32,
        domain: ONLINE_DOMAIN.to_owned(),
        client_secret: Some(CLIENT_SECRET.to_owned()),
        ..SimConfig::default()
    })
    .await;
    let onprem_people = people_of(&onprem);
    let online_people = people_of(&online);
    let onprem_plan = script_all(
        &sim_http_client(&onprem),
        &onprem,
        &onprem_people,
        1,
        "On-premises",
    )
    .await;
    let online_http = sim_http_client(&online);
    let online_plan = script_all(&online_http, &online, &online_people, 2, "Cloud").await;

    let gw = spawn_gateway_from_settings().await;
    let saved = expect_status(
        &gw,
        Method::PUT,
        "/api/v1/sources/onprem",
        Some(&onprem_settings(&onprem, SERVICE_PASSWORD)),
        201,
    )
    .await;
    assert_eq!(saved["display_name"], "Exchange on premises");
    assert_eq!(saved["settings"]["password_set"], true);
    assert!(saved["settings"].get("password").is_none(), "{saved}");
    expect_status(
        &gw,
        Method::PUT,
        "/api/v1/sources/online",
        Some(&online_settings(&online)),
        201,
    )
    .await;
    let routing = json!({"default": "online", "domains": {"contoso.com": "onprem"}});
    let saved = expect_status(&gw, Method::PUT, "/api/v1/routing", Some(&routing), 200).await;
    assert_eq!(
        saved,
        json!({"default": "online", "domains": {"contoso.com": "onprem"}, "mailboxes": {}})
    );

    let everyone: Vec<String> = onprem_people
        .iter()
        .chain(&online_people)
        .cloned()
        .collect();
    gw.watch(&everyone).await;
    gw.wait_fetched(everyone.len() as u64, Duration::from_secs(90))
        .await;
    let mut sources_seen = BTreeMap::new();
    for email in &onprem_people {
        let record = gw.person(email).await;
        check_person(&record, &onprem, "onprem", onprem_plan[email].as_ref());
        *sources_seen.entry("onprem").or_insert(0) += 1;
    }
    for email in &online_people {
        let record = gw.person(email).await;
        check_person(&record, &online, "online", online_plan[email].as_ref());
        *sources_seen.entry("online").or_insert(0) += 1;
    }
    println!("hybrid gateway: {sources_seen:?} people checked against their simulators");
    // The failing mailboxes are listed with the source's reason: exactly those that share no
    // free/busy, from both halves.
    let unreadable: Vec<String> = [(&onprem, &onprem_people), (&online, &online_people)]
        .into_iter()
        .flat_map(|(sim, people)| {
            people.iter().filter(|e| {
                sim.state
                    .tenant()
                    .person(e)
                    .is_some_and(|p| p.free_busy_access == FreeBusyAccess::None)
            })
        })
        .cloned()
        .collect();
    let failing = expect_status(
        &gw,
        Method::GET,
        "/api/v1/people?freshness=error&limit=1000",
        None,
        200,
    )
    .await;
    let mut listed: Vec<String> = failing
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| {
            assert_eq!(p["freshness"], "error", "{p}");
            assert!(p["error"]["code"].is_string(), "{p}");
            p["email"].as_str().unwrap_or("").to_owned()
        })
        .collect();
    listed.sort();
    let mut want = unreadable.clone();
    want.sort();
    assert_eq!(listed, want, "the failing mailboxes");
    // Health lists them too, each with its cause and what to do.
    let portal = gw.portal_client().await;
    let html = portal
        .get(format!("{}/portal/health", gw.url()))
        .send()
        .await
        .expect("health page")
        .text()
        .await
        .expect("html");
    for email in &want {
        assert!(
            html.contains(&format!("data-email=\"{email}\"")),
            "{email} not listed"
        );
    }
    assert!(
        html.contains("Grant the account free/busy"),
        "what to do is said"
    );
    // The watch list filters by state: the failing ones, with their cause.
    let html = portal
        .get(format!("{}/portal/people?state=error", gw.url()))
        .send()
        .await
        .expect("people page")
        .text()
        .await
        .expect("html");
    let listed = html.matches("data-state=\"error\"").count();
    assert_eq!(listed, want.len(), "failing rows on the watch list");
    assert!(
        !html.contains("data-state=\"fresh\""),
        "only the failing ones"
    );
    let readable_online = online_people
        .iter()
        .find(|e| !unreadable.contains(e))
        .expect("a readable online person")
        .clone();
    let (_, fresh) = gw
        .call(
            Method::GET,
            &format!(
                "/api/v1/people?freshness=fresh&limit=1000&query={}",
                readable_online
            ),
            None,
        )
        .await;
    let fresh = fresh.as_array().expect("a list");
    assert_eq!(fresh.len(), 1, "{fresh:?}");
    assert_eq!(fresh[0]["email"], readable_online.as_str());
    assert_eq!(fresh[0]["source"], "online");
    let (status, _) = gw
        .call(Method::GET, "/api/v1/people?freshness=sideways", None)
        .await;
    assert_eq!(status, 400, "an unknown freshness is refused");
    assert_eq!(
        crate::windows_auth::service_account_failures(&onprem),
        (0, false)
    );
    // Both work: mailboxes that share no free/busy are their own matter (a warning), not a
    // fault of the source.
    for id in ["onprem", "online"] {
        assert_eq!(source_state(&gw, id).await, "ok", "{id}");
    }

    // A wrong Windows password on premises: one failed sign-in there, never a lock-out, and
    // the Graph half keeps refreshing throughout.
    expect_status(
        &gw,
        Method::PUT,
        "/api/v1/sources/onprem",
        Some(&json!({"password": "Wrong-Passw0rd"})),
        200,
    )
    .await;
    wait_source_state(&gw, "onprem", "auth_failed", Duration::from_secs(30)).await;
    let failed_at = Timestamp::now();
    let schedules = |s: &Value| s["requests"]["graph.getSchedule"].as_u64().unwrap_or(0);
    let before = schedules(&sim_stats(&online_http, &online).await);
    // Two refresh intervals of the Graph source.
    tokio::time::sleep(Duration::from_secs(21)).await;
    let after = schedules(&sim_stats(&online_http, &online).await);
    assert!(
        after > before,
        "the Graph half stopped refreshing: {before} → {after}"
    );
    assert_eq!(source_state(&gw, "online").await, "ok");
    assert_eq!(source_state(&gw, "onprem").await, "auth_failed");
    assert_eq!(
        crate::windows_auth::service_account_failures(&onprem),
        (1, false),
        "exactly one failed sign-in"
    );
    // Every person of the Graph half was read again after the on-premises sign-in failed.
    for email in &online_people {
        let record = gw.person(email).await;
        check_person(&record, &online, "online", online_plan[email].as_ref());
        let as_of: Timestamp = record["as_of"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("no as_of: {record}"));
        assert!(as_of > failed_at, "not read since the failure: {record}");
        if record["error"].is_null() {
            assert_eq!(record["freshness"], "fresh", "{record}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sources_and_routes_are_refused_with_nothing_saved() {
    let gw = spawn_gateway_from_settings().await;
    let (_, before) = gw.call(Method::GET, "/api/v1/sources", None).await;
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("a list")
            .iter()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(ids(&before), ["default"]);

    // Odd ids.
    for path in [
        "On%20Prem",
        "ON-PREM",
        "on_prem",
        "%2E%2E%2Fdefault",
        "x23456789012345678901234567890123",
    ] {
        let (status, answer) = gw
            .call(
                Method::PUT,
                &format!("/api/v1/sources/{path}"),
                Some(&json!({})),
            )
            .await;
        assert_eq!(status, 422, "{path}: {answer}");
        assert_eq!(answer["code"], "invalid_source_id", "{answer}");
        let (status, answer) = gw
            .call(Method::DELETE, &format!("/api/v1/sources/{path}"), None)
            .await;
        assert_eq!(status, 422, "{path}: {answer}");
    }
    // A DOMAIN\user with an empty domain, and a display name that is not text.
    let answer = expect_status(
        &gw,
        Method::PUT,
        "/api/v1/sources/onprem",
        Some(&json!({"provider": "exchange", "grant_windows_auth": true,
                "username": "\\attendant", "password": SERVICE_PASSWORD,
                "ews_url": "https://mail.contoso.com/EWS/Exchange.asmx"})),
        422,
    )
    .await;
    assert!(answer["fields"]["username"].is_string(), "{answer}");
    expect_status(
        &gw,
        Method::PUT,
        "/api/v1/sources/lab",
        Some(&json!({"display_name": 7})),
        422,
    )
    .await;
    let (_, after) = gw.call(Method::GET, "/api/v1/sources", None).await;
    assert_eq!(ids(&after), ["default"], "nothing saved: {after}");

    // Routes to unknown sources, malformed keys: 422 with a message per field, nothing saved.
    let bad = json!({"default": "ghost", "domains": {"not a domain": "default", "fabrikam.com": "nowhere"},
        "mailboxes": {"no-at-sign": "default"}});
    let answer = expect_status(&gw, Method::PUT, "/api/v1/routing", Some(&bad), 422).await;
    assert_eq!(answer["code"], "invalid_routing");
    for field in [
        "default",
        "domains.not a domain",
        "domains.fabrikam.com",
        "mailboxes.no-at-sign",
    ] {
        assert!(answer["fields"][field].is_string(), "{field}: {answer}");
    }
    let (status, answer) = gw
        .call(
            Method::PUT,
            "/api/v1/routing",
            Some(&json!({"defaults": "default"})),
        )
        .await;
    assert_eq!(status, 422, "unknown key: {answer}");
    let (_, routing) = gw.call(Method::GET, "/api/v1/routing", None).await;
    assert_eq!(
        routing,
        json!({"default": "default", "domains": {}, "mailboxes": {}})
    );

    // The routing default cannot be deleted; once routed elsewhere it can.
    expect_status(
        &gw,
        Method::PUT,
        "/api/v1/sources/lab",
        Some(&json!({"display_name": "Lab", "provider": "exchange",
                "grant_basic_auth": true, "username": SERVICE_UPN, "password": SERVICE_PASSWORD,
                "ews_url": "https://127.0.0.1:9/EWS/Exchange.asmx"})),
        201,
    )
    .await;
    expect_status(
        &gw,
        Method::PUT,
        "/api/v1/routing",
        Some(&json!({"default": "lab"})),
        200,
    )
    .await;
    let answer = expect_status(&gw, Method::DELETE, "/api/v1/sources/lab", None, 409).await;
    assert_eq!(answer["code"], "source_in_use");
    gw.watch(&["ann@contoso.com".to_owned()]).await;
    assert_eq!(gw.person("ann@contoso.com").await["source"], "lab");
    let (status, _) = gw
        .call(
            Method::PUT,
            "/api/v1/routing",
            Some(&json!({"default": "default"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(gw.person("ann@contoso.com").await["source"], "default");
    expect_status(&gw, Method::DELETE, "/api/v1/sources/lab", None, 204).await;
    let (status, _) = gw.call(Method::DELETE, "/api/v1/sources/lab", None).await;
    assert_eq!(status, 404);
    let (status, answer) = gw
        .call(
            Method::PUT,
            "/api/v1/routing",
            Some(&json!({"default": "lab"})),
        )
        .await;
    assert_eq!(
        status, 422,
        "a deleted source cannot be routed to: {answer}"
    );
    expect_status(
        &gw,
        Method::POST,
        "/api/v1/sources/ghost/test",
        Some(&json!({"mailbox": "ann@contoso.com"})),
        404,
    )
    .await;
}

/// A copy of the data directory written by release 0.1.0.
fn fixture_copy() -> tempfile::TempDir {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/db-0.1.0-single-source");
    let dir = tempfile::tempdir().expect("temp dir");
    for file in ["calgate.db", "secret.key"] {
        std::fs::copy(fixture.join(file), dir.path().join(file)).expect("copy fixture");
    }
    std::fs::set_permissions(
        dir.path().join("secret.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    dir
}

/// `calgate check` (the real binary) answers about an installation and never makes one: a
/// missing data directory is named and not created; without `--mailbox` it tests the first
/// watched person of the source, not the service account; an unknown source is named.
#[test]
fn calgate_check_names_its_directory_and_creates_none() {
    let home = tempfile::tempdir().expect("temp dir");
    let missing = home.path().join("no-such-dir");
    let out = std::process::Command::new(crate::drills_crash::calgate_bin())
        .args(["check", "--data-dir"])
        .arg(&missing)
        .env("HOME", home.path())
        .output()
        .expect("calgate check runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("no calgate database in"), "{stderr}");
    assert!(stderr.contains(&*missing.to_string_lossy()), "{stderr}");
    assert!(!missing.exists(), "a check created {}", missing.display());
    assert_eq!(
        std::fs::read_dir(home.path()).expect("home").count(),
        0,
        "nothing created in the home directory"
    );

    let dir = fixture_copy();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(crate::drills_crash::calgate_bin())
            .arg("check")
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .expect("calgate check runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, stderr, _) = run(&["--source", "ghost"]);
    assert!(
        !ok && stderr.contains("no source has the id \"ghost\""),
        "{stderr}"
    );
    // The fixture's server does not exist: the check fails, but on the first watched person.
    let (ok, stderr, stdout) = run(&[]);
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("testing ann.lee@contoso.com, the first watched person"),
        "{stderr}"
    );
    assert!(stdout.contains("FAILED: ann.lee@contoso.com"), "{stdout}");
}

/// A data directory written by release 0.1.0 (one source) opens: the settings are the source
/// `default`, the sealed password is still usable (no re-entry), the watch list and the portal
/// admin are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_directory_of_release_0_1_0_upgrades_in_place() {
    let dir = fixture_copy();
    let gw = spawn_gateway_on(dir).await;
    let sources = expect_status(&gw, Method::GET, "/api/v1/sources", None, 200).await;
    let default = &sources[0];
    assert_eq!(default["id"], "default", "{sources}");
    assert_eq!(default["settings"]["password_set"], true, "{sources}");
    assert_eq!(
        default["settings"]["ews_url"],
        "https://mail.contoso.com/EWS/Exchange.asmx"
    );
    let legacy = gw.get_json("/api/v1/settings/calendar").await;
    assert_eq!(legacy["settings"], default["settings"]);
    assert_eq!(gw.person("ann.lee@contoso.com").await["extension"], "201");
    assert_eq!(gw.person("bob.ruiz@contoso.com").await["source"], "default");
    // The sealed password is used, not lost: a change of user name alone keeps it (a lost
    // secret would be refused as missing).
    let saved = expect_status(
        &gw,
        Method::PUT,
        "/api/v1/settings/calendar",
        Some(&json!({"username": "svc2@contoso.com"})),
        200,
    )
    .await;
    assert_eq!(saved["settings"]["password_set"], true);
    let store = &gw.gateway.app.store;
    let password = store
        .load_calendar_settings()
        .await
        .expect("load")
        .expect("saved")
        .settings
        .secret(calgate_settings::SecretField::Password)
        .map(|p| secrecy::ExposeSecret::expose_secret(p).to_string());
    assert_eq!(password.as_deref(), Some("Fixture-Passw0rd!"));
    assert!(
        store
            .verify_admin_password(
                "admin",
                &secrecy::SecretString::from("DErwyJQN39jmi6KFxVvJ")
            )
            .await
            .expect("verify"),
        "the portal admin of 0.1.0 still signs in"
    );
}

/// A six-day absence read through the two-day window: the record says out of office until the
/// absence's real end, and today's timeline keeps its real start and end; the automatic reply
/// reaches the record as text, not HTML.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_absence_shows_its_real_end_and_a_readable_reply() {
    let sim = spawn_sim(SimConfig {
        people: 6,
        seed: 33,
        ..SimConfig::default()
    })
    .await;
    let http = sim_http_client(&sim);
    let email = people_of(&sim)
        .into_iter()
        .find(|e| {
            sim.state
                .tenant()
                .person(e)
                .is_some_and(|p| p.free_busy_access == FreeBusyAccess::Detailed)
        })
        .expect("a readable person");
    let now = Timestamp::now();
    let start = now - jiff::SignedDuration::from_hours(40);
    let end = now + jiff::SignedDuration::from_hours(140);
    calgate_testkit::sim_control_put(
        &http,
        &sim,
        &format!("mailboxes/{email}/events"),
        &json!([{"start": start.to_string(), "end": end.to_string(), "busy_type": "oof",
            "subject": "Holiday", "private": false, "all_day": false}]),
    )
    .await;
    calgate_testkit::sim_control_put(
        &http,
        &sim,
        &format!("mailboxes/{email}/oof"),
        &json!({"message": "<p>On holiday &amp; offline.</p><p>Call 2041.</p>",
            "start": start.to_string(), "end": end.to_string()}),
    )
    .await;
    let gw = spawn_gateway_from_settings().await;
    gw.save_settings(&json!({
        "provider": "exchange", "grant_basic_auth": true, "ews_url": sim.urls.ews_url,
        "username": SERVICE_UPN, "password": SERVICE_PASSWORD, "refresh_interval_s": 60,
        "extra_ca_pem": ca_of(&sim),
    }))
    .await;
    gw.watch(std::slice::from_ref(&email)).await;
    gw.wait_fetched(1, Duration::from_secs(30)).await;
    let record = gw.person(&email).await;
    let second = |v: &Value| {
        v.as_str()
            .and_then(|t| t.parse::<Timestamp>().ok())
            .map(|t| t.as_second())
    };
    assert_eq!(record["status"]["state"], "oof", "{record}");
    assert_eq!(
        second(&record["status"]["until"]),
        Some(end.as_second()),
        "{record}"
    );
    assert_eq!(
        second(&record["status"]["since"]),
        Some(start.as_second()),
        "{record}"
    );
    let today = record["today"].as_array().expect("timeline");
    assert_eq!(today.len(), 1, "{record}");
    assert_eq!(
        second(&today[0]["start"]),
        Some(start.as_second()),
        "{record}"
    );
    assert_eq!(second(&today[0]["end"]), Some(end.as_second()), "{record}");
    assert_eq!(
        record["out_of_office"]["message"], "On holiday & offline.\n\nCall 2041.",
        "{record}"
    );

    // The connection test: without a mailbox it tests the watched person; with settings in the
    // body it tests those, unsaved.
    let test = "/api/v1/settings/calendar/test";
    let answer = expect_status(&gw, Method::POST, test, Some(&json!({})), 200).await;
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["mailbox"], email.as_str());
    let saved_url = sim.urls.ews_url.clone();
    let wrong = saved_url.replace("/EWS/Exchange.asmx", "/EWS/Nowhere.asmx");
    let answer = expect_status(
        &gw,
        Method::POST,
        test,
        Some(&json!({"mailbox": email, "settings": {"ews_url": wrong}})),
        200,
    )
    .await;
    assert_eq!(
        answer["ok"], false,
        "the unsaved address was tested: {answer}"
    );
    let answer = expect_status(
        &gw,
        Method::POST,
        test,
        Some(&json!({"settings": {"refresh_interval_s": 1}})),
        422,
    )
    .await;
    assert!(
        answer["fields"]["refresh_interval_s"].is_string(),
        "{answer}"
    );
    let saved = gw.get_json("/api/v1/settings/calendar").await;
    assert_eq!(
        saved["settings"]["ews_url"],
        saved_url.as_str(),
        "a test saves nothing"
    );
}
