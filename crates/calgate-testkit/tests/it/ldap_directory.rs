//! The LDAP directory reader against a real OpenLDAP slapd: 10 000 generated people read in
//! pages over StartTLS and LDAPS, the entries it must skip, and each failure with its code.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use calgate_core::Code;
use calgate_directory::ldap::{ReadOptions, read};
use calgate_directory::{Entry, Listing, Read, ReadError};
use calgate_settings::DirectoryConfig;
use calgate_testkit::slapd::{self, Slapd};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PEOPLE: usize = 10_000;

/// One server for the tests that only read (slapd is stopped when the test process ends).
fn shared() -> &'static Slapd {
    static SERVER: OnceLock<Slapd> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server = Slapd::start(PEOPLE).expect("slapd starts");
        eprintln!(
            "slapd with {PEOPLE} people generated, loaded and listening in {:.2?}",
            server.started_in()
        );
        server
    })
}

fn options() -> ReadOptions {
    ReadOptions {
        timeout: Duration::from_secs(20),
        ..ReadOptions::default()
    }
}

fn entries(read: Read) -> Vec<Entry> {
    match read.listing {
        Listing::Full(entries) => entries,
        Listing::Changes { .. } => panic!("an LDAP read lists everyone"),
    }
}

/// What the default filter and attribute names must give, sorted by address.
fn expected(server: &Slapd) -> Vec<Entry> {
    let mut expected: Vec<Entry> = server
        .selected()
        .map(|p| {
            let email = p.email.clone().expect("selected people have mail");
            Entry {
                id: p.id.clone(),
                name: p.display_name.clone().unwrap_or_else(|| email.clone()),
                email,
                extension: p.phones.first().cloned(),
                source: None,
            }
        })
        .collect();
    expected.sort_by(|a, b| a.email.cmp(&b.email));
    expected
}

async fn read_all(config: &DirectoryConfig, password: &SecretString) -> Read {
    read(config, Some(password), options())
        .await
        .expect("the read succeeds")
}

async fn failure(config: &DirectoryConfig, password: Option<&SecretString>) -> ReadError {
    read(config, password, options())
        .await
        .expect_err("the read fails")
}

fn check_full_read(server: &Slapd, read: Read) {
    let warnings = read.warnings.clone();
    let mut got = entries(read);
    got.sort_by(|a, b| a.email.cmp(&b.email));
    let want = expected(server);
    assert!(want.len() > 7_000, "the tree selects most people");
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    // Names and extensions went through: non-ASCII, a missing phone, two phones.
    assert!(got.iter().any(|e| e.name == "Jürgen Müller"));
    assert!(got.iter().any(|e| e.extension.is_none()));
    assert!(got.iter().any(|e| e.id.starts_with("a0000")), "objectGUIDs");
    // The skipped entries, each named, and the reference to the partner branch.
    let skipped: Vec<&str> = warnings
        .iter()
        .filter(|w| w.code == Code::DirectoryEntrySkipped)
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(skipped.len(), 3, "{warnings:?}");
    for dn in server.skipped_dns() {
        assert!(skipped.iter().any(|m| m.contains(dn)), "{dn}: {skipped:?}");
    }
    assert!(
        skipped
            .iter()
            .any(|m| m.contains("2 different mail values"))
    );
    assert!(
        skipped
            .iter()
            .any(|m| m.contains(&slapd::HUGE_VALUE_BYTES.to_string()))
    );
    let referrals: Vec<_> = warnings
        .iter()
        .filter(|w| w.code == Code::DirectoryReferral)
        .collect();
    assert_eq!(referrals.len(), 1, "{warnings:?}");
    assert!(referrals[0].message.contains("elsewhere.invalid"));
    assert_eq!(warnings.len(), 4);
}

#[tokio::test]
async fn a_full_read_over_starttls_lists_exactly_the_enabled_people_with_mail() {
    let server = shared();
    let began = Instant::now();
    let read = read_all(&server.config(false), &server.password()).await;
    eprintln!(
        "read {PEOPLE} people over StartTLS in {:.2?}",
        began.elapsed()
    );
    assert_eq!(read.delta, None);
    check_full_read(server, read);
}

