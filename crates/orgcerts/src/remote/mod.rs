//! The commands that talk to the API: `orgcerts certs|projects|admin-keys|audit-logs …`.

mod admin_keys;
mod audit_logs;
mod certs;
mod error;
mod output;
mod pem_file;
mod projects;
mod render;
mod service_accounts;
mod since;
mod upload_dir;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use orgcerts_client::{
    Client, DEFAULT_BASE_URL, ENV_ADMIN_KEY, ENV_BASE_URL, ENV_ORGANIZATION, Order,
};

pub use admin_keys::AdminKeysArgs;
pub use audit_logs::AuditLogsArgs;
pub use error::{CliError, EXIT_CODES_HELP, exit_code};
pub use output::Format;
use output::{show, show_list};

/// The help heading of the connection flags.
pub(crate) const CONNECTION: &str = "Connection";

/// Where the API is and how to reach it. Every flag also works after the subcommand.
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// Admin key (sk-admin-…). Prefer the environment variable or --api-key-file: a flag's
    /// value is visible to other users in the process list
    #[arg(long, env = ENV_ADMIN_KEY, hide_env_values = true, global = true, help_heading = CONNECTION)]
    pub api_key: Option<String>,

    /// Read the admin key from this file (first line); takes precedence over --api-key
    #[arg(long, value_name = "PATH", global = true, help_heading = CONNECTION)]
    pub api_key_file: Option<PathBuf>,

    /// Base URL of the API, including /v1, e.g. http://127.0.0.1:8080/v1 for an orgcerts server
    #[arg(long, env = ENV_BASE_URL, hide_env_values = true, default_value = DEFAULT_BASE_URL, global = true, help_heading = CONNECTION)]
    pub base_url: String,

    /// Organization id to send as OpenAI-Organization
    #[arg(long, env = ENV_ORGANIZATION, hide_env_values = true, value_name = "ORG_ID", global = true, help_heading = CONNECTION)]
    pub organization: Option<String>,

    /// Seconds one attempt may take before it is abandoned (and retried)
    #[arg(long, value_name = "SECONDS", default_value_t = 60, global = true, help_heading = CONNECTION)]
    pub timeout: u64,

    /// Retries after a 408, 429, 5xx or connection failure, with exponential backoff
    #[arg(long, value_name = "N", default_value_t = 2, global = true, help_heading = CONNECTION)]
    pub max_retries: u32,
}

impl ConnectionArgs {
    /// The client these settings describe.
    pub fn client(&self) -> Result<Client, CliError> {
        let key = match &self.api_key_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| {
                    CliError::local(format!("cannot read {}", path.display()), error)
                })?;
                Some(text.lines().next().unwrap_or_default().trim().to_owned())
            }
            None => self.api_key.clone(),
        };
        let key = key.filter(|key| !key.is_empty()).ok_or_else(|| {
            CliError::Usage(format!(
                "no admin key: set {ENV_ADMIN_KEY}, or pass --api-key-file or --api-key"
            ))
        })?;
        let base_url = match self.base_url.trim() {
            "" => DEFAULT_BASE_URL,
            url => url,
        };
        let mut builder = Client::builder()
            .api_key(key)
            .base_url(base_url)
            .timeout(Duration::from_secs(self.timeout))
            .max_retries(self.max_retries);
        if let Some(organization) = self.organization.as_deref().filter(|id| !id.is_empty()) {
            builder = builder.organization(organization);
        }
        Ok(builder.build()?)
    }
}

/// Output format shared by the subcommands.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Print the API's JSON as it was returned; with --all, one list object holding every item
    #[arg(long, global = true, conflicts_with = "jsonl")]
    pub json: bool,
    /// Print JSON Lines: one item per line as pages arrive (for lists too long to hold)
    #[arg(long, global = true)]
    pub jsonl: bool,
}

impl OutputArgs {
    /// The format these flags ask for.
    pub fn format(&self) -> Format {
        if self.jsonl {
            Format::JsonLines
        } else if self.json {
            Format::Json
        } else {
            Format::Human
        }
    }
}

