//! Directories the watch list is synced from: Microsoft Entra ID through Graph (with the app
//! credentials of an existing Graph source) or an LDAP server (Active Directory, OpenLDAP…).
//!
//! [`DirectoryConfig`] is the object the API takes (`PUT /api/v1/directories/{id}`), minus the
//! bind password, which is a secret kept apart ([`DirectoryConfig::checked`] validates both).
//! Pure like the rest of the crate.

use serde::{Deserialize, Serialize};

use crate::validate::FieldErrors;

/// The origin of people added by hand (the API or the portal).
pub const ORIGIN_MANUAL: &str = "manual";
/// The origin of people a CSV import brought.
pub const ORIGIN_IMPORT: &str = "import";

/// Why `id` cannot name a directory, or `None`: the source id rule (`[a-z0-9-]{1,32}`), and not
/// an origin name already taken (`manual`, `import`), since a directory's id is its people's
/// origin.
pub fn directory_id_problem(id: &str) -> Option<String> {
    crate::sources::source_id_problem(id)
        .map(|p| p.replace("source id", "directory id"))
        .or_else(|| {
            [ORIGIN_MANUAL, ORIGIN_IMPORT]
                .contains(&id)
                .then(|| format!("{id} names people added another way"))
        })
}

/// Default time between scheduled syncs.
pub const DEFAULT_SYNC_INTERVAL_S: u32 = 3600;
pub const MIN_SYNC_INTERVAL_S: u32 = 300;
pub const MAX_SYNC_INTERVAL_S: u32 = 7 * 24 * 3600;

/// Default share of a directory's people one sync may remove before it is held.
pub const DEFAULT_MAX_REMOVAL_SHARE: f64 = 0.2;

/// Active Directory's filter for people with a mailbox whose account is not disabled (bit 2 of
/// `userAccountControl`, matched with the bitwise-AND matching rule).
pub const AD_DEFAULT_FILTER: &str = "(&(objectCategory=person)(objectClass=user)(mail=*)\
                                     (!(userAccountControl:1.2.840.113556.1.4.803:=2)))";

/// The filter for other LDAP servers: every entry with a mail attribute.
pub const PLAIN_LDAP_FILTER: &str = "(mail=*)";

/// The longest filter, base DN or bind DN accepted.
pub const MAX_LDAP_STRING: usize = 4096;

/// Where the people come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DirectoryKind {
    Graph,
    Ldap,
}

/// The attribute names read for each part of a watched person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMap {
    pub email: String,
    pub name: String,
    /// The extension: for Graph `businessPhones` (its first value), `mobilePhone`, or
    /// `extensionAttribute1`…`extensionAttribute15`; for LDAP any attribute
    /// (`telephoneNumber`, `ipPhone`).
    pub extension: String,
    /// An attribute whose value names the source the person's mailbox is read from (hybrid
    /// routing), or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl AttributeMap {
    /// The defaults of a kind of directory.
    pub fn defaults(kind: DirectoryKind) -> AttributeMap {
        match kind {
            DirectoryKind::Graph => AttributeMap {
                email: "mail".to_string(),
                name: "displayName".to_string(),
                extension: "businessPhones".to_string(),
                source: None,
            },
            DirectoryKind::Ldap => AttributeMap {
                email: "mail".to_string(),
                name: "displayName".to_string(),
                extension: "telephoneNumber".to_string(),
                source: None,
            },
        }
    }
}

/// A directory as configured (the bind password is kept apart, sealed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    pub kind: DirectoryKind,
    #[serde(default)]
    pub name: String,
    #[serde(default = "default_interval")]
    pub sync_interval_s: u32,
    #[serde(default = "default_share")]
    pub max_removal_share: f64,
    /// Attribute names; missing ones take the kind's defaults.
    #[serde(default)]
    pub attributes: Option<AttributeMap>,
    // Graph
    /// The id of the Graph source whose app credentials are used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Only the (transitive) members of this group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    // LDAP
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default)]
    pub starttls: bool,
    #[serde(default)]
    pub allow_insecure_ldap: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_dn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_dn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_ca_pem: Option<String>,
}

fn default_interval() -> u32 {
    DEFAULT_SYNC_INTERVAL_S
}

fn default_share() -> f64 {
    DEFAULT_MAX_REMOVAL_SHARE
}

impl DirectoryConfig {
    /// The attribute names in use (the configured ones, or the kind's defaults).
    pub fn attributes(&self) -> AttributeMap {
        self.attributes
            .clone()
            .unwrap_or_else(|| AttributeMap::defaults(self.kind))
    }

    /// The LDAP filter in use (the configured one, or Active Directory's default).
    pub fn ldap_filter(&self) -> &str {
        self.filter
            .as_deref()
            .filter(|f| !f.trim().is_empty())
            .unwrap_or(AD_DEFAULT_FILTER)
    }

    /// Whether the LDAP connection is encrypted (LDAPS, or StartTLS on ldap://).
    pub fn ldap_encrypted(&self) -> bool {
        self.url
            .as_deref()
            .is_some_and(|u| u.to_ascii_lowercase().starts_with("ldaps://"))
            || self.starttls
    }

