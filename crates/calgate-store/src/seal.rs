//! Secrets at rest: a 32-byte key in `<data_dir>/secret.key` (created 0600 on first start,
//! refused when others may read it) and XChaCha20-Poly1305 with a fresh random nonce per value.
//! The associated data names the row and column a value belongs to, so a sealed value copied to
//! another slot does not open.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead, Generate, Key, KeyInit, Payload};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};

/// The format byte in front of every sealed value, so the layout can change later.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// Seals and opens secrets with the data directory's key.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
    key_id: String,
    fingerprint_key: Zeroizing<[u8; KEY_LEN]>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    fn from_key(key: &[u8; KEY_LEN]) -> Sealer {
        let digest = Sha256::digest(key);
        // A short public id of the key: enough to tell keys apart in messages, useless to guess it.
        let key_id = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        // A second key for the lockout guard's credential fingerprints, derived under its own
        // label so it reveals nothing about the sealing key.
        let mut derive = Sha256::new();
        derive.update(b"calgate/v1/fingerprint-key\0");
        derive.update(key);
        let fingerprint_key = Zeroizing::new(derive.finalize().into());
        let key = Key::<XChaCha20Poly1305>::from(*key);
        Sealer {
            cipher: XChaCha20Poly1305::new(&key),
            key_id,
            fingerprint_key,
        }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn fingerprint_key(&self) -> &[u8; KEY_LEN] {
        &self.fingerprint_key
    }

    /// `FORMAT_V1 || nonce || ciphertext+tag`, bound to `aad`.
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        let nonce = XNonce::generate();
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Undecryptable {
                slot: aad.to_string(),
            })?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a value sealed for `aad`; any mismatch (key, slot, damage) is `Undecryptable`.
    pub fn open(&self, aad: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let undecryptable = || StoreError::Undecryptable {
            slot: aad.to_string(),
        };
        let [FORMAT_V1, rest @ ..] = sealed else {
            return Err(undecryptable());
        };
        if rest.len() < NONCE_LEN {
            return Err(undecryptable());
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| undecryptable())?;
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| undecryptable())
    }
}

/// Whether `key` (a key file's bytes) opens a store's check value: the key its secrets are
/// sealed with.
pub(crate) fn key_opens(key: &[u8], check: &[u8]) -> bool {
    let Ok(key) = <&[u8; KEY_LEN]>::try_from(key) else {
        return false;
    };
    Sealer::from_key(key)
        .open(crate::KEY_CHECK_AAD, check)
        .is_ok()
}

/// Where the key lives and whether it already existed.
pub(crate) enum KeyFile {
    Existing(Sealer),
    Created(Sealer),
    Missing(PathBuf),
}

/// Reads the key file, checking its permissions and size. Does not create it.
pub(crate) fn read_key_file(path: &Path) -> Result<KeyFile> {
    let io = |action| {
        move |source| StoreError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    };
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(KeyFile::Missing(path.to_path_buf()));
        }
        Err(e) => return Err(io("inspect")(e)),
    };
    check_private(path, &meta)?;
    if meta.len() != KEY_LEN as u64 {
        return Err(StoreError::KeyFileInvalid {
            path: path.to_path_buf(),
            len: meta.len(),
        });
    }
    let bytes = Zeroizing::new(fs::read(path).map_err(io("read"))?);
    let key: Zeroizing<[u8; KEY_LEN]> = Zeroizing::new(bytes.as_slice().try_into().map_err(
        |_| StoreError::KeyFileInvalid {
            path: path.to_path_buf(),
            len: bytes.len() as u64,
        },
    )?);
    Ok(KeyFile::Existing(Sealer::from_key(&key)))
}

/// Creates a new random key file readable by its owner only. Fails if one appeared meanwhile.
pub(crate) fn create_key_file(path: &Path) -> Result<KeyFile> {
    let io = |action| {
        move |source| StoreError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    };
    let generated = Key::<XChaCha20Poly1305>::generate();
    let key: Zeroizing<[u8; KEY_LEN]> = Zeroizing::new(generated.into());
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io("create"))?;
    file.write_all(key.as_slice()).map_err(io("write"))?;
    file.sync_all().map_err(io("sync"))?;
    if let Some(dir) = path.parent() {
        // Make the new directory entry durable too; not every platform can open a directory.
        if let Ok(dir) = fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(KeyFile::Created(Sealer::from_key(&key)))
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(StoreError::KeyFilePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &fs::Metadata) -> Result<()> {
    // Windows ACLs are set by the installer; there is no mode to check.
    Ok(())
}
