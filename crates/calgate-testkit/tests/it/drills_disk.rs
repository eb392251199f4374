//! Failure drill, disk full: the real `calgate` binary with its data directory on a small tmpfs
//! that a filler file then fills to the last byte. Outcome: writes are refused with a clear
//! error (API and log), health names the store's trouble, nothing saved before is damaged
//! (SQLite's integrity check), and everything works again once space returns.
//!
//! Mounting needs root on Linux (CI runs as root). Without it the drill fails and says why: it
//! must never pass without running.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::drills_crash::{GatewayProcess, create_admin_token, integrity_check, try_health};
use crate::drills_throttle::eventually;

/// A tmpfs mounted on a fresh directory, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().expect("mount point");
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => SmallDisk { dir },
            Ok(o) => panic!(
                "the disk-full drill needs to mount a small tmpfs (root on Linux, as in CI); \
                 `mount -t tmpfs` failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => panic!("the disk-full drill needs the `mount` command: {e}"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes zeros into `path` until the file system refuses: the disk is then full.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(_) => break,
        }
    }
    // Byte-sized writes take the last partial page too.
    while f.write(&[0u8]).is_ok_and(|n| n == 1) {
        written += 1;
    }
    let _ = f.flush();
    written
}

fn people_body(n: usize, tag: &str) -> Value {
    Value::Array(
        (0..n)
            .map(|i| {
                json!({
                    "email": format!("person{i:05}@contoso.com"),
                    "name": format!("Person {i} {tag} {}", "x".repeat(120)),
                    "extension": format!("{}", 10_000 + i),
                })
            })
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_refuses_writes_clearly_keeps_data_and_recovers() {
    let disk = SmallDisk::mount("6m");
    let data: PathBuf = disk.path().join("data");
    let logs = tempfile::tempdir().expect("log dir");
    let stderr_log = logs.path().join("calgate.stderr");
    let token = create_admin_token(&data).await;
    let gw = GatewayProcess::start_logging(&data, &token, Some(&stderr_log)).await;
    let base = gw.url.clone();

    // Something worth keeping, saved while there is space.
    let resp = gw
        .http
        .put(format!("{base}/api/v1/people"))
        .json(&people_body(200, "before"))
        .send()
        .await
        .expect("put people");
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );

    let filler = disk.path().join("filler");
    let filled = fill(&filler);
    eprintln!("drill disk full: filler took {filled} bytes");

    // Writes now fail: each answer is a clear, typed error, never a 500 or a hang.
    let mut refusal = Value::Null;
    for round in 0..20 {
        let resp = gw
            .http
            .put(format!("{base}/api/v1/people"))
            .json(&people_body(2000, &format!("full{round}")))
            .send()
            .await
            .expect("the gateway answers on a full disk");
        let status = resp.status();
        let body: Value = resp.json().await.expect("JSON error body");
        if status == 200 {
            // SQLite may still fit a write into pages it already holds; write more.
            continue;
        }
        assert_eq!(status, 503, "{body}");
        refusal = body;
        break;
    }
    assert_eq!(
        refusal["code"], "store_unavailable",
        "a write was refused: {refusal}"
    );
    let message = refusal["message"].as_str().unwrap_or("");
    assert!(
        message.contains("disk is full"),
        "the message says why: {refusal}"
    );

    // Health names the store's trouble (its disk probe is reused for up to 5 s, so a monitor
    // polling health never turns into a disk-write loop).
    wait_store_state(&gw.http, &base, "disk_full").await;
    // Reads still work.
    let list = gw
        .http
        .get(format!("{base}/api/v1/people?limit=10000"))
        .send()
        .await
        .expect("list");
    assert_eq!(list.status(), 200);
    let stderr = std::fs::read_to_string(&stderr_log).unwrap_or_default();
    assert!(
        stderr.contains("disk is full"),
        "the log says the disk is full: {stderr}"
    );

    // Space returns: every write succeeds again (several, so that each pooled database
    // connection is used; one left broken by the failure would refuse them forever), and
    // health clears.
    std::fs::remove_file(&filler).expect("remove filler");
    for attempt in 0..12 {
        let resp = gw
            .http
            .put(format!("{base}/api/v1/people"))
            .json(&people_body(300, "after"))
            .send()
            .await
            .expect("put people");
        let status = resp.status();
        assert_eq!(
            status,
            200,
            "write {attempt} after space returned: {}",
            resp.text().await.unwrap_or_default()
        );
    }
    wait_store_state(&gw.http, &base, "ok").await;
    gw.kill9().await;
    assert_eq!(integrity_check(&data), "ok");

    // And after a restart everything acknowledged is there.
    let gw = GatewayProcess::start(&data, &token).await;
    let list = gw.get_json("/api/v1/people?limit=10000").await;
    let names: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.len() >= 300, "{}", names.len());
    assert!(
        names.iter().filter(|n| n.contains(" after ")).count() == 300,
        "the save after recovery is kept"
    );
    gw.kill9().await;
}

/// Polls the gateway's health until its store shows `state` (the disk probe's answer is reused
/// for a few seconds, so the change shows within that time, not at once).
async fn wait_store_state(http: &reqwest::Client, base: &str, state: &str) {
    eventually(
        Duration::from_secs(10),
        &format!("health shows the store {state}"),
        || async {
            let h = try_health(http, base).await?;
            if h["store"]["state"] == state {
                Ok(())
            } else {
                Err(h.to_string())
            }
        },
    )
    .await;
}
