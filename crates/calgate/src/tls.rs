//! HTTPS served by the gateway itself: the certificate chain and private key come from PEM
//! files (`tls_cert`, `tls_key`) and are read again when they change on disk, so a renewal
//! needs no restart.
//!
//! The files are looked at every few seconds (modification time, size and inode of each). A
//! change is loaded once it has held still for one look, so a renewal that writes the
//! certificate and then the key is not caught between the two. A new pair that cannot be used
//! (unreadable, no certificate, a key that does not match) is logged as an error once and the
//! pair already loaded keeps being served; at start the same faults stop the gateway with a
//! message naming the file. Handshakes pick the current pair through
//! [`LiveCertificate`] (rustls' `ResolvesServerCert`), so a swap takes effect for the next
//! connection and never disturbs one that is open.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

/// How often the files are looked at for a change.
pub const RELOAD_EVERY: Duration = Duration::from_secs(5);

/// The largest certificate or key file read (a chain of a few certificates is a few KiB).
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// The PEM files of the served certificate: the chain (server certificate first, then its
/// intermediates) and its private key (PKCS#8, PKCS#1 or SEC1). One file holding both works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Why a certificate and key pair cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} file {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("the TLS {what} file {} is larger than 1 MiB", path.display())]
    TooLarge { what: &'static str, path: PathBuf },
    #[error("the TLS {what} file {} is not valid PEM: {source}", path.display())]
    Pem {
        what: &'static str,
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("the TLS certificate file {} holds no certificate", path.display())]
    NoCertificate { path: PathBuf },
    #[error("the TLS key file {} holds no private key", path.display())]
    NoKey { path: PathBuf },
    #[error("the TLS key in {} cannot be used: {source}", path.display())]
    Key {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("the TLS key {} does not match the certificate {}", key.display(), cert.display())]
    Mismatch { cert: PathBuf, key: PathBuf },
    #[error("the TLS certificate {} cannot be used: {source}", path.display())]
    Certificate {
        path: PathBuf,
        source: rustls::Error,
    },
}

/// The one crypto provider of the workspace.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

async fn read_capped(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    let read_error = |source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    };
    let file = tokio::fs::File::open(path).await.map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(TlsError::TooLarge {
            what,
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

/// Reads and checks the pair: at least one certificate, a private key, and the key belonging
/// to the first certificate.
pub async fn load(files: &TlsFiles) -> Result<CertifiedKey, TlsError> {
    let cert_pem = read_capped("certificate", &files.cert).await?;
    let key_pem = read_capped("key", &files.key).await?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            what: "certificate",
            path: files.cert.clone(),
            source,
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: files.cert.clone(),
        });
    }
    let key = match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(key) => key,
        Err(rustls::pki_types::pem::Error::NoItemsFound) => {
            return Err(TlsError::NoKey {
                path: files.key.clone(),
            });
        }
        Err(source) => {
            return Err(TlsError::Pem {
                what: "key",
                path: files.key.clone(),
                source,
            });
        }
    };
    let signing_key = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|source| TlsError::Key {
            path: files.key.clone(),
            source,
        })?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        // A key that cannot tell its public half is used as rustls itself would.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok(certified)
        }
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(TlsError::Mismatch {
                cert: files.cert.clone(),
                key: files.key.clone(),
            })
        }
        Err(source) => Err(TlsError::Certificate {
            path: files.cert.clone(),
            source,
        }),
    }
}

/// What identifies one version of a file on disk.
type Stamp = Option<(SystemTime, u64, u64, u64)>;

async fn stamp(path: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    let meta = tokio::fs::metadata(path).await.ok()?;
    Some((meta.modified().ok()?, meta.len(), meta.ino(), meta.dev()))
}

async fn stamps(files: &TlsFiles) -> (Stamp, Stamp) {
    (stamp(&files.cert).await, stamp(&files.key).await)
}

