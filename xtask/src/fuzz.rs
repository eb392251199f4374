//! `cargo xtask fuzz ews [SECONDS]`: runs the EWS response fuzz target for a bounded time with
//! cargo-fuzz on the nightly toolchain, its corpus seeded from the recorded responses in the
//! shared material. Not part of `cargo xtask test`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Shared-material directories whose XML files seed the corpus.
const SEEDS: [&str; 3] = ["ews-fixtures", "ews-validate", "captures/exchangelib"];

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let target = match args.first().map(String::as_str) {
        Some("ews") | None => "ews_response",
        Some(other) => bail!("unknown fuzz target {other:?}; known: ews"),
    };
    let seconds: u64 = match args.get(1) {
        Some(s) => s.parse().with_context(|| format!("seconds: {s:?}"))?,
        None => 60,
    };
    let fuzz_dir = root.join("fuzz");
    let corpus = fuzz_dir.join("corpus").join(target);
    std::fs::create_dir_all(&corpus).context("creating the corpus directory")?;
    let shared = std::env::var_os("CALGATE_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("..").join("shared"));
    let mut seeded = 0;
    for dir in SEEDS {
        let Ok(entries) = std::fs::read_dir(shared.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_response = name.ends_with(".xml")
                && (dir != "captures/exchangelib" || name.ends_with(".response.xml"));
            if is_response && entry.metadata().is_ok_and(|m| m.len() > 0) {
                let flat = format!("{}-{name}", dir.replace('/', "_"));
                std::fs::copy(&path, corpus.join(flat))
                    .with_context(|| format!("seeding {}", path.display()))?;
                seeded += 1;
            }
        }
    }
    eprintln!(
        "xtask: corpus {} seeded with {seeded} recorded responses",
        corpus.display()
    );
    if !Command::new("cargo")
        .args(["fuzz", "--version"])
        .status()
        .is_ok_and(|s| s.success())
    {
        bail!("cargo-fuzz is missing: cargo install cargo-fuzz");
    }
    let status = Command::new("cargo")
        .current_dir(&fuzz_dir)
        .args(["+nightly", "fuzz", "run", target])
        .arg(&corpus)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-max_len=262144")
        .arg("-rss_limit_mb=2048")
        .status()
        .context("starting cargo fuzz")?;
    if !status.success() {
        bail!("fuzzing {target} failed ({status}); see fuzz/artifacts/{target}/");
    }
    Ok(())
}
