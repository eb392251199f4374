//! Backups of a data directory: one file holding a consistent copy of the database, taken while
//! the gateway runs (SQLite's `VACUUM INTO`, which reads one snapshot), and the key file only
//! when asked. A restore writes into an empty or missing directory only.
//!
//! The format is ours, so that a file of another program, a copy cut short or a damaged one is
//! told apart before anything is written:
//!
//! ```text
//! calgate-backup 1\n                 the magic word and the format's number
//! {"calgate_version":…}\n            one line of JSON: versions, the key's id, each file's name,
//!                                    size and SHA-256, in the order they follow
//! <calgate.db><secret.key>           the files' bytes, one after another, nothing after them
//! ```

use std::fs;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};
use crate::{DB_FILE, KEY_FILE, schema_version, schema_version_of};

const MAGIC: &str = "calgate-backup";
const FORMAT: u32 = 1;
/// The header line's length at most: a few hundred bytes in practice.
const MAX_HEADER: usize = 64 * 1024;
const KEY_LEN: u64 = 32;

/// What a backup file says about itself.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    calgate_version: String,
    schema_version: i64,
    created_at: String,
    /// The id of the key sealing the database's secrets (none before the first start).
    key_id: Option<String>,
    files: Vec<FileEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    name: String,
    size: u64,
    sha256: String,
}

/// A backup written by [`write_backup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupWritten {
    pub schema_version: i64,
    pub database_bytes: u64,
    pub key_included: bool,
    /// The id of the key that opens the backup's sealed secrets.
    pub key_id: Option<String>,
}

/// A data directory made by [`restore_backup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The release that wrote the backup and when.
    pub calgate_version: String,
    pub created_at: String,
    pub schema_version: i64,
    /// Whether the backup carried the key file (else the original `secret.key` must be copied in).
    pub key_restored: bool,
    pub key_id: Option<String>,
}

fn refused(path: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::Backup {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        action,
        path,
        source,
    }
}

/// Writes a backup of `data_dir` to `out`, a new file (an existing one is never written over).
/// The database is copied with `VACUUM INTO` from a read-only connection, so a running gateway
/// keeps writing meanwhile and the copy is one consistent moment. With `include_key` the key
/// file goes in too, after a check that it opens the copy's secrets.
pub async fn write_backup(data_dir: &Path, out: &Path, include_key: bool) -> Result<BackupWritten> {
    let db_path = data_dir.join(DB_FILE);
    if !db_path.is_file() {
        return Err(refused(
            data_dir,
            format!("no calgate database ({DB_FILE}) here; nothing was written"),
        ));
    }
    if out.symlink_metadata().is_ok() {
        return Err(refused(
            out,
            "already exists; a backup is never written over another file (choose a new name)",
        ));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let work = tempfile::Builder::new()
        .prefix(".calgate-backup-")
        .tempdir_in(&parent)
        .map_err(io("create a temporary directory in", &parent))?;
    let snapshot = work.path().join(DB_FILE);
    let snapshot_name = snapshot
        .to_str()
        .ok_or_else(|| refused(&parent, "the directory's name is not UTF-8"))?
        .to_string();

    let mut live = SqliteConnection::connect_with(&crate::read_only_options(&db_path)).await?;
    sqlx::query("VACUUM INTO ?1")
        .bind(&snapshot_name)
        .execute(&mut live)
        .await?;
    live.close().await?;

    let facts = read_facts(&snapshot).await?;
    if facts.integrity != ["ok"] {
        return Err(refused(
            &db_path,
            format!(
                "SQLite's integrity check fails on the copy ({}); nothing was written",
                facts.integrity.join("; ")
            ),
        ));
    }
    let key = if include_key {
        let key_path = data_dir.join(KEY_FILE);
        let key = read_key(&key_path)?;
        if let Some(check) = &facts.key_check
            && !crate::seal::key_opens(&key, check)
        {
            return Err(refused(
                &key_path,
                "does not open this database's secrets (another data directory's key?); \
                 nothing was written",
            ));
        }
        Some(key)
    } else {
        None
    };

    let db_sum = sha256_file(&snapshot)?;
    let db_size = fs::metadata(&snapshot)
        .map_err(io("inspect", &snapshot))?
        .len();
    let mut files = vec![FileEntry {
        name: DB_FILE.to_string(),
        size: db_size,
        sha256: db_sum,
    }];
    if let Some(key) = &key {
        files.push(FileEntry {
            name: KEY_FILE.to_string(),
            size: key.len() as u64,
            sha256: hex(&Sha256::digest(key.as_slice())),
        });
    }
    let header = Header {
        calgate_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version: facts.schema_version,
        created_at: jiff::Timestamp::now().to_string(),
        key_id: facts.key_id.clone(),
        files,
    };
    let header_json = serde_json::to_string(&header)
        .map_err(|e| refused(out, format!("cannot write the header: {e}")))?;

    // Written beside its final name and moved there whole: a crash leaves no half backup.
    let mut file = tempfile::Builder::new()
        .prefix(".calgate-backup-")
        .tempfile_in(&parent)
        .map_err(io("create a temporary file in", &parent))?;
    let write = |f: &mut fs::File| -> std::io::Result<()> {
        f.write_all(format!("{MAGIC} {FORMAT}\n{header_json}\n").as_bytes())?;
        let mut db = fs::File::open(&snapshot)?;
        std::io::copy(&mut db, f)?;
        if let Some(key) = &key {
            f.write_all(key)?;
        }
        f.sync_all()
    };
    write(file.as_file_mut()).map_err(io("write", out))?;
    file.persist_noclobber(out).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            refused(
                out,
                "appeared while the backup was written; it was left as it is",
            )
        } else {
            io("write", out)(e.error)
        }
    })?;
    sync_dir(&parent);
    Ok(BackupWritten {
        schema_version: facts.schema_version,
        database_bytes: db_size,
        key_included: key.is_some(),
        key_id: facts.key_id,
    })
}

