//! The store against a real SQLite file in a temporary directory and against a real PostgreSQL
//! (a fresh database of the test process's server, `calgate-pgtest`): round trips for every
//! table, secrets sealed at rest and bound to their slot, key-file faults, durability across
//! reopen. A test written once over a [`TestDb`] runs on both (`both!` makes its `sqlite` and
//! `postgres` variants); the tests of the SQLite file itself (its permissions and pragmas, a
//! real `SQLITE_FULL`, a killed writer, backups, the data directories of older releases) are
//! SQLite's alone and say so.

use std::path::Path;

use calgate_core::{Availability, BusyType, CalendarEvent, OutOfOffice};
use calgate_settings::{CalendarSettings, validate_json};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tempfile::TempDir;

use crate::backend::{Backend, on_pool};
use crate::*;

/// Where a test's store lives: a temporary data directory (the key file is there on both
/// backends), and for PostgreSQL a fresh database of the test server.
struct TestDb {
    dir: TempDir,
    url: Option<DatabaseUrl>,
}

impl TestDb {
    fn sqlite() -> TestDb {
        TestDb {
            dir: data_dir(),
            url: None,
        }
    }

    fn postgres() -> TestDb {
        let url = calgate_pgtest::server().create_database();
        TestDb {
            dir: data_dir(),
            url: Some(DatabaseUrl::parse(&url).expect("test database URL")),
        }
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    async fn open(&self) -> Result<Store> {
        Store::open_database(self.dir.path(), self.url.as_ref()).await
    }
}

/// Runs each test `async fn name(db: TestDb)` on both backends, as `name::sqlite` and
/// `name::postgres`.
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(super::TestDb::sqlite()).await
            }

            #[tokio::test]
            async fn postgres() {
                super::$name(super::TestDb::postgres()).await
            }
        }
    };
}

/// SQLite's integrity check; PostgreSQL checks its own pages and has no such command.
async fn assert_sound(store: &Store) {
    if let Backend::Sqlite(_) = store.db() {
        assert_eq!(store.integrity_check().await.expect("check"), ["ok"]);
    }
}

const PASSWORD: &str = "Svc-Pa55-4e1f-in-clear-never";
const CLIENT_SECRET: &str = "Client-Secret-9c2d-never-clear";
const REFRESH_TOKEN: &str = "0.ARrefresh-token-7b3e-never-clear";
const ADMIN_PASSWORD: &str = "Admin-Pw-51aa-never-clear";

fn data_dir() -> TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn settings_with_secrets() -> CalendarSettings {
    let (s, _) = validate_json(
        &json!({
            "provider": "microsoft365",
            "tenant_id": "4b6c0d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e",
            "client_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
            "username": "attendant@contoso.com",
            "password": PASSWORD,
            "client_secret": CLIENT_SECRET,
            "refresh_interval_s": 120,
        }),
        &CalendarSettings::default(),
    )
    .expect("valid settings");
    s
}

fn person(email: &str, name: &str, ext: Option<&str>) -> WatchedPerson {
    WatchedPerson::manual(email, name, ext)
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn availability(mailbox: &str, fetched_at: &str) -> Availability {
    let mut event = CalendarEvent::new(
        ts("2026-11-27T09:00:00Z"),
        ts("2026-11-27T10:00:00Z"),
        BusyType::Busy,
    );
    event.subject = Some("Budget review".into());
    Availability {
        mailbox: mailbox.to_string(),
        window_start: ts("2026-11-27T00:00:00Z"),
        window_end: ts("2026-11-28T00:00:00Z"),
        events: vec![event],
        working_hours: None,
        out_of_office: Some(Box::new(OutOfOffice {
            message: Some("Back Monday".to_string()),
            start: None,
            end: None,
        })),
        fetched_at: ts(fetched_at),
        error: None,
    }
}

/// Every byte the store wrote except the key file.
fn database_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.file_name().and_then(|n| n.to_str()) != Some(KEY_FILE) && path.is_file() {
            all.extend(std::fs::read(&path).expect("read file"));
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

// SQLite only: the database file's mode and SQLite's pragmas.
#[tokio::test]
async fn first_open_creates_a_private_key_and_database() {
    let dir = data_dir();
    let store = Store::open(dir.path()).await.expect("open");
    let key = dir.path().join(KEY_FILE);
    assert_eq!(std::fs::metadata(&key).expect("key file").len(), 32);
    let fingerprint_key = store.fingerprint_key();
    assert_eq!(fingerprint_key.expose_secret().len(), 32);
    assert_ne!(
        fingerprint_key.expose_secret(),
        std::fs::read(&key).expect("key").as_slice()
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&key), 0o600);
        assert_eq!(mode(&dir.path().join(DB_FILE)), 0o600);
    }
    assert_eq!(
        store.integrity_check().await.expect("check"),
        vec!["ok".to_string()]
    );
    let (journal,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(store.pool_for_tests())
        .await
        .expect("pragma");
    assert_eq!(journal, "wal");
    let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(store.pool_for_tests())
        .await
        .expect("pragma");
    assert_eq!(fk, 1);
    // 2 = FULL: a commit is on disk before the call returns.
    let (synchronous,): (i64,) = sqlx::query_as("PRAGMA synchronous")
        .fetch_one(store.pool_for_tests())
        .await
        .expect("pragma");
    assert_eq!(synchronous, 2);
    assert!(
        store
            .load_calendar_settings()
            .await
            .expect("load")
            .is_none()
    );
    // Debug output names the directory and key id, never the key.
    let debug = format!("{store:?}");
    assert!(debug.contains(store.key_id()));
}

async fn settings_round_trip_with_audit_and_revisions(db: TestDb) {
    let store = db.open().await.expect("open");
    let first = settings_with_secrets();
    let saved = store
        .save_calendar_settings(&first, "admin")
        .await
        .expect("save");
    assert_eq!(saved.revision, 1);
    assert!(saved.changed_fields.contains(&"password".to_string()));
    assert!(saved.changed_fields.contains(&"provider".to_string()));

    let loaded = store
        .load_calendar_settings()
        .await
        .expect("load")
        .expect("present");
    assert_eq!(loaded.revision, 1);
    assert_eq!(loaded.updated_by, "admin");
    assert_eq!(loaded.settings.view(), first.view());
    assert_eq!(
        loaded.settings.password.as_ref().map(|p| p.expose_secret()),
        Some(PASSWORD)
    );
    assert_eq!(
        loaded
            .settings
            .client_secret
            .as_ref()
            .map(|p| p.expose_secret()),
        Some(CLIENT_SECRET)
    );
    assert!(calgate_settings::changed_fields(&first, &loaded.settings).is_empty());

    // Clearing the client secret and changing the interval: only those two are audited.
    let (second, _) = validate_json(
        &json!({"client_secret": null, "grant_modern_auth": true, "refresh_interval_s": 600}),
        &loaded.settings,
    )
    .expect("valid");
    let saved = store
        .save_calendar_settings(&second, "api-token:ops")
        .await
        .expect("save");
    assert_eq!(saved.revision, 2);
    assert_eq!(
        saved.changed_fields,
        vec!["grant_modern_auth", "client_secret", "refresh_interval_s"]
    );
    let loaded = store
        .load_calendar_settings()
        .await
        .expect("load")
        .expect("present");
    assert!(loaded.settings.client_secret.is_none());
    assert_eq!(loaded.settings.refresh_interval_s, 600);
    assert_eq!(
        loaded.settings.password.as_ref().map(|p| p.expose_secret()),
        Some(PASSWORD)
    );
    let (secrets,): (i64,) = on_pool!(store.db(), |pool| sqlx::query_as(
        "SELECT COUNT(*) FROM secrets"
    )
    .fetch_one(pool)
    .await
    .expect("count"));
    assert_eq!(secrets, 1, "a cleared secret leaves no sealed value behind");

    let audit = store.recent_audit(10).await.expect("audit");
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].revision, 2);
    assert_eq!(audit[0].actor, "api-token:ops");
    assert_eq!(
        audit[0].fields,
        vec!["grant_modern_auth", "client_secret", "refresh_interval_s"]
    );
    assert_eq!(audit[1].actor, "admin");
    let audit_text = format!("{audit:?}");
    assert!(!audit_text.contains(PASSWORD) && !audit_text.contains(CLIENT_SECRET));

    assert!(matches!(
        store.save_calendar_settings(&second, " ").await,
        Err(StoreError::InvalidInput { what: "actor", .. })
    ));
}
both!(settings_round_trip_with_audit_and_revisions);

async fn concurrent_saves_each_get_their_own_revision_and_audit_row(db: TestDb) {
    let store = std::sync::Arc::new(db.open().await.expect("open"));
    let base = settings_with_secrets();
    let mut tasks = Vec::new();
    for i in 0..16u32 {
        let store = store.clone();
        let (s, _) = validate_json(&json!({"refresh_interval_s": 100 + i}), &base).expect("valid");
        tasks.push(tokio::spawn(async move {
            store
                .save_calendar_settings(&s, &format!("actor-{i}"))
                .await
        }));
    }
    let mut revisions = Vec::new();
    for t in tasks {
        revisions.push(t.await.expect("task").expect("save").revision);
    }
    revisions.sort_unstable();
    assert_eq!(revisions, (1..=16).collect::<Vec<i64>>());
    let audit = store.recent_audit(100).await.expect("audit");
    assert_eq!(audit.len(), 16);
    let last = store
        .load_calendar_settings()
        .await
        .expect("load")
        .expect("present");
    assert_eq!(last.revision, 16);
    assert_eq!(audit[0].actor, last.updated_by);
}
both!(concurrent_saves_each_get_their_own_revision_and_audit_row);

// SQLite only: it reads the database files byte by byte.
#[tokio::test]
async fn secrets_are_not_in_clear_in_the_database_files() {
    let dir = data_dir();
    let store = Store::open(dir.path()).await.expect("open");
    store
        .save_calendar_settings(&settings_with_secrets(), "admin")
        .await
        .expect("save");
    store
        .save_refresh_token("cred-1", &SecretString::from(REFRESH_TOKEN))
        .await
        .expect("token");
    let api = store
        .create_api_token(ApiRole::Admin, "ops")
        .await
        .expect("api token");
    store
        .set_admin_password("admin", &SecretString::from(ADMIN_PASSWORD))
        .await
        .expect("admin");
    // Readable through the store...
    assert!(
        store
            .verify_api_token(api.secret.expose_secret())
            .await
            .expect("verify")
            .is_some()
    );
    // ...but in neither the database file nor its WAL.
    let bytes = database_bytes(dir.path());
    assert!(!bytes.is_empty());
    for secret in [
        PASSWORD,
        CLIENT_SECRET,
        REFRESH_TOKEN,
        ADMIN_PASSWORD,
        api.secret.expose_secret(),
    ] {
        assert!(!contains(&bytes, secret), "a secret is stored in clear");
    }
    // The non-secret settings are there, which shows the search itself works.
    assert!(contains(&bytes, "attendant@contoso.com"));
    store.close().await;
    let bytes = database_bytes(dir.path());
    for secret in [
        PASSWORD,
        CLIENT_SECRET,
        REFRESH_TOKEN,
        ADMIN_PASSWORD,
        api.secret.expose_secret(),
    ] {
        assert!(
            !contains(&bytes, secret),
            "a secret is stored in clear after checkpoint"
        );
    }
}

