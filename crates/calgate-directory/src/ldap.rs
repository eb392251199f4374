//! The people of an LDAP directory (Active Directory, OpenLDAP…), read with the `ldap3` crate.
//!
//! One [`read`] is one connection: TCP, then TLS (LDAPS, or StartTLS on `ldap://`; a plain
//! `ldap://` only when the configuration allows it explicitly), exactly one simple bind (the
//! caller's lockout guard decides about any other), and one subtree search from the base DN
//! read in pages with the Simple Paged Results control (RFC 2696), asking only for the mapped
//! attributes and the ids. Each entry is mapped through the attribute names
//! (`ldap/mapping.rs`); an entry that cannot be used is skipped with a warning, and anything
//! else that goes wrong fails the whole read with a registry code, so a watch list is never
//! brought in step with a partial answer.
//!
//! The work runs in a task of its own: `ldap3` panics on some malformed answers instead of
//! returning an error, and a panic inside that task becomes `DIRECTORY_MALFORMED_RESPONSE`.

mod mapping;

use std::sync::Arc;
use std::time::Duration;

use calgate_core::Code;
use calgate_settings::DirectoryConfig;
use calgate_settings::directories::AttributeMap;
use ldap3::asn1::{PL, parse_tag};
use ldap3::controls::{PagedResults, RawControl};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, LdapResult, Scope, StdStream};
use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use url::{Host, Url};

use crate::{Entry, Listing, Read, ReadError};
pub use mapping::{MAX_VALUE_BYTES, MAX_WARNINGS};
use mapping::{Warnings, map_entry, raw_entry, reference_uris, result_code_name, shown_dn};

/// The OID of the Simple Paged Results control.
const PAGED_RESULTS_OID: &str = "1.2.840.113556.1.4.319";

/// Server diagnostic texts are cut to this many characters in messages.
const MAX_DIAGNOSTIC: usize = 200;

/// How one read goes.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Stop after this many people (the connection test's "first N"); `None` reads everyone.
    pub limit: Option<usize>,
    /// Entries per page of the paged search (servers cap it: Active Directory's MaxPageSize is
    /// 1000 by default).
    pub page_size: u32,
    /// How long each step may take: the connection, the TLS handshake, the bind, and each
    /// entry or page end of the search.
    pub timeout: Duration,
    /// How long the whole read may take.
    pub total_timeout: Duration,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            limit: None,
            page_size: 500,
            timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(15 * 60),
        }
    }
}

/// Reads the people of an LDAP directory. `password` is the bind DN's; with no bind DN the bind
/// is anonymous.
pub async fn read(
    config: &DirectoryConfig,
    password: Option<&SecretString>,
    options: ReadOptions,
) -> Result<Read, ReadError> {
    let plan = Plan::new(config, password, &options)?;
    let task = tokio::spawn(plan.run());
    let abort = task.abort_handle();
    match tokio::time::timeout(options.total_timeout, task).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(_)) => Err(ReadError::new(
            Code::DirectoryMalformedResponse,
            "the directory's answer could not be read",
        )),
        Err(_) => {
            abort.abort();
            Err(ReadError::new(
                Code::DirectoryTimeout,
                format!(
                    "the read did not finish within {} s",
                    options.total_timeout.as_secs()
                ),
            ))
        }
    }
}

/// Everything a read needs, checked before any network use.
struct Plan {
    host: Host<String>,
    port: u16,
    /// What ldap3 is handed: the scheme and host (for the certificate check), no user part.
    url: Url,
    starttls: bool,
    tls: Option<Arc<ClientConfig>>,
    bind_dn: String,
    password: Option<SecretString>,
    base: String,
    filter: String,
    map: AttributeMap,
    attributes: Vec<String>,
    limit: Option<usize>,
    page_size: i32,
    timeout: Duration,
}

