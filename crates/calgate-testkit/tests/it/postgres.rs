//! The real `calgate` binary on a real PostgreSQL (the test process's server, `calgate-pgtest`):
//! settings and a watch list saved through the API are in the database, not in the data
//! directory, and a restarted gateway serves them. Bad input stops the start with a clear
//! message and a non-zero exit: a wrong password in the URL (never printed), another data
//! directory's key file, a database of a newer schema; `calgate backup` points to `pg_dump`.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::json;
use tokio::process::Command;

use crate::drills_crash::{GatewayProcess, calgate_bin};

const DB_PASSWORD_MARK: &str = calgate_pgtest::SUPERUSER_PASSWORD;

/// A `calgate` command with the database named in the environment (off the process list).
fn calgate(database_url: &str) -> Command {
    let mut command = Command::new(calgate_bin());
    command
        .env("CALGATE_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    command
}

/// Runs a command that must end by itself (a refused start), within 60 s.
async fn finished(command: &mut Command) -> Output {
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the command ends by itself")
        .expect("the command runs")
}

async fn serve_refused(database_url: &str, data_dir: &Path, flag_url: Option<&str>) -> String {
    let mut command = calgate(database_url);
    command
        .arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"]);
    if let Some(url) = flag_url {
        command.args(["--database-url", url]);
    }
    let out = finished(&mut command).await;
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "the start must be refused: {all}");
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_on_postgres_keeps_settings_and_watch_list_across_a_restart() {
    let server = calgate_pgtest::server();
    let url = server.create_database();
    let db_name = url.rsplit('/').next().expect("database name").to_string();
    let data = tempfile::tempdir().expect("temp dir");

    let out = finished(
        calgate(&url)
            .args(["token", "create", "--role", "admin", "--data-dir"])
            .arg(data.path()),
    )
    .await;
    assert!(out.status.success(), "token create: {out:?}");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();

    let settings = json!({
        "provider": "exchange",
        "grant_basic_auth": true,
        "grant_modern_auth": false,
        "username": "svc-calgate@contoso.com",
        "password": "Svc-Pw-in-postgres-7e1d",
        "exchange_version": "exchange2013_sp1",
        "ews_url": "https://127.0.0.1:9/EWS/Exchange.asmx",
        "refresh_interval_s": 77,
    });
    let people = json!([
        {"email": "Anna.Rossi@contoso.com", "name": "Anna Rossi", "extension": "2041"},
        {"email": "bruno.bianchi@contoso.com", "name": "Bruno Bianchi"},
    ]);
    {
        let gw = start_on(&url, data.path(), &token).await;
        for (path, body) in [
            ("/api/v1/settings/calendar", &settings),
            ("/api/v1/people", &people),
        ] {
            let resp = gw
                .http
                .put(format!("{}{path}", gw.url))
                .json(body)
                .send()
                .await
                .expect("put");
            let status = resp.status();
            assert_eq!(
                status,
                200,
                "{path}: {}",
                resp.text().await.unwrap_or_default()
            );
        }
        gw.kill9().await;
    }
    assert!(
        !data.path().join(calgate_store::DB_FILE).exists(),
        "no SQLite file beside the key"
    );
    assert!(data.path().join(calgate_store::KEY_FILE).exists());
    assert_eq!(
        server
            .psql_in(&db_name, "SELECT COUNT(*) FROM people")
            .as_deref(),
        Ok("2")
    );
    let sealed = server
        .psql_in(
            &db_name,
            "SELECT COUNT(*) FROM secrets WHERE slot = 'calendar_settings.password'",
        )
        .expect("secrets");
    assert_eq!(sealed, "1");
    let dump = server
        .psql_in(
            &db_name,
            "SELECT string_agg(encode(sealed, 'escape'), '') FROM secrets",
        )
        .expect("sealed values");
    assert!(
        !dump.contains("Svc-Pw-in-postgres"),
        "the password is sealed"
    );

    let gw = start_on(&url, data.path(), &token).await;
    let current = gw.get_json("/api/v1/settings/calendar").await;
    assert_eq!(current["settings"]["refresh_interval_s"], 77, "{current}");
    assert_eq!(current["settings"]["password_set"], true, "{current}");
    assert_eq!(current["settings"]["username"], "svc-calgate@contoso.com");
    let anna = gw.get_json("/api/v1/people/anna.rossi@contoso.com").await;
    assert_eq!(anna["name"], "Anna Rossi", "{anna}");
    assert_eq!(anna["extension"], "2041", "{anna}");
    let bruno = gw
        .get_json("/api/v1/people/bruno.bianchi@contoso.com")
        .await;
    assert_eq!(bruno["name"], "Bruno Bianchi", "{bruno}");
    gw.kill9().await;

    // Backups of a PostgreSQL installation are pg_dump's.
    let backup = data.path().join("backup.cgb");
    let out = finished(
        calgate(&url)
            .args(["backup", "--data-dir"])
            .arg(data.path())
            .arg("--out")
            .arg(&backup),
    )
    .await;
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && text.contains("pg_dump"), "{text}");
    assert!(!text.contains(DB_PASSWORD_MARK), "{text}");
    assert!(!backup.exists());

    // Another gateway with a key file of its own: refused, naming the fix.
    let other = tempfile::tempdir().expect("temp dir");
    let err = serve_refused(&url, other.path(), None).await;
    assert!(err.contains("same secret.key"), "{err}");
    assert!(!other.path().join(calgate_store::KEY_FILE).exists());
    write_key(&other.path().join(calgate_store::KEY_FILE), &[5u8; 32]);
    let err = serve_refused(&url, other.path(), None).await;
    assert!(err.contains("same secret.key"), "{err}");

    // A newer release migrated the database: refused, nothing changed.
    server
        .psql_in(
            &db_name,
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES (9999, 'from a newer release', TRUE, '\\x00', 1)",
        )
        .expect("future migration");
    let err = serve_refused(&url, data.path(), None).await;
    assert!(err.contains("schema version 9999"), "{err}");
    assert!(!err.contains(DB_PASSWORD_MARK), "{err}");
    assert_eq!(
        server
            .psql_in(&db_name, "SELECT COUNT(*) FROM people")
            .as_deref(),
        Ok("2")
    );
}

