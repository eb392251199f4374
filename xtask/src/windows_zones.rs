//! `cargo xtask gen-windows-zones`: turns CLDR's `windowsZones` data (XML or JSON) into the
//! Windows ↔ IANA time-zone table that calgate-core compiles in.
//!
//! Windows → IANA takes territory "001" (CLDR's default zone for each Windows name). IANA →
//! Windows takes every zone listed for any territory, plus every alias CLDR's BCP 47 time-zone
//! data knows for those zones (CLDR lists `Asia/Calcutta`, jiff and most systems say
//! `Asia/Kolkata`), so a lookup never depends on which spelling a source used.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

const DEFAULT_OUT: &str = "crates/calgate-core/src/tz/windows_zones.rs";

/// One `mapZone` row: a Windows name, a territory, and the IANA zones it stands for there.
struct MapZone {
    windows: String,
    territory: String,
    iana: Vec<String>,
}

pub fn generate(root: &Path, args: &[String]) -> Result<()> {
    let mut zones_path = None;
    let mut aliases_path = None;
    let mut out = root.join(DEFAULT_OUT);
    let mut version = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--aliases" => {
                aliases_path = Some(PathBuf::from(it.next().context("--aliases needs a path")?))
            }
            "--out" => out = PathBuf::from(it.next().context("--out needs a path")?),
            "--cldr-version" => {
                version = Some(it.next().context("--cldr-version needs a value")?.clone())
            }
            other if zones_path.is_none() && !other.starts_with("--") => {
                zones_path = Some(PathBuf::from(other))
            }
            other => bail!("unexpected argument {other:?}"),
        }
    }
    let Some(zones_path) = zones_path else {
        bail!(
            "usage: cargo xtask gen-windows-zones <windowsZones.xml|.json> [--aliases <bcp47 timezone.xml|.json>] \
             [--cldr-version V] [--out PATH]"
        );
    };

    let text = std::fs::read_to_string(&zones_path)
        .with_context(|| format!("reading {}", zones_path.display()))?;
    let (rows, found_version) = if is_json(&zones_path, &text) {
        map_zones_json(&text)?
    } else {
        (map_zones_xml(&text), None)
    };
    let Some(version) = version.or(found_version) else {
        bail!("the input names no CLDR version: pass --cldr-version");
    };
    if rows.is_empty() {
        bail!("no mapZone entries in {}", zones_path.display());
    }

    let aliases = match &aliases_path {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            if is_json(p, &text) {
                alias_sets_json(&text)?
            } else {
                alias_sets_xml(&text)
            }
        }
        None => Vec::new(),
    };

    let (to_iana, to_windows) = build_tables(&rows, &aliases)?;
    let source = render(&version, aliases_path.is_some(), &to_iana, &to_windows);
    std::fs::write(&out, source).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "xtask: wrote {} ({} Windows names, {} IANA names, CLDR {version})",
        out.display(),
        to_iana.len(),
        to_windows.len()
    );
    Ok(())
}