impl Plan {
    fn new(
        config: &DirectoryConfig,
        password: Option<&SecretString>,
        options: &ReadOptions,
    ) -> Result<Plan, ReadError> {
        let url_text = config.url.as_deref().unwrap_or_default().trim();
        let bad_url = || {
            ReadError::new(
                Code::DirectoryConnect,
                "the URL is not an ldaps:// or ldap:// URL with a host",
            )
        };
        let parsed = Url::parse(url_text).map_err(|_| bad_url())?;
        let (ldaps, default_port) = match parsed.scheme() {
            "ldaps" => (true, 636),
            "ldap" => (false, 389),
            _ => return Err(bad_url()),
        };
        let host = match parsed.host() {
            Some(Host::Domain("")) | None => return Err(bad_url()),
            // ldap:// is not one of the URL standard's special schemes: its host keeps its case.
            Some(Host::Domain(name)) => Host::Domain(name.to_ascii_lowercase()),
            Some(host) => host.to_owned(),
        };
        let port = parsed.port().unwrap_or(default_port);
        let starttls = !ldaps && config.starttls;
        if !ldaps && !starttls && !config.allow_insecure_ldap {
            return Err(ReadError::new(
                Code::DirectoryInsecureRefused,
                "a plain ldap:// bind sends the password in clear: use ldaps://, StartTLS, or \
                 allow insecure LDAP explicitly",
            ));
        }
        let url =
            Url::parse(&format!("{}://{}:{port}", parsed.scheme(), host)).map_err(|_| bad_url())?;
        let tls = if ldaps || starttls {
            Some(tls_config(config.extra_ca_pem.as_deref())?)
        } else {
            None
        };
        let filter = config.ldap_filter().to_string();
        if ldap3::parse_filter(&filter).is_err() {
            return Err(ReadError::new(
                Code::DirectoryFilterInvalid,
                format!("the filter {filter} cannot be parsed"),
            ));
        }
        let Some(base) = config.base_dn.clone().filter(|b| !b.trim().is_empty()) else {
            return Err(ReadError::new(
                Code::DirectoryBaseNotFound,
                "no base DN is configured",
            ));
        };
        let bind_dn = config.bind_dn.clone().unwrap_or_default();
        let password = password.filter(|p| !p.expose_secret().is_empty()).cloned();
        // A DN with an empty password is an "unauthenticated bind" (RFC 4513 §5.1.2), which
        // some servers accept as anonymous: never send one.
        if !bind_dn.is_empty() && password.is_none() {
            return Err(ReadError::new(
                Code::SettingsPasswordMissing,
                "no password is stored for the bind DN",
            ));
        }
        let map = config.attributes();
        let page_size = options.page_size.clamp(1, i32::MAX as u32);
        let page_size = match options.limit {
            Some(limit) => page_size.min(u32::try_from(limit.max(1)).unwrap_or(u32::MAX)),
            None => page_size,
        };
        Ok(Plan {
            host,
            port,
            url,
            starttls,
            tls,
            bind_dn,
            password,
            base,
            filter,
            attributes: mapping::requested_attributes(&map),
            map,
            limit: options.limit,
            page_size: i32::try_from(page_size).unwrap_or(i32::MAX),
            timeout: options.timeout,
        })
    }

