//! HTTPS served by the gateway itself: certificates from PEM files, renewed on disk without a
//! restart, a refused pair never replacing a good one, clear start-up errors, the plain-HTTP
//! redirect, `Secure` cookies, and forwarding headers believed only from trusted proxies.

use std::path::Path;
use std::time::Duration;

use calgate::config::HttpsConfig;
use calgate::gateway::{GatewayConfig, start};
use calgate::proxies::TrustedProxies;
use calgate::tls::TlsFiles;
use calgate_testkit::gateway::{TestGateway, spawn_gateway_https};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A test CA that signs server certificates for `127.0.0.1` and `localhost`.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

/// One server certificate and its key.
struct Leaf {
    cert_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

impl Ca {
    fn new() -> Ca {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "calgate HTTPS test CA");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).expect("CA certificate");
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate named `common_name` (each has its own key and serial).
    fn leaf(&self, common_name: &str) -> Leaf {
        let key = KeyPair::generate().expect("server key");
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server params");
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, common_name);
        params.distinguished_name = name;
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("server certificate");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }

    fn root(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_pem(self.pem.as_bytes()).expect("CA PEM")
    }

    /// A client that trusts only this CA, opens a new connection (a new client, a new pool),
    /// follows no redirect and reports the server's certificate.
    fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_certs_only([self.root()])
            .tls_info(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client")
    }
}

/// Writes a file by renaming a finished one over it, as certificate tools do.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

fn install(dir: &Path, leaf: &Leaf) -> TlsFiles {
    let files = TlsFiles {
        cert: dir.join("fullchain.pem"),
        key: dir.join("privkey.pem"),
    };
    replace(&files.cert, &leaf.cert_pem);
    replace(&files.key, &leaf.key_pem);
    files
}

fn https_config(files: TlsFiles) -> HttpsConfig {
    HttpsConfig {
        tls: Some(files),
        reload_every: Duration::from_millis(100),
        ..HttpsConfig::default()
    }
}

/// The certificate a new connection to `url` is served.
async fn served_certificate(ca: &Ca, url: &str) -> Vec<u8> {
    let resp = ca
        .client()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("HTTPS answer");
    assert_eq!(resp.status(), 200);
    resp.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("the peer certificate")
        .to_vec()
}

