//! Which scopes to ask Entra ID for, per resource and per kind of sign-in.
//!
//! A token is issued for one resource (its `aud`): an EWS token cannot call Graph and the other
//! way round, so the cache keeps one token per [`Resource`].

use serde::{Deserialize, Serialize};

/// The API an access token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// Exchange Web Services (`https://outlook.office365.com`).
    Ews,
    /// Microsoft Graph (`https://graph.microsoft.com`).
    Graph,
}

impl Resource {
    /// The resource's identifier URI, the prefix of its scopes and the `aud` of its tokens.
    pub fn identifier(self) -> &'static str {
        match self {
            Self::Ews => "https://outlook.office365.com",
            Self::Graph => "https://graph.microsoft.com",
        }
    }

    /// Scopes for a signed-in user (resource-owner password, refresh token, device code).
    /// `offline_access` is what makes Entra return a refresh token.
    pub fn delegated_scopes(self) -> Vec<String> {
        let permissions: &[&str] = match self {
            Self::Ews => &["EWS.AccessAsUser.All"],
            // getSchedule needs Calendars.ReadBasic; getMailTips (out-of-office text) Mail.Read.
            Self::Graph => &["Calendars.ReadBasic", "Mail.Read"],
        };
        permissions
            .iter()
            .map(|p| format!("{}/{p}", self.identifier()))
            .chain(std::iter::once("offline_access".to_string()))
            .collect()
    }

    /// The single scope of an app-only (client credentials) request: every application
    /// permission consented for the resource.
    pub fn app_only_scope(self) -> String {
        format!("{}/.default", self.identifier())
    }
}

/// Joins scopes the way the token endpoint expects them (space separated).
pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ews_delegated_scope_is_the_one_the_app_registration_holds() {
        assert_eq!(
            join(&Resource::Ews.delegated_scopes()),
            "https://outlook.office365.com/EWS.AccessAsUser.All offline_access"
        );
        assert_eq!(
            Resource::Graph.app_only_scope(),
            "https://graph.microsoft.com/.default"
        );
        assert_eq!(
            Resource::Ews.app_only_scope(),
            "https://outlook.office365.com/.default"
        );
    }
}