    /// `host:port` for messages.
    fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    async fn run(self) -> Result<Read, ReadError> {
        let socket = self.connect().await?;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(self.timeout)
            .set_starttls(self.starttls)
            .set_std_stream(StdStream::Tcp(socket));
        if let Some(tls) = &self.tls {
            settings = settings.set_config(tls.clone());
        }
        let (conn, mut ldap) = LdapConnAsync::from_url_with_settings(settings, &self.url)
            .await
            .map_err(|e| self.tls_failed(e))?;
        let mut driver = tokio::spawn(conn.drive());
        let answer = match self.session(&mut ldap).await {
            Err(Failed::Lost(e)) => Err(self.lost(e, &mut driver).await),
            Err(Failed::Read(e)) => Err(e),
            Ok(read) => Ok(read),
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), ldap.unbind()).await;
        drop(ldap);
        driver.abort();
        answer
    }

    async fn connect(&self) -> Result<std::net::TcpStream, ReadError> {
        let connecting = async {
            match &self.host {
                Host::Domain(name) => TcpStream::connect((name.as_str(), self.port)).await,
                Host::Ipv4(ip) => TcpStream::connect((*ip, self.port)).await,
                Host::Ipv6(ip) => TcpStream::connect((*ip, self.port)).await,
            }
        };
        let socket = tokio::time::timeout(self.timeout, connecting)
            .await
            .map_err(|_| self.timed_out("connecting"))?
            .map_err(|e| {
                ReadError::new(
                    Code::DirectoryConnect,
                    format!("cannot connect to {}: {e}", self.server()),
                )
            })?;
        socket.into_std().map_err(|e| {
            ReadError::new(
                Code::DirectoryConnect,
                format!("cannot use the connection to {}: {e}", self.server()),
            )
        })
    }

    /// The bind, then the search.
    async fn session(&self, ldap: &mut Ldap) -> Result<Read, Failed> {
        let secret = self
            .password
            .as_ref()
            .map(|p| p.expose_secret())
            .unwrap_or("");
        let bound = ldap
            .with_timeout(self.timeout)
            .simple_bind(&self.bind_dn, secret)
            .await
            .map_err(Failed::Lost)?;
        match bound.rc {
            0 => {}
            49 => {
                return Err(Failed::Read(ReadError::new(
                    Code::DirectoryBindRefused,
                    format!(
                        "{} refused the bind DN {} or its password{}",
                        self.server(),
                        shown_dn(&self.bind_dn),
                        diagnostic(&bound, secret)
                    ),
                )));
            }
            rc => {
                return Err(Failed::Read(ReadError::new(
                    Code::DirectorySearchFailed,
                    format!(
                        "the bind was answered with {} ({rc}){}",
                        result_code_name(rc),
                        diagnostic(&bound, secret)
                    ),
                )));
            }
        }
        self.search(ldap).await
    }

    async fn search(&self, ldap: &mut Ldap) -> Result<Read, Failed> {
        let mut entries = Vec::new();
        let mut warnings = Warnings::default();
        let mut cookie = Vec::new();
        loop {
            let control: RawControl = PagedResults {
                size: self.page_size,
                cookie: std::mem::take(&mut cookie),
            }
            .into();
            let mut stream = ldap
                .with_timeout(self.timeout)
                .with_controls(vec![control])
                .streaming_search(
                    &self.base,
                    Scope::Subtree,
                    &self.filter,
                    self.attributes.clone(),
                )
                .await
                .map_err(Failed::Lost)?;
            while let Some(item) = stream.next().await.map_err(Failed::Lost)? {
                if item.is_intermediate() {
                    continue;
                }
                if item.is_ref() {
                    referred(reference_uris(item.0), &mut warnings);
                    continue;
                }
                let Some(raw) = raw_entry(item.0) else {
                    return Err(Failed::Read(self.malformed("an entry")));
                };
                match map_entry(&raw, &self.map) {
                    Ok(entry) => entries.push(entry),
                    Err(reason) => warnings.push(Code::DirectoryEntrySkipped, reason),
                }
                if self.limit.is_some_and(|limit| entries.len() >= limit) {
                    // Enough for the test query: leave the rest unread; the connection closes.
                    let id = stream.ldap_handle().last_id();
                    stream.finish().await;
                    let _ = tokio::time::timeout(Duration::from_secs(1), ldap.abandon(id)).await;
                    return Ok(done(entries, warnings));
                }
            }
            let result = stream.finish().await;
            self.check(&result)?;
            cookie = self.next_cookie(&result)?;
            if cookie.is_empty() {
                return Ok(done(entries, warnings));
            }
        }
    }

    /// The search's result code as an error, when it is not success.
    fn check(&self, result: &LdapResult) -> Result<(), Failed> {
        let rc = result.rc;
        let (code, what) = match rc {
            0 => return Ok(()),
            10 => (
                Code::DirectoryReferral,
                format!(
                    "the base DN {} is on another server ({})",
                    shown_dn(&self.base),
                    cut(&result.refs.join(" "))
                ),
            ),
            32 => (
                Code::DirectoryBaseNotFound,
                format!("the base DN {} does not exist", shown_dn(&self.base)),
            ),
            87 => (
                Code::DirectoryFilterInvalid,
                format!("the server refused the filter {}", self.filter),
            ),
            _ => (
                Code::DirectorySearchFailed,
                format!(
                    "the search was answered with {} ({rc})",
                    result_code_name(rc)
                ),
            ),
        };
        Err(Failed::Read(ReadError::new(
            code,
            format!("{what}{}", diagnostic(result, "")),
        )))
    }

    /// The cookie of the next page; empty when done.
    fn next_cookie(&self, result: &LdapResult) -> Result<Vec<u8>, Failed> {
        paged_cookie(result)
            .ok_or_else(|| Failed::Read(self.malformed("the paged-results control")))
    }

    fn tls_failed(&self, e: LdapError) -> ReadError {
        match e {
            LdapError::Timeout { .. } => self.timed_out("the TLS handshake"),
            LdapError::LdapResult { result } => ReadError::new(
                Code::DirectoryTls,
                format!(
                    "{} refused StartTLS: {} ({}){}",
                    self.server(),
                    result_code_name(result.rc),
                    result.rc,
                    diagnostic(&result, "")
                ),
            ),
            e if self.tls.is_some() => ReadError::new(
                Code::DirectoryTls,
                format!("the TLS handshake with {} failed: {e}", self.server()),
            ),
            e => ReadError::new(
                Code::DirectoryConnect,
                format!("cannot talk to {}: {e}", self.server()),
            ),
        }
    }

    /// An operation that ended without an answer: a timeout, or the connection gone. The
    /// connection's task tells which: it panics or reports a decoding error on a malformed
    /// answer.
    async fn lost(
        &self,
        e: LdapError,
        driver: &mut JoinHandle<ldap3::result::Result<()>>,
    ) -> ReadError {
        if let LdapError::Timeout { .. } = e {
            return self.timed_out("waiting for an answer");
        }
        match tokio::time::timeout(Duration::from_secs(1), driver).await {
            Ok(Err(_)) => self.malformed("an answer"),
            Ok(Ok(Err(LdapError::Io { source }))) if source.kind() == std::io::ErrorKind::Other => {
                self.malformed("an answer")
            }
            _ => ReadError::new(
                Code::DirectoryConnect,
                format!("the connection to {} ended: {e}", self.server()),
            ),
        }
    }

    fn timed_out(&self, step: &str) -> ReadError {
        ReadError::new(
            Code::DirectoryTimeout,
            format!(
                "{} did not answer within {} s ({step})",
                self.server(),
                self.timeout.as_secs()
            ),
        )
    }

    fn malformed(&self, what: &str) -> ReadError {
        ReadError::new(
            Code::DirectoryMalformedResponse,
            format!("{what} from {} could not be read", self.server()),
        )
    }
}