fn is_json(path: &Path, text: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{')
}

type Tables = (BTreeMap<String, String>, BTreeMap<String, String>);

fn build_tables(rows: &[MapZone], aliases: &[Vec<String>]) -> Result<Tables> {
    let mut to_iana = BTreeMap::new();
    for row in rows.iter().filter(|r| r.territory == "001") {
        let Some(first) = row.iana.first() else {
            bail!("{} has an empty 001 entry", row.windows)
        };
        to_iana.insert(row.windows.clone(), first.clone());
    }
    let mut to_windows: BTreeMap<String, String> = BTreeMap::new();
    // Golden (001) zones first so that they win if CLDR ever lists a zone under two names.
    for golden in [true, false] {
        for row in rows.iter().filter(|r| (r.territory == "001") == golden) {
            for zone in &row.iana {
                to_windows
                    .entry(zone.clone())
                    .or_insert_with(|| row.windows.clone());
            }
        }
    }
    for set in aliases {
        let Some(windows) = set.iter().find_map(|z| to_windows.get(z)).cloned() else {
            continue;
        };
        for zone in set {
            to_windows
                .entry(zone.clone())
                .or_insert_with(|| windows.clone());
        }
    }
    for (windows, iana) in &to_iana {
        if !to_windows.contains_key(iana) {
            bail!("{windows} maps to {iana}, which no row maps back");
        }
    }
    Ok((to_iana, to_windows))
}

fn render(
    version: &str,
    with_aliases: bool,
    to_iana: &BTreeMap<String, String>,
    to_windows: &BTreeMap<String, String>,
) -> String {
    let mut s = String::new();
    let aliases = if with_aliases {
        " and BCP 47 time-zone aliases"
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "// @generated by `cargo xtask gen-windows-zones` from CLDR {version} windowsZones{aliases}."
    );
    let _ = writeln!(
        s,
        "// Do not edit by hand; regenerate instead. CLDR data: Unicode License v3."
    );
    let _ = writeln!(s, "//! Windows ↔ IANA time-zone names (CLDR {version}).");
    let _ = writeln!(s);
    let _ = writeln!(s, "/// The CLDR release this table was generated from.");
    let _ = writeln!(s, "pub const CLDR_VERSION: &str = {version:?};");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "/// Windows name → the IANA zone of territory \"001\", sorted by Windows name."
    );
    let _ = writeln!(s, "pub static WINDOWS_TO_IANA: &[(&str, &str)] = &[");
    for (w, i) in to_iana {
        let _ = writeln!(s, "    ({w:?}, {i:?}),");
    }
    let _ = writeln!(s, "];");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "/// IANA name (including aliases) → Windows name, sorted by IANA name."
    );
    let _ = writeln!(s, "pub static IANA_TO_WINDOWS: &[(&str, &str)] = &[");
    for (i, w) in to_windows {
        let _ = writeln!(s, "    ({i:?}, {w:?}),");
    }
    let _ = writeln!(s, "];");
    s
}

fn map_zones_json(text: &str) -> Result<(Vec<MapZone>, Option<String>)> {
    let doc: serde_json::Value = serde_json::from_str(text).context("parsing windowsZones JSON")?;
    let version = doc
        .pointer("/supplemental/version/_cldrVersion")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let list = doc
        .pointer("/supplemental/windowsZones/mapTimezones")
        .and_then(|v| v.as_array())
        .context("no supplemental.windowsZones.mapTimezones array")?;
    let mut rows = Vec::new();
    for item in list {
        let zone = item.get("mapZone").unwrap_or(item);
        let field = |k: &str| zone.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let (Some(windows), Some(territory), Some(iana)) =
            (field("_other"), field("_territory"), field("_type"))
        else {
            bail!("mapZone entry without _other/_territory/_type: {zone}");
        };
        rows.push(MapZone {
            windows,
            territory,
            iana: iana.split_whitespace().map(str::to_string).collect(),
        });
    }
    Ok((rows, version))
}

