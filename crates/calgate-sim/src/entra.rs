//! Entra ID v2 endpoints under `/{tenant}/oauth2/v2.0/`.

use std::sync::Arc;

use axum::Router;

use crate::state::SimState;

pub fn router() -> Router<Arc<SimState>> {
    Router::new()
}
