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