async fn without_the_key_file_secrets_stay_sealed(db: TestDb) {
    {
        let store = db.open().await.expect("open");
        store
            .save_calendar_settings(&settings_with_secrets(), "admin")
            .await
            .expect("save");
        store.close().await;
    }
    let key_path = db.dir().join(KEY_FILE);
    let original_key = std::fs::read(&key_path).expect("key");
    std::fs::remove_file(&key_path).expect("remove key");
    let err = db.open().await.expect_err("must refuse without the key");
    assert!(matches!(err, StoreError::KeyFileMissing { .. }), "{err}");
    assert!(
        !key_path.exists(),
        "a new key must not be made for a database with secrets"
    );

    // A different key: a clear error naming both key ids.
    write_key(&key_path, &[7u8; 32]);
    let err = db.open().await.expect_err("must refuse a wrong key");
    let StoreError::WrongKey {
        expected, found, ..
    } = &err
    else {
        panic!("expected WrongKey, got {err}")
    };
    assert_ne!(expected, found);
    assert!(err.to_string().contains("restore the matching key file"));

    // The right key again: everything opens.
    std::fs::remove_file(&key_path).expect("remove key");
    write_key(&key_path, &original_key);
    let store = db.open().await.expect("open with the right key");
    assert_the_password_opens(&store).await;
}
both!(without_the_key_file_secrets_stay_sealed);

fn write_key(path: &Path, key: &[u8]) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options
        .open(path)
        .expect("create key")
        .write_all(key)
        .expect("write key");
}

#[cfg(unix)]
async fn a_key_file_others_can_read_is_refused(db: TestDb) {
    use std::os::unix::fs::PermissionsExt;
    db.open().await.expect("open").close().await;
    let key_path = db.dir().join(KEY_FILE);
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = db.open().await.expect_err("refused");
    assert!(
        matches!(err, StoreError::KeyFilePermissions { mode: 0o644, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("chmod 600"));
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    db.open().await.expect("open again");
}
both!(a_key_file_others_can_read_is_refused);

async fn a_truncated_key_file_is_refused(db: TestDb) {
    std::fs::create_dir_all(db.dir()).expect("dir");
    write_key(&db.dir().join(KEY_FILE), &[1u8; 16]);
    let err = db.open().await.expect_err("refused");
    assert!(
        matches!(err, StoreError::KeyFileInvalid { len: 16, .. }),
        "{err}"
    );
}
both!(a_truncated_key_file_is_refused);

async fn a_sealed_value_opens_only_in_its_own_slot(db: TestDb) {
    let store = db.open().await.expect("open");
    store
        .save_calendar_settings(&settings_with_secrets(), "admin")
        .await
        .expect("save");
    // Move the password's ciphertext into the client-secret slot.
    on_pool!(store.db(), |pool| {
        sqlx::query(
        "UPDATE secrets SET sealed = (SELECT sealed FROM secrets WHERE slot = 'calendar_settings.password') \
         WHERE slot = 'calendar_settings.client_secret'",
    )
    .execute(pool)
    .await
    .expect("swap").rows_affected()
    });
    let err = store
        .load_calendar_settings()
        .await
        .expect_err("must not open");
    assert!(
        matches!(&err, StoreError::Undecryptable { slot } if slot.contains("client_secret")),
        "{err}"
    );
    assert!(!err.to_string().contains(PASSWORD));

    // A flipped bit is refused as well.
    store
        .save_refresh_token("cred-1", &SecretString::from(REFRESH_TOKEN))
        .await
        .expect("save");
    let (mut sealed,): (Vec<u8>,) = on_pool!(store.db(), |pool| sqlx::query_as(
        "SELECT sealed FROM refresh_tokens WHERE fingerprint = 'cred-1'"
    )
    .fetch_one(pool)
    .await
    .expect("row"));
    if let Some(last) = sealed.last_mut() {
        *last ^= 0x01;
    }
    on_pool!(store.db(), |pool| sqlx::query(
        "UPDATE refresh_tokens SET sealed = $1 WHERE fingerprint = 'cred-1'"
    )
    .bind(sealed)
    .execute(pool)
    .await
    .expect("tamper")
    .rows_affected());
    let err = store
        .load_refresh_token("cred-1")
        .await
        .expect_err("must not open");
    assert!(matches!(err, StoreError::Undecryptable { .. }), "{err}");
}
both!(a_sealed_value_opens_only_in_its_own_slot);

async fn guard_state_and_refresh_tokens_round_trip(db: TestDb) {
    let store = db.open().await.expect("open");
    let state =
        json!({"failures": 2, "next_probe": "2026-11-27T12:00:00Z", "reason": "ENTRA_AADSTS50126"});
    store.save_guard_state("fp-a", &state).await.expect("save");
    store
        .save_guard_state("fp-b", &json!({"failures": 0}))
        .await
        .expect("save");
    assert_eq!(
        store.load_guard_state("fp-a").await.expect("load"),
        Some(state.clone())
    );
    let updated = json!({"failures": 3});
    store
        .save_guard_state("fp-a", &updated)
        .await
        .expect("save");
    let all = store.load_guard_states().await.expect("all");
    assert_eq!(
        all,
        vec![
            ("fp-a".to_string(), updated),
            ("fp-b".to_string(), json!({"failures": 0}))
        ]
    );
    assert!(store.delete_guard_state("fp-b").await.expect("delete"));
    assert!(!store.delete_guard_state("fp-b").await.expect("delete"));
    assert_eq!(store.load_guard_state("fp-b").await.expect("load"), None);
    assert!(store.save_guard_state("", &state).await.is_err());

    assert!(
        store
            .load_refresh_token("fp-a")
            .await
            .expect("load")
            .is_none()
    );
    store
        .save_refresh_token("fp-a", &SecretString::from("first"))
        .await
        .expect("save");
    store
        .save_refresh_token("fp-a", &SecretString::from(REFRESH_TOKEN))
        .await
        .expect("rotate");
    let token = store
        .load_refresh_token("fp-a")
        .await
        .expect("load")
        .expect("present");
    assert_eq!(token.expose_secret(), REFRESH_TOKEN);
    assert!(store.delete_refresh_token("fp-a").await.expect("delete"));
    assert!(
        store
            .load_refresh_token("fp-a")
            .await
            .expect("load")
            .is_none()
    );
}
both!(guard_state_and_refresh_tokens_round_trip);

async fn the_watch_list_upserts_searches_and_deletes(db: TestDb) {
    let store = db.open().await.expect("open");
    let n = store
        .upsert_people(&[
            person("Anna.Rossi@Contoso.com", "Anna Rossi", Some("2041")),
            person("bruno.bianchi@contoso.com", "Bruno Bianchi", Some("2042")),
            person("carla.verdi@contoso.com", "Carla Verdi", Some("3100")),
            person("d_100%@contoso.com", "", None),
            person("elena.moretti@contoso.com", "", None),
        ])
        .await
        .expect("upsert");
    assert_eq!(n, 5);
    assert_eq!(store.count_people().await.expect("count"), 5);
    let anna = store
        .get_person("anna.rossi@contoso.com")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        anna.email, "anna.rossi@contoso.com",
        "emails are stored lower-cased"
    );
    assert_eq!(anna.extension.as_deref(), Some("2041"));
    let d = store
        .get_person("D_100%@contoso.com")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        d.display_name, "d_100%@contoso.com",
        "an empty name falls back to the email"
    );

    let emails =
        |people: Vec<WatchedPerson>| people.into_iter().map(|p| p.email).collect::<Vec<_>>();
    assert_eq!(
        emails(store.search_people("anna", 10).await.expect("s")),
        vec!["anna.rossi@contoso.com"]
    );
    assert_eq!(
        emails(store.search_people("ROSSI", 10).await.expect("s")),
        vec!["anna.rossi@contoso.com"],
        "last name, any case"
    );
    assert_eq!(
        emails(store.search_people("bruno.b", 10).await.expect("s")),
        vec!["bruno.bianchi@contoso.com"]
    );
    assert_eq!(
        emails(store.search_people("204", 10).await.expect("s")),
        vec!["anna.rossi@contoso.com", "bruno.bianchi@contoso.com"]
    );
    assert!(
        store.search_people("ossi", 10).await.expect("s").is_empty(),
        "prefixes only"
    );
    // Listed without a name: found by any word of the address's local part, but the domain
    // everyone shares is not a name.
    assert_eq!(
        emails(store.search_people("moret", 10).await.expect("s")),
        vec!["elena.moretti@contoso.com"]
    );
    assert!(
        store
            .search_people("contoso", 10)
            .await
            .expect("s")
            .is_empty(),
        "the shared domain matches nobody"
    );
    assert!(
        store.search_people("%", 10).await.expect("s").is_empty(),
        "wildcards are literal"
    );
    assert_eq!(
        emails(store.search_people("d_1", 10).await.expect("s")),
        vec!["d_100%@contoso.com"]
    );
    assert_eq!(
        store.search_people("", 2).await.expect("s").len(),
        2,
        "limit applies"
    );

    // Upsert updates in place.
    store
        .upsert_people(&[person(
            "anna.rossi@contoso.com",
            "Anna Rossi-Neri",
            Some("2099"),
        )])
        .await
        .expect("update");
    let anna = store
        .get_person("anna.rossi@contoso.com")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        (anna.display_name.as_str(), anna.extension.as_deref()),
        ("Anna Rossi-Neri", Some("2099"))
    );
    assert_eq!(store.count_people().await.expect("count"), 5);
    assert_eq!(
        emails(store.search_people("neri", 10).await.expect("s")),
        vec!["anna.rossi@contoso.com"]
    );
    assert_eq!(
        emails(store.search_people("2099", 10).await.expect("s")),
        vec!["anna.rossi@contoso.com"]
    );
    assert!(
        store.search_people("2041", 10).await.expect("s").is_empty(),
        "the old extension is gone"
    );
    store
        .upsert_people(&[person("carla.verdi@contoso.com", "Carla Blu", Some("3100"))])
        .await
        .expect("rename");
    assert!(
        store
            .search_people("verdi", 10)
            .await
            .expect("s")
            .is_empty(),
        "the old name's words are gone"
    );
    assert!(
        !store
            .search_people("carla.v", 10)
            .await
            .expect("s")
            .is_empty(),
        "the email still matches"
    );
    assert_eq!(
        emails(store.search_people("blu", 10).await.expect("s")),
        vec!["carla.verdi@contoso.com"]
    );

    // Within one batch the last entry for an email wins.
    let n = store
        .upsert_people(&[
            person("eva.neri@contoso.com", "Eva First", None),
            person("EVA.NERI@contoso.com", "Eva Second", Some("7")),
        ])
        .await
        .expect("upsert");
    assert_eq!(n, 1);
    let eva = store
        .get_person("eva.neri@contoso.com")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        (eva.display_name.as_str(), eva.extension.as_deref()),
        ("Eva Second", Some("7"))
    );
    assert!(
        store
            .search_people("first", 10)
            .await
            .expect("s")
            .is_empty()
    );
    assert!(
        store
            .delete_person("eva.neri@contoso.com")
            .await
            .expect("delete")
    );

    // A bad entry refuses the whole batch.
    let err = store
        .upsert_people(&[
            person("eve@contoso.com", "Eve", None),
            person("not-an-address", "X", None),
        ])
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, StoreError::InvalidInput { reason, .. } if reason.starts_with("entry 1")),
        "{err}"
    );
    assert!(
        store
            .get_person("eve@contoso.com")
            .await
            .expect("get")
            .is_none()
    );

    assert!(
        store
            .delete_person("BRUNO.BIANCHI@contoso.com")
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_person("bruno.bianchi@contoso.com")
            .await
            .expect("delete")
    );
    assert_eq!(
        emails(store.list_people().await.expect("list")),
        vec![
            "anna.rossi@contoso.com",
            "carla.verdi@contoso.com",
            "d_100%@contoso.com",
            "elena.moretti@contoso.com"
        ]
    );
    let (words,): (i64,) = on_pool!(store.db(), |pool| sqlx::query_as(
        "SELECT COUNT(*) FROM people_name_words WHERE email = 'bruno.bianchi@contoso.com'",
    )
    .fetch_one(pool)
    .await
    .expect("count"));
    assert_eq!(words, 0, "deleting a person deletes their name words");
}
both!(the_watch_list_upserts_searches_and_deletes);

