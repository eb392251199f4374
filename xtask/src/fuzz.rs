//! `cargo xtask fuzz ews|graph|settings [SECONDS]`: runs one fuzz target (EWS responses, Graph
//! responses, the settings validator) for a bounded time with cargo-fuzz on the nightly
//! toolchain, its corpus seeded from the recorded responses in the shared material (settings:
//! from a few bodies written here). Not part of `cargo xtask test`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Shared-material directories whose XML files seed the corpus.
const SEEDS: [&str; 3] = ["ews-fixtures", "ews-validate", "captures/exchangelib"];
/// Recorded Graph answers seed the Graph target.
const GRAPH_SEEDS: [&str; 1] = ["captures/o365"];
/// Settings bodies as the API receives them seed the validator target.
const SETTINGS_SEEDS: [&str; 3] = [
    r#"{"provider":"exchange","grant_basic_auth":true,"username":"attendant@contoso.com","password":"Pa$$w0rd-long#1","exchange_version":"exchange2013_sp1","ews_url":"https://mail.contoso.com/EWS/Exchange.asmx","refresh_interval_s":300}"#,
    r#"{"provider":"office365","grant_basic_auth":true,"grant_modern_auth":true,"tenant_id":"4b6c0d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e","client_id":"9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d","username":"a@contoso.com","password":"x","refresh_interval_s":30,"privacy":"subject"}"#,
    r#"{"provider":"microsoft365","tenant_id":"contoso.onmicrosoft.com","client_id":"9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d","client_secret":"s","graph_endpoint":"https://graph.microsoft.com","authority_host":"https://login.microsoftonline.com","extra_ca_pem":null,"allow_insecure_http":false}"#,
];

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let target = match args.first().map(String::as_str) {
        Some("ews") | None => "ews_response",
        Some("graph") => "graph_response",
        Some("settings") => "settings_validator",
        Some(other) => bail!("unknown fuzz target {other:?}; known: ews, graph, settings"),
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
    if target == "settings_validator" {
        for (i, body) in SETTINGS_SEEDS.iter().enumerate() {
            std::fs::write(corpus.join(format!("seed-{i}.json")), body)
                .context("seeding the settings corpus")?;
            seeded += 1;
        }
    }
    let (dirs, suffix): (&[&str], &str) = match target {
        "graph_response" => (&GRAPH_SEEDS, ".response.json"),
        "settings_validator" => (&[], ""),
        _ => (&SEEDS, ".xml"),
    };
    for dir in dirs.iter().copied() {
        let Ok(entries) = std::fs::read_dir(shared.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_response = name.ends_with(suffix)
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
