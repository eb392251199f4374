//! Several gateways on one PostgreSQL (issue 17): three real `calgate` processes on one database
//! (the test process's server, `calgate-pgtest`) with one key file, against one simulator.
//! Settings saved through the first and the watch list through the second are served by the
//! third; the simulator's per-mailbox counts show every mailbox read once per refresh interval
//! and none twice; a stream client on the third sees a status change another gateway fetched;
//! after `kill -9` of one gateway the others take its shards, every mailbox is read again within
//! about one interval (plus the lease lifetime) and none twice in the interval after.
//!
//! One lockout guard for all: a wrong password saved through one of three gateways costs
//! exactly one failed sign-in on the simulator's account, and every gateway says `auth_failed`;
//! "Retry now" through another costs exactly one more; the right password brings all three
//! back.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tokio::process::Command;

use calgate_sim::SimConfig;
use calgate_testkit::gateway::SseClient;

use crate::drills_crash::{GatewayProcess, calgate_bin};
use crate::drills_throttle::{eventually, get_json, sim_stats, tenant_people};

/// The shortest refresh interval the settings allow: the drill waits in multiples of it.
const INTERVAL: u64 = 10;
const MAILBOXES: usize = 60;

/// `calgate token create --role admin` on the shared database (the key file is made in
/// `data_dir`).
async fn admin_token(url: &str, data_dir: &Path) -> String {
    let out = Command::new(calgate_bin())
        .args(["token", "create", "--role", "admin", "--data-dir"])
        .arg(data_dir)
        .env("CALGATE_DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("calgate token create");
    assert!(out.status.success(), "token create: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn start(url: &str, data_dir: &Path, token: &str) -> GatewayProcess {
    GatewayProcess::start_with_env(data_dir, token, &[("CALGATE_DATABASE_URL", url)]).await
}

/// The same `secret.key` in another data directory (0600), as an operator copies it.
fn copy_key(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let key = to.join(calgate_store::KEY_FILE);
    std::fs::copy(from.join(calgate_store::KEY_FILE), &key).expect("copy the key file");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

fn exchange_settings(sim: &calgate_sim::Running, config: &SimConfig) -> Value {
    let (upn, password) = config.service_account.clone().expect("service account");
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    json!({
        "provider": "exchange",
        "grant_basic_auth": true,
        "grant_modern_auth": false,
        "username": upn,
        "password": password,
        "exchange_version": "exchange2013_sp1",
        "ews_url": sim.urls.ews_url,
        "refresh_interval_s": INTERVAL,
        "extra_ca_pem": ca,
    })
}

/// The simulator's availability requests per mailbox since its last reset.
async fn counts(sim_http: &reqwest::Client, control: &str) -> BTreeMap<String, u64> {
    let stats = sim_stats(sim_http, control).await;
    stats["mailbox_requests"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

async fn reset_counts(sim_http: &reqwest::Client, control: &str) {
    let resp = sim_http
        .delete(format!("{}/stats", control.trim_end_matches('/')))
        .send()
        .await
        .expect("reset stats");
    assert!(resp.status().is_success());
}

/// Mailboxes counted other than once (`at_most`: only those above one).
fn not_once(counts: &BTreeMap<String, u64>, people: &[String], at_most: bool) -> Vec<String> {
    people
        .iter()
        .filter_map(|p| {
            let n = counts.get(&p.to_lowercase()).copied().unwrap_or(0);
            let wrong = if at_most { n > 1 } else { n == 0 };
            wrong.then(|| format!("{p}: {n}"))
        })
        .collect()
}

/// The live instances a gateway lists: (id, leases, is it the one answering).
async fn instances(gw: &GatewayProcess) -> Vec<(String, u64, bool)> {
    let health = gw.get_json("/api/v1/health").await;
    health["instances"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|i| {
                    (
                        i["id"].as_str().unwrap_or_default().to_string(),
                        i["leases"].as_u64().unwrap_or(0),
                        i["this"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until `gw` lists `n` live instances holding every shard between them.
async fn balanced(gw: &GatewayProcess, n: usize) {
    eventually(Duration::from_secs(20), "the shards split", || async {
        let list = instances(gw).await;
        let total: u64 = list.iter().map(|(_, l, _)| l).sum();
        if list.len() == n
            && total == u64::from(calgate_core::shard::SHARDS)
            && list.iter().all(|(_, l, _)| *l > 0)
        {
            Ok(())
        } else {
            Err(format!("{list:?}"))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_gateways_on_one_database_share_the_work_and_take_over_from_a_dead_one() {
    let server = calgate_pgtest::server();
    let url = server.create_database();
    let db_name = url.rsplit('/').next().expect("database name").to_string();
    let config = SimConfig {
        people: 80,
        ..SimConfig::default()
    };
    let sim = calgate_testkit::spawn_sim(config.clone()).await;
    let sim_http = calgate_testkit::sim_http_client(&sim);
    let control = sim.urls.control_url.clone();
    let people = tenant_people(&sim, MAILBOXES);
    assert_eq!(people.len(), MAILBOXES);

    let dirs = [
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    ];
    let token = admin_token(&url, dirs[0].path()).await;
    copy_key(dirs[0].path(), dirs[1].path());
    copy_key(dirs[0].path(), dirs[2].path());
    let gw1 = start(&url, dirs[0].path(), &token).await;
    let gw2 = start(&url, dirs[1].path(), &token).await;
    let gw3 = start(&url, dirs[2].path(), &token).await;
    balanced(&gw3, 3).await;
    let health = gw3.get_json("/api/v1/health").await;
    assert_eq!(health["database"]["reachable"], true, "{health}");
    let id3 = instances(&gw3)
        .await
        .into_iter()
        .find(|(_, _, this)| *this)
        .map(|(id, _, _)| id)
        .expect("gateway 3 lists itself");

    // Settings through the first, the watch list through the second: the third serves both.
    let resp = gw1
        .http
        .put(format!("{}/api/v1/settings/calendar", gw1.url))
        .json(&exchange_settings(&sim, &config))
        .send()
        .await
        .expect("put settings");
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let list: Vec<Value> = people.iter().map(|e| json!({"email": e})).collect();
    let resp = gw2
        .http
        .put(format!("{}/api/v1/people", gw2.url))
        .json(&list)
        .send()
        .await
        .expect("put people");
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let saved = Instant::now();
    eventually(Duration::from_secs(5), "gateway 3 serves both", || async {
        let settings = get_json(&gw3.http, &format!("{}/api/v1/settings/calendar", gw3.url)).await;
        let person = get_json(
            &gw3.http,
            &format!("{}/api/v1/people/{}", gw3.url, people[0]),
        )
        .await;
        let engine_watches = gw3.get_json("/api/v1/health").await["mailboxes"]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum::<u64>())
            .unwrap_or(0);
        if settings["settings"]["refresh_interval_s"] == INTERVAL
            && person["email"].as_str().is_some()
            && engine_watches == MAILBOXES as u64
        {
            Ok(())
        } else {
            Err(format!("{settings} {person} watched {engine_watches}"))
        }
    })
    .await;
    let took = saved.elapsed();

    // Every mailbox is read once, by one of the three.
    eventually(Duration::from_secs(30), "every mailbox read", || async {
        let missing = not_once(&counts(&sim_http, &control).await, &people, false);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("{missing:?}"))
        }
    })
    .await;
    let first = counts(&sim_http, &control).await;
    assert!(
        not_once(&first, &people, true).is_empty(),
        "read twice at start: {first:?}"
    );

    // A stream client on the third; a mailbox another gateway reads becomes busy on the
    // simulator.
    // A client of its own: the admin client's 10-second timeout would end a stream.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    let stream_http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client");
    let mut stream =
        SseClient::connect(&stream_http, &format!("{}/api/v1/stream", gw3.url), None).await;
    let snapshot = stream.next(Duration::from_secs(5)).await.expect("snapshot");
    assert_eq!(snapshot.event, "snapshot");
    let shard_holder = |email: &str| {
        let shard = calgate_core::shard::shard_of(email);
        server
            .psql_in(
                &db_name,
                &format!("SELECT holder FROM shard_leases WHERE shard = {shard}"),
            )
            .expect("lease row")
    };
    let other = people
        .iter()
        .find(|p| shard_holder(p) != id3)
        .expect("a mailbox another gateway reads")
        .clone();
    let now = Timestamp::now();
    calgate_testkit::sim_control_put(
        &sim_http,
        &sim,
        &format!("mailboxes/{other}/events"),
        &json!([{
            "start": (now - SignedDuration::from_mins(5)).to_string(),
            "end": (now + SignedDuration::from_mins(30)).to_string(),
            "busy_type": "busy", "subject": "Drill", "private": false, "all_day": false
        }]),
    )
    .await;

    // Steady state: in a window shorter than the interval's pacing (±10 %) no mailbox is read
    // twice; in one longer than it, every mailbox is read.
    reset_counts(&sim_http, &control).await;
    let window = Instant::now();
    let pushed = tokio::time::timeout(Duration::from_secs(INTERVAL + 5), async {
        loop {
            let event = stream.next(Duration::from_secs(INTERVAL + 5)).await?;
            let data = event.json();
            if data["email"] == other.to_lowercase().as_str() && data["status"]["state"] == "busy" {
                return Some(window.elapsed());
            }
        }
    })
    .await
    .ok()
    .flatten();
    tokio::time::sleep(Duration::from_secs(8).saturating_sub(window.elapsed())).await;
    let short = counts(&sim_http, &control).await;
    let twice = not_once(&short, &people, true);
    assert!(twice.is_empty(), "read twice within 8 s: {twice:?}");
    tokio::time::sleep(Duration::from_secs(INTERVAL + 3).saturating_sub(window.elapsed())).await;
    let long = counts(&sim_http, &control).await;
    let unread = not_once(&long, &people, false);
    assert!(
        unread.is_empty(),
        "not read within {} s: {unread:?}",
        INTERVAL + 3
    );
    if pushed.is_none() {
        let mut seen = Vec::new();
        for gw in [&gw1, &gw2, &gw3] {
            seen.push(gw.get_json(&format!("/api/v1/people/{other}")).await);
        }
        panic!("gateway 3's stream did not show {other} busy (read by another gateway): {seen:#?}");
    }

    // kill -9 of the first: the others take its shards once its leases expire.
    gw1.kill9().await;
    reset_counts(&sim_http, &control).await;
    let killed = Instant::now();
    eventually(
        Duration::from_secs(INTERVAL + 12),
        "every mailbox read again after the kill",
        || async {
            let unread = not_once(&counts(&sim_http, &control).await, &people, false);
            if unread.is_empty() {
                Ok(())
            } else {
                Err(format!("{} unread: {unread:?}", unread.len()))
            }
        },
    )
    .await;
    let fresh_again = killed.elapsed();
    balanced(&gw3, 2).await;
    reset_counts(&sim_http, &control).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let after = counts(&sim_http, &control).await;
    let twice = not_once(&after, &people, true);
    assert!(
        twice.is_empty(),
        "read twice within 8 s after the takeover: {twice:?}"
    );
    eprintln!(
        "three gateways: settings and watch list served by the third after {took:?}; the stream \
         pushed the change after {pushed:?}; every mailbox read again {fresh_again:?} after the kill"
    );
    drop(gw2);
    drop(gw3);
}

/// The simulator's account: failed sign-ins counted toward its lockout, and whether it is locked.
async fn account(sim_http: &reqwest::Client, control: &str, upn: &str) -> (u64, bool) {
    let a = get_json(
        sim_http,
        &format!("{}/accounts/{upn}", control.trim_end_matches('/')),
    )
    .await;
    (
        a["failed_attempts"].as_u64().expect("failed_attempts"),
        a["locked"].as_bool().expect("locked"),
    )
}

/// The state of the source `default` on each gateway.
async fn states(gateways: &[&GatewayProcess]) -> Vec<String> {
    let mut out = Vec::new();
    for gw in gateways {
        let health = gw.get_json("/api/v1/health").await;
        out.push(
            health["source"]["state"]
                .as_str()
                .unwrap_or("?")
                .to_string(),
        );
    }
    out
}

async fn save_settings(gw: &GatewayProcess, settings: &Value) {
    let resp = gw
        .http
        .put(format!("{}/api/v1/settings/calendar", gw.url))
        .json(settings)
        .send()
        .await
        .expect("put settings");
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_on_three_gateways_costs_one_failed_sign_in() {
    let server = calgate_pgtest::server();
    let url = server.create_database();
    let config = SimConfig {
        people: 80,
        ..SimConfig::default()
    };
    let sim = calgate_testkit::spawn_sim(config.clone()).await;
    let sim_http = calgate_testkit::sim_http_client(&sim);
    let control = sim.urls.control_url.clone();
    let people = tenant_people(&sim, MAILBOXES);
    let (upn, _) = config.service_account.clone().expect("service account");

    let dirs = [
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    ];
    let token = admin_token(&url, dirs[0].path()).await;
    copy_key(dirs[0].path(), dirs[1].path());
    copy_key(dirs[0].path(), dirs[2].path());
    let gw1 = start(&url, dirs[0].path(), &token).await;
    let gw2 = start(&url, dirs[1].path(), &token).await;
    let gw3 = start(&url, dirs[2].path(), &token).await;
    let all = [&gw1, &gw2, &gw3];
    balanced(&gw3, 3).await;
    let list: Vec<Value> = people.iter().map(|e| json!({"email": e})).collect();
    let resp = gw2
        .http
        .put(format!("{}/api/v1/people", gw2.url))
        .json(&list)
        .send()
        .await
        .expect("put people");
    assert_eq!(resp.status(), 200);
    assert_eq!(account(&sim_http, &control, &upn).await, (0, false));

    // A wrong password, saved through the first: each gateway has mailboxes to read with it.
    let mut wrong = exchange_settings(&sim, &config);
    wrong["password"] = json!("Not-the-password-1");
    save_settings(&gw1, &wrong).await;
    let saved = Instant::now();
    eventually(
        Duration::from_secs(20),
        "every gateway auth_failed",
        || async {
            let now = states(&all).await;
            if now.iter().all(|s| s == "auth_failed") {
                Ok(())
            } else {
                Err(format!("{now:?}"))
            }
        },
    )
    .await;
    // Every gateway has had time to try (and has been told not to).
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(saved.elapsed())).await;
    let (failed, locked) = account(&sim_http, &control, &upn).await;
    assert_eq!(
        failed, 1,
        "three gateways, one wrong password: exactly one failed sign-in"
    );
    assert!(!locked);
    let still = states(&all).await;
    assert!(still.iter().all(|s| s == "auth_failed"), "{still:?}");
    // What the gateways share names the credential by its keyed hash only.
    let db_name = url.rsplit('/').next().expect("database name");
    let claims = server
        .psql_in(
            db_name,
            "SELECT fingerprint, holder, proven FROM credential_claims",
        )
        .expect("claims");
    let guard = server
        .psql_in(db_name, "SELECT state_json FROM lockout_guard")
        .expect("guard state");
    let fingerprint = claims.split('|').next().unwrap_or_default().to_string();
    assert_eq!(fingerprint.len(), 64, "one claim: {claims}");
    assert!(guard.contains(&fingerprint), "quarantined: {guard}");
    for text in [&claims, &guard] {
        assert!(!text.contains("Not-the-password-1"), "no secret: {text}");
    }
    for gw in all {
        let health = gw.get_json("/api/v1/health").await;
        let text = health.to_string();
        assert!(
            !text.contains("Not-the-password-1"),
            "the password never shows: {text}"
        );
    }

    // "Retry now" through the third: one attempt across the three, refused again.
    let resp = gw3
        .http
        .post(format!("{}/api/v1/source/retry", gw3.url))
        .send()
        .await
        .expect("retry now");
    assert_eq!(resp.status(), 200);
    eventually(Duration::from_secs(15), "the retry is made", || async {
        match account(&sim_http, &control, &upn).await {
            (2, _) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        account(&sim_http, &control, &upn).await,
        (2, false),
        "one retry, once"
    );
    eventually(
        Duration::from_secs(10),
        "every gateway auth_failed after the retry",
        || async {
            let now = states(&all).await;
            if now.iter().all(|s| s == "auth_failed") {
                Ok(())
            } else {
                Err(format!("{now:?}"))
            }
        },
    )
    .await;

    // The right password: all three read again.
    reset_counts(&sim_http, &control).await;
    save_settings(&gw1, &exchange_settings(&sim, &config)).await;
    eventually(
        Duration::from_secs(20),
        "every gateway ok again",
        || async {
            let now = states(&all).await;
            let unread = not_once(&counts(&sim_http, &control).await, &people, false);
            if now.iter().all(|s| s == "ok") && unread.is_empty() {
                Ok(())
            } else {
                Err(format!("{now:?}, {} unread", unread.len()))
            }
        },
    )
    .await;
    let (failed, locked) = account(&sim_http, &control, &upn).await;
    assert!(
        failed <= 1 && !locked,
        "{failed} failed sign-ins, locked {locked}"
    );
    eprintln!(
        "one lockout guard: three gateways auth_failed and back after {:?}",
        saved.elapsed()
    );
}

/// `GET /readyz`: the status and the body.
async fn readyz(gw: &GatewayProcess) -> (u16, String) {
    match gw.http.get(format!("{}/readyz", gw.url)).send().await {
        Ok(resp) => (
            resp.status().as_u16(),
            resp.text().await.unwrap_or_default(),
        ),
        Err(e) => (0, e.to_string()),
    }
}

/// The database lost and back: PostgreSQL (a server of this test's own, since the others share
/// the process's) is stopped under a running gateway, which says "database unreachable" on
/// `/readyz` and reads nothing while it is down; started again, the gateway recovers by itself
/// (ready, its leases held, reading again), and a watch-list change acknowledged before the cut
/// is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_stops_reading_while_the_database_is_down_and_recovers_by_itself() {
    const WATCHED: usize = 20;
    let server = calgate_pgtest::TestServer::private();
    let url = server.create_database();
    let config = SimConfig {
        people: 40,
        ..SimConfig::default()
    };
    let sim = calgate_testkit::spawn_sim(config.clone()).await;
    let sim_http = calgate_testkit::sim_http_client(&sim);
    let control = sim.urls.control_url.clone();
    let people = tenant_people(&sim, WATCHED + 1);
    let (watched, added) = people.split_at(WATCHED);
    let dir = tempfile::tempdir().expect("temp dir");
    let token = admin_token(&url, dir.path()).await;
    let gw = start(&url, dir.path(), &token).await;
    balanced(&gw, 1).await;
    save_settings(&gw, &exchange_settings(&sim, &config)).await;
    let put_people = |list: &[String]| {
        let body: Vec<Value> = list.iter().map(|e| json!({"email": e})).collect();
        gw.http
            .put(format!("{}/api/v1/people", gw.url))
            .json(&body)
            .send()
    };
    let resp = put_people(watched).await.expect("put people");
    assert_eq!(resp.status(), 200);
    eventually(Duration::from_secs(20), "every mailbox read", || async {
        let unread = not_once(&counts(&sim_http, &control).await, watched, false);
        if unread.is_empty() {
            Ok(())
        } else {
            Err(format!("{} unread", unread.len()))
        }
    })
    .await;

    // Acknowledged just before the cut.
    let resp = put_people(added).await.expect("put the added person");
    assert_eq!(resp.status(), 200, "the change is acknowledged");
    server.stop();
    let cut = Instant::now();
    eventually(
        Duration::from_secs(15),
        "readyz says the database is unreachable",
        || async {
            match readyz(&gw).await {
                (503, body) if body.contains("database unreachable") => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    let unready_after = cut.elapsed();
    // (The API itself is not asked meanwhile: its token check needs the database, and waits for
    // a connection.)
    // Nothing is read while it is down: over more than half an interval (every mailbox falls
    // due once per interval, paced evenly) the counts do not grow.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = counts(&sim_http, &control).await;
    tokio::time::sleep(Duration::from_secs(INTERVAL / 2 + 2)).await;
    let during = counts(&sim_http, &control).await;
    assert_eq!(before, during, "no mailbox read while the database is down");

    // Back: ready again by itself, all shards held, reading again, the change kept.
    server.start();
    let back = Instant::now();
    reset_counts(&sim_http, &control).await;
    eventually(Duration::from_secs(20), "ready again", || async {
        match readyz(&gw).await {
            (200, _) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let ready_after = back.elapsed();
    balanced(&gw, 1).await;
    let health = gw.get_json("/api/v1/health").await;
    assert_eq!(health["database"]["reachable"], true, "{health}");
    let person = gw
        .http
        .get(format!("{}/api/v1/people/{}", gw.url, added[0]))
        .send()
        .await
        .expect("get person");
    assert_eq!(person.status(), 200, "acknowledged before the cut, kept");
    eventually(
        Duration::from_secs(INTERVAL + 10),
        "every mailbox read again",
        || async {
            let unread = not_once(&counts(&sim_http, &control).await, &people, false);
            if unread.is_empty() {
                Ok(())
            } else {
                Err(format!("{} unread: {unread:?}", unread.len()))
            }
        },
    )
    .await;
    eprintln!(
        "database lost: unready after {unready_after:?}; back: ready after {ready_after:?}, \
         every mailbox read again after {:?}",
        back.elapsed()
    );
}

/// Graph change notifications with two gateways on one database: every notification (and
/// every validation request) reaches the first gateway's address, as behind one public name,
/// yet the subscriptions the second made for its shards are validated and its mailboxes turn
/// busy within seconds: the first passes what it does not hold to the second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_reaching_one_gateway_serve_the_subscriptions_of_another() {
    const SECRET: &str = "cluster-notifications-secret";
    let server = calgate_pgtest::server();
    let url = server.create_database();
    let config = SimConfig {
        people: 20,
        client_secret: Some(SECRET.to_owned()),
        ..SimConfig::default()
    };
    let sim = calgate_testkit::spawn_sim(config.clone()).await;
    let sim_http = calgate_testkit::sim_http_client(&sim);
    let control = sim.urls.control_url.clone();
    let people = tenant_people(&sim, 8);
    for p in &people {
        let resp = sim_http
            .put(format!("{control}/mailboxes/{p}/events"))
            .json(&json!([]))
            .send()
            .await
            .expect("clear events");
        assert!(resp.status().is_success());
    }

    let dirs = [
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    ];
    let token = admin_token(&url, dirs[0].path()).await;
    copy_key(dirs[0].path(), dirs[1].path());
    let gw1 = start(&url, dirs[0].path(), &token).await;
    let gw2 = start(&url, dirs[1].path(), &token).await;
    balanced(&gw2, 2).await;

    let base = sim
        .urls
        .graph_url
        .trim_end_matches('/')
        .trim_end_matches("/v1.0")
        .to_string();
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    let settings = json!({
        "provider": "microsoft365", "tenant_id": sim.state.tenant_id,
        "client_id": sim.state.client_id, "client_secret": SECRET,
        "authority_host": base, "graph_endpoint": base, "extra_ca_pem": ca,
        "refresh_interval_s": 60, "change_notifications": true,
        "notification_url": gw1.url, "notification_sweep_s": 3600,
        "allow_insecure_http": true,
    });
    let resp = gw1
        .http
        .put(format!("{}/api/v1/settings/calendar", gw1.url))
        .json(&settings)
        .send()
        .await
        .expect("put settings");
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let list: Vec<Value> = people.iter().map(|e| json!({"email": e})).collect();
    let resp = gw1
        .http
        .put(format!("{}/api/v1/people", gw1.url))
        .json(&list)
        .send()
        .await
        .expect("put people");
    assert_eq!(resp.status(), 200);

    // Both gateways subscribe their own shards' mailboxes; the second's validations reach the
    // first, which answers them because the second said it was subscribing.
    eventually(Duration::from_secs(30), "everyone subscribed", || async {
        let subs = get_json(&sim_http, &format!("{control}/graph/subscriptions")).await;
        let n = subs.as_array().map_or(0, Vec::len);
        if n == people.len() {
            Ok(())
        } else {
            Err(format!("{n} subscriptions: {subs}"))
        }
    })
    .await;
    let second_holds = gw2.get_json("/api/v1/health").await["notifications"]["subscriptions"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        second_holds > 0,
        "the second gateway holds some subscriptions"
    );
    eventually(Duration::from_secs(20), "everyone read free", || async {
        for p in &people {
            let r = get_json(&gw2.http, &format!("{}/api/v1/people/{p}", gw2.url)).await;
            if r["status"]["state"] != "free" {
                return Err(format!("{p}: {r}"));
            }
        }
        Ok(())
    })
    .await;

    // A meeting booked now for everyone: busy on both gateways within seconds (polling would
    // take a minute, the sweep an hour).
    let now = Timestamp::now();
    let meeting = json!([{"start": now - SignedDuration::from_mins(5),
                          "end": now + SignedDuration::from_hours(1), "busy_type": "busy"}]);
    for p in &people {
        let resp = sim_http
            .put(format!("{control}/mailboxes/{p}/events"))
            .json(&meeting)
            .send()
            .await
            .expect("book");
        assert!(resp.status().is_success());
    }
    for gw in [&gw1, &gw2] {
        eventually(Duration::from_secs(8), "everyone busy", || async {
            for p in &people {
                let r = get_json(&gw.http, &format!("{}/api/v1/people/{p}", gw.url)).await;
                if r["status"]["state"] != "busy" {
                    return Err(format!("{p}: {r}"));
                }
            }
            Ok(())
        })
        .await;
    }
    let metrics = reqwest::get(format!("{}/metrics", gw1.url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let forwarded = metrics
        .lines()
        .find_map(|l| l.strip_prefix("calgate_notifications_total{outcome=\"forwarded\"} "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(
        forwarded >= second_holds as f64,
        "forwarded {forwarded}, held by the second {second_holds}"
    );
}
