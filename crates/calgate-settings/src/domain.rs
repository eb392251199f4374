//! Local checks of identifiers that would otherwise only fail at sign-in: GUIDs and domain
//! names.

/// A GUID in its canonical 8-4-4-4-12 hex form; returns it lower-cased.
pub(crate) fn guid(s: &str) -> Option<String> {
    let groups: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    if groups.len() != lens.len() {
        return None;
    }
    let ok = groups
        .iter()
        .zip(lens)
        .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    ok.then(|| s.to_ascii_lowercase())
}

/// A DNS domain name with at least two labels and an alphabetic top-level label (so an IP
/// address is not taken for one); returns it lower-cased without a trailing dot.
pub(crate) fn domain_name(s: &str) -> Option<String> {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() || s.len() > 253 {
        return None;
    }
    let labels: Vec<&str> = s.split('.').collect();
    if labels.len() < 2 {
        return None;
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !labels.iter().all(label_ok) {
        return None;
    }
    let tld = labels.last()?;
    let alphabetic = tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic());
    if !alphabetic && !tld.starts_with("xn--") {
        return None;
    }
    Some(s.to_ascii_lowercase())
}
