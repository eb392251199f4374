//! Where a configured URL points. calgate's outbound requests go where an administrator says,
//! so a URL aimed at the machine itself or its cloud's metadata service would let the settings
//! form read what only the host should (server-side request forgery). Link-local and metadata
//! addresses are refused; the machine's own addresses (loopback, "this host") are allowed with a
//! warning, since a test lab or a local proxy may live there. Numeric spellings such as
//! `2852039166` or `[::ffff:169.254.169.254]` are read as the addresses they are: the URL parser
//! normalizes them before this check.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// What a URL's host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Anywhere else (a public or an internal network address or name).
    Ordinary,
    /// This machine: loopback, `localhost`, `0.0.0.0`, `::`.
    ThisMachine,
    /// Link-local (169.254/16, fe80::/10) or a cloud metadata service.
    Metadata,
}

/// Host names of cloud metadata services.
const METADATA_NAMES: &[&str] = &["metadata.google.internal", "metadata.goog", "metadata"];

/// Classifies `url`'s host.
pub fn classify(url: &Url) -> Target {
    match url.host() {
        Some(Host::Ipv4(v4)) => classify_ip(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => classify_ip(IpAddr::V6(v6)),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if METADATA_NAMES.contains(&name.as_str()) {
                Target::Metadata
            } else if name == "localhost" || name.ends_with(".localhost") {
                Target::ThisMachine
            } else {
                Target::Ordinary
            }
        }
        None => Target::Ordinary,
    }
}

fn classify_ip(ip: IpAddr) -> Target {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped().or_else(|| v6.to_ipv4()) {
            // `::ffff:a.b.c.d` and the deprecated `::a.b.c.d` reach the IPv4 address; `::1`
            // and `::` are themselves, not 0.0.0.1 and 0.0.0.0.
            Some(v4) if !v6.is_loopback() && !v6.is_unspecified() => classify_v4(v4),
            _ => classify_v6(v6),
        },
    }
}

fn classify_v4(v4: Ipv4Addr) -> Target {
    // 100.100.100.200: Alibaba Cloud's metadata service.
    if v4.is_link_local() || v4 == Ipv4Addr::new(100, 100, 100, 200) {
        Target::Metadata
    } else if v4.is_loopback() || v4.is_unspecified() {
        Target::ThisMachine
    } else {
        Target::Ordinary
    }
}

fn classify_v6(v6: Ipv6Addr) -> Target {
    let link_local = (v6.segments()[0] & 0xffc0) == 0xfe80;
    // fd00:ec2::254: AWS's metadata service over IPv6.
    let aws = v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
    if link_local || aws {
        Target::Metadata
    } else if v6.is_loopback() || v6.is_unspecified() {
        Target::ThisMachine
    } else {
        Target::Ordinary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(url: &str) -> Target {
        classify(&Url::parse(url).expect("a URL"))
    }

    #[test]
    fn every_spelling_of_the_metadata_address_is_recognised() {
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:169.254.169.254]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://2852039166/",
            "http://0xa9.0xfe.0xa9.0xfe/",
            "http://0251.0376.0251.0376/",
            "http://[fe80::1]/",
            "http://[fd00:ec2::254]/",
            "http://metadata.google.internal/",
            "http://METADATA.google.internal./",
            "http://100.100.100.200/",
        ] {
            assert_eq!(of(url), Target::Metadata, "{url}");
        }
    }

    #[test]
    fn this_machine_and_ordinary_hosts() {
        for url in [
            "http://127.0.0.1:8080/",
            "http://127.1.2.3/",
            "http://localhost/",
            "http://api.localhost/",
            "http://0/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://2130706433/",
        ] {
            assert_eq!(of(url), Target::ThisMachine, "{url}");
        }
        for url in [
            "https://mail.contoso.com/EWS/Exchange.asmx",
            "https://10.0.0.5/",
            "https://192.168.1.10/",
            "https://[2001:db8::1]/",
            "https://login.microsoftonline.com/",
        ] {
            assert_eq!(of(url), Target::Ordinary, "{url}");
        }
    }
}
