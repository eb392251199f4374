//! `calgate-sim`: starts the simulator and prints one JSON line with its URLs when ready.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

/// A local twin of Exchange EWS, Entra ID and Microsoft Graph.
#[derive(Debug, Parser)]
#[command(name = "calgate-sim", version)]
struct Cli {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Number of generated people.
    #[arg(long, default_value_t = 200)]
    people: usize,
    /// Seed of the generated tenant.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Serve HTTPS with a generated CA (the default).
    #[arg(long, conflicts_with = "plain")]
    tls: bool,
    /// Serve plain HTTP.
    #[arg(long)]
    plain: bool,
    /// The service account's UPN.
    #[arg(long, requires = "service_password")]
    service_account: Option<String>,
    /// The service account's password.
    #[arg(long, env = "CALGATE_SIM_SERVICE_PASSWORD", hide_env_values = true)]
    service_password: Option<String>,
    #[arg(long)]
    tenant_id: Option<String>,
    #[arg(long)]
    client_id: Option<String>,
    /// A client secret for the client-credentials grant.
    #[arg(long, env = "CALGATE_SIM_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// A PEM certificate whose key signs client assertions.
    #[arg(long)]
    client_cert_pem: Option<PathBuf>,
    /// The schemes EWS offers: a comma list of basic, ntlm, negotiate, bearer.
    #[arg(long, default_value = "basic,bearer")]
    ews_auth: calgate_sim::EwsAuth,
    /// The generated people's mail domain.
    #[arg(long, default_value = "contoso.com")]
    domain: String,
    /// Where the generated CA certificate is written (a temporary directory otherwise).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Generate today's calendars as this weekday's (mon … sun): with `thu`, today (UTC) and
    /// tomorrow hold a Thursday's and a Friday's meetings on their real dates, and working
    /// hours move with them. For benchmarks that must read a working day on any day.
    #[arg(long, value_parser = parse_weekday)]
    today_as: Option<calgate_core::Weekday>,
}

fn parse_weekday(s: &str) -> Result<calgate_core::Weekday, String> {
    calgate_core::Weekday::parse(s).ok_or_else(|| format!("not a weekday: {s:?} (mon … sun)"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let mut config = calgate_sim::SimConfig {
        listen: cli.listen,
        people: cli.people,
        seed: cli.seed,
        tls: !cli.plain,
        data_dir: cli.data_dir,
        client_secret: cli.client_secret,
        today_as: cli.today_as,
        ews_auth: cli.ews_auth,
        domain: cli.domain,
        ..calgate_sim::SimConfig::default()
    };
    if let (Some(upn), Some(password)) = (cli.service_account, cli.service_password) {
        config.service_account = Some((upn, password));
    } else if let Some((upn, _)) = &mut config.service_account {
        // The default service account lives in the tenant's domain.
        *upn = format!("attendant@{}", config.domain);
    }
    if let Some(t) = cli.tenant_id {
        config.tenant_id = t;
    }
    if let Some(c) = cli.client_id {
        config.client_id = c;
    }
    if let Some(path) = cli.client_cert_pem {
        config.client_cert_pem = Some(
            std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?,
        );
    }
    let running = calgate_sim::spawn(config).await?;
    println!("{}", serde_json::to_string(&running.urls)?);
    tokio::signal::ctrl_c().await?;
    running.shutdown();
    Ok(())
}
