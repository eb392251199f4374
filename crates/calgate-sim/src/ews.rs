//! The EWS endpoint (`/EWS/Exchange.asmx`, SOAP 1.1).

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;

use crate::state::SimState;

pub fn router() -> Router<Arc<SimState>> {
    Router::new().route(
        "/EWS/Exchange.asmx",
        post(|| async { StatusCode::NOT_IMPLEMENTED }),
    )
}