/// The `Set-Cookie` of the session a sign-in with `token` starts, sent with `headers`.
async fn sign_in_cookie(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> String {
    let mut request = client
        .post(format!("{url}/portal/login"))
        .form(&[("token", token)]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let resp = request.send().await.expect("sign-in answer");
    assert_eq!(resp.status(), 303, "sign-in refused");
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(calgate::sessions::SESSION_COOKIE))
        .expect("a session cookie")
        .to_string()
}

/// The status of a sign-in with a wrong token, sent with `headers`.
async fn wrong_token(client: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> u16 {
    let mut request = client
        .post(format!("{url}/portal/login"))
        .form(&[("token", "not-a-token")]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("answer").status().as_u16()
}

#[tokio::test]
async fn https_is_served_with_the_certificate_on_disk_and_cookies_are_secure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new();
    let first = ca.leaf("calgate first");
    let gw = spawn_gateway_https(https_config(install(dir.path(), &first)), &[ca.root()]).await;
    let url = gw.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert_eq!(served_certificate(&ca, &url).await, first.der);
    // The API over HTTPS with the token clients.
    let (status, _) = gw.call(reqwest::Method::GET, "/api/v1/health", None).await;
    assert_eq!(status, 200);
    // A session cookie over TLS is for HTTPS only.
    let cookie = sign_in_cookie(&ca.client(), &url, &gw.console_token, &[]).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    // Plain HTTP on the TLS port gets no page.
    let plain = format!("http://{}/healthz", gw.gateway.addr);
    let answer = reqwest::Client::new().get(&plain).send().await;
    assert!(
        answer.map_or(true, |r| !r.status().is_success()),
        "plain HTTP was served on the HTTPS port"
    );
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart_and_a_bad_one_never() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new();
    let first = ca.leaf("calgate first");
    let files = install(dir.path(), &first);
    let gw = spawn_gateway_https(https_config(files.clone()), &[ca.root()]).await;
    let url = gw.url();
    assert_eq!(served_certificate(&ca, &url).await, first.der);
    // A connection opened before the renewal keeps working after it.
    let kept = ca.client();
    let before = kept
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("answer");
    assert_eq!(before.status(), 200);

    let renewed = ca.leaf("calgate renewed");
    assert_ne!(renewed.der, first.der);
    install(dir.path(), &renewed);
    let started = std::time::Instant::now();
    loop {
        if served_certificate(&ca, &url).await == renewed.der {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the renewed certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("renewed certificate served after {:?}", started.elapsed());
    let after = kept
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("answer");
    assert_eq!(after.status(), 200);

    // A certificate whose key does not come with it: the renewed pair keeps being served.
    let other = ca.leaf("calgate other");
    let stranger = ca.leaf("calgate stranger");
    replace(&files.cert, &other.cert_pem);
    replace(&files.key, &stranger.key_pem);
    // Many reload looks (every 100 ms) later.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(served_certificate(&ca, &url).await, renewed.der);
    }
    // An unreadable certificate changes nothing either.
    std::fs::remove_file(&files.cert).expect("remove");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(served_certificate(&ca, &url).await, renewed.der);
    // Once a good pair is back, it is served.
    install(dir.path(), &other);
    let started = std::time::Instant::now();
    while served_certificate(&ca, &url).await != other.der {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the repaired pair was never served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `start` with `files`: the error, which must name `file`, and nothing made in the data
/// directory.
async fn refused_start(files: TlsFiles, file: &Path) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let mut config = GatewayConfig::new("127.0.0.1:0".parse().expect("address"), data_dir.clone());
    config.https = https_config(files);
    let err = format!(
        "{:#}",
        start(config).await.expect_err("the start is refused")
    );
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(
        !data_dir.exists(),
        "a refused start made {}",
        data_dir.display()
    );
    err
}

#[tokio::test]
async fn a_missing_certificate_or_a_key_that_does_not_match_stops_the_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new();
    let leaf = ca.leaf("calgate");
    let files = install(dir.path(), &leaf);

    let missing = TlsFiles {
        cert: dir.path().join("missing.pem"),
        key: files.key.clone(),
    };
    let err = refused_start(missing.clone(), &missing.cert).await;
    assert!(
        err.contains("cannot read the TLS certificate file"),
        "{err}"
    );

    let stranger = ca.leaf("stranger");
    let mismatched = dir.path().join("stranger-key.pem");
    replace(&mismatched, &stranger.key_pem);
    let files_mismatched = TlsFiles {
        cert: files.cert.clone(),
        key: mismatched.clone(),
    };
    let err = refused_start(files_mismatched, &mismatched).await;
    assert!(err.contains("does not match the certificate"), "{err}");

    let no_cert = TlsFiles {
        cert: files.key.clone(),
        key: files.key.clone(),
    };
    let err = refused_start(no_cert, &files.key).await;
    assert!(err.contains("holds no certificate"), "{err}");

    // The command line: one of the pair alone is refused before anything starts.
    let out = std::process::Command::new(crate::drills_crash::calgate_bin())
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.path().join("cli-data"))
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--tls-cert")
        .arg(&files.cert)
        .output()
        .expect("calgate runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("tls_cert is set but tls_key is not"),
        "{stderr}"
    );
    // And a key that does not match, through the flags.
    let out = std::process::Command::new(crate::drills_crash::calgate_bin())
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.path().join("cli-data"))
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--tls-cert")
        .arg(&files.cert)
        .arg("--tls-key")
        .arg(&mismatched)
        .output()
        .expect("calgate runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("does not match the certificate")
            && stderr.contains(&mismatched.display().to_string()),
        "{stderr}"
    );
}

#[tokio::test]
async fn plain_http_is_redirected_to_the_same_path_over_https() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new();
    let leaf = ca.leaf("calgate");
    let mut https = https_config(install(dir.path(), &leaf));
    https.redirect_listen = Some("127.0.0.1:0".parse().expect("address"));
    let gw = spawn_gateway_https(https, &[ca.root()]).await;
    let redirect = gw.gateway.redirect_addr.expect("a redirect listener");
    let port = gw.gateway.addr.port();
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = plain
        .get(format!("http://{redirect}/portal/login?next=/console"))
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 308);
    let location = resp.headers()[reqwest::header::LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    assert_eq!(
        location,
        format!("https://127.0.0.1:{port}/portal/login?next=/console")
    );
    // A POST is sent on as a POST (308), by host name too.
    let resp = plain
        .post(format!("http://localhost:{}/portal/login", redirect.port()))
        .form(&[("token", "x")])
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 308);
    assert_eq!(
        resp.headers()[reqwest::header::LOCATION],
        format!("https://localhost:{port}/portal/login").as_str()
    );
    // Followed, it lands on the page over HTTPS.
    let following = reqwest::Client::builder()
        .tls_certs_only([ca.root()])
        .build()
        .expect("client");
    let resp = following
        .get(format!("http://{redirect}/portal/login"))
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().scheme(), "https");
}

