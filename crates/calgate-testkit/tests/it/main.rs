//! The one integration-test binary: real simulator, real clients, real HTTP.
//! Add a module here rather than a new file under `tests/` (each binary costs a link on 2 cores).

mod accessibility;
mod console_truth;
mod demo;
mod directories_page;
mod directory_sync;
mod drills_crash;
mod drills_disk;
mod drills_hostile;
mod drills_outage;
mod drills_throttle;
mod engine_ews;
mod engine_graph;
mod engine_hybrid;
mod entra;
mod ews_client;
mod gateway_api;
mod gateway_sources;
mod graph;
mod graph_directory;
mod hardening;
mod https;
mod languages;
mod ldap_directory;
mod lockout;
mod metrics;
mod operations;
mod packaging;
mod pages;
mod portal_habits;
mod postgres;
mod presence;
mod schemathesis;
mod sim_conformance;
mod testkit_selfcheck;
mod windows_auth;
