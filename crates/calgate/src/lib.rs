//! The calgate gateway: HTTP API, live stream, metrics, and the commands that run them.

pub mod api;
pub mod app;
pub mod gateway;
pub mod metrics;
pub mod view;
pub mod logging;