/// A list sent again rewrites nobody stored exactly as given (a directory's hourly sync, a
/// re-sent list): their rows keep their write time; a changed extension is written without
/// touching the name words, a changed name moves them.
async fn an_unchanged_person_is_not_written_again(db: TestDb) {
    let store = db.open().await.expect("open");
    let list = [
        person("anna.rossi@contoso.com", "Anna Rossi", Some("2041")),
        person("bruno.bianchi@contoso.com", "", None),
    ];
    store.upsert_people(&list).await.expect("first");
    async fn written(store: &Store) -> Vec<(String, i64)> {
        on_pool!(store.db(), |pool| sqlx::query_as(
            "SELECT email, updated_at_ms FROM people ORDER BY email"
        )
        .fetch_all(pool)
        .await
        .expect("rows"))
    }
    let before = written(&store).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(store.upsert_people(&list).await.expect("again"), 2);
    assert_eq!(written(&store).await, before, "nothing rewritten");
    store
        .upsert_people(&[
            person("anna.rossi@contoso.com", "Anna Rossi", Some("2099")),
            person("bruno.bianchi@contoso.com", "Bruno Bianchi", None),
        ])
        .await
        .expect("changes");
    let after = written(&store).await;
    assert!(
        after[0].1 > before[0].1 && after[1].1 > before[1].1,
        "{after:?}"
    );
    let emails =
        |people: Vec<WatchedPerson>| people.into_iter().map(|p| p.email).collect::<Vec<_>>();
    assert_eq!(
        emails(store.search_people("rossi", 10).await.expect("s")),
        vec!["anna.rossi@contoso.com"]
    );
    assert_eq!(
        emails(store.search_people("2099", 10).await.expect("s")),
        vec!["anna.rossi@contoso.com"]
    );
    assert_eq!(
        emails(store.search_people("bianchi", 10).await.expect("s")),
        vec!["bruno.bianchi@contoso.com"]
    );
}
both!(an_unchanged_person_is_not_written_again);

async fn api_tokens_are_stored_hashed_and_verify_by_role(db: TestDb) {
    let store = db.open().await.expect("open");
    let admin = store
        .create_api_token(ApiRole::Admin, "ops laptop")
        .await
        .expect("create");
    let console = store
        .create_api_token(ApiRole::Console, "reception")
        .await
        .expect("create");
    assert!(admin.secret.expose_secret().starts_with("cgt_"));
    assert_ne!(admin.secret.expose_secret(), console.secret.expose_secret());
    assert!(!format!("{admin:?}").contains(admin.secret.expose_secret()));

    let verified = store
        .verify_api_token(admin.secret.expose_secret())
        .await
        .expect("verify")
        .expect("valid");
    assert_eq!(verified.role, ApiRole::Admin);
    assert_eq!(verified.id, admin.token.id);
    assert!(verified.last_used_at.is_some());
    let verified = store
        .verify_api_token(console.secret.expose_secret())
        .await
        .expect("verify")
        .expect("valid");
    assert_eq!(verified.role, ApiRole::Console);

    // A near miss and garbage do not verify.
    let mut near = admin.secret.expose_secret().to_string();
    near.pop();
    near.push('x');
    assert!(
        store
            .verify_api_token(&near)
            .await
            .expect("verify")
            .is_none()
    );
    assert!(store.verify_api_token("").await.expect("verify").is_none());

    // Only the hash is stored.
    let (hash,): (Vec<u8>,) = on_pool!(store.db(), |pool| sqlx::query_as(
        "SELECT token_sha256 FROM api_tokens WHERE id = $1"
    )
    .bind(admin.token.id.to_string())
    .fetch_one(pool)
    .await
    .expect("row"));
    use sha2::Digest;
    assert_eq!(
        hash,
        sha2::Sha256::digest(admin.secret.expose_secret().as_bytes()).to_vec()
    );

    assert_eq!(store.list_api_tokens().await.expect("list").len(), 2);
    assert!(
        store
            .revoke_api_token(admin.token.id)
            .await
            .expect("revoke")
    );
    assert!(
        store
            .verify_api_token(admin.secret.expose_secret())
            .await
            .expect("verify")
            .is_none()
    );
    assert!(
        !store
            .revoke_api_token(admin.token.id)
            .await
            .expect("revoke twice")
    );
    let live = store.list_api_tokens().await.expect("list");
    assert_eq!(
        live.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
        vec!["reception"]
    );
}
both!(api_tokens_are_stored_hashed_and_verify_by_role);

async fn the_admin_password_is_argon2id_and_verifies(db: TestDb) {
    let store = db.open().await.expect("open");
    let pw = SecretString::from(ADMIN_PASSWORD);
    assert!(
        !store
            .verify_admin_password("admin", &pw)
            .await
            .expect("verify"),
        "no admin yet"
    );
    assert_eq!(store.admin_username().await.expect("name"), None);
    store.set_admin_password("admin", &pw).await.expect("set");
    assert_eq!(
        store.admin_username().await.expect("name").as_deref(),
        Some("admin")
    );
    assert!(
        store
            .verify_admin_password("admin", &pw)
            .await
            .expect("verify")
    );
    assert!(
        !store
            .verify_admin_password("admin", &SecretString::from("wrong"))
            .await
            .expect("verify")
    );
    assert!(
        !store
            .verify_admin_password("root", &pw)
            .await
            .expect("verify")
    );
    let (phc,): (String,) = on_pool!(store.db(), |pool| sqlx::query_as(
        "SELECT password_hash FROM admin_user"
    )
    .fetch_one(pool)
    .await
    .expect("row"));
    assert!(phc.starts_with("$argon2id$"), "PHC string of Argon2id");

    let new_pw = SecretString::from("another long passphrase");
    let stamp = store
        .set_admin_password("admin", &new_pw)
        .await
        .expect("replace");
    assert_eq!(
        store.admin_credential_stamp().await.expect("stamp"),
        Some(stamp),
        "the stamp answered is the stored one's"
    );
    assert!(
        !store
            .verify_admin_password("admin", &pw)
            .await
            .expect("verify"),
        "the old password is gone"
    );
    assert!(
        store
            .verify_admin_password("admin", &new_pw)
            .await
            .expect("verify")
    );
    assert!(
        store
            .set_admin_password("admin", &SecretString::from(""))
            .await
            .is_err()
    );
}
both!(the_admin_password_is_argon2id_and_verifies);

async fn a_large_save_spans_statements_and_keeps_the_newest_of_duplicates(db: TestDb) {
    let store = db.open().await.expect("open");
    // More rows than one statement holds, with mailboxes repeated next to each other (one
    // statement) and far apart (two statements), the newer one first and second.
    let mut items: Vec<Availability> = (0..450)
        .map(|i| availability(&format!("person{i:03}@contoso.com"), "2026-11-27T08:00:00Z"))
        .collect();
    items.insert(
        21,
        availability("person021@contoso.com", "2026-11-27T08:40:00Z"),
    );
    items.insert(
        31,
        availability("person029@contoso.com", "2026-11-27T07:40:00Z"),
    );
    items.push(availability(
        "person010@contoso.com",
        "2026-11-27T08:10:00Z",
    ));
    items.push(availability(
        "person300@contoso.com",
        "2026-11-27T07:10:00Z",
    ));
    let mut newest = std::collections::HashMap::new();
    for a in &items {
        let at = newest.entry(a.mailbox.clone()).or_insert(a.fetched_at);
        *at = (*at).max(a.fetched_at);
    }
    store.save_availability(&items).await.expect("save");
    let loaded = store.load_availability().await.expect("load");
    assert_eq!(loaded.len(), 450);
    for a in &loaded {
        assert_eq!(Some(&a.fetched_at), newest.get(&a.mailbox), "{}", a.mailbox);
    }
    // Read back in pages (a warm restart's way): the same rows, in order, none twice.
    let mut paged = Vec::new();
    let mut after = String::new();
    loop {
        let page = store
            .load_availability_page(&after, 100)
            .await
            .expect("page");
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 100);
        after.clone_from(&last.mailbox);
        paged.extend(page);
    }
    assert_eq!(paged, loaded);
    let at = |m: &str| loaded.iter().find(|a| a.mailbox == m).map(|a| a.fetched_at);
    assert_eq!(
        at("person021@contoso.com"),
        Some(ts("2026-11-27T08:40:00Z"))
    );
    assert_eq!(
        at("person010@contoso.com"),
        Some(ts("2026-11-27T08:10:00Z"))
    );
    assert_eq!(
        at("person300@contoso.com"),
        Some(ts("2026-11-27T08:00:00Z"))
    );
}
both!(a_large_save_spans_statements_and_keeps_the_newest_of_duplicates);

