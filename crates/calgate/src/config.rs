//! The bootstrap configuration: where to listen, where the data lives, the site's time zone.
//! Operational settings (provider, credentials, refresh interval) live in the database and are
//! edited in the portal; this file holds only what is needed before the database is open.
//!
//! Sources, later ones winning: built-in defaults, the TOML file (`--config`), environment
//! variables `CALGATE_LISTEN`, `CALGATE_DATA_DIR`, `CALGATE_SITE_TIME_ZONE`, `CALGATE_DATABASE_URL`,
//! then command-line flags. `database_url` (`--database-url`) names a PostgreSQL database to keep
//! the state in instead of the data directory's SQLite file; the key file stays in the data
//! directory.
//! The server's limits (connections, streams, timeouts) come from the file's `[limits]` table.
//! HTTPS: `tls_cert` and `tls_key` (PEM files, both or neither; flags `--tls-cert`, `--tls-key`),
//! `https_redirect_listen` (a plain-HTTP listener answering every request with a redirect to
//! HTTPS) and `trusted_proxies` (peers whose `X-Forwarded-For` / `X-Forwarded-Proto` count).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// The bootstrap configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// A PostgreSQL database instead of the data directory's SQLite file (shown without its
    /// password).
    pub database_url: Option<calgate_store::DatabaseUrl>,
    /// IANA name; the operator's "today" and the fetch window start at its local midnight.
    pub site_time_zone: String,
    /// The pages' language when a reader's browser asks for none they are written in.
    pub default_language: crate::i18n::Lang,
    pub limits: ServerLimits,
    pub https: HttpsConfig,
}

/// How the gateway meets HTTPS: serving it itself, and believing the proxies in front of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsConfig {
    /// The certificate and key served over TLS; `None` serves plain HTTP.
    pub tls: Option<crate::tls::TlsFiles>,
    /// A plain-HTTP listener answering every request with a 308 to the same path over HTTPS.
    pub redirect_listen: Option<SocketAddr>,
    /// Peers whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (none by default).
    pub trusted_proxies: crate::proxies::TrustedProxies,
    /// How often the certificate files are looked at for a renewal.
    pub reload_every: std::time::Duration,
}

impl Default for HttpsConfig {
    fn default() -> HttpsConfig {
        HttpsConfig {
            tls: None,
            redirect_listen: None,
            trusted_proxies: crate::proxies::TrustedProxies::default(),
            reload_every: crate::tls::RELOAD_EVERY,
        }
    }
}

/// What one peer or many may hold of the server. The defaults suit an office network; a
/// gateway facing more consoles raises `max_stream_clients` (each open stream costs about one
/// snapshot page, ~100 KB, while it is being sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerLimits {
    /// Open connections at most; further peers wait in the listen backlog.
    pub max_connections: usize,
    /// Open event streams at most; beyond, 503 with `Retry-After`.
    pub max_stream_clients: usize,
    /// Seconds to receive a request's headers, and the most a connection may sit idle between
    /// requests.
    pub header_timeout_s: u64,
    /// Seconds to receive a request's whole body.
    pub body_timeout_s: u64,
    /// Seconds a write may make no progress before the connection is closed.
    pub write_timeout_s: u64,
}

impl Default for ServerLimits {
    fn default() -> ServerLimits {
        ServerLimits {
            max_connections: 4_096,
            max_stream_clients: 2_000,
            header_timeout_s: 20,
            body_timeout_s: 60,
            write_timeout_s: 30,
        }
    }
}

impl ServerLimits {
    pub fn header_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.header_timeout_s.max(1))
    }

    pub fn body_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.body_timeout_s.max(1))
    }

    pub fn write_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.write_timeout_s.max(1))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    site_time_zone: Option<String>,
    default_language: Option<String>,
    #[serde(default)]
    limits: ServerLimits,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    https_redirect_listen: Option<String>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
}

/// What the command line says; each value given beats the file and the environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags<'a> {
    pub listen: Option<&'a str>,
    pub data_dir: Option<&'a Path>,
    pub database_url: Option<&'a str>,
    pub tls_cert: Option<&'a Path>,
    pub tls_key: Option<&'a Path>,
}

/// The platform's conventional data directory: `$XDG_DATA_HOME/calgate`, else
/// `~/.local/share/calgate`, else `./calgate-data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("calgate");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home).join(".local/share/calgate");
    }
    PathBuf::from("calgate-data")
}

