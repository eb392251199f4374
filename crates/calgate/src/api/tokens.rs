//! `/api/v1/tokens` (admin): list, create (the secret is in the answer, once) and revoke API
//! tokens. A revoked token's page sessions end with it.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use calgate_store::{ApiRole, ApiToken};

use super::ApiError;
use crate::api::store_error;
use crate::state::AppState;
use crate::tokens::FindError;

#[derive(Debug, Deserialize)]
pub struct NewToken {
    label: String,
    role: ApiRole,
}

#[derive(Serialize)]
struct Created {
    token: ApiToken,
    /// The token itself: shown once, only its hash is kept.
    secret: String,
}

/// `GET /api/v1/tokens`: live tokens, oldest first.
pub async fn list(State(app): State<Arc<AppState>>) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(
        app.store.list_api_tokens().await.map_err(store_error)?,
    ))
}

/// `POST /api/v1/tokens`.
pub async fn create(
    State(app): State<Arc<AppState>>,
    Json(new): Json<NewToken>,
) -> Result<Response, ApiError> {
    let label = new.label.trim();
    if label.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "give the token a label (who or what uses it)",
        ));
    }
    let made = app
        .store
        .create_api_token(new.role, label)
        .await
        .map_err(store_error)?;
    tracing::info!(label = %made.token.label, role = new.role.as_str(), "API token created");
    let body = Created {
        secret: made.secret.expose_secret().to_string(),
        token: made.token,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /api/v1/tokens/{id}`: by id (or an unambiguous id prefix); the token itself never
/// goes in a URL. A token does not revoke itself here, so a script cannot lock its own admin
/// out by mistake: another admin token, the portal or `calgate token revoke` can.
pub async fn revoke(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<ApiToken>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if id.starts_with("cgt_") {
        return Err(ApiError::bad_request(
            "name the token by its id, not its value (a URL is logged)",
        ));
    }
    match crate::tokens::find(&app.store, &id).await {
        Ok(t) if t.id == caller.id => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "revoking_own_token",
                "a token cannot revoke itself; use another admin token, the portal or `calgate token revoke`",
            ));
        }
        _ => {}
    }
    match crate::tokens::revoke(&app.store, &id).await {
        Ok(token) => {
            app.portal
                .end_all(&crate::sessions::Credential::Token(token.id));
            Ok(StatusCode::NO_CONTENT)
        }
        Err(FindError::NotFound) => Err(ApiError::not_found("token")),
        Err(e @ FindError::Ambiguous(_)) => Err(ApiError::bad_request(e.to_string())),
        Err(FindError::Store(e)) => Err(store_error(e)),
    }
}