async fn last_known_availability_round_trips_and_never_rolls_back(db: TestDb) {
    let store = db.open().await.expect("open");
    let newer = availability("anna.rossi@contoso.com", "2026-11-27T08:05:00Z");
    let other = availability("bruno.bianchi@contoso.com", "2026-11-27T08:00:00Z");
    store
        .save_availability(&[newer.clone(), other.clone()])
        .await
        .expect("save");
    assert_eq!(
        store.load_availability().await.expect("load"),
        vec![newer.clone(), other.clone()]
    );

    // A late, older result is ignored; a newer one replaces.
    let older = availability("anna.rossi@contoso.com", "2026-11-27T08:00:00Z");
    store.save_availability(&[older]).await.expect("save");
    assert_eq!(
        store
            .load_availability_for("Anna.Rossi@contoso.com")
            .await
            .expect("load"),
        Some(newer)
    );
    let newest = Availability {
        events: Vec::new(),
        ..availability("anna.rossi@contoso.com", "2026-11-27T08:10:00Z")
    };
    store
        .save_availability(std::slice::from_ref(&newest))
        .await
        .expect("save");
    assert_eq!(
        store
            .load_availability_for("anna.rossi@contoso.com")
            .await
            .expect("load"),
        Some(newest)
    );

    // Removing a person from the watch list drops what was cached for them.
    store
        .upsert_people(&[person("bruno.bianchi@contoso.com", "Bruno", None)])
        .await
        .expect("upsert");
    store
        .delete_person("bruno.bianchi@contoso.com")
        .await
        .expect("delete");
    assert_eq!(
        store
            .load_availability_for("bruno.bianchi@contoso.com")
            .await
            .expect("load"),
        None
    );
}
both!(last_known_availability_round_trips_and_never_rolls_back);

async fn reopening_keeps_everything(db: TestDb) {
    let settings = settings_with_secrets();
    let fingerprint_key;
    let (console_secret, key_id) = {
        let store = db.open().await.expect("open");
        store
            .save_calendar_settings(&settings, "admin")
            .await
            .expect("save");
        store
            .save_guard_state("fp", &json!({"failures": 1}))
            .await
            .expect("guard");
        store
            .save_refresh_token("fp", &SecretString::from(REFRESH_TOKEN))
            .await
            .expect("refresh");
        store
            .upsert_people(&[person("anna.rossi@contoso.com", "Anna Rossi", Some("2041"))])
            .await
            .expect("people");
        let token = store
            .create_api_token(ApiRole::Console, "reception")
            .await
            .expect("token");
        store
            .set_admin_password("admin", &SecretString::from(ADMIN_PASSWORD))
            .await
            .expect("admin");
        store
            .save_availability(&[availability(
                "anna.rossi@contoso.com",
                "2026-11-27T08:00:00Z",
            )])
            .await
            .expect("avail");
        let key_id = store.key_id().to_string();
        fingerprint_key = store.fingerprint_key().expose_secret().to_vec();
        // Dropped without close(): as after a crash, the WAL holds the latest commits.
        drop(store);
        (token.secret, key_id)
    };
    let store = db.open().await.expect("reopen");
    assert_eq!(store.key_id(), key_id);
    assert_eq!(
        store.fingerprint_key().expose_secret(),
        fingerprint_key.as_slice()
    );
    let loaded = store
        .load_calendar_settings()
        .await
        .expect("load")
        .expect("present");
    assert!(calgate_settings::changed_fields(&settings, &loaded.settings).is_empty());
    assert_eq!(
        store.load_guard_state("fp").await.expect("guard"),
        Some(json!({"failures": 1}))
    );
    assert_eq!(
        store
            .load_refresh_token("fp")
            .await
            .expect("refresh")
            .map(|t| t.expose_secret().to_string())
            .as_deref(),
        Some(REFRESH_TOKEN)
    );
    assert_eq!(store.count_people().await.expect("people"), 1);
    assert!(
        store
            .verify_api_token(console_secret.expose_secret())
            .await
            .expect("token")
            .is_some()
    );
    assert!(
        store
            .verify_admin_password("admin", &SecretString::from(ADMIN_PASSWORD))
            .await
            .expect("admin")
    );
    assert_eq!(store.load_availability().await.expect("avail").len(), 1);
    assert_eq!(store.recent_audit(10).await.expect("audit").len(), 1);
    assert_sound(&store).await;
}
both!(reopening_keeps_everything);

// SQLite only: `max_page_count` makes SQLite answer `SQLITE_FULL`.
#[tokio::test]
async fn a_full_disk_is_its_own_error_and_loses_nothing_saved() {
    let dir = data_dir();
    {
        let store = Store::open(dir.path()).await.expect("open");
        store
            .save_calendar_settings(&settings_with_secrets(), "admin")
            .await
            .expect("save");
        store.close().await;
    }
    let (pages,): (i64,) = {
        let store = Store::open(dir.path()).await.expect("open");
        let n = sqlx::query_as("PRAGMA page_count")
            .fetch_one(store.pool_for_tests())
            .await
            .expect("pages");
        store.close().await;
        n
    };
    // A size limit a few pages above the current size: SQLite answers SQLITE_FULL beyond it.
    let limit = u32::try_from(pages).expect("pages") + 4;
    let store = Store::open_with(
        dir.path(),
        OpenOptions {
            max_page_count: Some(limit),
        },
    )
    .await
    .expect("open");
    let crowd: Vec<WatchedPerson> = (0..5_000)
        .map(|i| {
            person(
                &format!("person{i:05}@contoso.com"),
                &format!("Person Number {i:05} With A Longer Name"),
                Some("1000"),
            )
        })
        .collect();
    let err = store
        .upsert_people(&crowd)
        .await
        .expect_err("the database is full");
    assert!(
        matches!(err, StoreError::DiskFull(_)),
        "expected DiskFull, got {err:?}"
    );
    assert!(err.to_string().contains("disk is full"));
    // The failed batch was rolled back as a whole; what was saved before is intact.
    assert_eq!(store.count_people().await.expect("count"), 0);
    let loaded = store
        .load_calendar_settings()
        .await
        .expect("load")
        .expect("present");
    assert_eq!(
        loaded.settings.password.as_ref().map(|p| p.expose_secret()),
        Some(PASSWORD)
    );
    assert_eq!(
        store.integrity_check().await.expect("check"),
        vec!["ok".to_string()]
    );
}

/// Set for the child process of the kill test: the data directory to save into.
const KILL_TEST_DIR_ENV: &str = "CALGATE_STORE_KILL_TEST_DIR";

/// Not a test on its own: the child process of the kill test below. It saves settings as fast as
/// it can and prints each acknowledged revision with the refresh interval it saved.
#[tokio::test]
#[ignore = "run as a child process by kill_9_during_a_burst_of_saves_keeps_the_last_acknowledged_one"]
async fn child_saving_settings_until_killed() {
    let Ok(dir) = std::env::var(KILL_TEST_DIR_ENV) else {
        return;
    };
    let store = Store::open(Path::new(&dir)).await.expect("open");
    let base = settings_with_secrets();
    for i in 0u32.. {
        let (s, _) =
            validate_json(&json!({"refresh_interval_s": 10 + i % 80_000}), &base).expect("valid");
        let saved = store
            .save_calendar_settings(&s, "burst")
            .await
            .expect("save");
        // `println!` flushes at the newline: the parent sees an ACK only after the commit.
        println!("ACK {} {}", saved.revision, s.refresh_interval_s);
    }
}

// SQLite only: a killed writer and the file it leaves behind.
#[test]
fn kill_9_during_a_burst_of_saves_keeps_the_last_acknowledged_one() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = data_dir();
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "tests::child_saving_settings_until_killed",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(KILL_TEST_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the saving child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut acks = 0u32;
    let mut last: Option<(i64, u32)> = None;
    let mut killed = false;
    // Read every line, including those already in the pipe when the kill lands: each is an
    // acknowledged save.
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Some(rest) = line.strip_prefix("ACK ") else {
            continue;
        };
        let mut parts = rest.split(' ');
        let revision = parts.next().and_then(|r| r.parse().ok()).expect("revision");
        let interval = parts.next().and_then(|r| r.parse().ok()).expect("interval");
        last = Some((revision, interval));
        acks += 1;
        if acks == 60 && !killed {
            // SIGKILL on Unix: no destructors, no checkpoint, mid-transaction.
            child.kill().expect("kill -9");
            killed = true;
        }
    }
    child.wait().expect("reap");
    assert!(
        killed,
        "the child stopped before 60 saves ({acks} acknowledged)"
    );
    let (acked_revision, acked_interval) = last.expect("at least one acknowledged save");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = Store::open(dir.path()).await.expect("reopen after kill -9");
        assert_eq!(
            store.integrity_check().await.expect("check"),
            vec!["ok".to_string()]
        );
        let loaded = store
            .load_calendar_settings()
            .await
            .expect("load")
            .expect("present");
        // The last acknowledged save is there; at most one more committed without being reported.
        assert!(
            loaded.revision == acked_revision || loaded.revision == acked_revision + 1,
            "acknowledged revision {acked_revision}, found {}",
            loaded.revision
        );
        if loaded.revision == acked_revision {
            assert_eq!(loaded.settings.refresh_interval_s, acked_interval);
        }
        assert_eq!(
            loaded.settings.password.as_ref().map(|p| p.expose_secret()),
            Some(PASSWORD)
        );
        // Settings and audit were written together: one audit row per surviving revision.
        let audit = store.recent_audit(10_000).await.expect("audit");
        assert_eq!(audit.len() as i64, loaded.revision);
        assert_eq!(audit[0].revision, loaded.revision);
    });
}

