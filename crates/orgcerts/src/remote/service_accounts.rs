//! `orgcerts projects service-accounts …` and `orgcerts projects api-keys …`.

use std::fmt::Write as _;

use clap::{Subcommand, ValueEnum};
use orgcerts_client::types::{
    ProjectApiKey, ProjectServiceAccount, ProjectServiceAccountCreateRequest,
    ProjectServiceAccountCreateResponse, UpdateProjectServiceAccountBody,
};
use orgcerts_client::{
    Client, ListProjectApiKeysParams, ListServiceAccountsParams, OwnerProjectAccess,
};

use super::output::{Format, color_stdout};
use super::render::{date, date_time, finish, table};
use super::{CliError, PageArgs, show, show_list};

/// The `projects service-accounts` subcommands.
#[derive(Debug, Subcommand)]
pub enum ServiceAccountsCommand {
    /// List a project's service accounts, oldest first
    #[command(visible_alias = "ls")]
    List {
        /// The project id (proj_…)
        project: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Create a service account with its first API key, printed once
    Create {
        /// The project id (proj_…)
        project: String,
        /// The account's name
        name: String,
        /// Create the account alone: no project role and no key
        #[arg(long)]
        no_key: bool,
    },
    /// Show one service account
    Get {
        /// The project id (proj_…)
        project: String,
        /// The service account id (svc_acct_…)
        id: String,
    },
    /// Rename a service account
    Rename {
        /// The project id (proj_…)
        project: String,
        /// The service account id (svc_acct_…)
        id: String,
        /// The new name
        name: String,
    },
    /// Delete a service account and all its API keys
    #[command(visible_alias = "rm")]
    Delete {
        /// The project id (proj_…)
        project: String,
        /// The service account id (svc_acct_…)
        id: String,
    },
}

/// `--owner-access` of `projects api-keys list`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OwnerAccessArg {
    /// Keys whose owner has access to the project
    Active,
    /// Keys whose owner has no access (no role, or an archived project)
    Inactive,
    /// Every key
    Any,
}

/// The `projects api-keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// List a project's API keys (redacted), oldest first
    #[command(visible_alias = "ls")]
    List {
        /// The project id (proj_…)
        project: String,
        /// Only the keys whose owner has this access to the project
        #[arg(long, value_enum)]
        owner_access: Option<OwnerAccessArg>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one API key (redacted)
    Get {
        /// The project id (proj_…)
        project: String,
        /// The API key id (key_…)
        id: String,
    },
    /// Delete an API key; it stops working at once
    #[command(visible_alias = "rm")]
    Delete {
        /// The project id (proj_…)
        project: String,
        /// The API key id (key_…)
        id: String,
    },
}

/// Runs one `projects service-accounts` subcommand.
pub(super) async fn run_service_accounts(
    client: &Client,
    command: ServiceAccountsCommand,
    format: Format,
) -> Result<(), CliError> {
    let projects = client.admin().organization().projects();
    match command {
        ServiceAccountsCommand::List { project, page } => {
            let params = ListServiceAccountsParams {
                after: page.after,
                limit: page.limit,
            };
            let first = projects.service_accounts(project).list(&params).await?;
            show_list(
                first.into_pages(),
                page.all,
                format,
                "service accounts",
                |items| accounts(items, color_stdout()),
            )
            .await
        }
        ServiceAccountsCommand::Create {
            project,
            name,
            no_key,
        } => {
            let request = ProjectServiceAccountCreateRequest {
                name,
                create_service_account_only: no_key.then_some(true),
            };
            let created = projects.service_accounts(project).create(&request).await?;
            if created.api_key.is_some() {
                eprintln!(
                    "Store the API key now: it is shown this once and cannot be retrieved again."
                );
            }
            show(format, &created, created_account)
        }
        ServiceAccountsCommand::Get { project, id } => {
            let got = projects.service_accounts(project).retrieve(&id).await?;
            show(format, &got, account)
        }
        ServiceAccountsCommand::Rename { project, id, name } => {
            let request = UpdateProjectServiceAccountBody {
                name: Some(name),
                role: None,
            };
            let renamed = projects
                .service_accounts(project)
                .update(&id, &request)
                .await?;
            show(format, &renamed, account)
        }
        ServiceAccountsCommand::Delete { project, id } => {
            let deleted = projects.service_accounts(project).delete(&id).await?;
            show(format, &deleted, |d| {
                format!("Deleted {} and its API keys.", d.id)
            })
        }
    }
}

