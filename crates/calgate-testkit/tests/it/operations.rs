//! Running it for real: backups and upgrades through the real `calgate` binary. A backup taken
//! while settings and people are being written restores into a new directory where a gateway has
//! the same settings, watch list, tokens and a working sealed password (a connection test
//! against the simulator passes). Bad backups and a used directory are refused with nothing
//! changed; a database of a newer release is refused and left as it was; the data directory
//! written at schema 5 opens in a gateway.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use calgate_sim::SimConfig;
use calgate_sim::tenant::FreeBusyAccess;
use calgate_testkit::gateway::{spawn_gateway_from_settings, spawn_gateway_on};
use calgate_testkit::{sim_people, spawn_sim};

use crate::drills_crash::calgate_bin;

/// The first refresh interval; the burst's `j`-th settings save sets `BASE_INTERVAL + 1 + j`.
const BASE_INTERVAL: u64 = 99;

fn calgate(args: &[&str], paths: &[&Path]) -> Output {
    let mut cmd = Command::new(calgate_bin());
    cmd.args(args).env("CALGATE_LOG", "warn");
    for p in paths {
        cmd.arg(p);
    }
    cmd.output().expect("calgate runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The names, sizes and modification times of a directory's files (sub-directories included).
fn listing(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let entry = entry.expect("entry");
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                out.push((entry.path(), meta.len(), meta.modified().expect("modified")));
            }
        }
    }
    out.sort();
    out
}

