//! The Debian package: a staged tree (the binary, the systemd unit, the example configuration,
//! the documents, the maintainer scripts) built into `calgate_<version>_<arch>.deb` by
//! `dpkg-deb`. Ours rather than cargo-deb's: the whole recipe is this file and
//! `packaging/debian/`, it needs nothing beyond dpkg, and the tests build the package through
//! the same function.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The package's name, and the one program it installs.
pub const PACKAGE: &str = "calgate";
/// The release, shared by every crate of the workspace.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The configuration file dpkg keeps an administrator's changes to.
pub const CONFFILE: &str = "/etc/calgate/calgate.toml";

/// What to package and where.
#[derive(Debug, Clone)]
pub struct DebInput<'a> {
    /// The workspace root (for `packaging/debian/`, `OPERATIONS.md` and the crates' licences).
    pub root: &'a Path,
    /// The `calgate` binary to ship.
    pub binary: &'a Path,
    /// Where the `.deb` goes.
    pub out_dir: &'a Path,
    /// xz as Debian ships packages; off for a quick package in tests.
    pub compress: bool,
}

/// The package's file name for this release on this machine's architecture.
pub fn deb_name(arch: &str) -> String {
    format!("{PACKAGE}_{VERSION}_{arch}.deb")
}

/// dpkg's name for this machine's architecture (`amd64`).
pub fn architecture() -> Result<String> {
    let out = Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .context("running dpkg --print-architecture")?;
    if !out.status.success() {
        bail!("dpkg --print-architecture failed with {}", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Stages the package's tree and builds the `.deb`; returns its path.
pub fn build_deb(input: &DebInput<'_>) -> Result<PathBuf> {
    let arch = architecture()?;
    fs::create_dir_all(input.out_dir)
        .with_context(|| format!("creating {}", input.out_dir.display()))?;
    let stage = input
        .out_dir
        .join(format!("{PACKAGE}_{VERSION}_{arch}.staging"));
    if stage.exists() {
        fs::remove_dir_all(&stage).with_context(|| format!("clearing {}", stage.display()))?;
    }
    let packaging = input.root.join("packaging/debian");
    let docs = Path::new("usr/share/doc/calgate");
    let files: [(PathBuf, PathBuf, u32); 6] = [
        (input.binary.to_path_buf(), "usr/bin/calgate".into(), 0o755),
        (
            packaging.join("calgate.service"),
            "lib/systemd/system/calgate.service".into(),
            0o644,
        ),
        (
            packaging.join("calgate.toml"),
            "etc/calgate/calgate.toml".into(),
            0o644,
        ),
        (
            input.root.join("OPERATIONS.md"),
            docs.join("OPERATIONS.md"),
            0o644,
        ),
        (
            input.root.join("docs/prometheus-alerts.yml"),
            docs.join("prometheus-alerts.yml"),
            0o644,
        ),
        (packaging.join("copyright"), docs.join("copyright"), 0o644),
    ];
    for (from, to, mode) in &files {
        install(from, &stage.join(to), *mode)?;
    }
    // The copyright file ends with the crates linked into the binary.
    let copyright = stage.join(docs).join("copyright");
    let mut text = fs::read_to_string(&copyright).context("reading the copyright file")?;
    text.push_str(&linked_crates(input.root)?);
    fs::write(&copyright, text).context("writing the copyright file")?;

    let debian = stage.join("DEBIAN");
    for script in ["postinst", "prerm", "postrm"] {
        install(&packaging.join(script), &debian.join(script), 0o755)?;
    }
    write(&debian.join("conffiles"), &format!("{CONFFILE}\n"), 0o644)?;
    let binary =
        fs::read(input.binary).with_context(|| format!("reading {}", input.binary.display()))?;
    let glibc = newest_glibc(&binary).unwrap_or_else(|| "2.17".to_string());
    let control = format!(
        "Package: {PACKAGE}\n\
         Version: {VERSION}\n\
         Architecture: {arch}\n\
         Maintainer: calgate maintainers <maintainers@calgate.invalid>\n\
         Installed-Size: {}\n\
         Depends: libc6 (>= {glibc}), libgcc-s1\n\
         Section: net\n\
         Priority: optional\n\
         Description: calendar availability for telephone attendant consoles\n \
         calgate tells telephone operators whether a colleague is free, in a meeting or out\n \
         of office, and until when, before they transfer a call. It reads availability from\n \
         Microsoft Exchange (EWS) and Microsoft 365 (EWS or Microsoft Graph) and serves it to\n \
         attendant consoles over a REST API, an event stream and its own pages.\n \
         .\n \
         The package runs the gateway as the systemd service calgate.service under its own\n \
         user, with its data in /var/lib/calgate and its configuration in /etc/calgate.\n",
        installed_size_kib(&stage)?
    );
    write(&debian.join("control"), &control, 0o644)?;

    let deb = input.out_dir.join(deb_name(&arch));
    let _ = fs::remove_file(&deb);
    let status = Command::new("dpkg-deb")
        .arg("--root-owner-group")
        .arg(if input.compress { "-Zxz" } else { "-Znone" })
        .arg("--build")
        .arg(&stage)
        .arg(&deb)
        .stdout(std::process::Stdio::null())
        .status()
        .context("running dpkg-deb")?;
    if !status.success() {
        bail!("dpkg-deb --build failed with {status}");
    }
    fs::remove_dir_all(&stage).with_context(|| format!("removing {}", stage.display()))?;
    Ok(deb)
}

fn install(from: &Path, to: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    fs::set_permissions(to, fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", to.display()))
}

fn write(path: &Path, text: &str, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", path.display()))
}

/// The installed files' size in KiB, as `Installed-Size` counts it (each file rounded up).
fn installed_size_kib(stage: &Path) -> Result<u64> {
    fn walk(dir: &Path, total: &mut u64) -> Result<()> {
        for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                if entry.file_name() != "DEBIAN" {
                    walk(&entry.path(), total)?;
                }
            } else {
                *total += meta.len().div_ceil(1024);
            }
        }
        Ok(())
    }
    let mut total = 0;
    walk(stage, &mut total)?;
    Ok(total)
}

/// The newest `GLIBC_2.N` symbol version the binary asks for: the C library it needs at least.
/// The version names are plain text in the binary's dynamic string table.
pub fn newest_glibc(binary: &[u8]) -> Option<String> {
    const TAG: &[u8] = b"GLIBC_2.";
    let mut newest: Option<(u32, u32)> = None;
    let mut at = 0;
    while let Some(found) = binary[at..].windows(TAG.len()).position(|w| w == TAG) {
        let start = at + found + TAG.len();
        let digits: Vec<u8> = binary[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .copied()
            .collect();
        at = start;
        let text = String::from_utf8_lossy(&digits);
        let mut parts = text.split('.').filter(|p| !p.is_empty());
        let Some(minor) = parts.next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let patch = parts
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0);
        if newest.is_none_or(|n| (minor, patch) > n) {
            newest = Some((minor, patch));
        }
    }
    newest.map(|(minor, patch)| {
        if patch == 0 {
            format!("2.{minor}")
        } else {
            format!("2.{minor}.{patch}")
        }
    })
}

/// A copyright paragraph naming every crate linked into `calgate` on this platform, with the
/// licence each declares (normal dependencies only: build scripts, procedural macros and tests
/// ship nothing).
fn linked_crates(root: &Path) -> Result<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let host = host_triple(&cargo)?;
    let out = Command::new(&cargo)
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--filter-platform",
        ])
        .arg(&host)
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("reading cargo metadata")?;
    let packages = meta["packages"].as_array().context("metadata packages")?;
    let nodes = meta["resolve"]["nodes"]
        .as_array()
        .context("metadata resolve")?;
    let start = packages
        .iter()
        .find(|p| p["name"] == PACKAGE && p["source"].is_null())
        .and_then(|p| p["id"].as_str())
        .context("the calgate package in the metadata")?;
    // A procedural macro runs in the compiler and is not linked in, nor what only it uses.
    let proc_macro = |id: &str| {
        packages.iter().any(|p| {
            p["id"] == id
                && p["targets"].as_array().into_iter().flatten().any(|t| {
                    t["kind"]
                        .as_array()
                        .is_some_and(|k| k.iter().any(|k| k == "proc-macro"))
                })
        })
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut queue = vec![start.to_string()];
    while let Some(id) = queue.pop() {
        if proc_macro(&id) || !seen.insert(id.clone()) {
            continue;
        }
        let Some(node) = nodes.iter().find(|n| n["id"] == id.as_str()) else {
            continue;
        };
        for dep in node["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            if normal && let Some(pkg) = dep["pkg"].as_str() {
                queue.push(pkg.to_string());
            }
        }
    }
    let mut lines: Vec<String> = packages
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| seen.contains(id)))
        .filter(|p| !p["source"].is_null())
        .map(|p| {
            format!(
                " {} {}: {}",
                p["name"].as_str().unwrap_or("?"),
                p["version"].as_str().unwrap_or("?"),
                p["license"].as_str().unwrap_or("see the crate")
            )
        })
        .collect();
    lines.sort();
    lines.dedup();
    Ok(format!(
        "\nFiles: usr/bin/calgate\nCopyright: the authors of each crate below\n\
         License: various\n The crates linked into calgate, with the licence each declares:\n{}\n",
        lines.join("\n")
    ))
}

fn host_triple(cargo: &str) -> Result<String> {
    // The toolchain's rustc, found the way cargo finds it.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| {
        Path::new(cargo)
            .parent()
            .map(|dir| dir.join("rustc"))
            .filter(|p| p.exists())
            .map_or_else(|| "rustc".to_string(), |p| p.display().to_string())
    });
    let out = Command::new(&rustc)
        .arg("-vV")
        .output()
        .with_context(|| format!("running {rustc} -vV"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .context("rustc -vV names no host")
}

#[cfg(test)]
mod tests {
    use super::newest_glibc;

    #[test]
    fn the_newest_glibc_version_wins() {
        let binary = b"\0GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_2.17\0GLIBC_PRIVATE\0GLIBC_2.\0";
        assert_eq!(newest_glibc(binary).as_deref(), Some("2.34"));
        assert_eq!(
            newest_glibc(b"GLIBC_2.3.4 GLIBC_2.3").as_deref(),
            Some("2.3.4")
        );
        assert_eq!(newest_glibc(b"no versions"), None);
    }
}
