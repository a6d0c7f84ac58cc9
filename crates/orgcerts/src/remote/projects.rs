use orgcerts_client::types::{ProjectCreateRequest, ProjectUpdateRequest};
use orgcerts_client::{Client, ListProjectsParams};

use super::output::{Format, color_stdout};
use super::render;
use super::{CliError, ProjectsCommand, show, show_list};

/// Runs one `projects` subcommand.
pub(super) async fn run(
    client: &Client,
    command: ProjectsCommand,
    format: Format,
) -> Result<(), CliError> {
    let projects = client.admin().organization().projects();
    match command {
        ProjectsCommand::List {
            include_archived,
            page,
        } => {
            let params = ListProjectsParams {
                after: page.after,
                limit: page.limit,
                include_archived: include_archived.then_some(true),
            };
            let first = projects.list(&params).await?;
            show_list(first.into_pages(), page.all, format, "projects", |items| {
                render::projects(items, color_stdout())
            })
            .await
        }
        ProjectsCommand::Create { name } => {
            let request = ProjectCreateRequest {
                name,
                residency: None,
                external_key_id: None,
            };
            show(format, &projects.create(&request).await?, render::project)
        }
        ProjectsCommand::Get { id } => {
            show(format, &projects.retrieve(&id).await?, render::project)
        }
        ProjectsCommand::Rename { id, name } => {
            let request = ProjectUpdateRequest {
                name: Some(name),
                external_key_id: None,
            };
            show(
                format,
                &projects.update(&id, &request).await?,
                render::project,
            )
        }
        ProjectsCommand::Archive { id } => {
            show(format, &projects.archive(&id).await?, render::project)
        }
        ProjectsCommand::ServiceAccounts(command) => {
            super::service_accounts::run_service_accounts(client, command, format).await
        }
        ProjectsCommand::ApiKeys(command) => {
            super::service_accounts::run_api_keys(client, command, format).await
        }
    }
}
