//! `cargo xtask bench [--quick|--memory|--directory|--tiny] [-- ARGS]`: calgate against exchangelib
//! and against the floor, side by side in one run, and the cost of directory sync. Installs the
//! benchmark venv (`target/bench-venv`, exchangelib pinned in `bench/requirements-bench.txt`),
//! builds the release binaries (gateway, simulator, the quick-xml tokenize-only tool, the
//! test suite's slapd starter) and hands them to `bench/run.py`, which measures, prints the
//! Markdown tables and writes `target/bench/results.json`.
//!
//! - default: 1 000, 10 000 and 100 000 watched mailboxes (exchangelib at each), push to
//!   1 000 stream clients, directory sync from slapd (10 000 and 100 000 people) and through
//!   Graph (10 000);
//! - `--quick`: 1 000 watched mailboxes only, the same push scenario (a smoke run of minutes);
//! - `--memory`: 100 000 watched mailboxes, calgate alone (no exchangelib, no push): the
//!   memory bar in a few minutes;
//! - `--million`: 10 000 and 1 000 000 watched mailboxes, calgate alone: the flat cost per
//!   mailbox at a million (the simulator's tenant then holds 1.2 million people);
//! - `--directory`: directory sync alone, the default's sizes (no venv needed);
//! - `--notifications`: Graph change notifications alone at 10 000 mailboxes (no venv
//!   needed): Graph requests per mailbox per hour with the sweep at an hour, and the delay
//!   from a calendar change to the stream;
//! - `--tiny`: 100 mailboxes, 10 stream clients and directories of 300 people, debug binaries;
//!   what CI runs so the command cannot rot (it checks the run completes and counts add up,
//!   never speed).
//!
//! Whatever day it runs, the window is a working day and the next: the simulator generates
//! today's calendars as a Thursday's (`run.py --today-as thu`, the default), so the figures do
//! not depend on the day of the week (a weekend window reads well under half the meetings).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{root, run};

/// How big a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Full,
    Quick,
    Memory,
    Million,
    Directory,
    Notifications,
    Tiny,
}

/// Directory sync sizes of the default run and of `--directory`.
const DIRECTORY_ARGS: &[&str] = &["--ldap-people", "10000,100000", "--graph-people", "10000"];

impl Size {
    fn args(self) -> &'static [&'static str] {
        match self {
            Size::Full => &[
                "--scenarios",
                "1000,10000,100000",
                "--exchangelib-max",
                "100000",
                "--push-clients",
                "1000",
            ],
            Size::Million => &[
                "--scenarios",
                "10000,1000000",
                "--exchangelib-max",
                "0",
                "--push-clients",
                "0",
                "--timeout",
                "3600",
            ],
            Size::Directory | Size::Notifications => &["--scenarios", "", "--push-clients", "0"],
            Size::Quick => &[
                "--scenarios",
                "1000",
                "--exchangelib-max",
                "1000",
                "--push-clients",
                "1000",
            ],
            Size::Memory => &[
                "--scenarios",
                "100000",
                "--exchangelib-max",
                "0",
                "--push-clients",
                "0",
            ],
            Size::Tiny => &[
                "--scenarios",
                "100",
                "--exchangelib-max",
                "100",
                "--push-clients",
                "10",
                "--push-margin",
                "4",
            ],
        }
    }

    /// The directory sync sizes, added to [`Size::args`].
    fn directory_args(self) -> &'static [&'static str] {
        match self {
            Size::Full | Size::Directory => DIRECTORY_ARGS,
            Size::Tiny => &["--ldap-people", "300", "--graph-people", "300"],
            Size::Quick | Size::Memory | Size::Million | Size::Notifications => &[],
        }
    }

    /// The change-notification sizes, added to [`Size::args`].
    fn notification_args(self) -> &'static [&'static str] {
        match self {
            Size::Full | Size::Notifications => &["--notify-people", "10000"],
            Size::Tiny => &[
                "--notify-people",
                "100",
                "--notify-window-s",
                "20",
                "--notify-settle-s",
                "0",
                "--notify-changes",
                "20",
            ],
            Size::Quick | Size::Memory | Size::Million | Size::Directory => &[],
        }
    }

    /// Whether the run has free/busy scenarios (which need exchangelib and the tokenize tool).
    fn free_busy(self) -> bool {
        !matches!(self, Size::Directory | Size::Notifications)
    }

    /// Cargo profile directory the binaries come from.
    fn profile(self) -> &'static str {
        match self {
            Size::Tiny => "debug",
            Size::Full
            | Size::Quick
            | Size::Memory
            | Size::Million
            | Size::Directory
            | Size::Notifications => "release",
        }
    }
}

pub fn run_cli(args: &[String]) -> Result<()> {
    let mut size = Size::Full;
    let mut extra = Vec::new();
    let mut rest = false;
    for a in args {
        match a.as_str() {
            _ if rest => extra.push(a.clone()),
            "--quick" => size = Size::Quick,
            "--memory" => size = Size::Memory,
            "--million" => size = Size::Million,
            "--directory" => size = Size::Directory,
            "--notifications" => size = Size::Notifications,
            "--tiny" => size = Size::Tiny,
            "--" => rest = true,
            other => {
                bail!(
                    "bench: unknown argument {other:?} (use --quick, --memory, --million, --directory, --notifications, --tiny, -- ARGS)"
                )
            }
        }
    }
    // Directory sync alone drives the gateway with the standard library only.
    let python = if size.free_busy() {
        bench_venv()?
    } else {
        PathBuf::from("python3")
    };
    let out = root().join("target").join("bench").join("results.json");
    bench(size, &python, &out, &extra)
}