/// Runs one `projects api-keys` subcommand.
pub(super) async fn run_api_keys(
    client: &Client,
    command: ApiKeysCommand,
    format: Format,
) -> Result<(), CliError> {
    let projects = client.admin().organization().projects();
    match command {
        ApiKeysCommand::List {
            project,
            owner_access,
            page,
        } => {
            let params = ListProjectApiKeysParams {
                after: page.after,
                limit: page.limit,
                owner_project_access: owner_access.map(|access| match access {
                    OwnerAccessArg::Active => OwnerProjectAccess::Active,
                    OwnerAccessArg::Inactive => OwnerProjectAccess::Inactive,
                    OwnerAccessArg::Any => OwnerProjectAccess::Any,
                }),
            };
            let first = projects.api_keys(project).list(&params).await?;
            show_list(first.into_pages(), page.all, format, "API keys", |items| {
                keys(items, color_stdout())
            })
            .await
        }
        ApiKeysCommand::Get { project, id } => show(
            format,
            &projects.api_keys(project).retrieve(&id).await?,
            key,
        ),
        ApiKeysCommand::Delete { project, id } => {
            let deleted = projects.api_keys(project).delete(&id).await?;
            show(format, &deleted, |d| format!("Deleted {}.", d.id))
        }
    }
}

fn role(role: orgcerts_client::types::ProjectServiceAccountRole) -> &'static str {
    use orgcerts_client::types::ProjectServiceAccountRole as Role;
    match role {
        Role::Owner => "owner",
        Role::Member => "member",
        Role::None => "none",
    }
}

fn accounts(items: &[ProjectServiceAccount], color: bool) -> String {
    if items.is_empty() {
        return "No service accounts.".to_owned();
    }
    let mut out = table(&["ID", "NAME", "ROLE", "CREATED"], color);
    for item in items {
        out.add_row([
            item.id.clone(),
            item.name.clone(),
            role(item.role).to_owned(),
            date(item.created_at),
        ]);
    }
    finish(&out)
}

fn account(item: &ProjectServiceAccount) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "id        {}", item.id);
    let _ = writeln!(out, "name      {}", item.name);
    let _ = writeln!(out, "role      {}", role(item.role));
    let _ = write!(out, "created   {}", date_time(item.created_at));
    out
}

fn created_account(created: &ProjectServiceAccountCreateResponse) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "id        {}", created.id);
    let _ = writeln!(out, "name      {}", created.name);
    let _ = writeln!(out, "role      {}", role(created.role));
    let _ = write!(out, "created   {}", date_time(created.created_at));
    if let Some(key) = &created.api_key {
        let _ = write!(out, "\nkey id    {}\napi key   {}", key.id, key.value);
    }
    out
}

fn access(item: &ProjectApiKey) -> &'static str {
    match item.owner_project_access {
        orgcerts_client::types::ProjectApiKeyOwnerAccess::Active => "active",
        orgcerts_client::types::ProjectApiKeyOwnerAccess::Inactive => "inactive",
    }
}

fn owner(item: &ProjectApiKey) -> String {
    item.owner
        .service_account
        .as_ref()
        .map(|account| account.id.clone())
        .or_else(|| item.owner.user.as_ref().map(|user| user.id.clone()))
        .unwrap_or_else(|| "-".to_owned())
}

fn keys(items: &[ProjectApiKey], color: bool) -> String {
    if items.is_empty() {
        return "No API keys.".to_owned();
    }
    let mut out = table(&["ID", "NAME", "KEY", "OWNER", "ACCESS", "CREATED"], color);
    for item in items {
        out.add_row([
            item.id.clone(),
            item.name.clone(),
            item.redacted_value.clone(),
            owner(item),
            access(item).to_owned(),
            date(item.created_at),
        ]);
    }
    finish(&out)
}

fn key(item: &ProjectApiKey) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "id        {}", item.id);
    let _ = writeln!(out, "name      {}", item.name);
    let _ = writeln!(out, "key       {}", item.redacted_value);
    let _ = writeln!(out, "owner     {}", owner(item));
    let _ = writeln!(out, "access    {}", access(item));
    let _ = write!(out, "created   {}", date_time(item.created_at));
    out
}
