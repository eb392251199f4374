//! The control API under `/_sim/` (JSON): ground truth, policies and statistics for tests,
//! demos and benchmarks.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::state::SimState;
use crate::stats::StatsSnapshot;

pub fn router() -> Router<Arc<SimState>> {
    Router::new().route("/_sim/stats", get(stats))
}

async fn stats(State(state): State<Arc<SimState>>) -> Json<StatsSnapshot> {
    Json(state.stats.snapshot(state.accounts.lockouts()))
}
