//! `calgate demo`: the gateway plus an in-process simulated tenant, configured against each
//! other, ready to click through.

use std::sync::Arc;

use anyhow::Context;
use jiff::SignedDuration;

use calgate_engine::EngineOptions;
use calgate_engine::ews_transport::{BasicCredentials, EwsSource, EwsTransport, TransportConfig};
use calgate_ews::ExchangeVersion;
use calgate_ews::availability::RequestedView;
use calgate_sim::SimConfig;

use crate::config::BootConfig;
use crate::gateway::{GatewayConfig, RunningGateway, start};
use crate::view::Person;

/// What `calgate demo` started.
#[derive(Debug)]
pub struct Demo {
    pub sim: calgate_sim::Running,
    pub gateway: RunningGateway,
    pub people: usize,
}

/// Starts the simulator with `people` people and a gateway watching all of them.
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
    let mut transport = TransportConfig::new(
        sim.urls
            .ews_url
            .parse()
            .context("the simulator's EWS URL")?,
        ExchangeVersion::Exchange2013Sp1,
    );
    if let Some(ca) = &sim.urls.ca_cert_pem_path {
        transport.extra_ca_pem =
            Some(std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?);
    }
    let credentials = BasicCredentials::new(&upn, &password).context("demo credentials")?;
    let transport = EwsTransport::new(transport, credentials).context("EWS client")?;
    let source = Arc::new(EwsSource::new(transport, RequestedView::Detailed));
    let mut options = EngineOptions::with_interval(SignedDuration::from_secs(60));
    options.site_time_zone = boot.time_zone();
    let gateway = start(
        GatewayConfig {
            listen: boot.listen,
            engine: options,
        },
        Some(source),
    )
    .await?;
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
    gateway
        .app
        .upsert_people(directory)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    Ok(Demo {
        sim,
        gateway,
        people: count,
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
         \x20 People (JSON):     {base}/api/v1/people?query=\n\
         \x20 One person:        {base}/api/v1/people/{first}\n\
         \x20 Live stream (SSE): {base}/api/v1/stream\n\
         \x20 Source health:     {base}/api/v1/health\n\
         \x20 Metrics:           {base}/metrics\n\n\
         \x20 Simulated EWS:     {ews}\n\
         \x20 Simulator control: {control}\n\n\
         Press Ctrl-C to stop.",
        people = demo.people,
        ews = demo.sim.urls.ews_url,
        control = demo.sim.urls.control_url,
    )
}
