//! Operator commands: organizations and admin keys, straight on the database. They work while
//! a server runs on the same database (SQLite waits for the server's write lock).

use std::sync::Arc;

use clap::Subcommand;
use orgcerts_core::ids::OrganizationId;
use orgcerts_core::model::AdminKey;
use orgcerts_core::page::{MAX_LIMIT, Order, PageRequest};
use orgcerts_core::{Service, Settings};
use serde_json::json;

use crate::DatabaseArgs;

/// `orgcerts db`: the operator commands, which need the database rather than an admin key.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// The `db` subcommands.
#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Manage organizations
    Organization {
        #[command(subcommand)]
        command: OrganizationCommand,
    },
    /// Manage admin keys: create one for any organization, list, revoke
    AdminKey {
        #[command(subcommand)]
        command: AdminKeyCommand,
    },
}

/// Runs `orgcerts db …`.
pub async fn run(args: DbArgs) -> anyhow::Result<()> {
    match args.command {
        DbCommand::Organization { command } => run_organization(&args.database, command).await,
        DbCommand::AdminKey { command } => run_admin_key(&args.database, command).await,
    }
}

/// `db organization` subcommands.
#[derive(Debug, Subcommand)]
pub enum OrganizationCommand {
    /// Create an organization with its first admin key; prints
    /// `{"organization_id": …, "admin_key": …}` (the key is shown only this once).
    Create {
        /// The organization's name.
        #[arg(long)]
        name: String,
    },
    /// List organizations as JSON.
    List,
}

/// `db admin-key` subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminKeyCommand {
    /// Create an admin key; prints it once, as JSON.
    Create {
        /// The organization the key acts for.
        #[arg(long)]
        organization: String,
        /// A name to recognise the key by.
        #[arg(long, default_value = "Admin key")]
        name: String,
    },
    /// List an organization's admin keys as JSON (redacted, never the secret).
    List {
        /// The organization whose keys to list.
        #[arg(long)]
        organization: String,
    },
    /// Revoke an admin key: requests made with it are refused from now on.
    Revoke {
        /// The organization the key belongs to.
        #[arg(long)]
        organization: String,
        /// The key's id (`key_…`), as shown by `db admin-key list`.
        key_id: String,
    },
}

async fn service(database: &DatabaseArgs) -> anyhow::Result<Service> {
    let store = database.open().await?;
    Ok(Service::new(store, Settings::default()))
}

fn organization_id(text: &str) -> anyhow::Result<OrganizationId> {
    OrganizationId::parse(text)
        .ok_or_else(|| anyhow::anyhow!("'{text}' is not an organization id (they look like org-…)"))
}

fn print(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn key_json(key: &AdminKey) -> serde_json::Value {
    json!({
        "id": key.id.as_str(),
        "organization_id": key.organization_id.as_str(),
        "name": key.name,
        "redacted_value": key.redacted_value,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
    })
}

/// Runs `orgcerts db organization …`.
pub async fn run_organization(
    database: &DatabaseArgs,
    command: OrganizationCommand,
) -> anyhow::Result<()> {
    let service = service(database).await?;
    match command {
        OrganizationCommand::Create { name } => {
            let (org, issued) = service.create_organization(&name, None).await?;
            print(&json!({
                "organization_id": org.id.as_str(),
                "admin_key": issued.secret,
            }))
        }
        OrganizationCommand::List => {
            let orgs = service.list_organizations().await?;
            let orgs: Vec<_> = orgs
                .iter()
                .map(|o| json!({"id": o.id.as_str(), "name": o.name, "created_at": o.created_at}))
                .collect();
            print(&json!(orgs))
        }
    }
}

/// Runs `orgcerts db admin-key …`.
pub async fn run_admin_key(
    database: &DatabaseArgs,
    command: AdminKeyCommand,
) -> anyhow::Result<()> {
    let service = Arc::new(service(database).await?);
    match command {
        AdminKeyCommand::Create { organization, name } => {
            let issued = service
                .create_admin_key(&organization_id(&organization)?, None, &name, None)
                .await?;
            let mut value = key_json(&issued.key);
            value["admin_key"] = json!(issued.secret);
            print(&value)
        }
        AdminKeyCommand::List { organization } => {
            // The same listing as `admin-api-keys-list`: live keys, oldest first, page by page.
            let org = organization_id(&organization)?;
            let mut keys = Vec::new();
            let mut page = PageRequest {
                limit: MAX_LIMIT,
                after: None,
                order: Order::Asc,
            };
            loop {
                let got = service.list_admin_keys(&org, &page).await?;
                keys.extend(got.items.iter().map(key_json));
                match got.items.last() {
                    Some(last) if got.has_more => page.after = Some(last.id.to_string()),
                    _ => break,
                }
            }
            print(&json!(keys))
        }
        AdminKeyCommand::Revoke {
            organization,
            key_id,
        } => {
            let key = service
                .delete_admin_key(&organization_id(&organization)?, None, &key_id)
                .await?;
            print(&key_json(&key))
        }
    }
}
