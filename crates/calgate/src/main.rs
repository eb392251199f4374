//! The calgate command line: the gateway, the demo, connection checks and admin tasks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use calgate::config::{BootConfig, Flags};
use calgate::gateway::{ADMIN_USER, GatewayConfig, create_token, start};
use calgate_store::{ApiRole, Store};

/// `calgate --version`: the release and the schema version its database is at after a start
/// (the newest migration it knows; a database of a newer schema is refused).
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{} (schema {})",
        env!("CARGO_PKG_VERSION"),
        calgate_store::schema_version()
    )
});

#[derive(Debug, Parser)]
#[command(
    name = "calgate",
    version = VERSION.as_str(),
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

/// Where the gateway keeps its data and listens.
#[derive(Debug, clap::Args)]
struct Location {
    /// A TOML file with `listen`, `data_dir`, `site_time_zone`, `tls_cert`, `tls_key`, …
    #[arg(long)]
    config: Option<PathBuf>,
    /// The data directory (database, key file, logs).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Keep the state in this PostgreSQL database instead of the data directory's SQLite file
    /// (`postgres://USER:PASSWORD@HOST:PORT/DBNAME`; also `database_url` in the file or
    /// `CALGATE_DATABASE_URL`, which keep the password off the process list). The key file
    /// stays in the data directory.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway.
    Serve {
        #[command(flatten)]
        location: Location,
        /// Where to listen (HOST:PORT).
        #[arg(long)]
        listen: Option<String>,
        /// Serve HTTPS with this PEM certificate chain (with --tls-key; re-read when it
        /// changes on disk).
        #[arg(long, value_name = "PEM_FILE")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, value_name = "PEM_FILE")]
        tls_key: Option<PathBuf>,
    },
    /// Run the gateway with a built-in simulated tenant, ready to click through.
    Demo {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Data directory (default: a temporary one, removed on exit).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// People in the simulated tenant.
        #[arg(long, default_value_t = 300)]
        people: usize,
    },
    /// Test the configured connection for one mailbox (exit code 0 when it works).
    Check {
        #[command(flatten)]
        location: Location,
        /// The mailbox to look up (default: the first watched person the source serves).
        #[arg(long)]
        mailbox: Option<String>,
        /// The source to test (default: the one the routing table picks for the mailbox).
        #[arg(long)]
        source: Option<String>,
        /// Print the result as JSON.
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
    /// Write a backup of the data directory to one file: a consistent copy of the database,
    /// taken while the gateway runs, and the key file only with `--include-key`.
    Backup {
        #[command(flatten)]
        location: Location,
        /// The backup file to write: a new file (an existing one is never written over).
        #[arg(long)]
        out: PathBuf,
        /// Put the key file (`secret.key`) in too. The backup then opens the sealed secrets on
        /// its own: keep it as safe as the key.
        #[arg(long)]
        include_key: bool,
    },
    /// Restore a backup into an empty or new data directory (one that holds anything is
    /// refused, and nothing in it is changed).
    Restore {
        /// The backup file, written by `calgate backup`.
        file: PathBuf,
        #[command(flatten)]
        location: Location,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Print a new API token (shown once).
    Create {
        #[command(flatten)]
        location: Location,
        #[arg(long, value_enum)]
        role: Role,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// List the live tokens: id, role, label, created, last used (never the token itself).
    List {
        #[command(flatten)]
        location: Location,
    },
    /// Revoke a token, given the token itself or its id from `list` (8 or more characters of
    /// it are enough when they name one token). Takes effect at once, also in a running
    /// gateway, and ends the page sessions signed in with it.
    Revoke {
        #[command(flatten)]
        location: Location,
        token_or_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Set the admin password (read from CALGATE_ADMIN_PASSWORD, or from standard input).
    SetPassword {
        #[command(flatten)]
        location: Location,
    },
}

fn run_async(fut: impl std::future::Future<Output = anyhow::Result<ExitCode>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("calgate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(fut) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("calgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// SIGINT (Ctrl-C) or SIGTERM (service managers).
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

fn boot(location: &Location, listen: Option<&str>) -> anyhow::Result<BootConfig> {
    BootConfig::load_with(
        location.config.as_deref(),
        Flags {
            listen,
            data_dir: location.data_dir.as_deref(),
            database_url: location.database_url.as_deref(),
            ..Flags::default()
        },
    )
}

/// The store the configuration names: its PostgreSQL database, or the data directory's SQLite.
async fn open_store(boot: &BootConfig) -> anyhow::Result<Store> {
    Ok(Store::open_database(&boot.data_dir, boot.database_url.as_ref()).await?)
}

/// Backups and restores are of the SQLite file; a PostgreSQL database is PostgreSQL's to back up.
fn refuse_on_postgres(boot: &BootConfig, what: &str) -> anyhow::Result<()> {
    if let Some(url) = &boot.database_url {
        anyhow::bail!(
            "calgate {what} is for the SQLite database of a data directory; this configuration \
             keeps its state in PostgreSQL ({url}): use pg_dump and pg_restore for the database, \
             and keep a copy of {} (the key file, the same on every gateway) apart from them",
            boot.data_dir.join(calgate_store::KEY_FILE).display()
        );
    }
    Ok(())
}

/// The command line's HTTPS files.
struct TlsFlags {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

async fn serve(
    location: Location,
    listen: Option<String>,
    tls: TlsFlags,
) -> anyhow::Result<ExitCode> {
    let boot = BootConfig::load_with(
        location.config.as_deref(),
        Flags {
            listen: listen.as_deref(),
            data_dir: location.data_dir.as_deref(),
            database_url: location.database_url.as_deref(),
            tls_cert: tls.cert.as_deref(),
            tls_key: tls.key.as_deref(),
        },
    )?;
    let _log_guard = calgate::logging::init(&boot.data_dir)?;
    let mut config = GatewayConfig::new(boot.listen, boot.data_dir.clone());
    config.database_url = boot.database_url.clone();
    config.site_time_zone = boot.time_zone();
    config.limits = boot.limits;
    config.default_language = boot.default_language;
    config.https = boot.https;
    config.admin_password = std::env::var("CALGATE_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .map(SecretString::from);
    let mut gateway = start(config).await?;
    println!("calgate listening on {}", gateway.url());
    if let Some(addr) = gateway.redirect_addr {
        println!("calgate redirecting http://{addr} to HTTPS");
    }
    if let Some(pw) = &gateway.generated_admin_password {
        println!(
            "First start: the portal's admin account is `{ADMIN_USER}` with password {} (shown once; change it with `calgate admin set-password`).",
            pw.expose_secret()
        );
    }
    tokio::select! {
        () = shutdown_signal() => eprintln!("calgate: stopping"),
        () = gateway.stopped() => {
            eprintln!("calgate: the server stopped");
            return Ok(ExitCode::FAILURE);
        }
    }
    gateway.shutdown(std::time::Duration::from_secs(10)).await;
    Ok(ExitCode::SUCCESS)
}

async fn demo(
    listen: String,
    data_dir: Option<PathBuf>,
    people: usize,
) -> anyhow::Result<ExitCode> {
    let temp = match &data_dir {
        Some(_) => None,
        None => Some(tempfile::tempdir()?),
    };
    let dir = data_dir
        .or_else(|| temp.as_ref().map(|t| t.path().to_path_buf()))
        .unwrap_or_default();
    let boot = BootConfig::load(None, Some(&listen), Some(&dir))?;
    let _log_guard = calgate::logging::init(&boot.data_dir)?;
    let demo = calgate::demo::start_demo(&boot, people).await?;
    println!("{}", calgate::demo::banner(&demo));
    shutdown_signal().await;
    eprintln!("calgate: stopping");
    Ok(ExitCode::SUCCESS)
}

async fn check(
    location: Location,
    mailbox: Option<String>,
    source: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let boot = boot(&location, None)?;
    // A check answers about an installation; it never makes one.
    if boot.database_url.is_none() && !boot.data_dir.join(calgate_store::DB_FILE).is_file() {
        anyhow::bail!(
            "no calgate database in {}: pass --data-dir (or --config) naming the gateway's data \
             directory; nothing was created",
            boot.data_dir.display()
        );
    }
    eprintln!("data directory: {}", boot.data_dir.display());
    if let Some(url) = &boot.database_url {
        eprintln!("database: {url}");
    }
    let store = open_store(&boot).await?;
    let routing = store.load_routing().await?.unwrap_or_default();
    let id = match (&source, &mailbox) {
        (Some(id), _) => id.clone(),
        (None, Some(mailbox)) => routing.source_for(mailbox).to_string(),
        (None, None) => calgate_settings::DEFAULT_SOURCE_ID.to_string(),
    };
    let settings = match store.load_source(&id).await? {
        Some(s) => s.settings,
        None if id == calgate_settings::DEFAULT_SOURCE_ID => Default::default(),
        None => anyhow::bail!("no source has the id {id:?}; `GET /api/v1/sources` lists them"),
    };
    // The service account often has no mailbox of its own: the first watched person that this
    // source serves is a mailbox that must work.
    let mailbox = match mailbox {
        Some(m) => m,
        None => match store
            .list_people()
            .await?
            .into_iter()
            .find(|p| routing.source_for(&p.email) == id)
        {
            Some(p) => {
                eprintln!(
                    "no --mailbox given: testing {}, the first watched person",
                    p.email
                );
                p.email
            }
            None => anyhow::bail!(
                "no --mailbox given and nobody on the watch list is served by source {id:?}; \
                 pass --mailbox"
            ),
        },
    };
    let options = calgate::state::engine_options(&settings, &boot.time_zone());
    // The gateway's own lockout guard: a quarantined password is not tried by a check either.
    // On a database several gateways share, the check takes its turn with them.
    let sharing = store
        .database_url()
        .map(|_| calgate::signin_store::Sharing {
            instance: format!("check-{:016x}", rand::random::<u64>()),
        });
    let sign_in = calgate::signin_store::context(&store, sharing).await?;
    let answer =
        calgate::check::run(&settings, &sign_in, &options, &mailbox.to_ascii_lowercase()).await;
    if json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else if answer.ok {
        let state = answer
            .status
            .as_ref()
            .and_then(|s| serde_json::to_value(s.state).ok())
            .unwrap_or_default();
        println!(
            "OK: {} via {} is {} ({} events today, {} ms)",
            answer.mailbox,
            answer.provider,
            state.as_str().unwrap_or("?"),
            answer.events_today.unwrap_or(0),
            answer.elapsed_ms
        );
    } else {
        println!(
            "FAILED: {} via {}: {} — {}",
            answer.mailbox,
            answer.provider,
            answer.code.as_deref().unwrap_or("?"),
            answer.message.as_deref().unwrap_or("")
        );
    }
    Ok(if answer.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn token_create(location: Location, role: Role, label: String) -> anyhow::Result<ExitCode> {
    let boot = boot(&location, None)?;
    let store = open_store(&boot).await?;
    let role = match role {
        Role::Admin => ApiRole::Admin,
        Role::Console => ApiRole::Console,
    };
    println!("{}", create_token(&store, role, &label).await?);
    Ok(ExitCode::SUCCESS)
}

async fn token_list(location: Location) -> anyhow::Result<ExitCode> {
    let boot = boot(&location, None)?;
    let store = open_store(&boot).await?;
    let tokens = store.list_api_tokens().await?;
    if tokens.is_empty() {
        println!("no live tokens");
    }
    for t in tokens {
        let last = t
            .last_used_at
            .map_or_else(|| "never".to_string(), |u| u.to_string());
        println!(
            "{}  {:<7}  created {}  last used {}  {}",
            t.id,
            t.role.as_str(),
            t.created_at,
            last,
            t.label
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn token_revoke(location: Location, token_or_id: String) -> anyhow::Result<ExitCode> {
    let boot = boot(&location, None)?;
    let store = open_store(&boot).await?;
    match calgate::tokens::revoke(&store, &token_or_id).await {
        Ok(t) => {
            println!("revoked {} ({}, {})", t.id, t.role.as_str(), t.label);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("calgate: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn set_password(location: Location) -> anyhow::Result<ExitCode> {
    let boot = boot(&location, None)?;
    let password = match std::env::var("CALGATE_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    if password.chars().count() < 12 {
        anyhow::bail!("the admin password must have at least 12 characters");
    }
    let store = open_store(&boot).await?;
    store
        .set_admin_password(ADMIN_USER, &SecretString::from(password))
        .await?;
    println!("admin password set");
    Ok(ExitCode::SUCCESS)
}

async fn backup(location: Location, out: PathBuf, include_key: bool) -> anyhow::Result<ExitCode> {
    let boot = boot(&location, None)?;
    refuse_on_postgres(&boot, "backup")?;
    let written = calgate_store::backup::write_backup(&boot.data_dir, &out, include_key).await?;
    let key_id = written.key_id.as_deref().unwrap_or("none yet");
    println!(
        "backup written to {} (database {} bytes, schema {}, key file {})",
        out.display(),
        written.database_bytes,
        written.schema_version,
        if written.key_included {
            "included"
        } else {
            "not included"
        }
    );
    if written.key_included {
        eprintln!(
            "warning: {} holds the key file: whoever has this backup can open the sealed \
             secrets (source passwords, client secrets, directory bind passwords). Keep it as \
             safe as the key itself.",
            out.display()
        );
    } else {
        eprintln!(
            "note: the backup holds no key file; a restore needs {} (key id {key_id}), so keep a \
             copy of it apart from the backups",
            boot.data_dir.join(calgate_store::KEY_FILE).display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn restore(file: PathBuf, location: Location) -> anyhow::Result<ExitCode> {
    let boot = boot(&location, None)?;
    refuse_on_postgres(&boot, "restore")?;
    let dir = &boot.data_dir;
    let restored = calgate_store::backup::restore_backup(&file, dir).await?;
    println!(
        "restored into {}: the database of calgate {} (schema {}), backed up at {}",
        dir.display(),
        restored.calgate_version,
        restored.schema_version,
        restored.created_at
    );
    if restored.schema_version < calgate_store::schema_version() {
        println!(
            "the gateway upgrades it to schema {} at its first start",
            calgate_store::schema_version()
        );
    }
    if restored.key_restored {
        println!("the key file came with it: the gateway can start on this directory");
    } else if let Some(key_id) = &restored.key_id {
        println!(
            "the backup holds no key file: copy the original {} (key id {key_id}) into {} with \
             mode 600 before starting the gateway; without it the sealed secrets cannot be \
             opened and the gateway refuses to start",
            calgate_store::KEY_FILE,
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    // The data directory, database, key file and logs are for this account alone.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            location,
            listen,
            tls_cert,
            tls_key,
        } => run_async(serve(
            location,
            listen,
            TlsFlags {
                cert: tls_cert,
                key: tls_key,
            },
        )),
        Command::Demo {
            listen,
            data_dir,
            people,
        } => run_async(demo(listen, data_dir, people)),
        Command::Check {
            location,
            mailbox,
            source,
            json,
        } => run_async(check(location, mailbox, source, json)),
        Command::Token {
            command:
                TokenCommand::Create {
                    location,
                    role,
                    label,
                },
        } => run_async(token_create(location, role, label)),
        Command::Token {
            command: TokenCommand::List { location },
        } => run_async(token_list(location)),
        Command::Token {
            command:
                TokenCommand::Revoke {
                    location,
                    token_or_id,
                },
        } => run_async(token_revoke(location, token_or_id)),
        Command::Admin {
            command: AdminCommand::SetPassword { location },
        } => run_async(set_password(location)),
        Command::Backup {
            location,
            out,
            include_key,
        } => run_async(backup(location, out, include_key)),
        Command::Restore { file, location } => run_async(restore(file, location)),
    }
}
