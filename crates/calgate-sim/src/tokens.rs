//! Access tokens: verification of the Bearer tokens EWS and Graph receive.
//! (Placeholder until the sign-in side lands: every token is refused as malformed.)

use crate::state::SimState;

/// Which resource a token was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Ews,
    Graph,
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

/// Verifies a Bearer token for `audience`.
pub fn verify_bearer(
    state: &SimState,
    token: &str,
    audience: Audience,
) -> Result<TokenClaims, BearerError> {
    let _ = (state, token, audience);
    Err(BearerError::Malformed)
}
