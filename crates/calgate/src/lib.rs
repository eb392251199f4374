//! The calgate gateway: HTTP API, live stream, metrics, and the commands that run them.

pub mod api;
pub mod check;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod directories;
pub mod gateway;
pub mod i18n;
pub mod import;
pub mod logging;
pub mod metrics;
pub mod portal;
pub mod proxies;
pub mod router;
pub mod server;
pub mod sessions;
pub mod signin_limit;
pub mod signin_store;
pub mod sources;
pub mod state;
pub mod store_probe;
pub mod tls;
pub mod tokens;
pub mod view;

/// `N` random bytes in hex: session tokens, sign-in ids, the guard's salt.
pub(crate) fn random_hex<const N: usize>() -> String {
    use rand::Rng;
    let bytes: [u8; N] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