#[tokio::test]
async fn a_full_read_over_ldaps_lists_the_same_people() {
    let server = shared();
    let read = read_all(&server.config(true), &server.password()).await;
    check_full_read(server, read);
}

#[tokio::test]
async fn the_size_limit_refuses_an_unpaged_search_so_the_reader_pages() {
    use ldap3::{LdapConnAsync, Scope};
    let server = shared();
    let (conn, mut ldap) = LdapConnAsync::new(&server.starttls_url())
        .await
        .expect("connect");
    ldap3::drive!(conn);
    ldap.simple_bind(server.bind_dn(), "reader-password-42")
        .await
        .expect("bind")
        .success()
        .expect("bound");
    let result = ldap
        .search(server.base_dn(), Scope::Subtree, "(mail=*)", vec!["mail"])
        .await
        .expect("search");
    assert_eq!(result.1.rc, 4, "sizeLimitExceeded");
    assert_eq!(result.0.len(), 1000);
}

#[tokio::test]
async fn other_attribute_names_map_the_extension_and_the_source() {
    let server = shared();
    let mut config = server.config(true);
    config.attributes = Some(calgate_settings::AttributeMap {
        email: "mail".to_string(),
        name: "displayName".to_string(),
        extension: "ipPhone".to_string(),
        source: Some("departmentNumber".to_string()),
    });
    let got = entries(read_all(&config, &server.password()).await);
    let mut want: Vec<(String, Option<String>, Option<String>)> = server
        .selected()
        .map(|p| {
            (
                p.email.clone().unwrap_or_default(),
                Some(p.ip_phone.clone()),
                Some(p.department.clone()),
            )
        })
        .collect();
    want.sort();
    let mut got: Vec<_> = got
        .into_iter()
        .map(|e| (e.email, e.extension, e.source))
        .collect();
    got.sort();
    assert_eq!(got, want);
}

/// The size a large organisation has; run by hand (`-- --ignored ldap`) or by the benchmarks.
#[tokio::test]
#[ignore = "starts a second server of 100 000 people"]
async fn a_hundred_thousand_people_are_read_in_pages() {
    let server = Slapd::start(100_000).expect("slapd starts");
    eprintln!(
        "slapd with 100 000 people up in {:.2?}",
        server.started_in()
    );
    let began = Instant::now();
    let read = read_all(&server.config(true), &server.password()).await;
    eprintln!("read over LDAPS in {:.2?}", began.elapsed());
    assert_eq!(entries(read).len(), server.selected().count());
}

#[tokio::test]
async fn a_limit_reads_the_first_people_only() {
    let server = shared();
    let options = ReadOptions {
        limit: Some(10),
        ..options()
    };
    let read = read(&server.config(false), Some(&server.password()), options)
        .await
        .expect("read");
    let got = entries(read);
    assert_eq!(got.len(), 10);
    let want = expected(server);
    for entry in &got {
        assert!(want.contains(entry), "{entry:?}");
    }
}

#[tokio::test]
async fn a_wrong_password_is_refused_after_exactly_one_bind() {
    let server = Slapd::start(20).expect("slapd starts");
    let before = server.binds().await.expect("bind count");
    let began = Instant::now();
    let wrong = SecretString::from("not-the-password".to_string());
    let error = failure(&server.config(false), Some(&wrong)).await;
    assert_eq!(error.code, Code::DirectoryBindRefused, "{error}");
    assert!(error.message.contains(slapd::READER_DN));
    assert!(!error.message.contains("not-the-password"));
    assert!(began.elapsed() < Duration::from_secs(5), "refused at once");
    assert_eq!(server.binds().await.expect("bind count"), before + 1);
    // The right password: one more bind, and the small tree is read.
    let read = read_all(&server.config(false), &server.password()).await;
    assert_eq!(entries(read).len(), server.selected().count());
    assert_eq!(server.binds().await.expect("bind count"), before + 2);
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let server = shared();
    let mut config = server.config(true);
    config.url = Some(format!("ldaps://127.0.0.1:{port}"));
    let error = failure(&config, Some(&server.password())).await;
    assert_eq!(error.code, Code::DirectoryConnect, "{error}");
}