/// The short SHA-256 fingerprint of the served certificate, for the log.
fn fingerprint(key: &CertifiedKey) -> String {
    use sha2::Digest;
    key.cert.first().map_or_else(String::new, |c| {
        sha2::Sha256::digest(c.as_ref())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

/// The certificate the server presents now.
#[derive(Debug)]
pub struct LiveCertificate {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for LiveCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

impl LiveCertificate {
    /// Loads the pair (any fault is an error naming the file).
    pub async fn open(files: TlsFiles) -> Result<Arc<LiveCertificate>, TlsError> {
        let key = load(&files).await?;
        tracing::info!(
            cert = %files.cert.display(),
            fingerprint = %fingerprint(&key),
            "TLS certificate loaded"
        );
        Ok(Arc::new(LiveCertificate {
            files,
            current: RwLock::new(Arc::new(key)),
        }))
    }

    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The rustls configuration serving this certificate over HTTP/1.1.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Looks at the files every `every` until `stop`, and swaps in a new pair once it has held
    /// still for one look and loads.
    pub async fn watch(self: Arc<Self>, every: Duration, stop: CancellationToken) {
        let mut tried = stamps(&self.files).await;
        let mut seen = tried;
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = stop.cancelled() => return,
            }
            let now = stamps(&self.files).await;
            let settled = now == seen;
            seen = now;
            if now == tried || !settled {
                continue;
            }
            // Tried once per version of the files: a bad pair is logged once, not every look.
            tried = now;
            match load(&self.files).await {
                Ok(key) => {
                    tracing::info!(
                        cert = %self.files.cert.display(),
                        fingerprint = %fingerprint(&key),
                        "TLS certificate reloaded"
                    );
                    *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
                }
                Err(e) => tracing::error!(
                    error = %e,
                    "the changed TLS certificate or key cannot be used; still serving the previous one"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Pair {
        cert: String,
        key: String,
    }

    fn pair(name: &str) -> Pair {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec![name.to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("certificate");
        Pair {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    fn write(dir: &Path, cert: &str, key: &str) -> TlsFiles {
        let files = TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.cert, cert).expect("write");
        std::fs::write(&files.key, key).expect("write");
        files
    }

    #[tokio::test]
    async fn a_usable_pair_loads_and_each_fault_names_its_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = pair("a.example");
        let b = pair("b.example");
        let files = write(dir.path(), &a.cert, &a.key);
        let loaded = load(&files).await.expect("loads");
        assert_eq!(loaded.cert.len(), 1);
        // Certificate and key in one file.
        let both = write(dir.path(), &format!("{}{}", a.key, a.cert), "");
        let both = TlsFiles {
            key: both.cert.clone(),
            ..both
        };
        load(&both).await.expect("one file with both loads");

        let files = write(dir.path(), &a.cert, &b.key);
        let err = load(&files).await.expect_err("mismatch");
        assert!(matches!(err, TlsError::Mismatch { .. }), "{err}");
        assert!(err.to_string().contains("key.pem") && err.to_string().contains("cert.pem"));

        let files = write(dir.path(), &a.key, &a.key);
        let err = load(&files).await.expect_err("no certificate");
        assert!(matches!(err, TlsError::NoCertificate { .. }), "{err}");
        assert!(err.to_string().contains("cert.pem"), "{err}");

        let files = write(dir.path(), &a.cert, &a.cert);
        let err = load(&files).await.expect_err("no key");
        assert!(matches!(err, TlsError::NoKey { .. }), "{err}");

        let files = write(dir.path(), "-----BEGIN CERTIFICATE-----\n!!\n", &a.key);
        let err = load(&files).await.expect_err("broken PEM");
        assert!(matches!(err, TlsError::Pem { .. }), "{err}");

        let files = write(
            dir.path(),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            &a.key,
        );
        let err = load(&files).await.expect_err("not a certificate");
        assert!(matches!(err, TlsError::Certificate { .. }), "{err}");

        let missing = TlsFiles {
            cert: dir.path().join("nowhere.pem"),
            key: dir.path().join("key.pem"),
        };
        let err = load(&missing).await.expect_err("missing");
        assert!(err.to_string().contains("nowhere.pem"), "{err}");

        std::fs::write(dir.path().join("big.pem"), vec![b'a'; 2 << 20]).expect("write");
        let big = TlsFiles {
            cert: dir.path().join("big.pem"),
            key: dir.path().join("key.pem"),
        };
        assert!(matches!(
            load(&big).await.expect_err("too large"),
            TlsError::TooLarge { .. }
        ));
    }

    #[tokio::test]
    async fn a_changed_pair_is_swapped_in_and_a_bad_one_is_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = pair("a.example");
        let b = pair("b.example");
        let files = write(dir.path(), &a.cert, &a.key);
        let live = LiveCertificate::open(files.clone()).await.expect("opens");
        let first = live.current().cert[0].clone();
        let stop = CancellationToken::new();
        let watcher = tokio::spawn(live.clone().watch(Duration::from_millis(20), stop.clone()));
        let wait_for = |want: bool| {
            let live = live.clone();
            let first = first.clone();
            async move {
                for _ in 0..200 {
                    if (live.current().cert[0] != first) == want {
                        return true;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                false
            }
        };
        // A key that does not match: the old pair stays.
        std::fs::write(&files.key, &b.key).expect("write");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(wait_for(false).await);
        // The matching certificate arrives: the new pair is served.
        std::fs::write(&files.cert, &b.cert).expect("write");
        assert!(wait_for(true).await, "the new certificate was not loaded");
        stop.cancel();
        watcher.await.expect("watcher ends");
    }
}
