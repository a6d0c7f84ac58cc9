use orgcerts_client::types::{Certificate, ModifyCertificateRequest, UploadCertificateRequest};
use orgcerts_client::{CertificateInclude, Client, ListParams};

use super::output::{self, Format, color_stdout};
use super::pem_file::read_pem;
use super::render::{self, AsCertRow, CertRow};
use super::{CertsCommand, CliError, show, show_list, upload_dir};

/// Runs one `certs` subcommand.
pub(super) async fn run(
    client: &Client,
    command: CertsCommand,
    format: Format,
) -> Result<(), CliError> {
    let certificates = client.admin().organization().certificates();
    let details =
        |certificate: &Certificate| render::certificate(certificate, render::now(), color_stdout());
    match command {
        CertsCommand::List {
            project,
            order,
            page,
        } => {
            let params = ListParams {
                after: page.after,
                limit: page.limit,
                order: order.map(Into::into),
            };
            list(client, project, &params, page.all, format).await
        }
        CertsCommand::Upload { file, name } if file.is_dir() => {
            upload_dir::run(&certificates, &file, name, format).await
        }
        CertsCommand::Upload { file, name } => {
            let request = UploadCertificateRequest {
                certificate: read_pem(&file)?,
                name,
                attribute_filter: None,
            };
            show(format, &certificates.create(&request).await?, details)
        }
        CertsCommand::Get { id, content } => {
            let include: &[CertificateInclude] = if content {
                &[CertificateInclude::Content]
            } else {
                &[]
            };
            let certificate = certificates.retrieve(&id, include).await?;
            if !content || format != Format::Human {
                return show(format, &certificate, details);
            }
            match certificate.certificate_details.content.as_deref() {
                Some(pem) => output::print(pem),
                None => Err(CliError::Unexpected(format!(
                    "the API returned no content for {id}"
                ))),
            }
        }
        CertsCommand::Rename { id, name } => {
            let request = ModifyCertificateRequest {
                name: Some(name),
                attribute_filter: None,
            };
            show(format, &certificates.update(&id, &request).await?, details)
        }
        CertsCommand::Delete { id } => {
            let deleted = certificates.delete(&id).await?;
            show(format, &deleted, |deleted| {
                format!("Deleted {}", deleted.id)
            })
        }
        CertsCommand::Activate { ids, project } => toggle(client, ids, project, true, format).await,
        CertsCommand::Deactivate { ids, project } => {
            toggle(client, ids, project, false, format).await
        }
    }
}

/// The certificate table of `items`.
fn table<T: AsCertRow>(items: &[T]) -> String {
    let rows: Vec<CertRow<'_>> = items.iter().map(AsCertRow::row).collect();
    render::certificates(&rows, render::now(), color_stdout())
}

/// `certs list`, for the organization or one project.
async fn list(
    client: &Client,
    project: Option<String>,
    params: &ListParams,
    all: bool,
    format: Format,
) -> Result<(), CliError> {
    let organization = client.admin().organization();
    match project {
        None => {
            let first = organization.certificates().list(params).await?;
            show_list(first.into_pages(), all, format, "certificates", table).await
        }
        Some(project) => {
            let first = organization
                .projects()
                .certificates(project)
                .list(params)
                .await?;
            show_list(first.into_pages(), all, format, "certificates", table).await
        }
    }
}

/// `certs activate` / `certs deactivate`, for the organization or one project.
async fn toggle(
    client: &Client,
    ids: Vec<String>,
    project: Option<String>,
    activate: bool,
    format: Format,
) -> Result<(), CliError> {
    let organization = client.admin().organization();
    match (project, activate) {
        (None, true) => {
            let certificates = organization.certificates();
            show(format, &certificates.activate(ids).await?, |r| {
                table(&r.data)
            })
        }
        (None, false) => {
            let certificates = organization.certificates();
            show(format, &certificates.deactivate(ids).await?, |r| {
                table(&r.data)
            })
        }
        (Some(project), true) => {
            let scoped = organization.projects().certificates(project);
            show(format, &scoped.activate(ids).await?, |r| table(&r.data))
        }
        (Some(project), false) => {
            let scoped = organization.projects().certificates(project);
            show(format, &scoped.deactivate(ids).await?, |r| table(&r.data))
        }
    }
}
