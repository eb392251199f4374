//! The calgate command line: the gateway, the demo, connection checks and admin tasks.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "calgate",
    version,
    about = "Calendar availability for telephone attendant consoles"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Role {
    Admin,
    Console,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway.
    Serve,
    /// Run the gateway with a built-in simulated tenant, ready to click through.
    Demo {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Data directory (default: a temporary one, removed on exit).
        #[arg(long)]
        data_dir: Option<std::path::PathBuf>,
        /// People in the simulated tenant.
        #[arg(long, default_value_t = 300)]
        people: usize,
    },
    /// Test the configured connection for one mailbox.
    Check {
        #[arg(long)]
        mailbox: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Administer the portal account.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Print a new API token.
    Create {
        #[arg(long, value_enum)]
        role: Role,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Set the admin password.
    SetPassword,
}

fn not_available(what: &str) -> ExitCode {
    eprintln!("calgate: `{what}` is not available yet in this build");
    ExitCode::from(2)
}

fn run_async(fut: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("calgate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(fut) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("calgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn demo(
    listen: String,
    data_dir: Option<std::path::PathBuf>,
    people: usize,
) -> anyhow::Result<()> {
    let temp = match &data_dir {
        Some(_) => None,
        None => Some(tempfile::tempdir()?),
    };
    let dir = data_dir
        .or_else(|| temp.as_ref().map(|t| t.path().to_path_buf()))
        .unwrap_or_default();
    let boot = calgate::config::BootConfig::load(None, Some(&listen), Some(&dir))?;
    let _log_guard = calgate::logging::init(&boot.data_dir)?;
    let demo = calgate::demo::start_demo(&boot, people).await?;
    println!("{}", calgate::demo::banner(&demo));
    tokio::signal::ctrl_c().await?;
    eprintln!("calgate: stopping");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve => not_available("serve"),
        Command::Demo {
            listen,
            data_dir,
            people,
        } => run_async(demo(listen, data_dir, people)),
        Command::Check { .. } => not_available("check"),
        Command::Token { .. } => not_available("token create"),
        Command::Admin { .. } => not_available("admin set-password"),
    }
}