/// Builds the binaries for `size` and runs the measuring script; the results land in `out`.
pub fn bench(size: Size, python: &Path, out: &Path, extra: &[String]) -> Result<()> {
    let root = root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let release: &[&str] = if size.profile() == "release" {
        &["--release"]
    } else {
        &[]
    };
    run(Command::new(&cargo)
        .current_dir(&root)
        .args(["build", "-p", "calgate", "-p", "calgate-sim"])
        .args(release))?;
    let bin = root.join("target").join(size.profile());
    let mut script = Command::new(python);
    script
        .current_dir(&root)
        .arg(root.join("bench").join("run.py"))
        .arg("--sim")
        .arg(bin.join("calgate-sim"))
        .arg("--calgate")
        .arg(bin.join("calgate"))
        .arg("--python")
        .arg(python)
        .arg("--out")
        .arg(out);
    if size.free_busy() {
        run(Command::new(&cargo)
            .current_dir(&root)
            .args(["build", "-p", "calgate-ews", "--example", "tokenize"])
            .args(release))?;
        script
            .arg("--tokenize")
            .arg(bin.join("examples").join("tokenize"));
    }
    if !size.directory_args().is_empty() {
        run(Command::new(&cargo)
            .current_dir(&root)
            .args(["build", "-p", "calgate-testkit", "--example", "slapd"])
            .args(release))?;
        script
            .arg("--slapd")
            .arg(bin.join("examples").join("slapd"));
    }
    run(script
        .args(size.args())
        .args(size.directory_args())
        .args(size.notification_args())
        .args(extra))
}

/// Creates (once) the benchmark venv; returns its python.
fn bench_venv() -> Result<PathBuf> {
    let root = root();
    let venv = root.join("target").join("bench-venv");
    let python = venv.join("bin").join("python");
    let requirements = root.join("bench").join("requirements-bench.txt");
    let stamp = venv.join("requirements.stamp");
    let wanted = std::fs::read_to_string(&requirements).context("reading bench requirements")?;
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
    std::fs::write(&stamp, wanted).context("writing the bench venv stamp")?;
    Ok(python)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole benchmark at 100 mailboxes and directories of 300 people with debug binaries:
    /// the command runs end to end and its counts add up. Speed is never asserted. Needs a
    /// python with exchangelib (`CALGATE_TEST_PYTHON`, set by `cargo xtask test`) and slapd.
    #[test]
    fn tiny_bench_runs_end_to_end() {
        let Some(python) = std::env::var_os("CALGATE_TEST_PYTHON").map(PathBuf::from) else {
            assert!(
                std::env::var_os("CALGATE_REQUIRE_EXTERNAL").is_none(),
                "CALGATE_TEST_PYTHON is required"
            );
            eprintln!("skipped: CALGATE_TEST_PYTHON not set (cargo xtask test sets it)");
            return;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("results.json");
        bench(Size::Tiny, &python, &out, &[]).expect("tiny bench");
        let text = std::fs::read_to_string(&out).expect("results");
        let r: serde_json::Value = serde_json::from_str(&text).expect("json");
        let s = &r["scenarios"][0];
        assert_eq!(s["mailboxes"], 100);
        // 100 mailboxes are one request of 100, for both clients.
        assert_eq!(s["calgate"]["requests"], 1, "{s}");
        assert_eq!(s["exchangelib"]["requests"], 1, "{s}");
        assert_eq!(s["exchangelib"]["views"], 100, "{s}");
        assert_eq!(s["tokenize"]["bodies"], 1, "{s}");
        assert!(s["tokenize"]["events"].as_u64() > Some(1000), "{s}");
        let push = &r["push"];
        assert_eq!(push["received"], push["expected"], "{push}");
        assert_eq!(push["snapshots"], 10, "{push}");
        assert!(r["freshness"]["boundaries"].as_u64() > Some(0), "{r}");
        // Directory sync: run.py itself fails when an unchanged re-sync writes anything or the
        // changes are not read from the delta; here, that both ran and their counts add up.
        let ldap = &r["directory"]["ldap"][0];
        assert_eq!(ldap["people"], 300, "{ldap}");
        assert_eq!(ldap["first"]["added"], ldap["selected"], "{ldap}");
        assert_eq!(ldap["unchanged"]["unchanged"], ldap["selected"], "{ldap}");
        assert_eq!(ldap["unchanged"]["added"], 0, "{ldap}");
        let graph = &r["directory"]["graph"][0];
        assert_eq!(graph["first"]["added"], graph["listed"], "{graph}");
        assert_eq!(graph["first"]["delta_read"], false, "{graph}");
        assert_eq!(graph["changes"]["delta_read"], true, "{graph}");
        assert_eq!(graph["changes"]["added"], 5, "{graph}");
        assert_eq!(graph["changes"]["removed"], 5, "{graph}");
        assert!(
            graph["first"]["graph_requests"].as_u64() >= Some(3),
            "{graph}"
        );
        assert_eq!(graph["changes"]["graph_requests"], 1, "{graph}");
        // Change notifications: everyone subscribed once, every booked meeting seen on the
        // stream (run.py fails otherwise), and the reads it took were getSchedule requests.
        let n = &r["notifications"][0];
        assert_eq!(n["mailboxes"], 100, "{n}");
        assert_eq!(
            n["setup"]["graph"]["graph.subscriptions.create"], 100,
            "{n}"
        );
        assert_eq!(n["latency"]["seen"], n["latency"]["changes"], "{n}");
        assert!(
            n["latency"]["graph"]["graph.getSchedule"].as_u64() >= Some(1),
            "{n}"
        );
        assert!(
            n["steady"]["granted_lifetime_h"].as_f64() > Some(1.0),
            "{n}"
        );
    }
}