#[tokio::test]
async fn a_wrong_database_url_stops_the_start_without_printing_the_password() {
    let server = calgate_pgtest::server();
    let url = server.create_database();
    let db_name = url.rsplit('/').next().expect("database name");
    let data = tempfile::tempdir().expect("temp dir");
    let wrong = server.url_with_password(db_name, "Wrong-Pw-5c1e");

    // A refused password (in the flag, which beats the environment).
    let err = serve_refused(&url, data.path(), Some(&wrong)).await;
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(
        err.contains(&format!("127.0.0.1:{}/{db_name}", server.port())),
        "{err}"
    );
    assert!(!err.contains("Wrong-Pw-5c1e"), "{err}");
    assert!(
        !data.path().join(calgate_store::KEY_FILE).exists(),
        "nothing written"
    );

    // Not a PostgreSQL URL.
    let err = serve_refused("mysql://u:Wrong-Pw-5c1e@h/db", data.path(), None).await;
    assert!(err.contains("database URL"), "{err}");
    assert!(!err.contains("Wrong-Pw-5c1e"), "{err}");
}

async fn start_on(url: &str, data_dir: &Path, token: &str) -> GatewayProcess {
    // The gateway's environment only: the test process's own is left alone.
    GatewayProcess::start_with_env(data_dir, token, &[("CALGATE_DATABASE_URL", url)]).await
}

fn write_key(path: &Path, key: &[u8]) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .expect("create key")
        .write_all(key)
        .expect("write key");
}