/// Why a session stopped: an answer that is an error, or no answer.
enum Failed {
    Read(ReadError),
    Lost(LdapError),
}

fn done(entries: Vec<Entry>, warnings: Warnings) -> Read {
    Read {
        listing: Listing::Full(entries),
        warnings: warnings.finish(),
        delta: None,
    }
}

/// The cookie in an answer's paged-results control: empty when the search is done, or when the
/// server ignored the control and sent everything at once; `None` when the control is garbled.
fn paged_cookie(result: &LdapResult) -> Option<Vec<u8>> {
    let Some(control) = result.ctrls.iter().find(|c| c.1.ctype == PAGED_RESULTS_OID) else {
        return Some(Vec::new());
    };
    // searchControlValue ::= SEQUENCE { size INTEGER, cookie OCTET STRING }
    let (_, tag) = parse_tag(control.1.val.as_deref()?).ok()?;
    match tag.payload {
        PL::C(mut parts) if parts.len() == 2 => parts.pop()?.expect_primitive(),
        _ => None,
    }
}

/// A search reference: part of the tree under the base is held by another server, which
/// calgate does not follow. It is a warning rather than a failed read because Active Directory
/// answers a search from a domain's root with references to its DNS and configuration
/// partitions every time, and those hold no people; they pass without a word. Any other
/// reference is named, so an admin whose people are behind it sees why they are missing.
fn referred(uris: Vec<String>, warnings: &mut Warnings) {
    let people_elsewhere: Vec<String> = uris
        .into_iter()
        .filter(|uri| {
            let lower = uri.to_ascii_lowercase();
            ![
                "dc=domaindnszones,",
                "dc=forestdnszones,",
                "cn=configuration,",
            ]
            .iter()
            .any(|partition| lower.contains(partition))
        })
        .collect();
    if !people_elsewhere.is_empty() {
        warnings.push(
            Code::DirectoryReferral,
            format!(
                "part of the tree is on another server and was not read: {}",
                cut(&people_elsewhere.join(" "))
            ),
        );
    }
}

