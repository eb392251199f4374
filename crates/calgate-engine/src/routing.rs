//! Which calendar source serves a mailbox.
//!
//! A hybrid Exchange organisation keeps some mailboxes on premises (EWS) while others have moved
//! to Exchange Online (Graph), so the engine runs one refresh runner per [`SourceId`] and routes
//! each watched mailbox to exactly one of them: a per-mailbox assignment wins, then a rule for the
//! mailbox's domain, then the default source. A route that names a source with no runner is
//! reported on the board as `unknown` with [`REASON_NO_SOURCE`]: such a person is never `free`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use calgate_core::Code;

/// The error code (and so the `unknown_reason`) of a mailbox whose route names a source that is
/// not configured.
pub const REASON_NO_SOURCE: &str = match Code::RouteSourceNotConfigured.fixed_str() {
    Some(s) => s,
    None => panic!("a fixed code"),
};

/// The name of one calendar source of the engine (`default`, `onprem`, `online`…).
/// Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(Arc<str>);

impl SourceId {
    /// The id of the source the single-source gateway configures.
    pub const DEFAULT: &'static str = "default";

    /// An id; surrounding blanks are dropped so a pasted name routes like a typed one.
    pub fn new(id: impl AsRef<str>) -> SourceId {
        SourceId(Arc::from(id.as_ref().trim()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_default(&self) -> bool {
        &*self.0 == SourceId::DEFAULT
    }
}

impl Default for SourceId {
    fn default() -> SourceId {
        SourceId::new(SourceId::DEFAULT)
    }
}

/// Serialized as the plain name (health listings, metrics labels).
impl Serialize for SourceId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceId({:?})", &*self.0)
    }
}

impl From<&str> for SourceId {
    fn from(id: &str) -> SourceId {
        SourceId::new(id)
    }
}

impl From<String> for SourceId {
    fn from(id: String) -> SourceId {
        SourceId::new(id)
    }
}

/// The routing table: per-mailbox assignments, per-domain rules and the default source.
/// Addresses and domains are compared lower-cased, as the engine keys mailboxes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    mailboxes: HashMap<String, SourceId>,
    domains: HashMap<String, SourceId>,
    default: SourceId,
}

impl Routing {
    /// Everything to the default source (what a single-source gateway has).
    pub fn new() -> Routing {
        Routing::default()
    }

    /// Mailboxes matched by no rule go to `id`.
    pub fn with_default(mut self, id: impl Into<SourceId>) -> Routing {
        self.default = id.into();
        self
    }

    /// Every mailbox of `domain` (`onprem.example.com` or `@onprem.example.com`) goes to `id`,
    /// unless it has its own assignment. Only the exact domain matches, not its subdomains: a
    /// hybrid split follows accepted domains, which are listed one by one.
    pub fn with_domain(mut self, domain: &str, id: impl Into<SourceId>) -> Routing {
        self.set_domain(domain, id);
        self
    }

    /// `mailbox` goes to `id` whatever its domain says (a mailbox already moved to the cloud).
    pub fn with_mailbox(mut self, mailbox: &str, id: impl Into<SourceId>) -> Routing {
        self.assign(mailbox, id);
        self
    }

    pub fn set_domain(&mut self, domain: &str, id: impl Into<SourceId>) {
        let domain = normalize(domain.trim().trim_start_matches('@'));
        self.domains.insert(domain, id.into());
    }

    pub fn assign(&mut self, mailbox: &str, id: impl Into<SourceId>) {
        self.mailboxes.insert(normalize(mailbox), id.into());
    }

    /// Drops a mailbox's own assignment: its domain rule or the default applies again.
    pub fn unassign(&mut self, mailbox: &str) {
        self.mailboxes.remove(&normalize(mailbox));
    }

    /// The default source.
    pub fn default_source(&self) -> &SourceId {
        &self.default
    }

    /// The source that serves `mailbox` (any spelling).
    pub fn source_for(&self, mailbox: &str) -> &SourceId {
        if self.is_trivial() {
            return &self.default;
        }
        self.route(&normalize(mailbox))
    }

    /// No rule at all: everything goes to the default.
    pub(crate) fn is_trivial(&self) -> bool {
        self.mailboxes.is_empty() && self.domains.is_empty()
    }

    /// The source for an address already lower-cased and trimmed (the engine's keys).
    pub(crate) fn route(&self, mailbox: &str) -> &SourceId {
        if self.is_trivial() {
            return &self.default;
        }
        if let Some(id) = self.mailboxes.get(mailbox) {
            return id;
        }
        mailbox
            .rsplit_once('@')
            .and_then(|(_, domain)| self.domains.get(domain))
            .unwrap_or(&self.default)
    }
}

/// The engine's spelling of an address or domain.
pub(crate) fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hybrid() -> Routing {
        Routing::new()
            .with_domain("@OnPrem.example.com", "onprem")
            .with_domain("lab.example.com", "lab")
            .with_mailbox("moved@onprem.example.com", "online")
            .with_default("online")
    }

    #[test]
    fn a_domain_rule_routes_its_whole_domain() {
        let r = hybrid();
        assert_eq!(r.source_for("ann@onprem.example.com").as_str(), "onprem");
        assert_eq!(r.source_for(" Bob@ONPREM.example.com ").as_str(), "onprem");
        assert_eq!(r.source_for("cy@lab.example.com").as_str(), "lab");
        // Only the exact domain: a subdomain or a look-alike goes to the default.
        assert_eq!(r.source_for("dee@eu.onprem.example.com").as_str(), "online");
        assert_eq!(
            r.source_for("eve@onprem.example.com.evil").as_str(),
            "online"
        );
    }

    #[test]
    fn a_mailbox_assignment_overrides_its_domain_rule() {
        let mut r = hybrid();
        assert_eq!(r.source_for("MOVED@onprem.example.com").as_str(), "online");
        r.unassign("Moved@OnPrem.Example.com");
        assert_eq!(r.source_for("moved@onprem.example.com").as_str(), "onprem");
        r.assign("ann@contoso.com", "onprem");
        assert_eq!(r.source_for("ann@contoso.com").as_str(), "onprem");
    }

    #[test]
    fn everything_else_goes_to_the_default() {
        let r = hybrid();
        assert_eq!(r.source_for("frank@contoso.com").as_str(), "online");
        assert_eq!(r.source_for("no-at-sign").as_str(), "online");
        assert_eq!(r.default_source().as_str(), "online");
        let plain = Routing::new();
        assert_eq!(
            plain.source_for("x@onprem.example.com"),
            &SourceId::default()
        );
        assert!(SourceId::default().is_default());
        assert_eq!(SourceId::default().as_str(), "default");
        assert_eq!(SourceId::new(" onprem "), SourceId::from("onprem"));
    }
}
