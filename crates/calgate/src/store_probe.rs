//! Whether the data directory can be written: a small file written, synced and removed, with
//! the answer cached for a few seconds so health checks do not each write to the disk.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Whether the data directory (database, logs) can be written: a full disk refuses every change
/// to settings and the watch list, and an administrator must learn that here, not from a save
/// that fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreView {
    /// `ok`, `disk_full`, or `error` (not writable for another reason).
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The probe file's name: one small write per probe, removed at once.
const PROBE_FILE: &str = ".health-probe";
/// About one database page: a disk that cannot take this cannot take a commit either.
const PROBE_BYTES: usize = 4096;

/// Writes (and removes) a page-sized probe file in `dir`. No space left shows as `disk_full`.
pub fn probe_store(dir: &Path) -> StoreView {
    let path: PathBuf = dir.join(PROBE_FILE);
    let result = std::fs::write(&path, [0u8; PROBE_BYTES]);
    // Removing frees the space again whether or not the write got through.
    let _ = std::fs::remove_file(&path);
    match result {
        Ok(()) => StoreView {
            state: "ok",
            message: None,
        },
        Err(e) if is_disk_full(&e) => StoreView {
            state: "disk_full",
            message: Some(
                "the disk holding the data directory is full: changes to settings and the \
                 watch list are refused until space is freed"
                    .to_string(),
            ),
        },
        Err(e) => StoreView {
            state: "error",
            message: Some(format!("the data directory cannot be written: {e}")),
        },
    }
}

/// How long a probe's answer is reused. A disk that fills shows `disk_full` within this time.
pub const PROBE_CACHE: Duration = Duration::from_secs(5);

/// The last probe of the data directory, kept by the gateway; the async lock makes concurrent
/// callers wait for the probe in progress instead of starting their own.
#[derive(Debug, Default)]
pub struct ProbeCache(tokio::sync::Mutex<Option<(Instant, StoreView)>>);

/// [`probe_store`], reusing an answer younger than `max_age`.
pub async fn probe_store_cached(cache: &ProbeCache, dir: &Path, max_age: Duration) -> StoreView {
    let owned = dir.to_path_buf();
    reuse_or_probe(cache, max_age, move || probe_store(&owned)).await
}

/// Returns the cached answer while it is younger than `max_age`, else runs `probe` (off the
/// async threads) and keeps its answer. The probe is a parameter so that a test can count runs.
async fn reuse_or_probe<F>(cache: &ProbeCache, max_age: Duration, probe: F) -> StoreView
where
    F: FnOnce() -> StoreView + Send + 'static,
{
    let mut last = cache.0.lock().await;
    if let Some((at, view)) = last.as_ref()
        && at.elapsed() < max_age
    {
        return view.clone();
    }
    let view = tokio::task::spawn_blocking(probe)
        .await
        .unwrap_or_else(|e| StoreView {
            state: "error",
            message: Some(format!("the store probe failed: {e}")),
        });
    *last = Some((Instant::now(), view.clone()));
    view
}

fn is_disk_full(e: &std::io::Error) -> bool {
    // ENOSPC and EDQUOT on Linux.
    e.kind() == std::io::ErrorKind::StorageFull || matches!(e.raw_os_error(), Some(28 | 122))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_writable_directory_is_ok_and_the_probe_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(probe_store(dir.path()).state, "ok");
        assert!(!dir.path().join(PROBE_FILE).exists());
    }

    #[test]
    fn a_missing_directory_is_an_error_not_ok() {
        let dir = tempfile::tempdir().expect("temp dir");
        let view = probe_store(&dir.path().join("gone"));
        assert_eq!(view.state, "error");
        assert!(
            view.message
                .is_some_and(|m| m.contains("cannot be written"))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_probe_answer_is_reused_until_it_expires() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        let dir = tempfile::tempdir().expect("temp dir");
        let probes = Arc::new(AtomicUsize::new(0));
        // The real probe, counted, and slow enough that all callers below arrive while the
        // first one is still probing.
        let counted = || {
            let probes = probes.clone();
            let dir = dir.path().to_path_buf();
            move || {
                probes.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(100));
                probe_store(&dir)
            }
        };
        // Reuse is checked with an age no test run reaches, expiry with a short one.
        let long = Duration::from_secs(3600);
        let short = Duration::from_millis(50);
        let cache = ProbeCache::default();
        let views =
            futures::future::join_all((0..8).map(|_| reuse_or_probe(&cache, long, counted())))
                .await;
        assert!(views.iter().all(|v| v.state == "ok"), "{views:?}");
        assert_eq!(
            probes.load(Ordering::SeqCst),
            1,
            "eight concurrent callers share one probe"
        );
        // A directory where the probe file should be makes the write fail; while the answer
        // is cached, that is not noticed and nothing is written.
        std::fs::create_dir(dir.path().join(PROBE_FILE)).expect("block the probe");
        assert_eq!(reuse_or_probe(&cache, long, counted()).await.state, "ok");
        assert_eq!(
            probes.load(Ordering::SeqCst),
            1,
            "a cached answer is reused"
        );
        tokio::time::sleep(short + Duration::from_millis(20)).await;
        let after = reuse_or_probe(&cache, short, counted()).await;
        assert_eq!(after.state, "error", "the expired answer is probed again");
        assert_eq!(probes.load(Ordering::SeqCst), 2);
        // The production entry point goes through the same cache and sees the blocked disk.
        assert_eq!(
            probe_store_cached(&cache, dir.path(), Duration::ZERO)
                .await
                .state,
            "error"
        );
    }

    #[test]
    fn no_space_and_quota_read_as_disk_full() {
        assert!(is_disk_full(&std::io::Error::from_raw_os_error(28)));
        assert!(is_disk_full(&std::io::Error::from_raw_os_error(122)));
        assert!(!is_disk_full(&std::io::Error::from_raw_os_error(13)));
    }
}
