//! API tokens as the command line, the portal and the API name them: by the token itself, or
//! by its id as `calgate token list` shows it (the whole id, or its first 8 or more characters
//! when they name one token).

use calgate_store::{ApiToken, Store, StoreError};
use uuid::Uuid;

/// The shortest id prefix accepted.
const MIN_ID_PREFIX: usize = 8;

/// Why a token could not be found.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("no live token has that value or id")]
    NotFound,
    #[error("that id prefix names {0} tokens; give more of the id")]
    Ambiguous(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The live token named by `token_or_id`.
pub async fn find(store: &Store, token_or_id: &str) -> Result<ApiToken, FindError> {
    let given = token_or_id.trim();
    if let Ok(id) = Uuid::parse_str(given) {
        return store.api_token(id).await?.ok_or(FindError::NotFound);
    }
    let prefix = given.to_ascii_lowercase();
    if prefix.len() >= MIN_ID_PREFIX && prefix.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        let matching: Vec<ApiToken> = store
            .list_api_tokens()
            .await?
            .into_iter()
            .filter(|t| t.id.to_string().starts_with(&prefix))
            .collect();
        return match matching.len() {
            0 => Err(FindError::NotFound),
            1 => matching.into_iter().next().ok_or(FindError::NotFound),
            n => Err(FindError::Ambiguous(n)),
        };
    }
    store
        .find_api_token(given)
        .await?
        .ok_or(FindError::NotFound)
}

/// Revokes the token named by `token_or_id`; its API use and every page session signed in
/// with it end at their next request (also in a gateway running beside this process).
pub async fn revoke(store: &Store, token_or_id: &str) -> Result<ApiToken, FindError> {
    let token = find(store, token_or_id).await?;
    if !store.revoke_api_token(token.id).await? {
        return Err(FindError::NotFound);
    }
    tracing::info!(label = %token.label, id = %token.id, "API token revoked");
    Ok(token)
}
