//! `orgcerts audit-logs list`: the organization's audit log, over the API.

use clap::{Args, Subcommand};
use orgcerts_client::types::AuditLog;
use orgcerts_client::{Client, EffectiveAt, ListAuditLogsParams};

use super::output::{Format, color_stdout, show_list_before};
use super::render::{date_time, finish, table};
use super::since::{MOMENT_HELP, Moment, parse_moment};
use super::{CliError, ConnectionArgs, EXIT_CODES_HELP, OutputArgs, PageArgs, show_list};

/// `orgcerts audit-logs`.
#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES_HELP)]
pub struct AuditLogsArgs {
    #[command(subcommand)]
    pub command: AuditLogsCommand,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// The `audit-logs` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditLogsCommand {
    /// List audit log entries, newest first; every filter narrows the list, a repeated one
    /// matches any of its values
    #[command(visible_alias = "ls", after_help = format!("--since and --until take {MOMENT_HELP}."))]
    List {
        /// Only entries of this type, e.g. certificate.created (repeatable)
        #[arg(long = "type", value_name = "TYPE")]
        event_types: Vec<String>,
        /// Only entries made by this actor: an API key id (repeatable)
        #[arg(long = "actor-id", value_name = "ID")]
        actor_ids: Vec<String>,
        /// Only entries made by the user with this email (repeatable)
        #[arg(long = "actor-email", value_name = "EMAIL")]
        actor_emails: Vec<String>,
        /// Only entries about this resource, e.g. a certificate id (repeatable)
        #[arg(long = "resource-id", value_name = "ID")]
        resource_ids: Vec<String>,
        /// Only entries of this project (repeatable)
        #[arg(long = "project-id", value_name = "PROJECT_ID")]
        project_ids: Vec<String>,
        /// Only tenant-scoped entries
        #[arg(long)]
        tenant_only: bool,
        /// Only entries at or after this moment: 7d, 2026-11-01, 2026-11-01T09:30:00Z, …
        #[arg(long, value_name = "WHEN", value_parser = parse_moment)]
        since: Option<Moment>,
        /// Only entries at or before this moment (same forms as --since)
        #[arg(long, value_name = "WHEN", value_parser = parse_moment)]
        until: Option<Moment>,
        /// Start before this id, towards newer entries (the first id of the page after)
        #[arg(long, value_name = "ID", conflicts_with = "after")]
        before: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
}

/// Runs one `audit-logs` subcommand.
pub(super) async fn run(
    client: &Client,
    command: AuditLogsCommand,
    format: Format,
) -> Result<(), CliError> {
    let AuditLogsCommand::List {
        event_types,
        actor_ids,
        actor_emails,
        resource_ids,
        project_ids,
        tenant_only,
        since,
        until,
        before,
        page,
    } = command;
    if let (Some(since), Some(until)) = (since, until)
        && since.0 > until.0
    {
        return Err(CliError::Usage(
            "--since is later than --until: no entry can match".to_owned(),
        ));
    }
    // With --before the pages run towards newer entries (list-audit-logs' `before`).
    let backward = before.is_some();
    let params = ListAuditLogsParams {
        effective_at: EffectiveAt {
            gte: since.map(|moment| moment.0),
            lte: until.map(|moment| moment.0),
            ..EffectiveAt::default()
        },
        event_types,
        project_ids,
        actor_ids,
        actor_emails,
        resource_ids,
        tenant_only: tenant_only.then_some(true),
        limit: page.limit,
        after: page.after,
        before,
    };
    let first = client
        .admin()
        .organization()
        .audit_logs()
        .list(&params)
        .await?;
    let render = |items: &[AuditLog]| audit_logs(items, color_stdout());
    if backward {
        show_list_before(first.into_pages(), page.all, format, "entries", render).await
    } else {
        show_list(first.into_pages(), page.all, format, "entries", render).await
    }
}

/// What an entry is about: the `id` of its payload, when it has one.
fn subject(entry: &AuditLog) -> String {
    entry
        .payload
        .get(&entry.kind)
        .and_then(|payload| payload.get("id"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("-")
        .to_owned()
}

/// The audit log table: WHEN, TYPE, ACTOR, PROJECT, RESOURCE, ID.
fn audit_logs(entries: &[AuditLog], color: bool) -> String {
    if entries.is_empty() {
        return "No audit log entries.".to_owned();
    }
    let mut table = table(
        &["WHEN", "TYPE", "ACTOR", "PROJECT", "RESOURCE", "ID"],
        color,
    );
    for entry in entries {
        table.add_row([
            date_time(entry.effective_at),
            entry.kind.clone(),
            entry
                .actor
                .as_ref()
                .map_or_else(|| "operator".to_owned(), |actor| actor.api_key.id.clone()),
            entry
                .project
                .as_ref()
                .map_or_else(|| "-".to_owned(), |project| project.id.clone()),
            subject(entry),
            entry.id.clone(),
        ]);
    }
    finish(&table)
}
