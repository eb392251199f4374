//! Project automation. `cargo xtask test` installs what the test suite needs (the Python venv
//! with the pinned third-party clients, xmllint, Chromium, OpenLDAP's slapd, PostgreSQL, systemd's
//! `systemd-analyze`) and runs every check CI runs; `cargo xtask package` builds the Debian
//! package.

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
        Some("package") => package(&args[1..]),
        Some("bench") => bench::run_cli(&args[1..]),
        Some("fuzz") => fuzz::run(&root(), &args[1..]),
        Some("gen-windows-zones") => windows_zones::generate(&root(), &args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  test [ARGS]   install test prerequisites, check formatting and lints, run all tests\n  setup         install test prerequisites only\n  package [--debug]  build calgate (release, or debug) and target/package/calgate_<version>_<arch>.deb\n  bench [--quick|--memory|--million|--directory|--notifications|--tiny]  calgate against exchangelib and the floor, directory sync, Graph change notifications (BENCHMARKS.md)\n  fuzz ews|graph|settings|event-id|all [SECONDS] [--runs N] [--asan]  fuzz targets for SECONDS (or N executions) each (RELIABILITY.md)"
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
///
/// Installing a server package must not start a system-wide server: Debian's slapd would start
/// one on port 389 through `invoke-rc.d` (containers have no systemd to stop it). A
/// `policy-rc.d` that answers 101 ("action forbidden") is put in place for the install when the
/// machine has none, and slapd's own configuration step is skipped (the tests write their own
/// `slapd.conf`). PostgreSQL is told not to make its `main` cluster (the tests `initdb` their
/// own server in a temporary directory).
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
    if missing.contains(&"slapd") {
        preseed("slapd slapd/no_configuration boolean true")?;
    }
    if missing.contains(&"postgresql") {
        let dir = Path::new("/etc/postgresql-common/createcluster.d");
        std::fs::create_dir_all(dir).context("creating createcluster.d")?;
        std::fs::write(
            dir.join("calgate-tests.conf"),
            "# The calgate tests start their own server; no system-wide cluster.\n\
             create_main_cluster = false\n",
        )
        .context("writing createcluster.d/calgate-tests.conf")?;
    }
    let policy = Path::new("/usr/sbin/policy-rc.d");
    let ours = !policy.exists();
    if ours {
        write_policy(policy)?;
    }
    let installed = run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"));
    if ours {
        std::fs::remove_file(policy).context("removing policy-rc.d")?;
    }
    installed
}

/// A `policy-rc.d` that forbids starting services.
fn write_policy(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, "#!/bin/sh\nexit 101\n").context("writing policy-rc.d")?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .context("making policy-rc.d executable")
}

/// Answers a package's configuration question before it is asked.
fn preseed(selection: &str) -> Result<()> {
    use std::io::Write;
    let mut child = Command::new("debconf-set-selections")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .context("starting debconf-set-selections")?;
    child
        .stdin
        .take()
        .context("debconf-set-selections' input")?
        .write_all(format!("{selection}\n").as_bytes())?;
    let status = child.wait()?;
    if !status.success() {
        bail!("debconf-set-selections failed with {status}");
    }
    Ok(())
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

/// The pinned accessibility checker the browser tests run on every page (axe-core, MPL-2.0,
/// used as a test tool only; nothing of it ships).
const AXE_CORE: &str = "axe-core@4.14.1";

/// Installs (once) `playwright-core` and `axe-core` under `target/browser-node`; returns
/// playwright-core's package directory (axe-core is its sibling).
fn browser_node() -> Result<PathBuf> {
    let dir = root().join("target").join("browser-node");
    let package = dir.join("node_modules").join("playwright-core");
    let stamp = dir.join("playwright.stamp");
    let wanted = format!("{PLAYWRIGHT_CORE} {AXE_CORE}");
    if package.join("package.json").exists()
        && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str())
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
        .arg(AXE_CORE)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))?;
    std::fs::write(&stamp, &wanted).context("writing the playwright stamp")?;
    Ok(package)
}

/// `cargo xtask package [--debug]`: builds the binary and the `.deb` in `<target>/package/`.
fn package(args: &[String]) -> Result<()> {
    let debug = match args {
        [] => false,
        [flag] if flag == "--debug" => true,
        _ => bail!("usage: cargo xtask package [--debug]"),
    };
    let root = root();
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut build = Command::new(&cargo);
    build
        .current_dir(&root)
        .args(["build", "-p", "calgate", "--bin", "calgate"]);
    if !debug {
        build.arg("--release");
    }
    run(&mut build)?;
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    let binary = target
        .join(if debug { "debug" } else { "release" })
        .join("calgate");
    let deb = xtask::package::build_deb(&xtask::package::DebInput {
        root: &root,
        binary: &binary,
        out_dir: &target.join("package"),
        compress: !debug,
    })?;
    println!("{}", deb.display());
    Ok(())
}

fn setup() -> Result<PathBuf> {
    apt_install(&[
        // The packaging tests check the unit with systemd-analyze (no running systemd needed).
        ("systemd-analyze", "systemd"),
        ("xmllint", "libxml2-utils"),
        ("chromium", "chromium"),
        // The directory tests' OpenLDAP server, and its command-line clients.
        ("/usr/sbin/slapd", "slapd"),
        ("ldapsearch", "ldap-utils"),
        // The store's and the gateway's PostgreSQL tests (`calgate-pgtest` runs its own server).
        ("/usr/lib/postgresql/*/bin/initdb", "postgresql"),
    ])?;
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
    let mut tests = Command::new(&cargo);
    tests
        .current_dir(&root)
        .args(["test", "--workspace"])
        .args(extra)
        .env("CALGATE_TEST_PYTHON", &python)
        .env("CALGATE_TEST_PLAYWRIGHT", browser_node()?)
        .env("CALGATE_REQUIRE_EXTERNAL", "1");
    run_counting(&mut tests)
}

/// Runs `cargo test`, passing its output through, and ends with one line that sums every test
/// binary's `test result:` line (cargo's own last line is a doc-test binary's, often "0 passed").
fn run_counting(cmd: &mut Command) -> Result<()> {
    use std::io::{BufRead, BufReader, Write};
    eprintln!("xtask: running {cmd:?}");
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    let (mut passed, mut failed) = (0u64, 0u64);
    if let Some(out) = child.stdout.take() {
        let stdout = std::io::stdout();
        for line in BufReader::new(out).lines() {
            let line = line.context("reading test output")?;
            if let Some(rest) = line.strip_prefix("test result: ") {
                passed += count_before(rest, " passed");
                failed += count_before(rest, " failed");
            }
            let mut lock = stdout.lock();
            let _ = writeln!(lock, "{line}");
        }
    }
    let status = child.wait().context("waiting for cargo test")?;
    println!("{passed} passed, {failed} failed");
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// The number just before `label` in a `test result:` line (`ok. 12 passed; 0 failed; …`).
fn count_before(line: &str, label: &str) -> u64 {
    line.find(label)
        .map(|end| &line[..end])
        .and_then(|head| head.rsplit(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::count_before;

    #[test]
    fn test_result_lines_are_summed_by_label() {
        let line = "FAILED. 98 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 225.36s";
        assert_eq!(count_before(line, " passed"), 98);
        assert_eq!(count_before(line, " failed"), 1);
        assert_eq!(count_before("ok. 0 passed; 0 failed;", " passed"), 0);
        assert_eq!(count_before("no counts here", " passed"), 0);
    }
}
