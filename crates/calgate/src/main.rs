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
    Demo,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve => not_available("serve"),
        Command::Demo => not_available("demo"),
        Command::Check { .. } => not_available("check"),
        Command::Token { .. } => not_available("token create"),
        Command::Admin { .. } => not_available("admin set-password"),
    }
}
