//! Project automation. `cargo xtask test` installs what the test suite needs (the Python venv
//! with the pinned third-party clients, xmllint) and runs every check CI runs.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

mod bench;
mod fuzz;
mod windows_zones;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("setup") => setup().map(|_| ()),
        Some("bench") => bench::run_cli(&args[1..]),
        Some("fuzz") => fuzz::run(&root(), &args[1..]),
        Some("gen-windows-zones") => windows_zones::generate(&root(), &args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  test [ARGS]   install test prerequisites, check formatting and lints, run all tests\n  setup         install test prerequisites only\n  bench [--quick|--tiny]  calgate against exchangelib and the floor (BENCHMARKS.md)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Debian packages the suite needs, installed when missing.
fn apt_install(packages: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(program, _)| !have(program))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Creates (once) the test venv with the pinned third-party clients; returns its python.
fn python_venv() -> Result<PathBuf> {
    let root = root();
    let venv = root.join("target").join("test-venv");
    let python = venv.join("bin").join("python");
    let requirements = root.join("xtask/python/requirements-test.txt");
    let stamp = venv.join("requirements.stamp");
    let wanted = std::fs::read_to_string(&requirements).context("reading requirements")?;
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))?;
    std::fs::write(&stamp, wanted).context("writing venv stamp")?;
    Ok(python)
}

/// The pinned Playwright client library for the browser tests. It drives Debian's Chromium;
/// no Playwright browser is ever downloaded.
const PLAYWRIGHT_CORE: &str = "playwright-core@1.65.1";

/// Installs (once) `playwright-core` under `target/browser-node`; returns the package directory.
fn browser_node() -> Result<PathBuf> {
    let dir = root().join("target").join("browser-node");
    let package = dir.join("node_modules").join("playwright-core");
    let stamp = dir.join("playwright.stamp");
    if package.join("package.json").exists()
        && std::fs::read_to_string(&stamp).ok().as_deref() == Some(PLAYWRIGHT_CORE)
    {
        return Ok(package);
    }
    std::fs::create_dir_all(&dir).context("creating target/browser-node")?;
    run(Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--prefix",
        ])
        .arg(&dir)
        .arg(PLAYWRIGHT_CORE)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))?;
    std::fs::write(&stamp, PLAYWRIGHT_CORE).context("writing the playwright stamp")?;
    Ok(package)
}

fn setup() -> Result<PathBuf> {
    apt_install(&[("xmllint", "libxml2-utils"), ("chromium", "chromium")])?;
    browser_node()?;
    python_venv()
}

fn test(extra: &[String]) -> Result<()> {
    let python = setup()?;
    let root = root();
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    run(Command::new(&cargo)
        .current_dir(&root)
        .args(["fmt", "--all", "--check"]))?;
    run(Command::new(&cargo).current_dir(&root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The crash drills run the real binary; cargo builds another package's binary for
    // integration tests only when that package is the one tested.
    run(Command::new(&cargo)
        .current_dir(&root)
        .args(["build", "-p", "calgate", "--bin", "calgate"]))?;
    run(Command::new(&cargo)
        .current_dir(&root)
        .args(["test", "--workspace"])
        .args(extra)
        .env("CALGATE_TEST_PYTHON", &python)
        .env("CALGATE_TEST_PLAYWRIGHT", browser_node()?)
        .env("CALGATE_REQUIRE_EXTERNAL", "1"))?;
    Ok(())
}