async fn sources_keep_their_own_settings_and_secrets(db: TestDb) {
    let store = db.open().await.expect("open");
    let (onprem, _) = validate_json(
        &json!({"provider": "exchange", "grant_windows_auth": true,
            "username": "CONTOSO\\svc", "password": "OnPrem-Pw-7f1e-never-clear",
            "ews_url": "https://mail.contoso.com/EWS/Exchange.asmx"}),
        &CalendarSettings::default(),
    )
    .expect("valid");
    let online = settings_with_secrets();
    store
        .save_source("onprem", Some("  On premises "), &onprem, "admin")
        .await
        .expect("save onprem");
    store
        .save_calendar_settings(&online, "admin")
        .await
        .expect("save default");
    let saved = store
        .save_source("onprem", None, &onprem, "admin")
        .await
        .expect("save again");
    assert_eq!(saved.revision, 2);
    assert!(
        saved.changed_fields.is_empty(),
        "{:?}",
        saved.changed_fields
    );

    let sources = store.load_sources().await.expect("load");
    let ids: Vec<&str> = sources.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["default", "onprem"]);
    assert_eq!(
        sources[1].display_name, "On premises",
        "kept by a save without a name"
    );
    let pw = |s: &StoredSource| {
        s.settings
            .secret(calgate_settings::SecretField::Password)
            .map(|p| p.expose_secret().to_string())
    };
    assert_eq!(
        pw(&sources[1]).as_deref(),
        Some("OnPrem-Pw-7f1e-never-clear")
    );
    assert_eq!(pw(&sources[0]).as_deref(), Some(PASSWORD));

    // Odd ids are refused before anything is written.
    for bad in ["", "On Prem", "../default", &"x".repeat(33)] {
        let e = store.save_source(bad, None, &onprem, "admin").await;
        assert!(
            matches!(e, Err(StoreError::InvalidInput { .. })),
            "{bad:?}: {e:?}"
        );
    }
    assert_eq!(store.load_sources().await.expect("load").len(), 2);

    // A routed source cannot go; once unrouted it goes with its secrets.
    let routing: calgate_settings::RoutingTable = serde_json::from_value(
        json!({"default": "default", "domains": {"onprem.contoso.com": "onprem"}}),
    )
    .expect("table");
    store.save_routing(&routing, "admin").await.expect("route");
    let e = store.delete_source("onprem", "admin").await;
    assert!(matches!(e, Err(StoreError::InUse { .. })), "{e:?}");
    let ghost: calgate_settings::RoutingTable =
        serde_json::from_value(json!({"default": "ghost"})).expect("table");
    let e = store.save_routing(&ghost, "admin").await;
    assert!(matches!(e, Err(StoreError::InvalidInput { .. })), "{e:?}");
    assert_eq!(store.load_routing().await.expect("load"), Some(routing));
    store
        .save_routing(&calgate_settings::RoutingTable::default(), "admin")
        .await
        .expect("unroute");
    assert!(
        store
            .delete_source("onprem", "admin")
            .await
            .expect("delete")
    );
    assert!(!store.delete_source("onprem", "admin").await.expect("gone"));
    let slots: Vec<(String,)> = on_pool!(store.db(), |pool| sqlx::query_as(
        "SELECT slot FROM secrets ORDER BY slot"
    )
    .fetch_all(pool)
    .await
    .expect("slots"));
    assert!(
        slots.iter().all(|(s,)| s.starts_with("calendar_settings.")),
        "{slots:?}"
    );
    let audit = store.recent_audit(10).await.expect("audit");
    assert_eq!(audit[0].subject, "source:onprem");
    assert_eq!(audit[0].fields, ["deleted"]);
    assert!(audit.iter().any(|a| a.subject == "routing"));
}
both!(sources_keep_their_own_settings_and_secrets);

// SQLite only: a data directory of release 0.1.0 (no PostgreSQL database is that old).
/// A data directory written by release 0.1.0 (one source, schema 2) opens: its settings become
/// the source `default` with their sealed password usable, and nothing else is lost.
#[tokio::test]
async fn a_database_of_release_0_1_0_upgrades_in_place() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../calgate-testkit/fixtures/db-0.1.0-single-source");
    let dir = data_dir();
    for file in ["calgate.db", "secret.key"] {
        std::fs::copy(fixture.join(file), dir.path().join(file)).expect("copy fixture");
    }
    std::fs::set_permissions(
        dir.path().join("secret.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    let store = Store::open(dir.path())
        .await
        .expect("open the old database");
    let sources = store.load_sources().await.expect("sources");
    assert_eq!(sources.len(), 1);
    let default = &sources[0];
    assert_eq!(default.id, "default");
    assert_eq!(default.revision, 1);
    assert_eq!(default.updated_by, "api-token:fixture");
    let view = default.settings.view();
    assert_eq!(
        view.ews_url.as_ref().map(ToString::to_string).as_deref(),
        Some("https://mail.contoso.com/EWS/Exchange.asmx")
    );
    assert_eq!(view.refresh_interval_s, 120);
    assert_eq!(
        default
            .settings
            .secret(calgate_settings::SecretField::Password)
            .map(|p| p.expose_secret().to_string())
            .as_deref(),
        Some("Fixture-Passw0rd!")
    );
    assert_eq!(store.load_routing().await.expect("routing"), None);
    let people = store.list_people().await.expect("people");
    let emails: Vec<&str> = people.iter().map(|p| p.email.as_str()).collect();
    assert_eq!(emails, ["ann.lee@contoso.com", "bob.ruiz@contoso.com"]);
    assert!(
        people.iter().all(|p| p.origin == ORIGIN_MANUAL),
        "people of 0.1.0 were added by hand: {people:?}"
    );
    assert_eq!(
        store.search_people("lee", 10).await.expect("search").len(),
        1
    );
    let tokens = store.list_api_tokens().await.expect("tokens");
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].label, "fixture");
    assert!(
        store
            .verify_admin_password("admin", &SecretString::from("DErwyJQN39jmi6KFxVvJ"))
            .await
            .expect("verify")
    );
    assert_eq!(store.integrity_check().await.expect("check"), ["ok"]);
}

// SQLite only: a data directory written at schema 5.
/// A data directory written at schema 5 (two sources routed by domain, a directory, people of
/// both, two API tokens) opens with everything, every sealed secret usable. Kept so that later
/// releases prove they upgrade an installation of today.
#[tokio::test]
async fn a_database_of_schema_5_opens_with_everything() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../calgate-testkit/fixtures/db-schema-5-hybrid");
    let dir = data_dir();
    for file in ["calgate.db", "secret.key"] {
        std::fs::copy(fixture.join(file), dir.path().join(file)).expect("copy fixture");
    }
    std::fs::set_permissions(
        dir.path().join("secret.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    let store = Store::open(dir.path()).await.expect("open the database");
    let sources = store.load_sources().await.expect("sources");
    let ids: Vec<&str> = sources.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["default", "online"]);
    let secret = |s: &StoredSource, field| {
        s.settings
            .secret(field)
            .map(|p| p.expose_secret().to_string())
    };
    assert_eq!(
        secret(&sources[0], calgate_settings::SecretField::Password).as_deref(),
        Some("Fixture-Passw0rd-2!")
    );
    assert_eq!(sources[0].settings.view().refresh_interval_s, 120);
    assert_eq!(sources[1].display_name, "Microsoft 365");
    assert_eq!(
        secret(&sources[1], calgate_settings::SecretField::ClientSecret).as_deref(),
        Some("Fixture-Client-Secret-2")
    );
    let routing = store.load_routing().await.expect("routing").expect("saved");
    assert_eq!(routing.source_for("carla.diaz@fabrikam.com"), "online");
    assert_eq!(routing.source_for("ann.lee@contoso.com"), "default");
    let people = store.list_people().await.expect("people");
    let people: Vec<(&str, Option<&str>)> = people
        .iter()
        .map(|p| (p.email.as_str(), p.extension.as_deref()))
        .collect();
    assert_eq!(
        people,
        [
            ("ann.lee@contoso.com", Some("201")),
            ("bob.ruiz@contoso.com", None),
            ("carla.diaz@fabrikam.com", Some("305")),
        ]
    );
    assert_eq!(
        store
            .search_people("diaz carla", 10)
            .await
            .expect("search")
            .len(),
        1
    );
    let directories = store.load_directories().await.expect("directories");
    assert_eq!(directories.len(), 1);
    assert_eq!(directories[0].id, "corp");
    // A listing says only that a password is set; loading the directory unseals it.
    assert!(directories[0].bind_password_set);
    let corp = store
        .load_directory("corp")
        .await
        .expect("directory")
        .expect("corp");
    assert_eq!(
        corp.bind_password
            .as_ref()
            .map(|p| p.expose_secret().to_string())
            .as_deref(),
        Some("Fixture-Bind-Passw0rd-2")
    );
    let mut labels: Vec<String> = store
        .list_api_tokens()
        .await
        .expect("tokens")
        .into_iter()
        .map(|t| t.label)
        .collect();
    labels.sort();
    assert_eq!(labels, ["fixture", "fixture-console"]);
    assert!(
        store
            .verify_admin_password("admin", &SecretString::from("Fixture-Admin-Passw0rd-2"))
            .await
            .expect("verify")
    );
    assert_eq!(store.integrity_check().await.expect("check"), ["ok"]);
}

async fn search_folds_diacritics_and_takes_words_in_any_order(db: TestDb) {
    let store = db.open().await.expect("open");
    store
        .upsert_people(&[
            person("lucia.patel@contoso.com", "Lucía López-Patel", Some("2041")),
            person("jonas.mueller@contoso.com", "Jonas Müller", None),
            person("straße@contoso.com", "Björn Straße", None),
            person("ann@contoso.com", "Ann Lee", None),
        ])
        .await
        .expect("people");
    let found = |people: Vec<WatchedPerson>| -> Vec<String> {
        people.into_iter().map(|p| p.email).collect()
    };
    for (query, want) in [
        ("muller", vec!["jonas.mueller@contoso.com"]),
        ("MÜLLER", vec!["jonas.mueller@contoso.com"]),
        ("lopez", vec!["lucia.patel@contoso.com"]),
        ("patel lucia", vec!["lucia.patel@contoso.com"]),
        ("PATEL luc", vec!["lucia.patel@contoso.com"]),
        ("lopez patel lu", vec!["lucia.patel@contoso.com"]),
        ("strasse bjorn", vec!["straße@contoso.com"]),
        ("Lucía Ló", vec!["lucia.patel@contoso.com"]),
        ("204", vec!["lucia.patel@contoso.com"]),
        ("lucia.pa", vec!["lucia.patel@contoso.com"]),
        ("patel ann", vec![]),
        ("lee ann", vec!["ann@contoso.com"]),
    ] {
        let got = found(store.search_people(query, 10).await.expect("search"));
        assert_eq!(got, want, "{query:?}");
    }
    // A long query is cut at eight words rather than refused.
    let long = "a ".repeat(40);
    assert!(store.search_people(&long, 10).await.is_ok());
}
both!(search_folds_diacritics_and_takes_words_in_any_order);

fn from_directory(email: &str, name: &str, id: &str) -> WatchedPerson {
    WatchedPerson {
        origin: "corp".to_string(),
        origin_id: Some(id.to_string()),
        route: None,
        ..WatchedPerson::manual(email, name, None)
    }
}

