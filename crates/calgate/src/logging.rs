//! Logs: human-readable lines on stderr, and JSON lines in daily-rotated files under
//! `<data dir>/logs` with bounded retention (the seed's `ApplicationLogFile.txt`, done properly).
//! The portal reads the newest entries back from those files.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Log files kept (one a day).
pub const RETAINED_FILES: usize = 14;
const PREFIX: &str = "calgate";
const LOG_BUFFER_LINES: usize = 8_192;

/// The log directory inside a data directory.
pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("logs")
}

/// Installs the process-wide subscriber. Keep the guard alive for the life of the process: it
/// flushes the file writer on drop.
pub fn init(data_dir: &Path) -> anyhow::Result<WorkerGuard> {
    let dir = log_dir(data_dir);
    crate::config::private_dir(&dir)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix("log")
        .max_log_files(RETAINED_FILES)
        .build(&dir)
        .context("opening the log file")?;
    // Lines waiting for the file writer. The default (128 000) reserves 4 MB up front; a burst
    // past this many drops lines rather than block the engine.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_BUFFER_LINES)
        .finish(appender);
    let filter = EnvFilter::try_from_env("CALGATE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(writer)
                .with_ansi(false),
        )
        .try_init()
        .context("installing the log subscriber")?;
    Ok(guard)
}

/// The newest `limit` JSON log lines, newest last, read from the rotated files.
pub fn recent(data_dir: &Path, limit: usize) -> Vec<serde_json::Value> {
    let dir = log_dir(data_dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(".log"))
        })
        .collect();
    files.sort();
    let mut out: Vec<serde_json::Value> = Vec::new();
    for file in files.iter().rev() {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let mut lines: Vec<serde_json::Value> = text
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str(l).ok())
            .take(limit - out.len())
            .collect();
        out.append(&mut lines);
        if out.len() >= limit {
            break;
        }
    }
    out.reverse();
    out
}