impl BootConfig {
    /// Loads defaults < file < environment < flags.
    pub fn load(
        file: Option<&Path>,
        listen_flag: Option<&str>,
        data_dir_flag: Option<&Path>,
    ) -> anyhow::Result<BootConfig> {
        BootConfig::load_with(
            file,
            Flags {
                listen: listen_flag,
                data_dir: data_dir_flag,
                ..Flags::default()
            },
        )
    }

    /// Loads defaults < file < environment < `flags`.
    pub fn load_with(file: Option<&Path>, flags: Flags<'_>) -> anyhow::Result<BootConfig> {
        let Flags {
            listen: listen_flag,
            data_dir: data_dir_flag,
            ..
        } = flags;
        let from_file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("parsing {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let listen = listen_flag
            .map(str::to_string)
            .or_else(|| env("CALGATE_LISTEN"))
            .or(from_file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let listen: SocketAddr = listen
            .parse()
            .with_context(|| format!("listen address {listen:?} is not HOST:PORT"))?;
        let data_dir = data_dir_flag
            .map(Path::to_path_buf)
            .or_else(|| env("CALGATE_DATA_DIR").map(PathBuf::from))
            .or(from_file.data_dir)
            .unwrap_or_else(default_data_dir);
        // Parsed here so a bad URL stops the start before anything else; the error never
        // quotes the URL (it holds a password).
        let database_url = flags
            .database_url
            .map(str::to_string)
            .or_else(|| env("CALGATE_DATABASE_URL"))
            .or(from_file.database_url)
            .map(|url| calgate_store::DatabaseUrl::parse(&url))
            .transpose()?;
        let site_time_zone = env("CALGATE_SITE_TIME_ZONE")
            .or(from_file.site_time_zone)
            .unwrap_or_else(|| "UTC".to_string());
        if jiff::tz::TimeZone::get(&site_time_zone).is_err() {
            bail!("site_time_zone {site_time_zone:?} is not a known IANA time zone");
        }
        let default_language = match env("CALGATE_DEFAULT_LANGUAGE").or(from_file.default_language)
        {
            None => crate::i18n::Lang::En,
            Some(tag) => crate::i18n::Lang::parse(&tag).with_context(|| {
                format!("default_language {tag:?} is not one of en, it, de, fr, es")
            })?,
        };
        let tls = match (
            flags.tls_cert.map(Path::to_path_buf).or(from_file.tls_cert),
            flags.tls_key.map(Path::to_path_buf).or(from_file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(crate::tls::TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => bail!("tls_cert is set but tls_key is not: HTTPS needs both"),
            (None, Some(_)) => bail!("tls_key is set but tls_cert is not: HTTPS needs both"),
        };
        let redirect_listen = match from_file.https_redirect_listen {
            None => None,
            Some(addr) => Some(
                addr.parse::<SocketAddr>()
                    .with_context(|| format!("https_redirect_listen {addr:?} is not HOST:PORT"))?,
            ),
        };
        let trusted_proxies = crate::proxies::TrustedProxies::parse(&from_file.trusted_proxies)?;
        Ok(BootConfig {
            listen,
            data_dir,
            database_url,
            site_time_zone,
            default_language,
            limits: from_file.limits,
            https: HttpsConfig {
                tls,
                redirect_listen,
                trusted_proxies,
                ..HttpsConfig::default()
            },
        })
    }

    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.site_time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

/// Creates `dir` (and missing parents) readable by this account only.
pub fn private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_comes_from_the_file_or_the_flag_and_hides_its_password() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("calgate.toml");
        std::fs::write(
            &file,
            "database_url = \"postgres://calgate:file-pw-1@db.example:5433/calgate\"\n",
        )
        .expect("write");
        let c = BootConfig::load(Some(&file), None, Some(dir.path())).expect("loads");
        let url = c.database_url.as_ref().expect("from the file");
        assert_eq!(url.to_string(), "postgres://db.example:5433/calgate");
        assert!(!format!("{c:?}").contains("file-pw-1"));
        let flags = Flags {
            data_dir: Some(dir.path()),
            database_url: Some("postgres://calgate:flag-pw-2@db2.example/other"),
            ..Flags::default()
        };
        let c = BootConfig::load_with(Some(&file), flags).expect("loads");
        assert_eq!(
            c.database_url.map(|u| u.to_string()).as_deref(),
            Some("postgres://db2.example:5432/other"),
            "the flag wins"
        );
        std::fs::write(&file, "database_url = \"mysql://u:file-pw-3@h/db\"\n").expect("write");
        let err = BootConfig::load(Some(&file), None, Some(dir.path())).expect_err("refused");
        let text = format!("{err:#}");
        assert!(
            text.contains("postgres://") && !text.contains("file-pw-3"),
            "{text}"
        );
        assert!(
            BootConfig::load(None, None, Some(dir.path()))
                .expect("loads")
                .database_url
                .is_none()
                || std::env::var_os("CALGATE_DATABASE_URL").is_some(),
            "SQLite by default"
        );
    }

    #[test]
    fn flags_beat_file_and_bad_values_are_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("calgate.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nsite_time_zone = \"Europe/Rome\"\n",
        )
        .expect("write");
        let c =
            BootConfig::load(Some(&file), Some("127.0.0.1:9100"), Some(dir.path())).expect("loads");
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.site_time_zone, "Europe/Rome");
        assert_eq!(c.data_dir, dir.path());
        assert_eq!(c.limits, ServerLimits::default());

        std::fs::write(
            &file,
            "[limits]\nmax_stream_clients = 7\nheader_timeout_s = 5\n",
        )
        .expect("write");
        let c = BootConfig::load(Some(&file), None, Some(dir.path())).expect("loads");
        assert_eq!(c.limits.max_stream_clients, 7);
        assert_eq!(c.limits.header_timeout_s, 5);
        assert_eq!(
            c.limits.max_connections,
            ServerLimits::default().max_connections
        );

        std::fs::write(&file, "site_time_zone = \"Mars/Olympus\"\n").expect("write");
        let err = BootConfig::load(Some(&file), None, Some(dir.path())).expect_err("refused");
        assert!(err.to_string().contains("Mars/Olympus"), "{err}");

        std::fs::write(&file, "colour = \"blue\"\n").expect("write");
        let err = BootConfig::load(Some(&file), None, Some(dir.path())).expect_err("refused");
        assert!(format!("{err:#}").contains("colour"), "{err:#}");
    }

    #[test]
    fn https_keys_come_in_pairs_and_flags_beat_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("calgate.toml");
        let load = |text: &str, flags: Flags<'_>| {
            std::fs::write(&file, text).expect("write");
            BootConfig::load_with(Some(&file), flags)
        };
        let c = load("", Flags::default()).expect("loads");
        assert_eq!(c.https, HttpsConfig::default());
        assert!(
            c.https.trusted_proxies.is_empty(),
            "nobody is trusted by default"
        );