/// A directory's bind password is sealed; a sync writes only the directory's own people, never
/// over a person added by hand; a hand edit keeps a directory person the directory's; deleting
/// the directory keeps its people as manual ones.
async fn directories_keep_their_secret_and_their_own_people(db: TestDb) {
    let store = db.open().await.expect("open");
    let config: calgate_settings::DirectoryConfig = serde_json::from_value(json!({
        "kind": "ldap", "url": "ldaps://dc1.contoso.com", "bind_dn": "cn=reader,dc=contoso,dc=com",
        "base_dn": "dc=contoso,dc=com"
    }))
    .expect("config");
    for reserved in ["manual", "import", "Bad Id"] {
        assert!(matches!(
            store
                .save_directory(reserved, &config, PasswordChange::Keep, "test")
                .await,
            Err(StoreError::InvalidInput { .. })
        ));
    }
    store
        .save_directory(
            "corp",
            &config,
            PasswordChange::Set(SecretString::from(PASSWORD)),
            "test",
        )
        .await
        .expect("save");
    let loaded = store
        .load_directory("corp")
        .await
        .expect("load")
        .expect("some");
    assert_eq!(loaded.config, config);
    assert_eq!(
        loaded
            .bind_password
            .as_ref()
            .map(|p| p.expose_secret().to_string())
            .as_deref(),
        Some(PASSWORD)
    );
    assert!(
        !contains(&database_bytes(db.dir()), PASSWORD),
        "sealed at rest"
    );
    store
        .save_directory_state("corp", Some(Some("delta-1")), &json!({"added": 2}))
        .await
        .expect("state");
    let loaded = store
        .load_directory("corp")
        .await
        .expect("load")
        .expect("some");
    assert_eq!(loaded.delta.as_deref(), Some("delta-1"));
    assert_eq!(loaded.outcome, Some(json!({"added": 2})));

    store
        .upsert_people(&[person("hand@contoso.com", "By Hand", Some("100"))])
        .await
        .expect("manual");
    let written = store
        .apply_directory_sync(
            "corp",
            &[
                from_directory("ann@contoso.com", "Ann", "1"),
                from_directory("bob@contoso.com", "Bob", "2"),
                from_directory("hand@contoso.com", "Taken Over", "3"),
            ],
            &[],
        )
        .await
        .expect("sync");
    assert_eq!(written.upserted, 2, "the manual person is not written over");
    let hand = store
        .get_person("hand@contoso.com")
        .await
        .expect("get")
        .expect("some");
    assert_eq!(
        (hand.display_name.as_str(), hand.origin.as_str()),
        ("By Hand", "manual")
    );
    assert_eq!(
        store.search_people("ann", 10).await.expect("search").len(),
        1
    );

    // A hand edit of a directory person keeps it the directory's.
    store
        .upsert_people(&[person("ann@contoso.com", "Ann Edited", Some("7"))])
        .await
        .expect("edit");
    let ann = store
        .get_person("ann@contoso.com")
        .await
        .expect("get")
        .expect("some");
    assert_eq!(ann.origin, "corp");
    assert_eq!(ann.origin_id.as_deref(), Some("1"));

    let removed = store
        .apply_directory_sync(
            "corp",
            &[],
            &["bob@contoso.com".into(), "hand@contoso.com".into()],
        )
        .await
        .expect("remove");
    assert_eq!(
        removed,
        SyncWritten {
            upserted: 0,
            removed: 1
        }
    );
    assert!(
        store
            .get_person("hand@contoso.com")
            .await
            .expect("get")
            .is_some()
    );
    assert!(
        store
            .search_people("bob", 10)
            .await
            .expect("search")
            .is_empty()
    );
    assert_eq!(store.people_of_origin("corp").await.expect("own").len(), 1);
    assert_eq!(
        store.emails_not_of_origin("corp").await.expect("others"),
        ["hand@contoso.com".to_string()].into()
    );

    assert!(
        store
            .delete_directory("corp", "test")
            .await
            .expect("delete")
    );
    assert!(store.load_directory("corp").await.expect("load").is_none());
    let ann = store
        .get_person("ann@contoso.com")
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(ann.origin, ORIGIN_MANUAL);
    assert_sound(&store).await;
}
both!(directories_keep_their_secret_and_their_own_people);

/// Every file of a directory with a digest of its bytes and its modification time.
fn snapshot_dir(dir: &Path) -> Vec<(String, String, std::time::SystemTime)> {
    use sha2::Digest;
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let meta = std::fs::metadata(&p).expect("metadata");
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                format!(
                    "{:x}",
                    sha2::Sha256::digest(std::fs::read(&p).expect("read"))
                ),
                meta.modified().expect("mtime"),
            )
        })
        .collect();
    files.sort();
    files
}

// SQLite: the files are left byte for byte; PostgreSQL's variant is
// `a_postgres_database_of_a_newer_schema_is_refused`.
/// A database that a newer release migrated (a migration row beyond this build's newest) is
/// refused before anything is written, with a message naming both schema versions.
#[tokio::test]
async fn a_database_of_a_newer_schema_is_refused_and_left_untouched() {
    let dir = data_dir();
    {
        let store = Store::open(dir.path()).await.expect("open");
        store
            .save_calendar_settings(&settings_with_secrets(), "admin")
            .await
            .expect("save");
        let future = schema_version() + 1;
        sqlx::query(
            "INSERT INTO _sqlx_migrations \
             (version, description, installed_on, success, checksum, execution_time) \
             VALUES (?1, 'from a newer release', CURRENT_TIMESTAMP, TRUE, X'00', 1)",
        )
        .bind(future)
        .execute(store.pool_for_tests())
        .await
        .expect("future migration row");
        store.close().await;
    }
    let before = snapshot_dir(dir.path());
    std::thread::sleep(std::time::Duration::from_millis(20));
    let err = Store::open(dir.path()).await.expect_err("refused");
    let StoreError::SchemaTooNew { found, known, .. } = &err else {
        panic!("expected SchemaTooNew, got {err}")
    };
    assert_eq!((*found, *known), (schema_version() + 1, schema_version()));
    let text = err.to_string();
    for part in [
        format!("schema version {}", schema_version() + 1),
        format!("(schema {})", schema_version()),
        "Nothing was changed".to_string(),
    ] {
        assert!(text.contains(&part), "{text}");
    }
    assert_eq!(snapshot_dir(dir.path()), before, "nothing written");
}

#[test]
fn the_schema_version_is_the_newest_migration() {
    let newest = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"))
        .expect("migrations")
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .split('_')
                .next()?
                .parse::<i64>()
                .ok()
        })
        .max();
    assert_eq!(Some(schema_version()), newest);
}

// SQLite only: backups are `VACUUM INTO` copies (PostgreSQL's are `pg_dump`'s).
/// A backup with the key restores into a new directory whose store opens with everything;
/// without the key the restored store needs the original key file.
#[tokio::test]
async fn a_backup_restores_with_or_without_its_key() {
    let dir = data_dir();
    let store = Store::open(dir.path()).await.expect("open");
    store
        .save_calendar_settings(&settings_with_secrets(), "admin")
        .await
        .expect("save");
    store
        .upsert_people(&[person("ann@contoso.com", "Ann Lee", Some("201"))])
        .await
        .expect("people");
    let out = data_dir();
    let with_key = out.path().join("with-key.cgb");
    let written = backup::write_backup(dir.path(), &with_key, true)
        .await
        .expect("backup");
    assert!(written.key_included);
    assert_eq!(written.schema_version, schema_version());
    assert_eq!(written.key_id.as_deref(), Some(store.key_id()));
    assert_eq!(mode(&with_key), 0o600);
    let err = backup::write_backup(dir.path(), &with_key, true)
        .await
        .expect_err("never over another file");
    assert!(err.to_string().contains("already exists"), "{err}");
    let without_key = out.path().join("without-key.cgb");
    assert!(
        !backup::write_backup(dir.path(), &without_key, false)
            .await
            .expect("backup")
            .key_included
    );
    store.close().await;
    // A stopped gateway's directory is read as it is: nothing is left beside its database.
    let before = snapshot_dir(dir.path());
    backup::write_backup(dir.path(), &out.path().join("stopped.cgb"), false)
        .await
        .expect("backup of a closed store");
    assert_eq!(snapshot_dir(dir.path()), before);
    let leftovers: Vec<_> = std::fs::read_dir(out.path())
        .expect("out dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers.len(), 3, "only the three backups: {leftovers:?}");

    let target = out.path().join("restored");
    let restored = backup::restore_backup(&with_key, &target)
        .await
        .expect("restore");
    assert!(restored.key_restored);
    assert_eq!(restored.calgate_version, env!("CARGO_PKG_VERSION"));
    let reopened = Store::open(&target).await.expect("open restored");
    let settings = reopened
        .load_calendar_settings()
        .await
        .expect("load")
        .expect("saved");
    assert_eq!(
        settings
            .settings
            .password
            .as_ref()
            .map(|p| p.expose_secret()),
        Some(PASSWORD)
    );
    assert_eq!(reopened.list_people().await.expect("people").len(), 1);
    reopened.close().await;

    let bare = out.path().join("bare");
    let restored = backup::restore_backup(&without_key, &bare)
        .await
        .expect("restore");
    assert!(!restored.key_restored);
    assert!(!bare.join(KEY_FILE).exists());
    let err = Store::open(&bare).await.expect_err("needs the key");
    assert!(matches!(err, StoreError::KeyFileMissing { .. }), "{err}");
    std::fs::copy(dir.path().join(KEY_FILE), bare.join(KEY_FILE)).expect("copy key");
    let reopened = Store::open(&bare).await.expect("opens with the key");
    assert!(
        reopened
            .load_calendar_settings()
            .await
            .expect("load")
            .is_some()
    );
}

// SQLite only: backups.
/// A truncated file, one with bytes after its end, a damaged one, another program's file and a
/// restore into a directory that holds something: each refused by name, nothing written.
#[tokio::test]
async fn a_bad_backup_or_a_used_directory_is_refused_and_nothing_is_written() {
    let dir = data_dir();
    let store = Store::open(dir.path()).await.expect("open");
    store
        .save_calendar_settings(&settings_with_secrets(), "admin")
        .await
        .expect("save");
    let out = data_dir();
    let good = out.path().join("good.cgb");
    backup::write_backup(dir.path(), &good, true)
        .await
        .expect("backup");
    store.close().await;
    let bytes = std::fs::read(&good).expect("read");
    let bad = |name: &str, content: &[u8]| {
        let path = out.path().join(name);
        std::fs::write(&path, content).expect("write");
        path
    };
    let mut flipped = bytes.clone();
    let middle = flipped.len() - 2_000;
    flipped[middle] ^= 0x55;
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"tail");
    let cases = [
        (
            bad("truncated.cgb", &bytes[..bytes.len() - 100]),
            "is truncated",
        ),
        (
            bad("header-only.cgb", &bytes[..40]),
            "header cannot be read",
        ),
        (bad("longer.cgb", &longer), "4 bytes after its end"),
        (bad("flipped.cgb", &flipped), "checksum"),
        (
            bad("zip.cgb", b"PK\x03\x04 not ours at all"),
            "is not a calgate backup",
        ),
        (bad("empty.cgb", b""), "is not a calgate backup"),
        (
            bad("future.cgb", b"calgate-backup 9\n{}\n"),
            "format 9; this calgate reads format 1",
        ),
        (out.path().join("missing.cgb"), "cannot open"),
    ];
    for (file, expected) in &cases {
        let target = out.path().join("target");
        let err = backup::restore_backup(file, &target)
            .await
            .expect_err("refused");
        let text = err.to_string();
        assert!(text.contains(expected), "{}: {text}", file.display());
        assert!(
            !target.exists(),
            "{}: the directory was removed again",
            file.display()
        );
    }

    let used = out.path().join("used");
    std::fs::create_dir(&used).expect("mkdir");
    std::fs::write(used.join("notes.txt"), b"keep me").expect("write");
    let err = backup::restore_backup(&good, &used)
        .await
        .expect_err("refused");
    assert!(
        err.to_string()
            .contains("is not empty (it holds notes.txt)"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&used).expect("read").count(),
        1,
        "nothing added"
    );
    assert_eq!(
        std::fs::read(used.join("notes.txt")).expect("read"),
        b"keep me"
    );

    let empty = out.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    backup::restore_backup(&good, &empty)
        .await
        .expect("an empty directory is fine");
}

