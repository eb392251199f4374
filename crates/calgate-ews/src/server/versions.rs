//! `RequestServerVersion` as a server sees it: every value of the schema's
//! `ExchangeVersionType`, ordered, and the server builds a simulated Exchange can present.

/// Every `RequestServerVersion` value the schema allows, oldest first. The `V20xx_…` values
/// are Exchange Online / 2016+ schema revisions and rank above `Exchange2016`.
pub const REQUEST_VERSIONS: &[&str] = &[
    "Exchange2007",
    "Exchange2007_SP1",
    "Exchange2009",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2012",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2015",
    "Exchange2016",
    "V2015_10_05",
    "V2016_01_06",
    "V2016_04_13",
    "V2016_07_13",
    "V2016_10_10",
];

/// The rank of a requested version, or `None` for a value outside the schema's enumeration.
pub fn request_version_rank(version: &str) -> Option<usize> {
    REQUEST_VERSIONS.iter().position(|v| *v == version)
}

/// A server build a simulated Exchange presents in `ServerVersionInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerBuild {
    /// The setting name (`exchange2016`, `exchange_online`…).
    pub name: &'static str,
    pub major: u16,
    pub minor: u16,
    pub major_build: u16,
    pub minor_build: u16,
    /// The `Version` attribute; `None` on Exchange 2007, which omits it.
    pub version_attr: Option<&'static str>,
    /// The newest `RequestServerVersion` the build accepts.
    pub newest_request: &'static str,
}

/// The builds a simulated Exchange can be.
pub const SERVER_BUILDS: &[ServerBuild] = &[
    ServerBuild {
        name: "exchange2010_sp2",
        major: 14,
        minor: 2,
        major_build: 247,
        minor_build: 5,
        version_attr: Some("Exchange2010_SP2"),
        newest_request: "Exchange2010_SP2",
    },
    ServerBuild {
        name: "exchange2013_sp1",
        major: 15,
        minor: 0,
        major_build: 1497,
        minor_build: 2,
        version_attr: Some("V2_23"),
        newest_request: "Exchange2013_SP1",
    },
    ServerBuild {
        name: "exchange2016",
        major: 15,
        minor: 1,
        major_build: 2507,
        minor_build: 6,
        version_attr: Some("V2017_07_11"),
        newest_request: "V2016_10_10",
    },
    ServerBuild {
        name: "exchange2019",
        major: 15,
        minor: 2,
        major_build: 1544,
        minor_build: 4,
        version_attr: Some("V2017_07_11"),
        newest_request: "V2016_10_10",
    },
    ServerBuild {
        name: "exchange_online",
        major: 15,
        minor: 20,
        major_build: 8769,
        minor_build: 35,
        version_attr: Some("V2018_01_08"),
        newest_request: "V2016_10_10",
    },
];

/// Looks a build up by its setting name (case-insensitive).
pub fn find_build(name: &str) -> Option<&'static ServerBuild> {
    SERVER_BUILDS
        .iter()
        .find(|b| b.name.eq_ignore_ascii_case(name))
}

impl ServerBuild {
    /// Whether the build serves requests made with `version`.
    pub fn accepts(&self, version: &str) -> bool {
        match (
            request_version_rank(version),
            request_version_rank(self.newest_request),
        ) {
            (Some(asked), Some(newest)) => asked <= newest,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_2013_refuses_2016_requests_like_the_real_server() {
        let b = find_build("exchange2013_sp1").expect("known");
        assert!(b.accepts("Exchange2013_SP1"));
        assert!(b.accepts("Exchange2007_SP1"));
        assert!(!b.accepts("Exchange2015"));
        assert!(!b.accepts("Exchange2016"));
        assert!(!b.accepts("Exchange2019"));
        let online = find_build("EXCHANGE_ONLINE").expect("known");
        assert!(online.accepts("Exchange2016"));
    }
}
