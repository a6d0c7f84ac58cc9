//! The `orgcerts` command line.

mod admin;
mod remote;
mod serve_args;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use orgcerts_core::Store;
use orgcerts_server::serve::init_logging;
use orgcerts_store::OpenOptions;
use serve_args::ServeArgs;

/// The default database: an SQLite file created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://orgcerts-data/orgcerts.sqlite3";

/// Organization certificate management for mutual TLS, speaking OpenAI's Admin API.
#[derive(Debug, Parser)]
#[command(name = "orgcerts", version, about, propagate_version = true, after_help = remote::EXIT_CODES_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives, and how to reach it.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (the default engine; the file and its directory are
    /// created on first start) or `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (several
    /// instances may share one; `?sslmode=require` for TLS).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,

    /// PostgreSQL: most connections this process opens.
    #[arg(long, env = "ORGCERTS_DB_MAX_CONNECTIONS",
          default_value_t = OpenOptions::default().max_connections,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub db_max_connections: u32,

    /// PostgreSQL: how long a request waits for a connection before it is answered 503, in ms.
    #[arg(long, env = "ORGCERTS_DB_ACQUIRE_TIMEOUT_MS",
          default_value_t = millis(OpenOptions::default().acquire_timeout),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub db_acquire_timeout_ms: u64,

    /// PostgreSQL: how long start-up waits for the database to accept connections, in ms.
    #[arg(long, env = "ORGCERTS_DB_CONNECT_TIMEOUT_MS",
          default_value_t = millis(OpenOptions::default().connect_timeout))]
    pub db_connect_timeout_ms: u64,

    /// PostgreSQL: `statement_timeout` of orgcerts' sessions, in ms; 0 keeps the server's
    /// (needed behind PgBouncer in transaction mode).
    #[arg(long, env = "ORGCERTS_DB_STATEMENT_TIMEOUT_MS",
          default_value_t = millis(OpenOptions::default().statement_timeout))]
    pub db_statement_timeout_ms: u64,

    /// PostgreSQL: hold an advisory lock while migrating, so that instances may start at once.
    /// `false` only for engines without advisory locks (CockroachDB): then start one instance
    /// before the others.
    #[arg(long, env = "ORGCERTS_DB_MIGRATION_LOCK", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub db_migration_lock: bool,
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl DatabaseArgs {
    /// Opens the database with these settings.
    pub async fn open(&self) -> Result<Arc<dyn Store>, orgcerts_store::OpenError> {
        let options = OpenOptions {
            max_connections: self.db_max_connections,
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
            connect_timeout: Duration::from_millis(self.db_connect_timeout_ms),
            statement_timeout: Duration::from_millis(self.db_statement_timeout_ms),
            migration_lock: self.db_migration_lock,
        };
        orgcerts_store::open_with(&self.database_url, &options).await
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API under /v1 (creates a default organization and admin key on first start).
    Serve {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Manage organizations (operator commands, working directly on the database).
    Organization {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: admin::OrganizationCommand,
    },
    /// Manage admin keys (operator commands, working directly on the database).
    AdminKey {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: admin::AdminKeyCommand,
    },
    /// Manage the organization's mTLS certificates over the API: list, upload, get, rename, delete, activate
    Certs(remote::CertsArgs),
    /// Manage the organization's projects over the API: list, create, get, rename, archive
    Projects(remote::ProjectsArgs),
    /// Print a shell completion script, e.g. `orgcerts completions bash > /etc/bash_completion.d/orgcerts`
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
}

/// jemalloc instead of glibc's malloc: a request allocates and frees many small buffers across
/// the runtime's threads, which glibc serves more slowly (`bench/profiles/README.md`). (mimalloc
/// was as fast but held three to four times the memory.)
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { database, serve } => match init_logging(serve.log_format.into()) {
            // The guard lives until the server has stopped, then writes the last lines.
            Ok(_log) => match serve.into_config() {
                Ok(config) => match database.open().await {
                    Ok(store) => orgcerts_server::serve::serve(config, store).await,
                    Err(err) => Err(err.into()),
                },
                Err(err) => Err(err),
            },
            Err(err) => Err(anyhow::Error::new(err).context("cannot start the log writer")),
        },
        Command::Organization { database, command } => {
            admin::run_organization(&database, command).await
        }
        Command::AdminKey { database, command } => admin::run_admin_key(&database, command).await,
        Command::Certs(args) => return remote::exit_code(remote::run_certs(args).await),
        Command::Projects(args) => return remote::exit_code(remote::run_projects(args).await),
        Command::Completions { shell } => {
            return remote::exit_code(remote::print_completions(shell, &mut Cli::command()));
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("orgcerts: {err:#}");
            ExitCode::FAILURE
        }
    }
}