/// One list of changes: the PostgreSQL migrations have SQLite's versions and descriptions.
#[test]
fn the_two_migration_folders_list_the_same_changes() {
    let list = |m: &sqlx::migrate::Migrator| {
        m.iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect::<Vec<_>>()
    };
    let sqlite = list(&MIGRATOR);
    assert!(!sqlite.is_empty());
    assert_eq!(list(&postgres::MIGRATOR), sqlite);
}

/// A PostgreSQL database a newer release migrated is refused before anything is written: the
/// migrations table keeps its rows, and a new data directory gets no key file.
#[tokio::test]
async fn a_postgres_database_of_a_newer_schema_is_refused() {
    let db = TestDb::postgres();
    let store = db.open().await.expect("open");
    let future = schema_version() + 1;
    on_pool!(store.db(), |pool| sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, 'from a newer release', TRUE, '\\x00', 1)",
    )
    .bind(future)
    .execute(pool)
    .await
    .expect("future migration row")
    .rows_affected());
    store.close().await;
    let url = db.url.as_ref().expect("postgres");
    let fresh = data_dir();
    let err = Store::open_database(fresh.path().join("new"), Some(url))
        .await
        .expect_err("refused");
    let StoreError::SchemaTooNew {
        database,
        found,
        known,
    } = &err
    else {
        panic!("expected SchemaTooNew, got {err}")
    };
    assert_eq!((*found, *known), (future, schema_version()));
    assert_eq!(database, &url.to_string());
    assert!(err.to_string().contains("Nothing was changed"), "{err}");
    assert!(!fresh.path().join("new").exists(), "nothing written");
    let rows = calgate_pgtest::server()
        .psql_in(
            url.to_string().rsplit('/').next().expect("name"),
            "SELECT COUNT(*) FROM _sqlx_migrations",
        )
        .expect("count");
    assert_eq!(rows, (schema_version() + 1).to_string());
}

/// Gateways sharing one PostgreSQL database must hold the same key file: a second data
/// directory without it, or with another key, is refused with a message naming the fix; with a
/// copy of the first one's key it opens the first one's secrets.
#[tokio::test]
async fn a_second_gateway_needs_the_same_key_file() {
    let first = TestDb::postgres();
    let store = first.open().await.expect("open");
    store
        .save_calendar_settings(&settings_with_secrets(), "admin")
        .await
        .expect("save");
    store.close().await;
    let second = TestDb {
        dir: data_dir(),
        url: first.url.clone(),
    };
    let err = second.open().await.expect_err("no key file");
    assert!(matches!(err, StoreError::KeyFileMissing { .. }), "{err}");
    assert!(err.to_string().contains("same secret.key"), "{err}");
    assert!(!second.dir().join(KEY_FILE).exists());

    write_key(&second.dir().join(KEY_FILE), &[9u8; 32]);
    let err = second.open().await.expect_err("another key");
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err}");
    assert!(err.to_string().contains("same secret.key"), "{err}");

    std::fs::remove_file(second.dir().join(KEY_FILE)).expect("remove");
    let key = std::fs::read(first.dir().join(KEY_FILE)).expect("key");
    write_key(&second.dir().join(KEY_FILE), &key);
    let store = second.open().await.expect("the same key opens");
    assert_the_password_opens(&store).await;
}

/// The saved settings' password is unsealed in clear.
async fn assert_the_password_opens(store: &Store) {
    let loaded = store
        .load_calendar_settings()
        .await
        .expect("load")
        .expect("present");
    assert_eq!(
        loaded.settings.password.as_ref().map(|p| p.expose_secret()),
        Some(PASSWORD)
    );
}

/// A database URL shows host, port and database only; a refused password, a server that is not
/// there and a malformed URL are clear errors that never quote the password.
#[tokio::test]
async fn a_database_url_never_shows_its_password() {
    let server = calgate_pgtest::server();
    let secret = "Pg-Pw-3f9a-never-shown";
    let url = DatabaseUrl::parse(&server.url_with_password("postgres", secret)).expect("url");
    let shown = format!("{url} {url:?}");
    assert!(!shown.contains(secret), "{shown}");
    assert!(shown.contains(&format!("127.0.0.1:{}/postgres", server.port())));

    let dir = data_dir();
    let err = Store::open_database(dir.path(), Some(&url))
        .await
        .expect_err("wrong password");
    assert!(matches!(err, StoreError::Connect { .. }), "{err}");
    let text = format!("{err} {err:?}");
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(!text.contains(secret), "{text}");
    assert!(!dir.path().join(KEY_FILE).exists(), "nothing written");

    // No TLS in this build: a URL that requires it is refused, not sent in clear.
    let tls =
        DatabaseUrl::parse(&format!("{}?sslmode=require", server.url("postgres"))).expect("url");
    let err = Store::open_database(dir.path(), Some(&tls))
        .await
        .expect_err("TLS required");
    assert!(matches!(err, StoreError::Connect { .. }), "{err}");
    assert!(!format!("{err} {err:?}").contains(calgate_pgtest::SUPERUSER_PASSWORD));

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url =
        DatabaseUrl::parse(&format!("postgres://u:{secret}@127.0.0.1:{closed}/x")).expect("url");
    let err = Store::open_database(dir.path(), Some(&url))
        .await
        .expect_err("nobody listens");
    assert!(matches!(err, StoreError::Connect { .. }), "{err}");
    assert!(!format!("{err} {err:?}").contains(secret));

    for bad in [
        format!("mysql://u:{secret}@localhost/x"),
        format!("postgres://u:{secret}@localhost:notaport/x"),
    ] {
        let err = DatabaseUrl::parse(&bad).expect_err("refused");
        let text = format!("{err} {err:?}");
        assert!(text.contains("database URL"), "{text}");
        assert!(!text.contains(secret), "{text}");
    }
}

/// A fresh database of each backend at the newest schema has the same tables, columns (with
/// their NOT NULL and primary-key parts) and named indexes.
#[tokio::test]
async fn both_backends_migrate_to_the_same_schema() {
    type Column = (String, String, bool, bool);
    let sqlite = TestDb::sqlite().open().await.expect("open SQLite");
    let postgres_db = TestDb::postgres();
    let postgres = postgres_db.open().await.expect("open PostgreSQL");

    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT m.name, p.name, p.\"notnull\", p.pk FROM sqlite_master m, \
         pragma_table_info(m.name) p WHERE m.type = 'table' \
         AND m.name NOT IN ('_sqlx_migrations', 'sqlite_sequence')",
    )
    .fetch_all(sqlite.pool_for_tests())
    .await
    .expect("SQLite columns");
    let mut sqlite_columns: Vec<Column> = rows
        .into_iter()
        .map(|(t, c, notnull, pk)| (t, c, notnull != 0 || pk != 0, pk != 0))
        .collect();
    let (sqlite_indexes,): (String,) = sqlx::query_as(
        "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master \
         WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name)",
    )
    .fetch_one(sqlite.pool_for_tests())
    .await
    .expect("SQLite indexes");

    let Backend::Postgres(pool) = postgres.db() else {
        panic!("a PostgreSQL store")
    };
    let mut postgres_columns: Vec<Column> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.is_nullable = 'NO', \
         EXISTS (SELECT 1 FROM information_schema.table_constraints t \
             JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name) \
             WHERE t.constraint_type = 'PRIMARY KEY' AND k.table_name = c.table_name \
             AND k.column_name = c.column_name) \
         FROM information_schema.columns c \
         WHERE c.table_schema = current_schema() AND c.table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .expect("PostgreSQL columns");
    let (postgres_indexes,): (String,) = sqlx::query_as(
        "SELECT string_agg(indexname::text, ' ' ORDER BY indexname) FROM pg_indexes \
         WHERE schemaname = current_schema() AND indexname NOT LIKE '%\\_pkey' \
         AND indexname NOT LIKE '%\\_key'",
    )
    .fetch_one(pool)
    .await
    .expect("PostgreSQL indexes");

    sqlite_columns.sort();
    postgres_columns.sort();
    assert!(sqlite_columns.len() > 40, "{sqlite_columns:?}");
    assert_eq!(postgres_columns, sqlite_columns);
    assert_eq!(postgres_indexes, sqlite_indexes);
}

async fn availability_of_named_mailboxes_is_read_back(db: TestDb) {
    let store = db.open().await.expect("open");
    let saved: Vec<Availability> = (0..450)
        .map(|i| availability(&format!("p{i:03}@contoso.com"), "2026-11-27T08:00:00Z"))
        .collect();
    store.save_availability(&saved).await.expect("save");
    // Several statements' worth, in any case, some never saved.
    let mut wanted: Vec<String> = (0..450)
        .step_by(2)
        .map(|i| format!("P{i:03}@Contoso.com"))
        .collect();
    wanted.push("nobody@contoso.com".into());
    let mut found: Vec<String> = store
        .load_availability_of(&wanted)
        .await
        .expect("load")
        .into_iter()
        .map(|a| a.mailbox)
        .collect();
    found.sort();
    let expected: Vec<String> = (0..450)
        .step_by(2)
        .map(|i| format!("p{i:03}@contoso.com"))
        .collect();
    assert_eq!(found, expected);
}
both!(availability_of_named_mailboxes_is_read_back);

