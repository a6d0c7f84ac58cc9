use orgcerts_client::types::{Certificate, ModifyCertificateRequest, UploadCertificateRequest};
use orgcerts_client::{CertificateInclude, Certificates, Client, ListParams, Response};

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
        CertsCommand::Upload { file, name, filter } => {
            // An empty filter is no filter: nothing to send.
            let filter = filter.filter(|filter| !filter.is_empty());
            if file.is_dir() {
                return upload_dir::run(&certificates, &file, name, filter, format).await;
            }
            let request = UploadCertificateRequest {
                certificate: read_pem(&file)?,
                name,
                attribute_filter: filter,
            };
            show(format, &certificates.create(&request).await?, details)
        }
        CertsCommand::Get { id, content } => {
            let certificate = retrieve(&certificates, &id, content).await?;
            if !content || format != Format::Human {
                return show(format, &certificate, |certificate| {
                    // The filter line only when the API answered the field.
                    match &certificate.attribute_filter {
                        Some(filter) => with_filter(&details(certificate), filter.as_deref()),
                        None => details(certificate),
                    }
                });
            }
            match certificate.certificate_details.content.as_deref() {
                Some(pem) => output::print(pem),
                None => Err(CliError::Unexpected(format!(
                    "the API returned no content for {id}"
                ))),
            }
        }
        CertsCommand::SetFilter { id, expr, clear } => {
            let filter = expr.filter(|expr| !clear && !expr.is_empty());
            let updated = certificates
                .set_attribute_filter(&id, filter.as_deref())
                .await?;
            // The answer does not carry the filter; the one sent is what the API saved.
            show(format, &updated, |certificate| {
                with_filter(&details(certificate), filter.as_deref())
            })
        }
        CertsCommand::Rename { id, name } => {
            let request = ModifyCertificateRequest {
                name: Some(name),
                ..ModifyCertificateRequest::default()
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

/// `certs get`: the certificate with its attribute filter (and its PEM with `content`). An API
/// without attribute filters refuses `include[]=attribute_filter` with a 400 naming `include`;
/// the certificate is then asked for again without it.
async fn retrieve(
    certificates: &Certificates<'_>,
    id: &str,
    content: bool,
) -> Result<Response<Certificate>, CliError> {
    let without: &[CertificateInclude] = if content {
        &[CertificateInclude::Content]
    } else {
        &[]
    };
    let with = [without, &[CertificateInclude::AttributeFilter]].concat();
    match certificates.retrieve(id, &with).await {
        Err(error)
            if error.as_api().is_some_and(|api| {
                api.status.as_u16() == 400 && api.param.as_deref() == Some("include")
            }) =>
        {
            Ok(certificates.retrieve(id, without).await?)
        }
        answer => Ok(answer?),
    }
}

/// A certificate's `key  value` lines followed by its attribute filter (`-` for none); the
/// lines of a filter written over several lines stay aligned under its first.
fn with_filter(details: &str, filter: Option<&str>) -> String {
    let filter = filter.map_or_else(
        || "-".to_owned(),
        |filter| filter.lines().collect::<Vec<_>>().join("\n            "),
    );
    format!("{details}\nfilter      {filter}")
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

#[cfg(test)]
mod tests {
    use super::with_filter;

    #[test]
    fn the_filter_line_follows_the_details() {
        let details = "id          cert_x\nname        -".to_owned();
        assert_eq!(
            with_filter(&details, None),
            "id          cert_x\nname        -\nfilter      -"
        );
        assert_eq!(
            with_filter(&details, Some("subject.common_name == \"a\" ||\n  true")),
            "id          cert_x\nname        -\n\
             filter      subject.common_name == \"a\" ||\n              true"
        );
    }
}