#[tokio::test]
async fn tls_that_cannot_be_trusted_or_spoken_is_a_tls_error() {
    let server = shared();
    let mut untrusted = server.config(true);
    untrusted.extra_ca_pem = None;
    let error = failure(&untrusted, Some(&server.password())).await;
    assert_eq!(error.code, Code::DirectoryTls, "{error}");
    // LDAPS against the port that speaks plain LDAP first.
    let mut wrong_port = server.config(true);
    wrong_port.url = Some(server.starttls_url().replace("ldap://", "ldaps://"));
    let error = failure(&wrong_port, Some(&server.password())).await;
    assert_eq!(error.code, Code::DirectoryTls, "{error}");
}

#[tokio::test]
async fn a_filter_with_a_syntax_error_is_refused_before_connecting() {
    let server = shared();
    let mut config = server.config(false);
    config.filter = Some("(&(mail=*)(objectClass=user)".to_string());
    // A closed port: the filter is checked before any network use.
    config.url = Some("ldap://127.0.0.1:1".to_string());
    let error = failure(&config, Some(&server.password())).await;
    assert_eq!(error.code, Code::DirectoryFilterInvalid, "{error}");
}

#[tokio::test]
async fn a_base_dn_that_does_not_exist_is_named() {
    let server = shared();
    let mut config = server.config(true);
    config.base_dn = Some("ou=nowhere,dc=example,dc=org".to_string());
    let error = failure(&config, Some(&server.password())).await;
    assert_eq!(error.code, Code::DirectoryBaseNotFound, "{error}");
    assert!(error.message.contains("ou=nowhere"));
}

#[tokio::test]
async fn a_search_into_the_referral_is_a_referral_error() {
    let server = shared();
    let mut config = server.config(true);
    config.base_dn = Some(format!("ou=people,{}", slapd::REFERRAL_DN));
    let error = failure(&config, Some(&server.password())).await;
    assert_eq!(error.code, Code::DirectoryReferral, "{error}");
    assert!(error.message.contains("elsewhere.invalid"), "{error}");
}

#[tokio::test]
async fn plain_ldap_is_refused_unless_allowed() {
    let server = shared();
    let mut config = server.config(false);
    config.starttls = false;
    let error = failure(&config, Some(&server.password())).await;
    assert_eq!(error.code, Code::DirectoryInsecureRefused, "{error}");
    config.allow_insecure_ldap = true;
    let options = ReadOptions {
        limit: Some(5),
        ..options()
    };
    let read = read(&config, Some(&server.password()), options)
        .await
        .expect("allowed explicitly");
    assert_eq!(entries(read).len(), 5);
}

/// A server that accepts and then says nothing.
#[tokio::test]
async fn a_silent_server_is_a_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let config = insecure_config(port);
    let options = ReadOptions {
        timeout: Duration::from_millis(500),
        ..ReadOptions::default()
    };
    let error = read(&config, Some(&password()), options)
        .await
        .expect_err("times out");
    assert_eq!(error.code, Code::DirectoryTimeout, "{error}");
    holder.abort();
}

/// A server that answers the bind with BER the LDAP library cannot take apart: an error with
/// a code, never a panic that escapes.
#[tokio::test]
async fn a_garbled_answer_is_a_malformed_response() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let garbler = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 512];
            let _ = socket.read(&mut request).await;
            // SEQUENCE { INTEGER 1 }: a message id and nothing else.
            let _ = socket.write_all(&[0x30, 0x03, 0x02, 0x01, 0x01]).await;
            let _ = socket.flush().await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
    let error = read(&insecure_config(port), Some(&password()), options())
        .await
        .expect_err("garbled");
    assert_eq!(error.code, Code::DirectoryMalformedResponse, "{error}");
    garbler.abort();
}

fn insecure_config(port: u16) -> DirectoryConfig {
    serde_json::from_value(serde_json::json!({
        "kind": "ldap",
        "url": format!("ldap://127.0.0.1:{port}"),
        "allow_insecure_ldap": true,
        "bind_dn": "cn=reader,dc=example,dc=org",
        "base_dn": "dc=example,dc=org",
    }))
    .expect("config")
}

fn password() -> SecretString {
    SecretString::from("a-password".to_string())
}