/// Several gateways on one PostgreSQL: store handles opened on one database stand for the
/// instances (the lease tables exist on SQLite too, and a single gateway there never uses them).
mod instances {
    use std::collections::BTreeSet;

    use calgate_core::shard::{SHARDS, Shard};

    use super::TestDb;
    use crate::backend::on_pool;
    use crate::{Notice, Store, Topic};

    const LEASE_MS: i64 = 6_000;
    const LIVE_MS: i64 = 5_000;

    async fn round(store: &Store, id: &str, now: i64) -> BTreeSet<Shard> {
        store
            .heartbeat(id, "127.0.0.1:1", now)
            .await
            .expect("heartbeat");
        store
            .lease_round(id, now, LEASE_MS, now - LIVE_MS)
            .await
            .expect("lease round")
            .owned
    }

    fn all() -> BTreeSet<Shard> {
        (0..SHARDS).collect()
    }

    #[tokio::test]
    async fn two_instances_split_the_shards_fairly_and_a_dead_ones_shards_are_taken_over() {
        let db = TestDb::postgres();
        let a = db.open().await.expect("open a");
        let b = db.open().await.expect("open b");
        let t = 1_000_000;

        assert_eq!(round(&a, "a", t).await, all(), "alone, a takes everything");
        assert!(round(&b, "b", t).await.is_empty(), "nothing is free yet");
        // a sees two live instances and gives back what is above its share; b takes it.
        let a_owned = round(&a, "a", t + 1_000).await;
        assert_eq!(a_owned.len(), usize::from(SHARDS / 2));
        let b_owned = round(&b, "b", t + 1_000).await;
        assert_eq!(b_owned.len(), usize::from(SHARDS / 2));
        assert!(a_owned.is_disjoint(&b_owned));
        // Renewals keep the split as it is.
        assert_eq!(round(&a, "a", t + 2_000).await, a_owned);
        assert_eq!(round(&b, "b", t + 2_000).await, b_owned);
        let leases = b.leases().await.expect("leases");
        assert_eq!(leases.len(), usize::from(SHARDS));
        for lease in &leases {
            let holder = lease.holder.as_deref();
            let want = if a_owned.contains(&lease.shard) {
                "a"
            } else {
                "b"
            };
            assert_eq!(holder, Some(want), "{lease:?}");
        }
        let live = a
            .live_instances(t + 2_000 - LIVE_MS, t + 2_000)
            .await
            .expect("live");
        let counts: Vec<(String, u32)> = live.iter().map(|i| (i.id.clone(), i.leases)).collect();
        assert_eq!(counts, [("a".into(), 32), ("b".into(), 32)]);

        // a falls silent. Before its leases expire b takes nothing of a's.
        assert_eq!(round(&b, "b", t + 7_000).await, b_owned);
        // Once they have expired (and a is no longer live), b takes every shard.
        assert_eq!(round(&b, "b", t + 8_100).await, all());
        let live = b
            .live_instances(t + 8_100 - LIVE_MS, t + 8_100)
            .await
            .expect("live");
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].id, "b");
        assert_eq!(live[0].leases, u32::from(SHARDS));

        // A graceful leave frees its shards at once.
        b.leave("b").await.expect("leave");
        assert!(
            a.live_instances(t + 8_200 - LIVE_MS, t + 8_200)
                .await
                .expect("live")
                .is_empty()
        );
        assert_eq!(round(&a, "a", t + 8_200).await, all());
    }

    #[tokio::test]
    async fn instances_claiming_at_once_never_hold_one_shard_twice() {
        let db = TestDb::postgres();
        let stores = [
            db.open().await.expect("open"),
            db.open().await.expect("open"),
            db.open().await.expect("open"),
        ];
        let ids = ["i1", "i2", "i3"];
        let t = 5_000_000;
        for (store, id) in stores.iter().zip(ids) {
            store
                .heartbeat(id, "127.0.0.1:1", t)
                .await
                .expect("heartbeat");
        }
        let mut settled = false;
        for step in 0..10 {
            let now = t + step * 500;
            let (r1, r2, r3) = tokio::join!(
                round(&stores[0], ids[0], now),
                round(&stores[1], ids[1], now),
                round(&stores[2], ids[2], now),
            );
            assert!(r1.is_disjoint(&r2) && r1.is_disjoint(&r3) && r2.is_disjoint(&r3));
            for owned in [&r1, &r2, &r3] {
                assert!(owned.len() <= 22, "above the fair share: {owned:?}");
            }
            if r1.len() + r2.len() + r3.len() == usize::from(SHARDS) {
                settled = true;
                break;
            }
        }
        assert!(
            settled,
            "three instances hold every shard after a few rounds"
        );
    }

    #[tokio::test]
    async fn notices_reach_the_other_instances_and_a_lost_listener_says_it_missed_some() {
        let db = TestDb::postgres();
        let a = db.open().await.expect("open a");
        let b = db.open().await.expect("open b");
        let mut heard = a
            .listen()
            .await
            .expect("listen")
            .expect("a listener on PostgreSQL");
        let mailboxes: Vec<String> = (0..600).map(|i| format!("person{i}@contoso.com")).collect();
        b.notify(Topic::Availability, "b", &mailboxes)
            .await
            .expect("notify");
        b.notify(Topic::Config, "b", &["people".to_string()])
            .await
            .expect("notify");
        let mut got = Vec::new();
        loop {
            let notice = tokio::time::timeout(std::time::Duration::from_secs(10), heard.next())
                .await
                .expect("a notice within 10 s");
            match notice {
                Notice::Heard {
                    topic: Topic::Availability,
                    origin,
                    items,
                } => {
                    assert_eq!(origin, "b");
                    got.extend(items);
                }
                Notice::Heard {
                    topic: Topic::Config,
                    origin,
                    items,
                } => {
                    assert_eq!(origin, "b");
                    assert_eq!(items, ["people"]);
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(got, mailboxes, "every address, in several notifications");

        // The listener's connection is cut: it comes back by itself and says it missed notices.
        on_pool!(b.db(), |pool| {
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query LIKE 'LISTEN%'",
            )
            .execute(pool)
            .await
            .expect("terminate the listener's connection");
        });
        let mut heard_missed = false;
        for _ in 0..3 {
            let notice = tokio::time::timeout(std::time::Duration::from_secs(10), heard.next())
                .await
                .expect("a notice within 10 s");
            if notice == Notice::Missed {
                heard_missed = true;
                break;
            }
            b.notify(Topic::Guard, "b", &[]).await.expect("notify");
        }
        assert!(heard_missed);
        b.notify(Topic::Guard, "b", &[]).await.expect("notify");
        let notice = tokio::time::timeout(std::time::Duration::from_secs(10), heard.next())
            .await
            .expect("a notice after the reconnect");
        assert_eq!(
            notice,
            Notice::Heard {
                topic: Topic::Guard,
                origin: "b".into(),
                items: Vec::new()
            }
        );

        // SQLite: nothing to tell, nobody to hear.
        let lone = TestDb::sqlite();
        let store = lone.open().await.expect("open");
        store
            .notify(Topic::Config, "x", &[])
            .await
            .expect("a no-op");
        assert!(store.listen().await.expect("listen").is_none());
    }
}

/// Several gateways sharing one guard state: one entry changed at a time, the others kept; the
/// first state stored under a key stays (its salt names every fingerprint).
async fn guard_entries_change_one_at_a_time(db: TestDb) {
    let store = db.open().await.expect("open");
    let first = json!({"salt": "s1", "quarantined": {}});
    assert!(
        store
            .insert_guard_state_if_absent("guard", &first)
            .await
            .expect("insert")
    );
    assert!(
        !store
            .insert_guard_state_if_absent("guard", &json!({"salt": "s2", "quarantined": {}}))
            .await
            .expect("insert again")
    );
    let q = json!({"label": "password of svc", "failed_probes": 0});
    assert!(
        store
            .set_guard_entry("guard", "fp-a", Some(&q))
            .await
            .expect("set a")
    );
    assert!(
        store
            .set_guard_entry("guard", "fp-b", Some(&json!({"label": "b"})))
            .await
            .expect("set b")
    );
    assert!(
        store
            .set_guard_entry("guard", "fp-b", None)
            .await
            .expect("remove b")
    );
    assert_eq!(
        store.load_guard_state("guard").await.expect("load"),
        Some(json!({"salt": "s1", "quarantined": {"fp-a": q}}))
    );
    assert!(
        !store
            .set_guard_entry("nothing-here", "fp-a", None)
            .await
            .expect("no state")
    );
    assert!(store.set_guard_entry("guard", "", None).await.is_err());
}
both!(guard_entries_change_one_at_a_time);

/// The claim on an unproven credential: one holder at a time until it runs out; proven, anyone
/// may use it (a probe still claims it alone); refused, the refuser holds it.
async fn credential_claims_admit_one_gateway_at_a_time(db: TestDb) {
    use crate::CredentialClaim::{self, Held, Mine, Proven};
    let store = db.open().await.expect("open");
    async fn claim_as(store: &Store, holder: &str, now: i64, exclusive: bool) -> CredentialClaim {
        store
            .claim_credential("fp", holder, now, now + 30_000, exclusive)
            .await
            .expect("claim")
    }
    let claim = |holder, now, exclusive| claim_as(&store, holder, now, exclusive);
    assert_eq!(claim("a", 1_000, false).await, Mine);
    assert_eq!(claim("b", 2_000, false).await, Held);
    assert_eq!(claim("a", 3_000, false).await, Mine, "the holder again");
    assert_eq!(claim("b", 40_000, false).await, Mine, "ran out");
    assert_eq!(claim("a", 41_000, true).await, Held);
    store.credential_proven("fp", "b").await.expect("proven");
    assert_eq!(claim("a", 42_000, false).await, Proven);
    assert_eq!(claim("c", 42_000, false).await, Proven);
    assert_eq!(claim("a", 43_000, true).await, Mine, "a probe goes alone");
    assert_eq!(claim("c", 44_000, false).await, Held);
    store
        .credential_refused("fp", "c", 100_000)
        .await
        .expect("refused");
    assert_eq!(claim("a", 50_000, true).await, Held, "the refuser holds it");
    assert_eq!(claim("a", 100_001, true).await, Mine);
    store
        .credential_proven("other", "a")
        .await
        .expect("proven without a claim");
    assert_eq!(
        store
            .claim_credential("other", "b", 1, 2, false)
            .await
            .expect("claim"),
        Proven
    );
}
both!(credential_claims_admit_one_gateway_at_a_time);