/// Restores the backup `file` into `data_dir`, which must be empty or missing: nothing in it is
/// ever written over. The whole file is checked (its form, its length, each part's checksum,
/// SQLite's integrity check, the key against the database) and on any failure what was written
/// is removed again.
pub async fn restore_backup(file: &Path, data_dir: &Path) -> Result<Restored> {
    check_empty(data_dir)?;
    let mut reader = BufReader::new(fs::File::open(file).map_err(io("open", file))?);
    let total = fs::metadata(file).map_err(io("inspect", file))?.len();
    let (header, header_bytes) = read_header(file, &mut reader)?;
    check_parts(file, &header, header_bytes, total)?;

    let mut written = Written::new(data_dir)?;
    for entry in &header.files {
        let target = data_dir.join(&entry.name);
        let sum = if entry.name == KEY_FILE {
            let mut key = Zeroizing::new(vec![0u8; KEY_LEN as usize]);
            reader
                .read_exact(&mut key)
                .map_err(|_| truncated(file, &header, header_bytes, total))?;
            write_new(&target, &key).map_err(io("write", &target))?;
            written.files.push(target.clone());
            hex(&Sha256::digest(key.as_slice()))
        } else {
            let mut part = tempfile::Builder::new()
                .prefix(".calgate-restore-")
                .tempfile_in(data_dir)
                .map_err(io("create a temporary file in", data_dir))?;
            let sum = copy_hashing(&mut (&mut reader).take(entry.size), part.as_file_mut())
                .map_err(io("write", &target))?;
            part.as_file().sync_all().map_err(io("sync", &target))?;
            part.persist_noclobber(&target)
                .map_err(|e| io("write", &target)(e.error))?;
            written.files.push(target.clone());
            sum
        };
        if sum != entry.sha256 {
            return Err(refused(
                file,
                format!(
                    "is damaged: the checksum of its {} does not match; nothing was restored",
                    entry.name
                ),
            ));
        }
    }

    let db_path = data_dir.join(DB_FILE);
    let facts = read_facts(&db_path).await.map_err(|e| {
        refused(
            file,
            format!("holds a database SQLite cannot read ({e}); nothing was restored"),
        )
    })?;
    if facts.integrity != ["ok"] || facts.schema_version != header.schema_version {
        return Err(refused(
            file,
            "holds a damaged database (SQLite's integrity check fails); nothing was restored",
        ));
    }
    let key_restored = header.files.iter().any(|f| f.name == KEY_FILE);
    if key_restored {
        let key = read_key(&data_dir.join(KEY_FILE))?;
        if let Some(check) = &facts.key_check
            && !crate::seal::key_opens(&key, check)
        {
            return Err(refused(
                file,
                "holds a key that does not open its database's secrets; nothing was restored",
            ));
        }
    }
    written.keep();
    sync_dir(data_dir);
    Ok(Restored {
        calgate_version: header.calgate_version,
        created_at: header.created_at,
        schema_version: header.schema_version,
        key_restored,
        key_id: header.key_id,
    })
}

