//! Reverse proxies the gateway believes. A request's `X-Forwarded-For` and `X-Forwarded-Proto`
//! are anyone's to write, so they count only when the TCP peer is in `trusted_proxies` (empty
//! by default: nobody is believed). From a trusted peer, the client is the right-most address of
//! `X-Forwarded-For` that is not itself a trusted proxy (the left part of the list is whatever
//! the client sent), and the request came over HTTPS when the right-most `X-Forwarded-Proto`
//! (the one the nearest proxy wrote) says `https`.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The peers whose forwarding headers are believed: addresses and networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// An entry of `trusted_proxies` that is neither an address nor a network.
#[derive(Debug, thiserror::Error)]
#[error("trusted_proxies entry {0:?} is not an IP address or a network such as 10.0.0.0/8")]
pub struct NotAnAddress(pub String);

/// An address as one form: an IPv4 peer of a dual-stack listener arrives as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// One `X-Forwarded-For` element: an address, maybe with a port (`1.2.3.4:5`, `[::1]:5`).
fn forwarded_address(element: &str) -> Option<IpAddr> {
    let element = element.trim();
    element
        .parse::<IpAddr>()
        .ok()
        .or_else(|| element.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            element
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| e.parse().ok())
        })
        .map(canonical)
}

/// The elements of every `name` header, in order, as one list.
fn header_list<'h>(headers: &'h HeaderMap, name: &str) -> Vec<&'h str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect()
}

impl TrustedProxies {
    /// Reads the configuration's entries: `10.0.0.5`, `192.168.0.0/24`, `::1`, `fd00::/8`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, NotAnAddress> {
        entries
            .iter()
            .map(|e| {
                let e = e.as_ref().trim();
                e.parse::<IpNet>()
                    .map(|n| n.trunc())
                    .or_else(|_| e.parse::<IpAddr>().map(|ip| IpNet::from(canonical(ip))))
                    .map_err(|_| NotAnAddress(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client a request from `peer` speaks for: `peer` itself, unless it is a trusted proxy
    /// naming one in `X-Forwarded-For`. An element that is not an address ends the walk: the
    /// nearest trusted hop is taken (the limits then count against the proxy, which limits
    /// more, never less).
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        for element in header_list(headers, "x-forwarded-for").into_iter().rev() {
            let Some(hop) = forwarded_address(element) else {
                break;
            };
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        client
    }

    /// Whether the browser reached us over HTTPS: the connection itself is TLS, or a trusted
    /// proxy that terminated TLS says so.
    pub fn over_https(&self, tls: bool, peer: IpAddr, headers: &HeaderMap) -> bool {
        tls || (self.trusts(peer)
            && header_list(headers, "x-forwarded-proto")
                .last()
                .is_some_and(|proto| proto.eq_ignore_ascii_case("https")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn entries_are_addresses_or_networks_and_bad_ones_are_named() {
        let proxies = TrustedProxies::parse(&["10.0.0.5", "192.168.1.77/24", "fd00::/8", " ::1 "])
            .expect("parses");
        assert!(proxies.trusts(ip("10.0.0.5")));
        assert!(!proxies.trusts(ip("10.0.0.6")));
        assert!(proxies.trusts(ip("192.168.1.200")));
        assert!(proxies.trusts(ip("fd12::1")));
        assert!(proxies.trusts(ip("::1")));
        assert!(
            proxies.trusts(ip("::ffff:10.0.0.5")),
            "a dual-stack listener's peer"
        );
        let err = TrustedProxies::parse(&["10.0.0.0/8", "proxy.local"]).expect_err("refused");
        assert!(err.to_string().contains("proxy.local"), "{err}");
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::default().is_empty());
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_peer() {
        let none = TrustedProxies::default();
        let proxy = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).expect("parses");
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(none.client_address(ip("127.0.0.1"), &h), ip("127.0.0.1"));
        assert!(!none.over_https(false, ip("127.0.0.1"), &h));
        assert!(none.over_https(true, ip("127.0.0.1"), &h), "TLS is TLS");
        assert_eq!(proxy.client_address(ip("127.0.0.1"), &h), ip("203.0.113.9"));
        assert!(proxy.over_https(false, ip("127.0.0.1"), &h));
        assert_eq!(
            proxy.client_address(ip("198.51.100.1"), &h),
            ip("198.51.100.1")
        );
        assert!(!proxy.over_https(false, ip("198.51.100.1"), &h));
        let plain = headers(&[("x-forwarded-proto", "http")]);
        assert!(!proxy.over_https(false, ip("127.0.0.1"), &plain));
        assert_eq!(
            proxy.client_address(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop() {
        let proxy = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).expect("parses");
        // The client wrote a first element to pose as someone else; two proxies appended.
        let h = headers(&[
            ("x-forwarded-for", "192.0.2.66, 203.0.113.9"),
            ("x-forwarded-for", "10.1.2.3"),
        ]);
        assert_eq!(proxy.client_address(ip("127.0.0.1"), &h), ip("203.0.113.9"));
        let ported = headers(&[("x-forwarded-for", "[2001:db8::7]:4711, 203.0.113.9:80")]);
        assert_eq!(
            proxy.client_address(ip("127.0.0.1"), &ported),
            ip("203.0.113.9")
        );
        let all_proxies = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.2.3")]);
        assert_eq!(
            proxy.client_address(ip("127.0.0.1"), &all_proxies),
            ip("10.9.9.9")
        );
        let garbage = headers(&[("x-forwarded-for", "203.0.113.9, unknown, 10.1.2.3")]);
        assert_eq!(
            proxy.client_address(ip("127.0.0.1"), &garbage),
            ip("10.1.2.3")
        );
        // Only the nearest proxy's word on the scheme counts.
        let spoofed = headers(&[("x-forwarded-proto", "https, http")]);
        assert!(!proxy.over_https(false, ip("127.0.0.1"), &spoofed));
    }
}
