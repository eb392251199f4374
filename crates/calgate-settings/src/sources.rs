//! Several calendar sources: their ids and display names, and the routing table that says which
//! source serves a mailbox (a mailbox's own route beats its domain's, which beats the default).
//!
//! Pure like the rest of the crate: the engine turns a checked table into its own `Routing`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::validate::FieldErrors;

/// The id of the source the single-source settings (`/api/v1/settings/calendar`) configure.
pub const DEFAULT_SOURCE_ID: &str = "default";

/// The longest source id.
pub const MAX_SOURCE_ID_LEN: usize = 32;

/// The longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 64;

/// Routes in one table at most (mailboxes and domains together).
pub const MAX_ROUTES: usize = 10_000;

/// Why a source id is refused, or `None` for a good one: 1 to 32 of `a-z`, `0-9` and `-`.
pub fn source_id_problem(id: &str) -> Option<String> {
    if id.is_empty() || id.len() > MAX_SOURCE_ID_LEN {
        return Some(format!(
            "a source id is 1 to {MAX_SOURCE_ID_LEN} characters long"
        ));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Some("a source id uses only a-z, 0-9 and '-'".to_string());
    }
    None
}

/// A display name made tidy (blanks trimmed), or why it is refused.
pub fn check_display_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(format!(
            "a display name is at most {MAX_DISPLAY_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("a display name has no control characters".to_string());
    }
    Ok(name.to_string())
}

/// Which source serves which mailboxes: `{"default": "<id>", "domains": {"fabrikam.com": "<id>"},
/// "mailboxes": {"ann@contoso.com": "<id>"}}`. Domains and addresses are kept lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingTable {
    #[serde(default = "default_source_id")]
    pub default: String,
    #[serde(default)]
    pub domains: BTreeMap<String, String>,
    #[serde(default)]
    pub mailboxes: BTreeMap<String, String>,
}

fn default_source_id() -> String {
    DEFAULT_SOURCE_ID.to_string()
}

impl Default for RoutingTable {
    /// Everything to the source `default`.
    fn default() -> RoutingTable {
        RoutingTable {
            default: default_source_id(),
            domains: BTreeMap::new(),
            mailboxes: BTreeMap::new(),
        }
    }
}

impl RoutingTable {
    /// Whether any route (the default included) names `id`.
    pub fn names(&self, id: &str) -> bool {
        self.default == id
            || self.domains.values().any(|v| v == id)
            || self.mailboxes.values().any(|v| v == id)
    }

    /// The source serving `mailbox` by this table (mailbox, then domain, then default).
    pub fn source_for(&self, mailbox: &str) -> &str {
        let mailbox = mailbox.trim().to_lowercase();
        if let Some(id) = self.mailboxes.get(&mailbox) {
            return id;
        }
        mailbox
            .rsplit_once('@')
            .and_then(|(_, domain)| self.domains.get(domain))
            .unwrap_or(&self.default)
    }

    /// The table made tidy (domains without `@`, everything lower-cased and trimmed) and
    /// checked against the configured source ids: a route to an unknown source, a malformed
    /// domain or address, or too many routes are field errors (`default`, `domains.<d>`,
    /// `mailboxes.<m>`), and nothing is half-applied.
    pub fn checked<'a>(
        &self,
        known: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Result<RoutingTable, FieldErrors> {
        let mut errors = FieldErrors::default();
        let known_id = |id: &str| known.clone().into_iter().any(|k| k == id);
        let check_target = |field: &str, id: &str, errors: &mut FieldErrors| {
            if let Some(problem) = source_id_problem(id) {
                errors.insert(field, problem);
            } else if !known_id(id) {
                errors.insert_coded(
                    field,
                    UNKNOWN_SOURCE_CODE,
                    format!("no source has the id \"{id}\""),
                );
            }
        };
        let default = self.default.trim().to_string();
        check_target("default", &default, &mut errors);
        if self.domains.len() + self.mailboxes.len() > MAX_ROUTES {
            errors.insert("domains", format!("at most {MAX_ROUTES} routes in all"));
        }
        let mut domains = BTreeMap::new();
        for (domain, id) in &self.domains {
            let tidy = domain.trim().trim_start_matches('@').to_lowercase();
            let field = format!("domains.{}", printable(domain));
            if !plausible_domain(&tidy) {
                errors.insert(&field, "not a mail domain (such as fabrikam.com)");
                continue;
            }
            check_target(&field, id.trim(), &mut errors);
            domains.insert(tidy, id.trim().to_string());
        }
        let mut mailboxes = BTreeMap::new();
        for (mailbox, id) in &self.mailboxes {
            let tidy = mailbox.trim().to_lowercase();
            let field = format!("mailboxes.{}", printable(mailbox));
            let ok = tidy
                .rsplit_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && plausible_domain(domain))
                && tidy.len() <= 256;
            if !ok {
                errors.insert(&field, "not an email address");
                continue;
            }
            check_target(&field, id.trim(), &mut errors);
            mailboxes.insert(tidy, id.trim().to_string());
        }
        if errors.is_empty() {
            Ok(RoutingTable {
                default,
                domains,
                mailboxes,
            })
        } else {
            Err(errors)
        }
    }
}

