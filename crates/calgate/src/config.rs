//! The bootstrap configuration: where to listen, where the data lives, the site's time zone.
//! Operational settings (provider, credentials, refresh interval) live in the database and are
//! edited in the portal; this file holds only what is needed before the database is open.
//!
//! Sources, later ones winning: built-in defaults, the TOML file (`--config`), environment
//! variables `CALGATE_LISTEN`, `CALGATE_DATA_DIR`, `CALGATE_SITE_TIME_ZONE`, then command-line flags.
//! The server's limits (connections, streams, timeouts) come from the file's `[limits]` table.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// The bootstrap configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// IANA name; the operator's "today" and the fetch window start at its local midnight.
    pub site_time_zone: String,
    /// The pages' language when a reader's browser asks for none they are written in.
    pub default_language: crate::i18n::Lang,
    pub limits: ServerLimits,
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
    site_time_zone: Option<String>,
    default_language: Option<String>,
    #[serde(default)]
    limits: ServerLimits,
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
        Ok(BootConfig {
            listen,
            data_dir,
            site_time_zone,
            default_language,
            limits: from_file.limits,
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
}