        let c = load(
            "tls_cert = \"/etc/calgate/cert.pem\"\ntls_key = \"/etc/calgate/key.pem\"\n\
             https_redirect_listen = \"0.0.0.0:80\"\n\
             trusted_proxies = [\"10.0.0.5\", \"192.168.0.0/24\"]\n",
            Flags::default(),
        )
        .expect("loads");
        let tls = c.https.tls.clone().expect("TLS");
        assert_eq!(tls.cert, Path::new("/etc/calgate/cert.pem"));
        assert_eq!(c.https.redirect_listen.map(|a| a.port()), Some(80));
        assert!(
            c.https
                .trusted_proxies
                .trusts("192.168.0.9".parse().expect("ip"))
        );

        let c = load(
            "tls_cert = \"/etc/calgate/cert.pem\"\n",
            Flags {
                tls_key: Some(Path::new("/run/key.pem")),
                ..Flags::default()
            },
        )
        .expect("a flag completes the file");
        assert_eq!(
            c.https.tls.map(|t| t.key),
            Some(PathBuf::from("/run/key.pem"))
        );

        let err = load("tls_cert = \"/etc/calgate/cert.pem\"\n", Flags::default())
            .expect_err("one alone");
        assert!(err.to_string().contains("tls_key"), "{err}");
        let err = load(
            "",
            Flags {
                tls_key: Some(Path::new("/k.pem")),
                ..Flags::default()
            },
        )
        .expect_err("one alone");
        assert!(err.to_string().contains("tls_cert"), "{err}");
        let err = load(
            "tls_cert = \"c\"\ntls_key = \"k\"\nhttps_redirect_listen = \"port 80\"\n",
            Flags::default(),
        )
        .expect_err("bad address");
        assert!(err.to_string().contains("port 80"), "{err}");
        let err = load("trusted_proxies = [\"proxy.local\"]\n", Flags::default())
            .expect_err("not an address");
        assert!(err.to_string().contains("proxy.local"), "{err}");
    }
}
