//! The `orgcerts` command line.

mod admin;
mod gateway_args;
mod reference;
mod remote;
mod serve_args;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use gateway_args::GatewayArgs;
use orgcerts_core::Store;
use orgcerts_server::serve::init_logging;
use orgcerts_store::OpenOptions;
use serve_args::ServeArgs;

/// The help heading of the database options.
const DATABASE: &str = "Database";

/// The default database: an SQLite file created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://orgcerts-data/orgcerts.sqlite3";

/// Organization certificate management for mutual TLS, speaking OpenAI's Admin API.
#[derive(Debug, Parser)]
#[command(name = "orgcerts", version, about, propagate_version = true, after_help = top_level_help())]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The end of `orgcerts --help`: which commands need what, then the exit codes.
fn top_level_help() -> String {
    format!(
        "`serve`, `gateway` and `db …` work on the database (DATABASE_URL); `certs`, `projects`, `admin-keys` \
         and `audit-logs` call the API with an admin key (OPENAI_ADMIN_KEY).\n\n{}",
        remote::EXIT_CODES_HELP
    )
}

/// Where the data lives, and how to reach it.
///
/// Every option is global: it may also follow the subcommand
/// (`orgcerts db organization create --name X --database-url U`).
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (the default engine; the file and its directory are
    /// created on first start) or `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (several
    /// instances may share one; `?sslmode=require` for TLS).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true, global = true, help_heading = DATABASE)]
    pub database_url: String,

    /// PostgreSQL: most connections this process opens.
    #[arg(long, env = "ORGCERTS_DB_MAX_CONNECTIONS", global = true, help_heading = DATABASE,
          default_value_t = OpenOptions::default().max_connections,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub db_max_connections: u32,

    /// How long a request waits for a PostgreSQL connection, or for an SQLite reader or writer
    /// thread to start its operation, before it is answered 503, in ms.
    #[arg(long, env = "ORGCERTS_DB_ACQUIRE_TIMEOUT_MS", global = true, help_heading = DATABASE,
          default_value_t = millis(OpenOptions::default().acquire_timeout),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub db_acquire_timeout_ms: u64,

    /// PostgreSQL: how long start-up waits for the database to accept connections, in ms.
    #[arg(long, env = "ORGCERTS_DB_CONNECT_TIMEOUT_MS", global = true, help_heading = DATABASE,
          default_value_t = millis(OpenOptions::default().connect_timeout))]
    pub db_connect_timeout_ms: u64,

    /// PostgreSQL: `statement_timeout` of orgcerts' sessions, in ms; 0 keeps the server's
    /// (needed behind PgBouncer in transaction mode).
    #[arg(long, env = "ORGCERTS_DB_STATEMENT_TIMEOUT_MS", global = true, help_heading = DATABASE,
          default_value_t = millis(OpenOptions::default().statement_timeout))]
    pub db_statement_timeout_ms: u64,

    /// PostgreSQL: hold an advisory lock while migrating, so that instances may start at once.
    /// `false` only for engines without advisory locks (CockroachDB): then start one instance
    /// before the others.
    #[arg(long, env = "ORGCERTS_DB_MIGRATION_LOCK", global = true, help_heading = DATABASE, default_value_t = true,
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
    /// Enforce the active certificates: an mTLS gateway in front of an OpenAI-compatible API
    Gateway {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        gateway: GatewayArgs,
    },
    /// Operator commands on the database: organizations and their admin keys
    Db(admin::DbArgs),
    /// `db organization`, under a hidden alias.
    #[command(hide = true)]
    Organization {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: admin::OrganizationCommand,
    },
    /// `db admin-key`, under a hidden alias.
    #[command(hide = true)]
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
    /// Manage the organization's admin API keys over the API: list, create, get, delete
    AdminKeys(remote::AdminKeysArgs),
    /// Read the organization's audit log over the API
    AuditLogs(remote::AuditLogsArgs),
    /// Print the command reference of docs/cli.md: every command's help, as Markdown
    #[command(hide = true)]
    CliReference,
    /// Print a shell completion script, e.g. `orgcerts completions bash > /etc/bash_completion.d/orgcerts`
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
}

/// jemalloc instead of glibc's malloc: a request allocates and frees many small buffers across
/// the runtime's threads, which glibc serves more slowly (`bench/profiles/README.md`). (mimalloc
/// is as fast but holds three to four times the memory.)
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The stack of the runtime's worker threads: room for an attribute filter's evaluation at its
/// nesting bound in any build (the default 2 MiB leaves little of it in unoptimised ones).
const WORKER_STACK_BYTES: usize = 8 << 20;

fn main() -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK_BYTES)
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
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
        Command::Gateway { database, gateway } => match init_logging(gateway.log_format.into()) {
            Ok(_log) => match gateway.into_config() {
                Ok(config) => match database.open().await {
                    Ok(store) => orgcerts_gateway_server::run(config, store).await,
                    Err(err) => Err(err.into()),
                },
                Err(err) => Err(err),
            },
            Err(err) => Err(anyhow::Error::new(err).context("cannot start the log writer")),
        },
        Command::Db(args) => admin::run(args).await,
        Command::Organization { database, command } => {
            admin::run_organization(&database, command).await
        }
        Command::AdminKey { database, command } => admin::run_admin_key(&database, command).await,
        Command::Certs(args) => return remote::exit_code(remote::run_certs(args).await),
        Command::Projects(args) => return remote::exit_code(remote::run_projects(args).await),
        Command::AdminKeys(args) => return remote::exit_code(remote::run_admin_keys(args).await),
        Command::AuditLogs(args) => return remote::exit_code(remote::run_audit_logs(args).await),
        Command::CliReference => {
            let text = reference::markdown(Cli::command());
            std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes()).map_err(Into::into)
        }
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
