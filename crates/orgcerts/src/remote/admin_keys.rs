//! `orgcerts admin-keys …`: the organization's admin API keys, over the API.

use std::fmt::Write as _;

use clap::{Args, Subcommand};
use orgcerts_client::types::AdminApiKey;
use orgcerts_client::{Client, ListParams};

use super::output::{Format, color_stdout};
use super::render::{date, date_time, finish, table};
use super::{
    CliError, ConnectionArgs, EXIT_CODES_HELP, OrderArg, OutputArgs, PageArgs, show, show_list,
};

/// `orgcerts admin-keys`.
#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES_HELP)]
pub struct AdminKeysArgs {
    #[command(subcommand)]
    pub command: AdminKeysCommand,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// The `admin-keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminKeysCommand {
    /// List the admin keys (redacted, never the secret), oldest first
    #[command(visible_alias = "ls")]
    List {
        /// Sort by creation time (the API's default is asc, oldest first)
        #[arg(long, value_enum)]
        order: Option<OrderArg>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Create an admin key; its secret is printed this once
    Create {
        /// A name to recognise the key by
        name: String,
        /// Seconds until the key expires, 1 to 31536000 (a year); without it the key does not expire
        #[arg(long, value_name = "SECONDS")]
        expires_in: Option<u64>,
    },
    /// Show one admin key (without its secret)
    Get {
        /// The key id (key_…)
        id: String,
    },
    /// Delete an admin key: requests made with it are refused from then on
    #[command(visible_alias = "rm")]
    Delete {
        /// The key id (key_…)
        id: String,
    },
}

/// Runs one `admin-keys` subcommand.
pub(super) async fn run(
    client: &Client,
    command: AdminKeysCommand,
    format: Format,
) -> Result<(), CliError> {
    let keys = client.admin().organization().admin_api_keys();
    match command {
        AdminKeysCommand::List { order, page } => {
            let params = ListParams {
                after: page.after,
                limit: page.limit,
                order: order.map(Into::into),
            };
            let first = keys.list(&params).await?;
            show_list(
                first.into_pages(),
                page.all,
                format,
                "admin keys",
                |items| admin_keys(items, color_stdout()),
            )
            .await
        }
        AdminKeysCommand::Create { name, expires_in } => {
            let created = keys.create(name, expires_in).await?;
            show(format, &created, |created| {
                format!(
                    "{}\nsecret      {}\n\nThe secret is shown only this once: keep it now.",
                    admin_key(&created.key),
                    created.value
                )
            })
        }
        AdminKeysCommand::Get { id } => show(format, &keys.retrieve(&id).await?, admin_key),
        AdminKeysCommand::Delete { id } => {
            let deleted = keys.delete(&id).await?;
            show(format, &deleted, |deleted| {
                format!("Deleted {}", deleted.id)
            })
        }
    }
}

fn or_dash(at: Option<u64>, show: fn(u64) -> String) -> String {
    at.map_or_else(|| "-".to_owned(), show)
}

/// The admin key table: ID, NAME, KEY, CREATED, EXPIRES, LAST USED.
fn admin_keys(keys: &[AdminApiKey], color: bool) -> String {
    if keys.is_empty() {
        return "No admin keys.".to_owned();
    }
    let mut table = table(
        &["ID", "NAME", "KEY", "CREATED", "EXPIRES", "LAST USED"],
        color,
    );
    for key in keys {
        table.add_row([
            key.id.clone(),
            key.name.clone().unwrap_or_else(|| "-".to_owned()),
            key.redacted_value.clone(),
            date(key.created_at),
            or_dash(key.expires_at, date),
            or_dash(key.last_used_at, date),
        ]);
    }
    finish(&table)
}

/// One admin key as `key  value` lines.
fn admin_key(key: &AdminApiKey) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "id          {}", key.id);
    let _ = writeln!(out, "name        {}", key.name.as_deref().unwrap_or("-"));
    let _ = writeln!(out, "key         {}", key.redacted_value);
    let _ = writeln!(out, "owner       {} ({})", key.owner.name, key.owner.id);
    let _ = writeln!(out, "created     {}", date_time(key.created_at));
    let _ = writeln!(
        out,
        "expires     {}",
        key.expires_at.map_or_else(|| "never".to_owned(), date_time)
    );
    let _ = write!(
        out,
        "last used   {}",
        key.last_used_at
            .map_or_else(|| "never".to_owned(), date_time)
    );
    out
}