/// The server's diagnostic text, when it has one, for the end of a message; never the password
/// (a server that echoes it would otherwise put it in a log).
fn diagnostic(result: &LdapResult, secret: &str) -> String {
    let text = result.text.trim();
    if text.is_empty() || (!secret.is_empty() && text.contains(secret)) {
        return String::new();
    }
    format!(": {}", cut(text))
}

fn cut(text: &str) -> String {
    let mut shown: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_DIAGNOSTIC)
        .collect();
    if text.chars().count() > MAX_DIAGNOSTIC {
        shown.push('…');
    }
    shown
}

/// The TLS client: the platform's roots and the directory's extra CA bundle, through the
/// workspace's one rustls crypto provider.
fn tls_config(extra_ca_pem: Option<&str>) -> Result<Arc<ClientConfig>, ReadError> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(pem) = extra_ca_pem {
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                ReadError::new(
                    Code::DirectoryTls,
                    format!("the extra CA bundle cannot be read: {e}"),
                )
            })?;
        if certs.is_empty() {
            return Err(ReadError::new(
                Code::DirectoryTls,
                "the extra CA bundle holds no certificate",
            ));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                ReadError::new(
                    Code::DirectoryTls,
                    format!("a certificate of the extra CA bundle cannot be used: {e}"),
                )
            })?;
        }
    }
    // Unreadable platform certificates are passed over, as rustls' platform verifier does.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ReadError::new(Code::DirectoryTls, format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3::controls::{Control, PagedResults};

    fn config(url: &str) -> DirectoryConfig {
        DirectoryConfig {
            kind: calgate_settings::DirectoryKind::Ldap,
            name: String::new(),
            sync_interval_s: 3600,
            max_removal_share: 0.2,
            attributes: None,
            source: None,
            group_id: None,
            url: Some(url.to_string()),
            starttls: false,
            allow_insecure_ldap: false,
            bind_dn: Some("cn=reader,dc=example,dc=org".to_string()),
            base_dn: Some("dc=example,dc=org".to_string()),
            filter: None,
            extra_ca_pem: None,
        }
    }

    fn password() -> SecretString {
        SecretString::from("hunter2-secret".to_string())
    }

    fn refused(config: &DirectoryConfig, password: Option<&SecretString>) -> ReadError {
        match Plan::new(config, password, &ReadOptions::default()) {
            Ok(_) => panic!("accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn plain_ldap_is_refused_before_any_network_use() {
        let plain = config("ldap://dc1.example.org");
        assert_eq!(
            refused(&plain, Some(&password())).code,
            Code::DirectoryInsecureRefused
        );
        let mut starttls = plain.clone();
        starttls.starttls = true;
        assert!(Plan::new(&starttls, Some(&password()), &ReadOptions::default()).is_ok());
        let mut allowed = plain;
        allowed.allow_insecure_ldap = true;
        let plan = Plan::new(&allowed, Some(&password()), &ReadOptions::default()).expect("ok");
        assert!(plan.tls.is_none() && !plan.starttls && plan.port == 389);
    }

    #[test]
    fn the_url_filter_base_and_password_are_checked_first() {
        let pw = password();
        for url in ["", "https://dc1", "ldaps://", "dc1.example.org"] {
            assert_eq!(
                refused(&config(url), Some(&pw)).code,
                Code::DirectoryConnect,
                "{url}"
            );
        }
        let mut filter = config("ldaps://dc1");
        filter.filter = Some("(&(mail=*)".to_string());
        assert_eq!(
            refused(&filter, Some(&pw)).code,
            Code::DirectoryFilterInvalid
        );
        let mut base = config("ldaps://dc1");
        base.base_dn = None;
        assert_eq!(refused(&base, Some(&pw)).code, Code::DirectoryBaseNotFound);
        // A bind DN with no (or an empty) password would be an unauthenticated bind.
        let empty = SecretString::from(String::new());
        for password in [None, Some(&empty)] {
            let error = refused(&config("ldaps://dc1"), password);
            assert_eq!(error.code, Code::SettingsPasswordMissing);
        }
        let mut anonymous = config("ldaps://dc1");
        anonymous.bind_dn = None;
        assert!(Plan::new(&anonymous, None, &ReadOptions::default()).is_ok());
    }

    #[test]
    fn the_url_is_reduced_to_scheme_host_and_port() {
        let plan = Plan::new(
            &config("LDAPS://someone:pw@DC1.Example.org/dc=example,dc=org?mail"),
            Some(&password()),
            &ReadOptions::default(),
        )
        .expect("ok");
        assert_eq!(plan.url.as_str(), "ldaps://dc1.example.org:636");
        assert_eq!(plan.server(), "dc1.example.org:636");
    }

    #[test]
    fn an_extra_ca_bundle_without_a_certificate_is_refused() {
        let mut bundle = config("ldaps://dc1");
        bundle.extra_ca_pem = Some("not a certificate".to_string());
        assert_eq!(refused(&bundle, Some(&password())).code, Code::DirectoryTls);
    }

    #[test]
    fn a_limit_shrinks_the_page() {
        let options = ReadOptions {
            limit: Some(10),
            ..ReadOptions::default()
        };
        let plan = Plan::new(&config("ldaps://dc1"), Some(&password()), &options).expect("ok");
        assert_eq!(plan.page_size, 10);
        let attributes = &plan.attributes;
        for name in [
            "mail",
            "displayName",
            "telephoneNumber",
            "objectGUID",
            "entryUUID",
        ] {
            assert!(attributes.iter().any(|a| a == name), "{name}");
        }
    }

    fn result_with(ctrls: Vec<Control>) -> LdapResult {
        LdapResult {
            rc: 0,
            matched: String::new(),
            text: String::new(),
            refs: vec![],
            ctrls,
        }
    }

    #[test]
    fn the_paged_results_cookie_is_read_without_trusting_it() {
        let control = |val: Option<Vec<u8>>| {
            Control(
                None,
                RawControl {
                    ctype: PAGED_RESULTS_OID.to_string(),
                    crit: false,
                    val,
                },
            )
        };
        let encoded: RawControl = PagedResults {
            size: 0,
            cookie: b"next".to_vec(),
        }
        .into();
        assert_eq!(
            paged_cookie(&result_with(vec![control(encoded.val)])),
            Some(b"next".to_vec())
        );
        // No control: the server sent everything.
        assert_eq!(paged_cookie(&result_with(vec![])), Some(vec![]));
        for garbled in [None, Some(vec![]), Some(vec![0x30]), Some(vec![0x30, 0x00])] {
            assert_eq!(paged_cookie(&result_with(vec![control(garbled)])), None);
        }
    }

    #[test]
    fn references_to_active_directory_partitions_pass_silently() {
        let mut warnings = Warnings::default();
        referred(
            vec![
                "ldap://ForestDnsZones.corp.example/DC=ForestDnsZones,DC=corp,DC=example".into(),
                "ldap://corp.example/CN=Configuration,DC=corp,DC=example".into(),
            ],
            &mut warnings,
        );
        assert!(warnings.finish().is_empty());
        let mut warnings = Warnings::default();
        referred(
            vec!["ldap://elsewhere.invalid/ou=partner,dc=example,dc=org".into()],
            &mut warnings,
        );
        let warnings = warnings.finish();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].code, Code::DirectoryReferral);
    }

    #[test]
    fn a_diagnostic_that_echoes_the_password_is_dropped() {
        let mut result = result_with(vec![]);
        result.text = "bad password hunter2-secret".to_string();
        assert_eq!(diagnostic(&result, "hunter2-secret"), "");
        result.text = "80090308: LdapErr: DSID-0C09044E, data 52e".to_string();
        assert!(diagnostic(&result, "hunter2-secret").contains("data 52e"));
    }
}
