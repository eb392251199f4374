//! `GET/PUT /api/v1/routing`: which source serves which mailboxes (a mailbox's own route, then
//! its domain's, then the default).

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};

use calgate_settings::RoutingTable;
use calgate_store::ApiToken;

use crate::api::ApiError;
use crate::api::sources::config_error;
use crate::state::AppState;

/// `GET /api/v1/routing`.
pub async fn get(State(app): State<Arc<AppState>>) -> Json<RoutingTable> {
    Json(app.routing())
}

/// `PUT /api/v1/routing`: replaces the table. A route to an unknown source, a malformed domain
/// or address: 422 `invalid_routing` with one message per field, and nothing saved.
pub async fn put(
    State(app): State<Arc<AppState>>,
    Extension(token): Extension<ApiToken>,
    Json(table): Json<RoutingTable>,
) -> Result<Json<RoutingTable>, ApiError> {
    app.save_routing(&table, &format!("api-token:{}", token.label))
        .await
        .map(Json)
        .map_err(config_error)
}
