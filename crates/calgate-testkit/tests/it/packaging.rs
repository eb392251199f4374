//! The Debian package, end to end: built from the debug binary by the same code as `cargo xtask
//! package`, its control fields and files checked, its unit verified and scored by
//! `systemd-analyze` (no running systemd needed), and the packaged binary run from the unpacked
//! tree with the packaged configuration until it serves. Also: the example configuration shows
//! every key the gateway reads, each with its real default.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use calgate_testkit::workspace_root;

/// The hardening the unit must keep (`Key=value` lines, exactly).
const HARDENING: &[&str] = &[
    "DynamicUser=yes",
    "StateDirectory=calgate",
    "ConfigurationDirectory=calgate",
    "Restart=on-failure",
    "UMask=0077",
    "CapabilityBoundingSet=",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "MemoryDenyWriteExecute=yes",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
];

/// `systemd-analyze security` scores exposure from 0 (none) to 10; the unit scores 1.2 today.
const MOST_EXPOSURE: f64 = 2.0;

fn output(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start ({e}); `cargo xtask test` installs it"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `Field: value` of a package's control file.
fn control_field<'a>(control: &'a str, field: &str) -> Option<&'a str> {
    control
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(&format!("{field}: ")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_debian_package_installs_a_hardened_service_that_serves() {
    let work = tempfile::tempdir().expect("temp dir");
    let root = workspace_root();
    let binary = crate::drills_crash::calgate_bin();
    let deb = xtask::package::build_deb(&xtask::package::DebInput {
        root: &root,
        binary: &binary,
        out_dir: work.path(),
        compress: false,
    })
    .expect("the package builds");
    let arch = xtask::package::architecture().expect("architecture");
    assert_eq!(
        deb.file_name().and_then(|n| n.to_str()),
        Some(format!("calgate_{}_{arch}.deb", env!("CARGO_PKG_VERSION")).as_str())
    );

    // The control fields and the maintainer scripts.
    let control = output(Command::new("dpkg-deb").arg("--info").arg(&deb));
    for (field, value) in [
        ("Package", "calgate"),
        ("Version", env!("CARGO_PKG_VERSION")),
        ("Architecture", arch.as_str()),
        ("Section", "net"),
    ] {
        assert_eq!(control_field(&control, field), Some(value), "{control}");
    }
    let depends = control_field(&control, "Depends").expect("Depends");
    assert!(depends.starts_with("libc6 (>= 2."), "{depends}");
    assert!(control_field(&control, "Maintainer").is_some(), "{control}");
    let installed: u64 = control_field(&control, "Installed-Size")
        .and_then(|s| s.parse().ok())
        .expect("Installed-Size");
    let binary_kib = std::fs::metadata(&binary).expect("binary").len() / 1024;
    assert!(
        installed > binary_kib,
        "{installed} KiB for a {binary_kib} KiB binary"
    );
    let conffiles = output(
        Command::new("dpkg-deb")
            .args(["--info"])
            .arg(&deb)
            .arg("conffiles"),
    );
    assert_eq!(conffiles.trim(), "/etc/calgate/calgate.toml");
    for script in ["postinst", "prerm", "postrm"] {
        let text = output(Command::new("dpkg-deb").arg("--info").arg(&deb).arg(script));
        assert!(text.starts_with("#!/bin/sh\n"), "{script}: {text}");
        let syntax = Command::new("sh")
            .arg("-n")
            .arg(root.join("packaging/debian").join(script))
            .status()
            .expect("sh -n");
        assert!(syntax.success(), "{script} is not valid sh");
    }

    // Exactly these files, with these modes; the simulator's binary stays out.
    let listing = output(Command::new("dpkg-deb").arg("--contents").arg(&deb));
    let mut files: Vec<(String, String)> = listing
        .lines()
        .filter(|l| !l.starts_with('d'))
        .map(|l| {
            let mode = l.split_whitespace().next().unwrap_or_default().to_string();
            let path = l.split_whitespace().last().unwrap_or_default().to_string();
            (path, mode)
        })
        .collect();
    files.sort();
    let expected: Vec<(String, String)> = [
        ("./etc/calgate/calgate.toml", "-rw-r--r--"),
        ("./lib/systemd/system/calgate.service", "-rw-r--r--"),
        ("./usr/bin/calgate", "-rwxr-xr-x"),
        ("./usr/share/doc/calgate/OPERATIONS.md", "-rw-r--r--"),
        ("./usr/share/doc/calgate/copyright", "-rw-r--r--"),
        (
            "./usr/share/doc/calgate/prometheus-alerts.yml",
            "-rw-r--r--",
        ),
    ]
    .iter()
    .map(|(p, m)| ((*p).to_string(), (*m).to_string()))
    .collect();
    assert_eq!(files, expected, "{listing}");
    assert!(
        listing.lines().all(|l| l.contains(" root/root ")),
        "owned by root: {listing}"
    );

    // Unpacked as dpkg would install it (without running the maintainer scripts).
    let tree = work.path().join("root");
    output(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&tree));
    let unit_path = tree.join("lib/systemd/system/calgate.service");
    let unit = std::fs::read_to_string(&unit_path).expect("unit");
    let exec = "ExecStart=/usr/bin/calgate serve --config /etc/calgate/calgate.toml --data-dir /var/lib/calgate";
    assert!(unit.lines().any(|l| l == exec), "{unit}");
    for line in HARDENING {
        assert!(unit.lines().any(|l| l == *line), "{line} missing:\n{unit}");
    }
    let copyright =
        std::fs::read_to_string(tree.join("usr/share/doc/calgate/copyright")).expect("copyright");
    for linked in [" tokio ", " sqlx-sqlite ", " rustls "] {
        assert!(
            copyright.contains(linked),
            "{linked} not listed:\n{copyright}"
        );
    }

    // systemd-analyze checks the unit as systemd would load it. It also checks that ExecStart's
    // program exists, so the copy it reads names the unpacked binary; nothing else differs.
    let unpacked_binary = tree.join("usr/bin/calgate");
    let checked = work.path().join("calgate.service");
    std::fs::write(
        &checked,
        unit.replace(
            "/usr/bin/calgate ",
            &format!("{} ", unpacked_binary.display()),
        ),
    )
    .expect("unit copy");
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&checked)
        .output()
        .expect("systemd-analyze runs (`cargo xtask test` installs systemd)");
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success() && said.trim().is_empty(), "{said}");
    let security = output(
        Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--no-pager"])
            .arg(&checked),
    );
    let exposure: f64 = security
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for calgate.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no overall exposure level:\n{security}"));
    assert!(
        exposure <= MOST_EXPOSURE,
        "exposure {exposure}:\n{security}"
    );

    // The packaged binary, with the packaged configuration, serves.
    let version = output(Command::new(&unpacked_binary).arg("--version"));
    assert_eq!(
        version.trim(),
        format!(
            "calgate {} (schema {})",
            env!("CARGO_PKG_VERSION"),
            calgate_store::schema_version()
        )
    );
    let data = work.path().join("var-lib-calgate");
    let mut child = tokio::process::Command::new(&unpacked_binary)
        .arg("serve")
        .arg("--config")
        .arg(tree.join("etc/calgate/calgate.toml"))
        .arg("--data-dir")
        .arg(&data)
        .args(["--listen", "127.0.0.1:0"])
        .env("CALGATE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the packaged calgate starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (url, password_line) = tokio::time::timeout(Duration::from_secs(30), async {
        let mut url = None;
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(u) = line.strip_prefix("calgate listening on ") {
                url = Some(u.trim().to_string());
            } else if line.starts_with("First start:") {
                return (url.expect("the address comes first"), line);
            }
        }
        panic!("the packaged calgate ended before it listened");
    })
    .await
    .expect("it listens within 30 s");
    // Under systemd, standard output goes to the journal: the first admin password is there.
    assert!(
        password_line.contains("admin") && password_line.contains("password"),
        "{password_line}"
    );
    let http = reqwest::Client::new();
    for path in ["/healthz", "/readyz"] {
        let status = http
            .get(format!("{url}{path}"))
            .send()
            .await
            .expect(path)
            .status();
        assert_eq!(status, 200, "{path}");
    }
    let metrics = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    for name in alert_metric_names() {
        assert!(
            metrics.contains(&format!("# TYPE {name} "))
                || metrics.contains(&format!("# TYPE {} ", name.trim_end_matches("_bucket"))),
            "the alert rules use {name}, which /metrics does not serve"
        );
    }
    assert!(data.join(calgate_store::DB_FILE).is_file());
    assert!(data.join("logs").is_dir());
    child.start_kill().expect("stop");
    let _ = child.wait().await;
}