/// A plain-HTTP gateway trusting `proxies`.
async fn behind(proxies: &[&str]) -> TestGateway {
    spawn_gateway_https(
        HttpsConfig {
            trusted_proxies: TrustedProxies::parse(proxies).expect("proxies"),
            ..HttpsConfig::default()
        },
        &[],
    )
    .await
}

#[tokio::test]
async fn forwarding_headers_count_only_from_a_trusted_proxy() {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    // Nobody trusted (the default): the headers change nothing.
    let open = behind(&[]).await;
    let url = open.url();
    let cookie = sign_in_cookie(
        &client,
        &url,
        &open.console_token,
        &[("x-forwarded-proto", "https")],
    )
    .await;
    assert!(!cookie.contains("Secure"), "{cookie}");
    // Each wrong token poses as another client; all count against the one peer, which is
    // made to wait within a few attempts.
    let mut statuses = Vec::new();
    for i in 0..12 {
        let forwarded = format!("203.0.113.{i}");
        let status = wrong_token(&client, &url, &[("x-forwarded-for", &forwarded)]).await;
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses.len() <= 7, "{statuses:?}");

    // 127.0.0.1 trusted as the proxy: the forwarded client is the one limited.
    let proxied = behind(&["127.0.0.1"]).await;
    let url = proxied.url();
    let cookie = sign_in_cookie(
        &client,
        &url,
        &proxied.console_token,
        &[("x-forwarded-proto", "https")],
    )
    .await;
    assert!(cookie.contains("; Secure"), "{cookie}");
    let cookie = sign_in_cookie(&client, &url, &proxied.console_token, &[]).await;
    assert!(!cookie.contains("Secure"), "{cookie}");
    // Twelve clients, one wrong token each: none is made to wait.
    for i in 0..12 {
        let forwarded = format!("198.51.100.7, 203.0.113.{i}");
        let status = wrong_token(&client, &url, &[("x-forwarded-for", &forwarded)]).await;
        assert_eq!(status, 401, "client {i}");
    }
    // One client guessing: it is made to wait (the part it wrote itself, left of what the
    // proxy appended, does not let it pose as another).
    let mut statuses = Vec::new();
    for i in 0..12 {
        let forwarded = format!("192.0.2.{i}, 203.0.113.200");
        let status = wrong_token(&client, &url, &[("x-forwarded-for", &forwarded)]).await;
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses.len() <= 7, "{statuses:?}");
    // Meanwhile another client, and the proxy's own address, are not.
    let other = wrong_token(&client, &url, &[("x-forwarded-for", "203.0.113.201")]).await;
    assert_eq!(other, 401);
    assert_eq!(wrong_token(&client, &url, &[]).await, 401);
}
