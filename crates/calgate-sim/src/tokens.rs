//! Access tokens: the JWTs the Entra side issues and the EWS and Graph sides verify.
//!
//! Tokens are HS256-signed with the run's random `token_key`, carry the resource in `aud`
//! (`https://outlook.office365.com` for EWS, `https://graph.microsoft.com` for Graph) and expire
//! for real: a client that keeps using an old token is refused like Exchange would refuse it.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::state::SimState;

/// Which resource a token was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Ews,
    Graph,
}

impl Audience {
    /// The resource's identifier URI: the `aud` claim and the prefix of its scopes.
    pub fn uri(self) -> &'static str {
        match self {
            Audience::Ews => "https://outlook.office365.com",
            Audience::Graph => "https://graph.microsoft.com",
        }
    }

    /// The resource named by a scope such as `https://outlook.office365.com/EWS.AccessAsUser.All`.
    pub fn of_scope(scope: &str) -> Option<Audience> {
        [Audience::Ews, Audience::Graph].into_iter().find(|a| {
            scope
                .strip_prefix(a.uri())
                .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
        })
    }
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    pub audience: Audience,
    pub upn: Option<String>,
    pub app_id: String,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
    pub expires_at: i64,
}

/// Why a Bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    Malformed,
    BadSignature,
    Expired,
    WrongAudience,
}

/// The claims on the wire (a subset of what Entra puts into v1 access tokens).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub tid: String,
    pub appid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// Delegated permissions, space separated (without the resource prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Application permissions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Unique per token, so two tokens issued in the same second differ.
    pub uti: String,
}

/// Signs an access token.
pub(crate) fn sign(state: &SimState, claims: &AccessClaims) -> Option<String> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&state.token_key),
    )
    .ok()
}

/// Signs any claims with the run's key (id tokens).
pub(crate) fn sign_value(state: &SimState, claims: &serde_json::Value) -> Option<String> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&state.token_key),
    )
    .ok()
}

/// Verifies a Bearer token for `audience`.
pub fn verify_bearer(
    state: &SimState,
    token: &str,
    audience: Audience,
) -> Result<TokenClaims, BearerError> {
    let mut validation = Validation::new(Algorithm::HS256);
    // The audience is compared below so a wrong one gets its own answer.
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "aud"]);
    let data = jsonwebtoken::decode::<AccessClaims>(
        token,
        &DecodingKey::from_secret(&state.token_key),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => BearerError::Expired,
        jsonwebtoken::errors::ErrorKind::InvalidSignature => BearerError::BadSignature,
        _ => BearerError::Malformed,
    })?;
    let claims = data.claims;
    if claims.aud != audience.uri() {
        return Err(BearerError::WrongAudience);
    }
    Ok(TokenClaims {
        audience,
        upn: claims.upn,
        app_id: claims.appid,
        scopes: claims
            .scp
            .map(|s| s.split(' ').map(str::to_owned).collect())
            .unwrap_or_default(),
        roles: claims.roles,
        expires_at: claims.exp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimConfig;

    fn state() -> SimState {
        let config = SimConfig {
            people: 2,
            ..SimConfig::default()
        };
        SimState::new(&config, "https://127.0.0.1:1".to_owned())
    }

    fn claims(aud: &str, exp_in: i64) -> AccessClaims {
        let now = jiff::Timestamp::now().as_second();
        AccessClaims {
            aud: aud.to_owned(),
            iss: "https://sts.windows.net/t/".to_owned(),
            iat: now,
            nbf: now,
            exp: now + exp_in,
            tid: "t".to_owned(),
            appid: "app".to_owned(),
            upn: Some("ann@contoso.com".to_owned()),
            oid: None,
            scp: Some("EWS.AccessAsUser.All".to_owned()),
            roles: Vec::new(),
            uti: "u".to_owned(),
        }
    }

    #[test]
    fn tokens_are_checked_for_signature_audience_and_expiry() {
        let s = state();
        let ews = sign(&s, &claims(Audience::Ews.uri(), 600)).expect("signed");
        let ok = verify_bearer(&s, &ews, Audience::Ews).expect("valid");
        assert_eq!(ok.upn.as_deref(), Some("ann@contoso.com"));
        assert_eq!(ok.scopes, vec!["EWS.AccessAsUser.All".to_owned()]);
        assert_eq!(
            verify_bearer(&s, &ews, Audience::Graph),
            Err(BearerError::WrongAudience)
        );
        let old = sign(&s, &claims(Audience::Ews.uri(), -5)).expect("signed");
        assert_eq!(
            verify_bearer(&s, &old, Audience::Ews),
            Err(BearerError::Expired)
        );
        // Another run's key: the signature does not verify.
        let other = sign(&state(), &claims(Audience::Ews.uri(), 600)).expect("signed");
        assert_eq!(
            verify_bearer(&s, &other, Audience::Ews),
            Err(BearerError::BadSignature)
        );
        assert_eq!(
            verify_bearer(&s, "not.a.jwt", Audience::Ews),
            Err(BearerError::Malformed)
        );
    }

    #[test]
    fn the_resource_of_a_scope() {
        assert_eq!(
            Audience::of_scope("https://graph.microsoft.com/Calendars.ReadBasic"),
            Some(Audience::Graph)
        );
        assert_eq!(Audience::of_scope("https://outlook.office365.com/"), None);
        assert_eq!(
            Audience::of_scope("https://outlook.office365.com.evil/x"),
            None
        );
        assert_eq!(Audience::of_scope("offline_access"), None);
    }
}
