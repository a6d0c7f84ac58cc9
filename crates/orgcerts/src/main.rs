//! The `orgcerts` command line.

mod admin;
mod remote;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use orgcerts_server::serve::{ServeArgs, init_logging};

/// The default database: an SQLite file created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://orgcerts-data/orgcerts.sqlite3";

/// Organization certificate management for mutual TLS, speaking OpenAI's Admin API.
#[derive(Debug, Parser)]
#[command(name = "orgcerts", version, about, propagate_version = true, after_help = remote::EXIT_CODES_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (the default engine; the file and its directory are
    /// created on first start).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { database, serve } => {
            let _log = init_logging(serve.log_format);
            match orgcerts_store::open(&database.database_url).await {
                Ok(store) => orgcerts_server::serve::serve(serve, store).await,
                Err(err) => Err(err.into()),
            }
        }
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