/// The field code of a route naming a source that does not exist.
pub const UNKNOWN_SOURCE_CODE: &str = "unknown_source";

/// A domain as mail uses it: dot-separated labels of letters, digits and `-`.
fn plausible_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A key fit to name a field in an error: at most 80 characters, no control characters.
fn printable(key: &str) -> String {
    key.chars().filter(|c| !c.is_control()).take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ids_are_short_lower_case_words() {
        for good in ["default", "onprem", "m365-eu", "a", &"x".repeat(32)] {
            assert_eq!(source_id_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "OnPrem",
            "on prem",
            "on_prem",
            "../x",
            "ünï",
            &"x".repeat(33),
        ] {
            assert!(source_id_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            check_display_name("  On premises ").as_deref(),
            Ok("On premises")
        );
        assert!(check_display_name(&"é".repeat(64)).is_ok());
        assert!(check_display_name(&"é".repeat(65)).is_err());
        assert!(check_display_name("a\u{7}b").is_err());
    }

    #[test]
    fn a_checked_table_is_tidy_and_routes_mailbox_then_domain_then_default() {
        let table: RoutingTable = serde_json::from_value(serde_json::json!({
            "default": "online",
            "domains": {"@OnPrem.Contoso.com": "onprem"},
            "mailboxes": {" Moved@OnPrem.contoso.com ": "online"}
        }))
        .expect("a table");
        let checked = table
            .checked(["online", "onprem", "default"])
            .expect("valid");
        assert_eq!(
            checked.domains.get("onprem.contoso.com").expect("a route"),
            "onprem"
        );
        assert_eq!(checked.source_for("ann@onprem.contoso.com"), "onprem");
        assert_eq!(checked.source_for("MOVED@onprem.contoso.com"), "online");
        assert_eq!(checked.source_for("bob@fabrikam.com"), "online");
        assert!(checked.names("onprem") && checked.names("online"));
        assert!(!checked.names("default"));
    }

    #[test]
    fn unknown_sources_and_malformed_keys_are_field_errors() {
        let table: RoutingTable = serde_json::from_value(serde_json::json!({
            "default": "nowhere",
            "domains": {"fabrikam.com": "ghost", "not a domain": "default"},
            "mailboxes": {"no-at-sign": "default", "ok@contoso.com": "Bad Id"}
        }))
        .expect("a table");
        let errors = table.checked(["default"]).expect_err("refused");
        assert_eq!(errors.code("default"), Some(UNKNOWN_SOURCE_CODE));
        assert_eq!(
            errors.code("domains.fabrikam.com"),
            Some(UNKNOWN_SOURCE_CODE)
        );
        assert!(errors.get("domains.not a domain").is_some());
        assert!(errors.get("mailboxes.no-at-sign").is_some());
        assert!(errors.get("mailboxes.ok@contoso.com").is_some());
        assert_eq!(errors.len(), 5);
    }

    #[test]
    fn unknown_keys_in_the_body_are_refused() {
        let r: Result<RoutingTable, _> =
            serde_json::from_value(serde_json::json!({"default": "default", "domain": {}}));
        assert!(r.is_err());
        let empty: RoutingTable = serde_json::from_value(serde_json::json!({})).expect("empty");
        assert_eq!(empty, RoutingTable::default());
    }
}