/// A restore goes only where nothing can be lost.
fn check_empty(data_dir: &Path) -> Result<()> {
    match fs::symlink_metadata(data_dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io("inspect", data_dir)(e)),
        Ok(meta) if !meta.is_dir() => {
            return Err(refused(
                data_dir,
                "is not a directory; restore into an empty or new directory (nothing was changed)",
            ));
        }
        Ok(_) => {}
    }
    let mut names: Vec<String> = fs::read_dir(data_dir)
        .map_err(io("read", data_dir))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    names.sort();
    let more = names.len().saturating_sub(5);
    names.truncate(5);
    let mut listed = names.join(", ");
    if more > 0 {
        listed.push_str(&format!(" and {more} more"));
    }
    Err(refused(
        data_dir,
        format!(
            "is not empty (it holds {listed}); a restore writes only into an empty or new \
             directory, so nothing was changed"
        ),
    ))
}

/// Reads and checks the first two lines; answers the header and the bytes they take.
fn read_header(file: &Path, reader: &mut impl Read) -> Result<(Header, u64)> {
    let not_ours = || {
        refused(
            file,
            format!(
                "is not a calgate backup (it does not begin with \"{MAGIC}\"); nothing was \
                 restored"
            ),
        )
    };
    let first = read_line(reader, 64).ok_or_else(not_ours)?;
    let first = std::str::from_utf8(&first).map_err(|_| not_ours())?;
    let format = first
        .strip_prefix(MAGIC)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or_else(not_ours)?;
    match format.parse::<u32>() {
        Ok(FORMAT) => {}
        Ok(other) => {
            return Err(refused(
                file,
                format!(
                    "is a calgate backup of format {other}; this calgate reads format {FORMAT} \
                     (restore it with the release that wrote it)"
                ),
            ));
        }
        Err(_) => return Err(not_ours()),
    }
    let damaged = || {
        refused(
            file,
            "is damaged or truncated: its header cannot be read; nothing was restored",
        )
    };
    let line = read_line(reader, MAX_HEADER).ok_or_else(damaged)?;
    let header: Header = serde_json::from_slice(&line).map_err(|_| damaged())?;
    Ok((header, (first.len() + 1 + line.len() + 1) as u64))
}

/// The header names the files a restore may write, in full and once each.
fn check_parts(file: &Path, header: &Header, header_bytes: u64, total: u64) -> Result<()> {
    let mut names: Vec<&str> = header.files.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    let allowed = names == [DB_FILE] || names == [DB_FILE, KEY_FILE];
    let key_ok = header
        .files
        .iter()
        .all(|f| f.name != KEY_FILE || f.size == KEY_LEN);
    if !allowed || !key_ok {
        return Err(refused(
            file,
            "is damaged: its header names files a calgate backup does not hold; nothing was \
             restored",
        ));
    }
    if header.schema_version > schema_version() {
        return Err(refused(
            file,
            format!(
                "was taken from a database of schema version {}, newer than calgate {} knows \
                 (schema {}); restore it with that release or a later one",
                header.schema_version,
                env!("CARGO_PKG_VERSION"),
                schema_version()
            ),
        ));
    }
    let expected = expected_len(header, header_bytes);
    if total < expected {
        return Err(truncated(file, header, header_bytes, total));
    }
    if total > expected {
        return Err(refused(
            file,
            format!(
                "has {} bytes after its end: damaged, or not written by `calgate backup`; \
                 nothing was restored",
                total - expected
            ),
        ));
    }
    Ok(())
}