fn map_zones_xml(text: &str) -> Vec<MapZone> {
    elements(text, "mapZone")
        .filter_map(|tag| {
            Some(MapZone {
                windows: attribute(tag, "other")?,
                territory: attribute(tag, "territory")?,
                iana: attribute(tag, "type")?
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect()
}

/// Alias sets from BCP 47 `timezone.json`: every entry whose `_alias` names IANA zones.
fn alias_sets_json(text: &str) -> Result<Vec<Vec<String>>> {
    let doc: serde_json::Value =
        serde_json::from_str(text).context("parsing BCP 47 timezone JSON")?;
    let keys = doc
        .pointer("/keyword/u/tz")
        .and_then(|v| v.as_object())
        .context("no keyword.u.tz object")?;
    Ok(keys
        .values()
        .filter_map(|entry| {
            let alias = entry.get("_alias")?.as_str()?;
            let iana = entry.get("_iana").and_then(|v| v.as_str());
            Some(zone_set(alias, iana))
        })
        .filter(|set| !set.is_empty())
        .collect())
}

fn alias_sets_xml(text: &str) -> Vec<Vec<String>> {
    elements(text, "type")
        .filter_map(|tag| {
            Some(zone_set(
                &attribute(tag, "alias")?,
                attribute(tag, "iana").as_deref(),
            ))
        })
        .filter(|set| !set.is_empty())
        .collect()
}

fn zone_set(alias: &str, iana: Option<&str>) -> Vec<String> {
    alias
        .split_whitespace()
        .chain(iana)
        .map(str::to_string)
        .collect()
}

/// The attribute text of every `<name …>` start tag (enough for CLDR's flat supplemental files).
fn elements<'a>(text: &'a str, name: &str) -> std::vec::IntoIter<&'a str> {
    let open = format!("<{name}");
    let mut found = Vec::new();
    for (at, _) in text.match_indices(open.as_str()) {
        let rest = &text[at + open.len()..];
        if !rest.starts_with(|c: char| c.is_whitespace()) {
            continue;
        }
        if let Some(end) = rest.find('>') {
            found.push(&rest[..end]);
        }
    }
    found.into_iter()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    loop {
        let at = rest.find(name)?;
        let before_ok = at == 0 || rest[..at].ends_with(|c: char| c.is_whitespace());
        let after = rest[at + name.len()..].trim_start();
        if before_ok && let Some(value) = after.strip_prefix('=') {
            let value = value.trim_start();
            let quote = value.chars().next()?;
            if quote != '"' && quote != '\'' {
                return None;
            }
            let body = &value[1..];
            let end = body.find(quote)?;
            return Some(unescape(&body[..end]));
        }
        rest = &rest[at + name.len()..];
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_rows_and_aliases_build_both_directions() {
        let zones = r#"<supplementalData><windowsZones><mapTimezones>
            <mapZone other="India Standard Time" territory="001" type="Asia/Calcutta"/>
            <mapZone other="India Standard Time" territory="IN" type="Asia/Calcutta"/>
            <mapZone other="W. Europe Standard Time" territory="001" type="Europe/Berlin"/>
            <mapZone other="W. Europe Standard Time" territory="IT" type="Europe/Rome"/>
            <mapZone other="W. Europe Standard Time" territory="DE" type="Europe/Berlin Europe/Busingen"/>
        </mapTimezones></windowsZones></supplementalData>"#;
        let aliases = r#"<key name="tz"><type name="inccu" description="Kolkata" alias="Asia/Calcutta Asia/Kolkata" iana="Asia/Kolkata"/>
            <type name="utc" alias="Etc/UTC Etc/UCT"/></key>"#;
        let rows = map_zones_xml(zones);
        assert_eq!(rows.len(), 5);
        let (to_iana, to_windows) = build_tables(&rows, &alias_sets_xml(aliases)).expect("tables");
        assert_eq!(
            to_iana.get("W. Europe Standard Time").map(String::as_str),
            Some("Europe/Berlin")
        );
        assert_eq!(
            to_windows.get("Europe/Rome").map(String::as_str),
            Some("W. Europe Standard Time")
        );
        assert_eq!(
            to_windows.get("Europe/Busingen").map(String::as_str),
            Some("W. Europe Standard Time")
        );
        assert_eq!(
            to_windows.get("Asia/Kolkata").map(String::as_str),
            Some("India Standard Time")
        );
        assert!(
            !to_windows.contains_key("Etc/UCT"),
            "aliases of unmapped zones are not invented"
        );
    }

    #[test]
    fn json_rows_carry_the_cldr_version() {
        let zones = r#"{"supplemental":{"version":{"_cldrVersion":"48"},"windowsZones":{"mapTimezones":[
            {"mapZone":{"_other":"UTC","_type":"Etc/UTC","_territory":"001"}},
            {"mapZone":{"_other":"UTC","_type":"Etc/UTC Etc/GMT","_territory":"ZZ"}}]}}}"#;
        let (rows, version) = map_zones_json(zones).expect("parse");
        assert_eq!(version.as_deref(), Some("48"));
        assert_eq!(rows[1].iana, ["Etc/UTC", "Etc/GMT"]);
    }
}