/// `orgcerts certs`.
#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES_HELP)]
pub struct CertsArgs {
    #[command(subcommand)]
    pub command: CertsCommand,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `asc` or `desc`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OrderArg {
    /// Oldest first
    Asc,
    /// Newest first
    Desc,
}

impl From<OrderArg> for Order {
    fn from(order: OrderArg) -> Self {
        match order {
            OrderArg::Asc => Self::Asc,
            OrderArg::Desc => Self::Desc,
        }
    }
}

/// Paging flags shared by the list commands.
#[derive(Debug, Clone, Args)]
pub struct PageArgs {
    /// Items per page, 1 to 100 (the API's default is 20)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: Option<u32>,
    /// Start after this id (the last id of the previous page)
    #[arg(long, value_name = "ID")]
    pub after: Option<String>,
    /// Follow every page to the end (a progress count shows on a terminal)
    #[arg(long)]
    pub all: bool,
}

/// The `certs` subcommands.
#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// List certificates with their validity; expired and soon-expiring ones are marked
    #[command(visible_alias = "ls")]
    List {
        /// List as this project sees them: ACTIVE is the project-level activation
        #[arg(long, value_name = "PROJECT_ID")]
        project: Option<String>,
        /// Sort by upload time (the API's default is desc, newest first)
        #[arg(long, value_enum)]
        order: Option<OrderArg>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Upload CA certificates in PEM as trust anchors (they are not activated)
    Upload {
        /// The PEM file; a directory, to upload each of its *.pem and *.crt files in name order
        /// (a progress bar shows on a terminal); or - to read standard input
        #[arg(value_name = "FILE|DIR|-")]
        file: PathBuf,
        /// A name to recognise it by (for a directory: each is named after its file, without
        /// the extension)
        #[arg(long)]
        name: Option<String>,
        /// An attribute filter: a CEL expression over the client certificate's subject and
        /// subject_alt_names that must hold for this anchor to accept it (for a directory: each
        /// file gets it)
        #[arg(long, value_name = "EXPR")]
        filter: Option<String>,
    },
    /// Show one certificate, with its attribute filter
    Get {
        /// The certificate id (cert_…)
        id: String,
        /// Print the certificate's PEM instead of its details (e.g. to pipe into openssl)
        #[arg(long)]
        content: bool,
    },
    /// Set or clear a certificate's attribute filter; the API compiles it and says where an
    /// invalid one is wrong
    #[command(name = "set-filter")]
    SetFilter {
        /// The certificate id (cert_…)
        id: String,
        /// The CEL expression, e.g. 'subject.common_name == "svc"'; an empty one clears the
        /// filter
        #[arg(value_name = "EXPR", required_unless_present = "clear")]
        expr: Option<String>,
        /// Clear the filter instead of setting one
        #[arg(long, conflicts_with = "expr")]
        clear: bool,
    },
    /// Rename a certificate
    Rename {
        /// The certificate id (cert_…)
        id: String,
        /// The new name
        name: String,
    },
    /// Delete a certificate; it must be inactive for the organization and every project
    #[command(visible_alias = "rm")]
    Delete {
        /// The certificate id (cert_…)
        id: String,
    },
    /// Activate up to 10 certificates, for the organization or with --project for one project
    Activate {
        /// Certificate ids (cert_…); all are activated or none
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// Activate for this project only
        #[arg(long, value_name = "PROJECT_ID")]
        project: Option<String>,
    },
    /// Deactivate up to 10 certificates, for the organization or with --project for one project
    Deactivate {
        /// Certificate ids (cert_…); all are deactivated or none
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// Deactivate for this project only
        #[arg(long, value_name = "PROJECT_ID")]
        project: Option<String>,
    },
}

/// `orgcerts projects`.
#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES_HELP)]
pub struct ProjectsArgs {
    #[command(subcommand)]
    pub command: ProjectsCommand,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// The `projects` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProjectsCommand {
    /// List projects, oldest first
    #[command(visible_alias = "ls")]
    List {
        /// Include archived projects
        #[arg(long)]
        include_archived: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Create a project
    Create {
        /// The project's name
        name: String,
    },
    /// Show one project
    Get {
        /// The project id (proj_…)
        id: String,
    },
    /// Rename a project
    Rename {
        /// The project id (proj_…)
        id: String,
        /// The new name
        name: String,
    },
    /// Archive a project; projects cannot be deleted, and archived ones cannot be used
    Archive {
        /// The project id (proj_…)
        id: String,
    },
    /// A project's service accounts: list, create, get, rename, delete
    #[command(subcommand)]
    ServiceAccounts(service_accounts::ServiceAccountsCommand),
    /// A project's API keys: list, get, delete
    #[command(subcommand)]
    ApiKeys(service_accounts::ApiKeysCommand),
}

/// Runs `orgcerts certs …`.
pub async fn run_certs(args: CertsArgs) -> Result<(), CliError> {
    let client = args.connection.client()?;
    certs::run(&client, args.command, args.output.format()).await
}

/// Runs `orgcerts projects …`.
pub async fn run_projects(args: ProjectsArgs) -> Result<(), CliError> {
    let client = args.connection.client()?;
    projects::run(&client, args.command, args.output.format()).await
}

/// Runs `orgcerts admin-keys …`.
pub async fn run_admin_keys(args: AdminKeysArgs) -> Result<(), CliError> {
    let client = args.connection.client()?;
    admin_keys::run(&client, args.command, args.output.format()).await
}

/// Runs `orgcerts audit-logs …`.
pub async fn run_audit_logs(args: AuditLogsArgs) -> Result<(), CliError> {
    let client = args.connection.client()?;
    audit_logs::run(&client, args.command, args.output.format()).await
}

/// Prints the completion script for `shell` to stdout.
pub fn print_completions(
    shell: clap_complete::Shell,
    command: &mut clap::Command,
) -> Result<(), CliError> {
    let mut script = Vec::new();
    clap_complete::generate(shell, command, "orgcerts", &mut script);
    output::print(&String::from_utf8_lossy(&script))
}
