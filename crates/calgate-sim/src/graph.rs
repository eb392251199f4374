//! Microsoft Graph endpoints under `/v1.0`.

use std::sync::Arc;

use axum::Router;

use crate::state::SimState;

pub fn router() -> Router<Arc<SimState>> {
    Router::new()
}