/// A copy of the data directory written at schema 5.
pub(crate) fn schema_5_copy() -> tempfile::TempDir {
    let fixture = calgate_testkit::workspace_root()
        .join("crates/calgate-testkit/fixtures/db-schema-5-hybrid");
    let dir = tempfile::tempdir().expect("temp dir");
    for file in [calgate_store::DB_FILE, calgate_store::KEY_FILE] {
        std::fs::copy(fixture.join(file), dir.path().join(file)).expect("copy fixture");
    }
    std::fs::set_permissions(
        dir.path().join(calgate_store::KEY_FILE),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_a_burst_of_writes_restores_everything() {
    let config = SimConfig {
        people: 12,
        seed: 21,
        ..SimConfig::default()
    };
    let (upn, password) = config.service_account.clone().expect("service account");
    let sim = spawn_sim(config).await;
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    let gw = spawn_gateway_from_settings().await;
    gw.save_settings(&json!({
        "provider": "exchange", "grant_basic_auth": true, "ews_url": sim.urls.ews_url,
        "username": upn, "password": password, "refresh_interval_s": BASE_INTERVAL,
        "extra_ca_pem": ca,
    }))
    .await;
    // People whose calendars the service account may read in full: a connection test passes.
    let watched: Vec<String> = sim_people(&sim)
        .into_iter()
        .filter(|e| {
            sim.state
                .tenant()
                .person(e)
                .is_some_and(|p| p.free_busy_access == FreeBusyAccess::Detailed)
        })
        .take(3)
        .collect();
    assert_eq!(watched.len(), 3);
    gw.watch(&watched).await;

    // The burst: person j, then settings j, each acknowledged before the next is sent.
    let stop = Arc::new(AtomicBool::new(false));
    let people_acked = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, acked) = (stop.clone(), people_acked.clone());
        let (admin, url) = (gw.admin.clone(), gw.url());
        tokio::spawn(async move {
            let mut j = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let person = json!([{"email": format!("burst-{j:04}@contoso.com"), "name": format!("Burst {j}")}]);
                let resp = admin
                    .put(format!("{url}/api/v1/people"))
                    .json(&person)
                    .send()
                    .await
                    .expect("put person");
                assert_eq!(resp.status(), 200, "person {j}");
                acked.fetch_add(1, Ordering::SeqCst);
                let resp = admin
                    .put(format!("{url}/api/v1/settings/calendar"))
                    .json(&json!({"refresh_interval_s": BASE_INTERVAL + 1 + j}))
                    .send()
                    .await
                    .expect("put settings");
                assert_eq!(resp.status(), 200, "settings {j}");
                j += 1;
            }
            j
        })
    };
    while people_acked.load(Ordering::SeqCst) < 5 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Backups until one ran while a write was acknowledged: a copy of a moment in the burst.
    let work = tempfile::tempdir().expect("temp dir");
    let mut taken = None;
    for attempt in 0..20 {
        let backup = work.path().join(format!("calgate-{attempt}.cgb"));
        let before = people_acked.load(Ordering::SeqCst);
        let out = tokio::process::Command::new(calgate_bin())
            .args(["backup", "--include-key", "--data-dir"])
            .arg(gw.data_dir.path())
            .arg("--out")
            .arg(&backup)
            .output()
            .await
            .expect("calgate backup");
        let after = people_acked.load(Ordering::SeqCst);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("can open the sealed secrets"),
            "a warning about the key: {}",
            text(&out.stderr)
        );
        if after > before {
            taken = Some((backup, before, after));
            break;
        }
    }
    let (backup, before, after) = taken.expect("a backup overlapped an acknowledged write");
    // More writes after the backup, which the restored gateway must not have.
    while people_acked.load(Ordering::SeqCst) < after + 5 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let written = writer.await.expect("writer");
    assert!(written as usize >= after + 5);

    let restored_dir = tempfile::tempdir().expect("temp dir");
    let out = calgate(
        &["restore"],
        &[&backup, Path::new("--data-dir"), restored_dir.path()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("the key file came with it"),
        "{}",
        text(&out.stdout)
    );
    let old_admin = gw.admin.clone();
    let restored = spawn_gateway_on(restored_dir).await;

    // The watch list: the people watched first and a prefix of the burst, never a gap.
    let people = restored
        .get_json("/api/v1/people?limit=10000")
        .await
        .as_array()
        .expect("people")
        .iter()
        .filter_map(|p| p["email"].as_str().map(str::to_string))
        .collect::<Vec<_>>();
    for email in &watched {
        assert!(people.contains(email), "{email} kept: {people:?}");
    }
    let burst: Vec<&String> = people.iter().filter(|e| e.starts_with("burst-")).collect();
    let n = burst.len();
    let prefix: Vec<String> = (0..n)
        .map(|j| format!("burst-{j:04}@contoso.com"))
        .collect();
    assert_eq!(
        burst.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        prefix.iter().map(String::as_str).collect::<Vec<_>>(),
        "one consistent moment"
    );
    assert!(
        before <= n && n <= after + 1,
        "{n} burst people, {before} acknowledged before the backup, {after} after"
    );

    // The settings of that same moment: settings n-1 were saved or not yet, nothing later.
    let settings = restored.get_json("/api/v1/settings/calendar").await;
    let interval = settings["settings"]["refresh_interval_s"]
        .as_u64()
        .expect("interval");
    let last = BASE_INTERVAL + n as u64;
    assert!(
        interval == last || interval + 1 == last,
        "interval {interval} with {n} burst people"
    );
    assert_eq!(settings["settings"]["password_set"], true, "{settings}");
    assert_eq!(settings["settings"]["ews_url"], sim.urls.ews_url.as_str());

    // The sealed password opens and works: a connection test against the simulator passes.
    let (status, answer) = restored
        .call(
            Method::POST,
            "/api/v1/settings/calendar/test",
            Some(&json!({"mailbox": watched[0]})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ok"], true, "{answer}");
    // The tokens came along: the first gateway's admin token works on the restored one.
    let status = old_admin
        .get(format!("{}/api/v1/health", restored.url()))
        .send()
        .await
        .expect("health")
        .status();
    assert_eq!(status, 200);
}

/// A truncated backup, a file of another program (a bare SQLite database), a restore into a
/// directory that holds something: each refused by the command line with a clear message, and
/// nothing written. A backup without the key says where the key must come from.
#[test]
fn bad_backups_and_a_used_directory_are_refused_with_nothing_changed() {
    let source = schema_5_copy();
    let work = tempfile::tempdir().expect("temp dir");
    let good = work.path().join("good.cgb");
    let out = calgate(
        &["backup", "--data-dir"],
        &[source.path(), Path::new("--out"), &good],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("the backup holds no key file"),
        "{}",
        text(&out.stderr)
    );
    let again = calgate(
        &["backup", "--data-dir"],
        &[source.path(), Path::new("--out"), &good],
    );
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"));

    let bytes = std::fs::read(&good).expect("backup");
    let truncated = work.path().join("truncated.cgb");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    let foreign = source.path().join(calgate_store::DB_FILE);
    let used = source.path();
    let before = listing(used);
    for (file, target, expected) in [
        (&truncated, work.path().join("t1"), "is truncated"),
        (&foreign, work.path().join("t2"), "is not a calgate backup"),
        (&good, used.to_path_buf(), "is not empty"),
    ] {
        let out = calgate(&["restore"], &[file, Path::new("--data-dir"), &target]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{}: {stderr}", file.display());
        assert!(
            stderr.starts_with("calgate: ") && stderr.contains(expected),
            "{}: {stderr}",
            file.display()
        );
        assert!(
            stderr.contains("nothing was restored") || stderr.contains("nothing was changed"),
            "{stderr}"
        );
        if target != used {
            assert!(!target.exists(), "{} left behind", target.display());
        }
    }
    assert_eq!(listing(used), before, "the used directory is untouched");

    // Without its key: the restore names the key file it needs and its id.
    let bare = work.path().join("bare");
    let out = calgate(&["restore"], &[&good, Path::new("--data-dir"), &bare]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("copy the original secret.key (key id "),
        "{stdout}"
    );
    std::fs::copy(
        source.path().join(calgate_store::KEY_FILE),
        bare.join(calgate_store::KEY_FILE),
    )
    .expect("copy key");
    let out = calgate(&["token", "list", "--data-dir"], &[&bare]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("fixture-console"));
}

/// A database a newer release migrated is refused by every command, before anything is
/// written, with a message naming both schema versions.
#[test]
fn a_database_of_a_newer_release_is_refused_and_left_as_it_was() {
    let dir = schema_5_copy();
    let future = calgate_store::schema_version() + 1;
    let added = Command::new(calgate_testkit::python())
        .arg("-c")
        .arg(
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             c.execute(\"INSERT INTO _sqlx_migrations (version, description, installed_on, \
             success, checksum, execution_time) VALUES (?, 'a newer release', \
             CURRENT_TIMESTAMP, 1, X'00', 1)\", (int(sys.argv[2]),))\n\
             c.commit()\n\
             c.close()",
        )
        .arg(dir.path().join(calgate_store::DB_FILE))
        .arg(future.to_string())
        .status()
        .expect("python");
    assert!(added.success());
    let before = listing(dir.path());
    std::thread::sleep(Duration::from_millis(20));
    for args in [
        &["serve", "--listen", "127.0.0.1:0", "--data-dir"][..],
        &["token", "list", "--data-dir"][..],
    ] {
        let out = calgate(args, &[dir.path()]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("has schema version {future}, newer than calgate"))
                && stderr.contains(&format!("(schema {})", calgate_store::schema_version()))
                && stderr.contains("Nothing was changed"),
            "{args:?}: {stderr}"
        );
    }
    let after: Vec<_> = listing(dir.path())
        .into_iter()
        .filter(|(p, _, _)| !p.starts_with(dir.path().join("logs")))
        .collect();
    assert_eq!(after, before, "nothing written");
}

/// The data directory written at schema 5 opens in a gateway: both sources with their secrets
/// set, the routing, the people on their sources, the directory with its bind password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_of_schema_5_opens_in_a_gateway() {
    let gw = spawn_gateway_on(schema_5_copy()).await;
    let sources = gw.get_json("/api/v1/sources").await;
    let by_id = |id: &str| -> Value {
        sources
            .as_array()
            .expect("sources")
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no source {id}: {sources}"))
    };
    assert_eq!(by_id("default")["settings"]["password_set"], true);
    assert_eq!(by_id("online")["settings"]["client_secret_set"], true);
    assert_eq!(by_id("online")["display_name"], "Microsoft 365");
    assert_eq!(
        gw.get_json("/api/v1/routing").await["domains"]["fabrikam.com"],
        "online"
    );
    assert_eq!(
        gw.person("carla.diaz@fabrikam.com").await["source"],
        "online"
    );
    assert_eq!(gw.person("ann.lee@contoso.com").await["extension"], "201");
    let directories = gw.get_json("/api/v1/directories").await;
    let corp = &directories.as_array().expect("directories")[0];
    assert_eq!(corp["id"], "corp", "{directories}");
    assert_eq!(corp["bind_password_set"], true, "{directories}");
}