fn expected_len(header: &Header, header_bytes: u64) -> u64 {
    header_bytes + header.files.iter().map(|f| f.size).sum::<u64>()
}

fn truncated(file: &Path, header: &Header, header_bytes: u64, total: u64) -> StoreError {
    refused(
        file,
        format!(
            "is truncated: it should hold {} bytes, it holds {total}; nothing was restored",
            expected_len(header, header_bytes)
        ),
    )
}

/// One line without its `\n`, `None` past `cap` bytes or at the end of the input.
fn read_line(reader: &mut impl Read, cap: usize) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() <= cap {
        match reader.read(&mut byte) {
            Ok(1) if byte[0] == b'\n' => return Some(line),
            Ok(1) => line.push(byte[0]),
            Ok(_) => return None,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    None
}

/// What a backup needs to know of a database file, read without changing it.
struct Facts {
    schema_version: i64,
    key_id: Option<String>,
    key_check: Option<Vec<u8>>,
    integrity: Vec<String>,
}

async fn read_facts(db_path: &Path) -> Result<Facts> {
    // Immutable: nobody else has this copy open, and no journal or shared-memory file is made
    // beside it.
    let mut conn = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(db_path)
            .read_only(true)
            .immutable(true),
    )
    .await?;
    let schema_version = schema_version_of(&mut conn).await?;
    let meta = |name: &'static str| {
        sqlx::query_as::<_, (Vec<u8>,)>("SELECT value FROM store_meta WHERE name = ?1").bind(name)
    };
    let has_meta: Option<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'store_meta'",
    )
    .fetch_optional(&mut conn)
    .await?;
    let (key_id, key_check) = if has_meta.is_some() {
        let id = meta("key_id").fetch_optional(&mut conn).await?;
        let check = meta("key_check").fetch_optional(&mut conn).await?;
        (
            id.map(|(v,)| String::from_utf8_lossy(&v).into_owned()),
            check.map(|(v,)| v),
        )
    } else {
        (None, None)
    };
    let integrity: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?;
    conn.close().await?;
    Ok(Facts {
        schema_version,
        key_id,
        key_check,
        integrity: integrity.into_iter().map(|(l,)| l).collect(),
    })
}

/// The key file's 32 bytes (the store's own checks on its mode and size).
fn read_key(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let meta = fs::metadata(path).map_err(io("read", path))?;
    if meta.len() != KEY_LEN {
        return Err(StoreError::KeyFileInvalid {
            path: path.to_path_buf(),
            len: meta.len(),
        });
    }
    Ok(Zeroizing::new(fs::read(path).map_err(io("read", path))?))
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).map_err(io("read", path))?;
    copy_hashing(&mut file, &mut std::io::sink()).map_err(io("read", path))
}

/// Copies `from` into `to`, answering the SHA-256 of what went through, in hex.
fn copy_hashing(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new file readable by its owner only; fails when one is there.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn sync_dir(dir: &Path) {
    // Makes the new directory entries durable; not every platform can open a directory.
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// What a restore wrote, removed again unless the restore succeeded.
struct Written {
    dir: PathBuf,
    created_dir: bool,
    files: Vec<PathBuf>,
    keep: bool,
}

impl Written {
    fn new(dir: &Path) -> Result<Written> {
        let created_dir = !dir.exists();
        if created_dir {
            crate::create_private_dir(dir)?;
        }
        Ok(Written {
            dir: dir.to_path_buf(),
            created_dir,
            files: Vec::new(),
            keep: false,
        })
    }

    fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for Written {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        for file in &self.files {
            let _ = fs::remove_file(file);
        }
        if self.created_dir {
            let _ = fs::remove_dir(&self.dir);
        }
    }
}
