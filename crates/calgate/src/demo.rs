//! `calgate demo`: the gateway plus an in-process simulated hybrid organisation, configured
//! against each other, ready to click through: one simulator stands for Exchange on premises
//! (EWS, `contoso.com`, the source `default`) and a second for Microsoft 365 (Graph,
//! `fabrikam.com`, the source `online`), routed by domain.

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
    /// Exchange on premises (EWS): the source `default`.
    pub sim: calgate_sim::Running,
    /// Microsoft 365 (Graph): the source `online`, serving [`ONLINE_DOMAIN`].
    pub online_sim: calgate_sim::Running,
    pub gateway: RunningGateway,
    pub people: usize,
    pub console_token: String,
    pub admin_token: String,
}

/// The demo's admin password (the demo is local and throw-away).
pub const DEMO_ADMIN_PASSWORD: &str = "calgate-demo";

/// The mail domain of the demo's Microsoft 365 half.
pub const ONLINE_DOMAIN: &str = "fabrikam.com";

/// The app secret of the demo's Microsoft 365 app registration (local and throw-away).
pub const DEMO_APP_SECRET: &str = "calgate-demo-app-secret";

/// Starts the two simulators (`people` people in all, a third of them online) and a gateway
/// configured against them through the same settings path an administrator uses.
pub async fn start_demo(boot: &BootConfig, people: usize) -> anyhow::Result<Demo> {
    let online_people = people / 3;
    let sim_config = SimConfig {
        people: people - online_people,
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
        .context("starting the simulated on-premises Exchange")?;
    let online_sim = calgate_sim::spawn(SimConfig {
        people: online_people,
        seed: 2027,
        domain: ONLINE_DOMAIN.to_owned(),
        client_secret: Some(DEMO_APP_SECRET.to_owned()),
        data_dir: Some(boot.data_dir.join("sim").join("online")),
        ..SimConfig::default()
    })
    .await
    .context("starting the simulated Microsoft 365")?;
    let ca = ca_of(&sim)?;
    let mut config = GatewayConfig::new(boot.listen, boot.data_dir.clone());
    config.site_time_zone = boot.time_zone();
    config.default_language = boot.default_language;
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
    configure_online(app, &online_sim).await?;
    let mut directory = directory_of(&sim, 2000);
    directory.extend(directory_of(&online_sim, 5000));
    let count = directory.len();
    app.upsert_people(directory)
        .await
        .map_err(|e| anyhow::anyhow!("{}", crate::api::store_error(e).message))?;
    let console_token = create_token(&app.store, ApiRole::Console, "demo console").await?;
    let admin_token = create_token(&app.store, ApiRole::Admin, "demo admin").await?;
    Ok(Demo {
        sim,
        online_sim,
        gateway,
        people: count,
        console_token,
        admin_token,
    })
}

fn ca_of(sim: &calgate_sim::Running) -> anyhow::Result<Option<String>> {
    match &sim.urls.ca_cert_pem_path {
        Some(path) => Ok(Some(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        )),
        None => Ok(None),
    }
}

/// The source `online` (Graph, app-only) and the route that sends [`ONLINE_DOMAIN`] to it.
async fn configure_online(
    app: &crate::state::AppState,
    online: &calgate_sim::Running,
) -> anyhow::Result<()> {
    let base = online
        .urls
        .graph_url
        .trim_end_matches('/')
        .trim_end_matches("/v1.0")
        .to_string();
    let update = json!({
        "provider": "microsoft365",
        "tenant_id": online.state.tenant_id,
        "client_id": online.state.client_id,
        "client_secret": DEMO_APP_SECRET,
        "authority_host": base,
        "graph_endpoint": base,
        "refresh_interval_s": 60,
        "privacy": "subject_and_location",
        "extra_ca_pem": ca_of(online)?,
    });
    let (settings, _warnings) =
        validate_json(&update, &calgate_settings::CalendarSettings::default())
            .map_err(|e| anyhow::anyhow!("demo settings of the online source: {e}"))?;
    app.save_source("online", Some("Microsoft 365 (demo)"), settings, "demo")
        .await
        .context("saving the online source")?;
    let mut routing = calgate_settings::RoutingTable::default();
    routing
        .domains
        .insert(ONLINE_DOMAIN.to_owned(), "online".to_owned());
    app.save_routing(&routing, "demo")
        .await
        .map_err(|e| anyhow::anyhow!("demo routing: {e}"))?;
    Ok(())
}

/// The people of a simulated tenant (no rooms) with extensions from `first_extension`.
fn directory_of(sim: &calgate_sim::Running, first_extension: usize) -> Vec<Person> {
    sim.state
        .tenant()
        .people
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_room)
        .map(|(i, p)| Person {
            email: p.email.to_ascii_lowercase(),
            name: Some(p.name.clone()),
            extension: Some(format!("{}", first_extension + i)),
            origin: None,
        })
        .collect()
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
        "calgate demo is running: {people} people of a simulated hybrid organisation: \
         contoso.com on Exchange on premises (EWS), {online_domain} on Microsoft 365 (Graph), \
         routed by domain.\n\n\
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
         \x20 Sources, routing:  {base}/portal/sources\n\
         \x20 Simulated EWS:     {ews}\n\
         \x20 Simulated Graph:   {graph}\n\
         \x20 Simulator control: {control}\n\n\
         Press Ctrl-C to stop.",
        people = demo.people,
        ews = demo.sim.urls.ews_url,
        graph = demo.online_sim.urls.graph_url,
        online_domain = ONLINE_DOMAIN,
        control = demo.sim.urls.control_url,
        console = demo.console_token,
        password = DEMO_ADMIN_PASSWORD,
        admin = demo.admin_token,
    )
}