    /// The configuration made tidy, or one message per bad field. `password_set` says whether
    /// a bind password is (or will be) stored; `graph_sources` lists the Graph sources a Graph
    /// directory may borrow credentials from.
    pub fn checked(
        mut self,
        password_set: bool,
        graph_sources: &[String],
    ) -> Result<DirectoryConfig, FieldErrors> {
        let mut errors = FieldErrors::default();
        self.name = self.name.trim().to_string();
        if self.name.chars().count() > crate::sources::MAX_DISPLAY_NAME_CHARS
            || self.name.chars().any(char::is_control)
        {
            errors.insert("name", "at most 64 characters, no control characters");
        }
        if !(MIN_SYNC_INTERVAL_S..=MAX_SYNC_INTERVAL_S).contains(&self.sync_interval_s) {
            errors.insert(
                "sync_interval_s",
                format!("between {MIN_SYNC_INTERVAL_S} and {MAX_SYNC_INTERVAL_S} seconds"),
            );
        }
        if !(self.max_removal_share.is_finite() && (0.0..=1.0).contains(&self.max_removal_share)) {
            errors.insert("max_removal_share", "a share between 0 and 1 (0.2 is 20 %)");
        }
        if let Some(map) = &self.attributes {
            for (field, value) in [
                ("attributes.email", Some(&map.email)),
                ("attributes.name", Some(&map.name)),
                ("attributes.extension", Some(&map.extension)),
                ("attributes.source", map.source.as_ref()),
            ] {
                if let Some(value) = value
                    && !is_attribute_name(value)
                {
                    errors.insert(field, "an attribute name: letters, digits, '-' and ';'");
                }
            }
        }
        let tidy = |v: &mut Option<String>| {
            *v = v
                .take()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
        };
        for v in [
            &mut self.source,
            &mut self.group_id,
            &mut self.url,
            &mut self.bind_dn,
            &mut self.base_dn,
            &mut self.filter,
            &mut self.extra_ca_pem,
        ] {
            tidy(v);
        }
        match self.kind {
            DirectoryKind::Graph => {
                match &self.source {
                    None => errors.insert("source", "the id of the Graph source to use"),
                    Some(s) if !graph_sources.contains(s) => {
                        errors.insert("source", format!("no Graph source has the id {s:?}"))
                    }
                    Some(_) => {}
                }
                if let Some(g) = &self.group_id
                    && !is_guid(g)
                {
                    errors.insert("group_id", "a group's object ID (a GUID)");
                }
            }
            DirectoryKind::Ldap => {
                match self.url.as_deref().map(str::to_ascii_lowercase) {
                    None => errors.insert("url", "an ldaps:// or ldap:// URL"),
                    Some(u) if !(u.starts_with("ldaps://") || u.starts_with("ldap://")) => {
                        errors.insert("url", "an ldaps:// or ldap:// URL")
                    }
                    Some(u) if u.starts_with("ldaps://") && self.starttls => errors.insert(
                        "starttls",
                        "StartTLS is for ldap:// URLs; ldaps:// is encrypted already",
                    ),
                    Some(_) => {}
                }
                if !self.ldap_encrypted() && !self.allow_insecure_ldap && self.url.is_some() {
                    errors.insert(
                        "url",
                        "a plain ldap:// bind sends the password in clear: use ldaps://, tick \
                         StartTLS, or allow insecure LDAP explicitly",
                    );
                }
                if self.bind_dn.is_some() && !password_set {
                    errors.insert("bind_password", "the bind DN's password is needed");
                }
                if self.base_dn.is_none() {
                    errors.insert("base_dn", "the DN the search starts from");
                }
                for (field, value) in [
                    ("bind_dn", &self.bind_dn),
                    ("base_dn", &self.base_dn),
                    ("filter", &self.filter),
                ] {
                    if let Some(v) = value
                        && (v.len() > MAX_LDAP_STRING || v.chars().any(char::is_control))
                    {
                        errors.insert(field, "at most 4096 characters, no control characters");
                    }
                }
                if let Some(f) = &self.filter
                    && !(f.starts_with('(') && f.ends_with(')'))
                {
                    errors.insert("filter", "an LDAP filter in parentheses, such as (mail=*)");
                }
            }
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// An LDAP attribute description or a Graph property name.
fn is_attribute_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b';' || b == b'.')
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ldap(url: &str) -> DirectoryConfig {
        serde_json::from_value(serde_json::json!({
            "kind": "ldap", "url": url, "bind_dn": "cn=reader,dc=example,dc=org",
            "base_dn": "dc=example,dc=org"
        }))
        .expect("config")
    }

    #[test]
    fn plain_ldap_is_refused_unless_encrypted_or_allowed() {
        assert!(ldap("ldaps://dc1:636").checked(true, &[]).is_ok());
        let plain = ldap("ldap://dc1").checked(true, &[]).expect_err("plain");
        assert!(plain.get("url").is_some());
        let mut starttls = ldap("ldap://dc1");
        starttls.starttls = true;
        assert!(starttls.checked(true, &[]).is_ok());
        let mut allowed = ldap("ldap://dc1");
        allowed.allow_insecure_ldap = true;
        assert!(allowed.checked(true, &[]).is_ok());
        let no_password = ldap("ldaps://dc1").checked(false, &[]).expect_err("pw");
        assert!(no_password.get("bind_password").is_some());
    }

    #[test]
    fn a_graph_directory_needs_an_existing_graph_source() {
        let config: DirectoryConfig =
            serde_json::from_value(serde_json::json!({"kind": "graph", "source": "online"}))
                .expect("config");
        assert!(config.clone().checked(false, &["online".into()]).is_ok());
        let errors = config
            .checked(false, &["other".into()])
            .expect_err("missing");
        assert!(errors.get("source").is_some());
        assert_eq!(
            AttributeMap::defaults(DirectoryKind::Graph).extension,
            "businessPhones"
        );
    }
}