/// Every `calgate_…` metric named in the example alert rules.
fn alert_metric_names() -> Vec<String> {
    let rules = std::fs::read_to_string(workspace_root().join("docs/prometheus-alerts.yml"))
        .expect("alert rules");
    let mut names: Vec<String> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("calgate_"))
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    assert!(names.len() >= 4, "{names:?}");
    names
}

/// Keys the example shows with an example value rather than their default (they have none:
/// each turns something on). They are left commented when the example is compared with the
/// defaults; the HTTPS ones are read by builds that serve HTTPS themselves.
const EXAMPLE_VALUES: &[&str] = &[
    "database_url",
    "tls_cert",
    "tls_key",
    "https_redirect_listen",
    "trusted_proxies",
];

/// The keys the configuration file takes, as its parser lists them when it meets an unknown
/// one (`unknown field …, expected one of …`): at the top (`table` empty) or in a table.
fn keys_read(table: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("probe.toml");
    let header = if table.is_empty() {
        String::new()
    } else {
        format!("[{table}]\n")
    };
    std::fs::write(&file, format!("{header}zz_not_a_key = 1\n")).expect("write");
    let err = calgate::config::BootConfig::load(Some(&file), None, None)
        .expect_err("an unknown key is refused");
    let text = format!("{err:#}");
    let expected = text
        .split("expected one of ")
        .nth(1)
        .unwrap_or_else(|| panic!("the parser lists no keys: {text}"));
    expected
        .split(',')
        .map_while(|k| {
            let k = k.trim();
            k.strip_prefix('`')
                .and_then(|k| k.split('`').next())
                .map(str::to_string)
        })
        .collect()
}

