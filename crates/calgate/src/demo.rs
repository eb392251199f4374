//! `calgate demo`: the gateway plus an in-process simulated tenant, configured against each
//! other, ready to click through.

use anyhow::Context;
use secrecy::SecretString;
use serde_json::json;

use calgate_settings::validate_json;
use calgate_sim::SimConfig;
use calgate_store::ApiRole;

use crate::config::BootConfig;
use crate::gateway::{GatewayConfig, RunningGateway, create_token, start};
use crate::view::Person;

/// What `calgate demo` started.
#[derive(Debug)]
pub struct Demo {
    pub sim: calgate_sim::Running,
    pub gateway: RunningGateway,
    pub people: usize,
    pub console_token: String,
    pub admin_token: String,
}

/// The demo's admin password (the demo is local and throw-away).
pub const DEMO_ADMIN_PASSWORD: &str = "calgate-demo";

/// Starts the simulator with `people` people and a gateway configured against it through the
/// same settings path an administrator uses.
pub async fn start_demo(boot: &BootConfig, people: usize) -> anyhow::Result<Demo> {
    let sim_config = SimConfig {
        people,
        seed: 2026,
        data_dir: Some(boot.data_dir.join("sim")),
        ..SimConfig::default()
    };
    let (upn, password) = sim_config
        .service_account
        .clone()
        .context("the demo tenant has a service account")?;
    let sim = calgate_sim::spawn(sim_config)
        .await
        .context("starting the simulated tenant")?;
    let ca = match &sim.urls.ca_cert_pem_path {
        Some(path) => Some(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        None => None,
    };
    let mut config = GatewayConfig::new(boot.listen, boot.data_dir.clone());
    config.site_time_zone = boot.time_zone();
    config.limits = boot.limits;
    config.admin_password = Some(SecretString::from(DEMO_ADMIN_PASSWORD));
    let gateway = start(config).await?;
    let app = &gateway.app;
    let update = json!({
        "provider": "exchange",
        "grant_basic_auth": true,
        "grant_modern_auth": false,
        "username": upn,
        "password": password,
        "exchange_version": "exchange2013_sp1",
        "ews_url": sim.urls.ews_url,
        "refresh_interval_s": 60,
        "privacy": "subject_and_location",
        "extra_ca_pem": ca,
    });
    let (settings, _warnings) = validate_json(&update, &app.settings())
        .map_err(|e| anyhow::anyhow!("demo settings: {e}"))?;
    app.store
        .save_calendar_settings(&settings, "demo")
        .await
        .context("saving the demo settings")?;
    app.apply_settings(settings);
    let directory: Vec<Person> = sim
        .state
        .tenant()
        .people
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_room)
        .map(|(i, p)| Person {
            email: p.email.to_ascii_lowercase(),
            name: Some(p.name.clone()),
            extension: Some(format!("{}", 2000 + i)),
        })
        .collect();
    let count = directory.len();
    app.upsert_people(directory)
        .await
        .map_err(|e| anyhow::anyhow!("{}", crate::api::store_error(e).message))?;
    let console_token = create_token(&app.store, ApiRole::Console, "demo console").await?;
    let admin_token = create_token(&app.store, ApiRole::Admin, "demo admin").await?;
    Ok(Demo {
        sim,
        gateway,
        people: count,
        console_token,
        admin_token,
    })
}

/// Prints where to go.
pub fn banner(demo: &Demo) -> String {
    let base = demo.gateway.url();
    let first = demo
        .sim
        .state
        .tenant()
        .people
        .iter()
        .find(|p| !p.is_room)
        .map(|p| p.email.to_ascii_lowercase())
        .unwrap_or_default();
    format!(
        "calgate demo is running: {people} people from a simulated Exchange tenant.\n\n\
         \x20 Operator console:  {base}/console\n\
         \x20 Admin portal:      {base}/portal/settings\n\
         \x20 (sign in as `admin` with password `{password}`)\n\n\
         \x20 People (JSON):     {base}/api/v1/people?query=\n\
         \x20 One person:        {base}/api/v1/people/{first}\n\
         \x20 Live stream (SSE): {base}/api/v1/stream\n\
         \x20 Source health:     {base}/api/v1/health\n\
         \x20 Metrics:           {base}/metrics\n\n\
         \x20 Console API token: {console}\n\
         \x20 Admin API token:   {admin}\n\
         \x20 (send as `Authorization: Bearer TOKEN`; try\n\
         \x20  curl -H 'Authorization: Bearer {console}' {base}/api/v1/people/{first})\n\n\
         \x20 Simulated EWS:     {ews}\n\
         \x20 Simulator control: {control}\n\n\
         Press Ctrl-C to stop.",
        people = demo.people,
        ews = demo.sim.urls.ews_url,
        control = demo.sim.urls.control_url,
        console = demo.console_token,
        password = DEMO_ADMIN_PASSWORD,
        admin = demo.admin_token,
    )
}
