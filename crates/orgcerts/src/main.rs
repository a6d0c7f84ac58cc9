//! The `orgcerts` command line.

mod remote;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Manage OpenAI mTLS certificates and projects, on OpenAI or on an orgcerts server.
#[derive(Debug, Parser)]
#[command(name = "orgcerts", version, propagate_version = true, after_help = remote::EXIT_CODES_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage the organization's mTLS certificates: list, upload, get, rename, delete, activate
    Certs(remote::CertsArgs),
    /// Manage the organization's projects: list, create, get, rename, archive
    Projects(remote::ProjectsArgs),
    /// Print a shell completion script, e.g. `orgcerts completions bash > /etc/bash_completion.d/orgcerts`
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Certs(args) => remote::run_certs(args).await,
        Command::Projects(args) => remote::run_projects(args).await,
        Command::Completions { shell } => remote::print_completions(shell, &mut Cli::command()),
    };
    remote::exit_code(result)
}