/// The example configuration lists every key the gateway reads, and nothing else. Uncommented
/// (example values aside), it is a valid configuration equal to the defaults: every value it
/// shows is the real default.
#[test]
fn the_example_configuration_shows_every_key_with_its_default() {
    let example = std::fs::read_to_string(workspace_root().join("packaging/debian/calgate.toml"))
        .expect("example configuration");
    let mut uncommented = String::new();
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut table = String::new();
    let mut tables = Vec::new();
    for line in example.lines() {
        assert!(
            line.is_empty() || line.starts_with('#'),
            "every line stays commented: {line:?}"
        );
        let Some(rest) = line.strip_prefix("# ") else {
            continue;
        };
        if let Some(name) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            table = name.to_string();
            tables.push(table.clone());
            keys.push((String::new(), table.clone()));
            uncommented.push_str(rest);
            uncommented.push('\n');
            continue;
        }
        let Some((key, _)) = rest.split_once(" = ") else {
            continue;
        };
        if !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            continue;
        }
        keys.push((table.clone(), key.to_string()));
        if !EXAMPLE_VALUES.contains(&key) {
            uncommented.push_str(rest);
            uncommented.push('\n');
        }
    }

    // Every key read is in the example, and every key of the example is read (example values
    // aside, which builds without HTTPS do not read).
    for table in std::iter::once(String::new()).chain(tables) {
        let read = keys_read(&table);
        let shown: Vec<&String> = keys
            .iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, k)| k)
            .collect();
        for key in &read {
            assert!(
                shown.contains(&key),
                "the example lacks {key:?} (table {table:?}): it shows {shown:?}"
            );
        }
        for key in shown {
            assert!(
                read.contains(key) || EXAMPLE_VALUES.contains(&key.as_str()),
                "the example shows {key:?} (table {table:?}), which is not read: {read:?}"
            );
        }
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("calgate.toml");
    std::fs::write(&file, &uncommented).expect("write");
    let from_example = calgate::config::BootConfig::load(Some(&file), None, None)
        .unwrap_or_else(|e| panic!("the example does not load: {e:#}\n{uncommented}"));
    let defaults =
        calgate::config::BootConfig::load(None, None, Some(Path::new("/var/lib/calgate")))
            .expect("defaults");
    assert_eq!(
        from_example.data_dir,
        PathBuf::from("/var/lib/calgate"),
        "the service's data directory"
    );
    assert_eq!(from_example, defaults, "the example shows the defaults");
}
