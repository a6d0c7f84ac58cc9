use orgcerts_api::{
    Certificate, DeleteCertificateResponse, ModifyCertificateRequest, OrganizationCertificate,
    OrganizationCertificateActivationResponse, OrganizationCertificateDeactivationResponse,
    OrganizationProjectCertificate, OrganizationProjectCertificateActivationResponse,
    OrganizationProjectCertificateDeactivationResponse, ToggleCertificatesRequest,
    UploadCertificateRequest,
};
use reqwest::Method;

use crate::client::require_id;
use crate::page::PageRequest;
use crate::params::{Query, RetrieveCertificateParams};
use crate::{CertificateInclude, Client, CursorPage, ListParams, Response, Result};

/// The organization's certificates: `client.admin().organization().certificates()`.
#[derive(Debug, Clone, Copy)]
pub struct Certificates<'c> {
    client: &'c Client,
}

fn toggle_request<I, S>(certificate_ids: I) -> ToggleCertificatesRequest
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    ToggleCertificatesRequest {
        certificate_ids: certificate_ids.into_iter().map(Into::into).collect(),
    }
}

impl<'c> Certificates<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `GET /organization/certificates` (`listOrganizationCertificates`): one page of the
    /// organization's certificates, each with its organization-level `active` flag.
    pub async fn list(&self, params: &ListParams) -> Result<CursorPage<OrganizationCertificate>> {
        PageRequest::new(
            self.client,
            &["organization", "certificates"],
            params.to_query()?,
        )
        .fetch()
        .await
    }

    /// `POST /organization/certificates` (`uploadCertificate`): uploads a trust anchor, with
    /// its attribute filter when the request has one. It is not activated.
    pub async fn create(
        &self,
        request: &UploadCertificateRequest,
    ) -> Result<Response<Certificate>> {
        self.client
            .call(
                Method::POST,
                &["organization", "certificates"],
                &Query::default(),
                Some(request),
            )
            .await
    }

    /// `GET /organization/certificates/{certificate_id}` (`getCertificate`); with
    /// [`CertificateInclude::Content`] the answer carries the PEM, with
    /// [`CertificateInclude::AttributeFilter`] the attribute filter (`Some(None)` when it has
    /// none).
    pub async fn retrieve(
        &self,
        certificate_id: &str,
        include: &[CertificateInclude],
    ) -> Result<Response<Certificate>> {
        let id = require_id("certificate_id", certificate_id)?;
        let query = Query::new(&RetrieveCertificateParams { include }, None, None)?;
        self.client
            .call(
                Method::GET,
                &["organization", "certificates", id],
                &query,
                None::<&()>,
            )
            .await
    }

    /// `POST /organization/certificates/{certificate_id}` (`modifyCertificate`): renames, sets
    /// or clears the attribute filter.
    pub async fn update(
        &self,
        certificate_id: &str,
        request: &ModifyCertificateRequest,
    ) -> Result<Response<Certificate>> {
        let id = require_id("certificate_id", certificate_id)?;
        self.client
            .call(
                Method::POST,
                &["organization", "certificates", id],
                &Query::default(),
                Some(request),
            )
            .await
    }

    /// `POST /organization/certificates/{certificate_id}` (`modifyCertificate`) with only
    /// `attribute_filter`: `Some` sets the filter (a CEL expression the API compiles; an invalid
    /// one is a 400 `mtls_cel_policy_invalid` that says where), `None` or an empty string clears
    /// it. The name is left as it is.
    pub async fn set_attribute_filter(
        &self,
        certificate_id: &str,
        filter: Option<&str>,
    ) -> Result<Response<Certificate>> {
        let request = ModifyCertificateRequest {
            name: None,
            attribute_filter: Some(filter.filter(|filter| !filter.is_empty()).map(Into::into)),
        };
        self.update(certificate_id, &request).await
    }

    /// `DELETE /organization/certificates/{certificate_id}` (`deleteCertificate`); refused while
    /// the certificate is active anywhere.
    pub async fn delete(
        &self,
        certificate_id: &str,
    ) -> Result<Response<DeleteCertificateResponse>> {
        let id = require_id("certificate_id", certificate_id)?;
        self.client
            .call(
                Method::DELETE,
                &["organization", "certificates", id],
                &Query::default(),
                None::<&()>,
            )
            .await
    }

    /// `POST /organization/certificates/activate` (`activateOrganizationCertificates`):
    /// activates 1 to 10 certificates for the whole organization, all or none.
    pub async fn activate<I, S>(
        &self,
        certificate_ids: I,
    ) -> Result<Response<OrganizationCertificateActivationResponse>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.toggle("activate", certificate_ids).await
    }

    /// `POST /organization/certificates/deactivate` (`deactivateOrganizationCertificates`).
    pub async fn deactivate<I, S>(
        &self,
        certificate_ids: I,
    ) -> Result<Response<OrganizationCertificateDeactivationResponse>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.toggle("deactivate", certificate_ids).await
    }

    // Activation and deactivation answer the same shape.
    async fn toggle<I, S>(
        &self,
        action: &str,
        certificate_ids: I,
    ) -> Result<Response<OrganizationCertificateActivationResponse>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let request = toggle_request(certificate_ids);
        self.client
            .call(
                Method::POST,
                &["organization", "certificates", action],
                &Query::default(),
                Some(&request),
            )
            .await
    }
}

/// One project's view of the organization's certificates:
/// `client.admin().organization().projects().certificates(project_id)`.
#[derive(Debug, Clone)]
pub struct ProjectCertificates<'c> {
    client: &'c Client,
    project_id: String,
}

impl<'c> ProjectCertificates<'c> {
    pub(crate) fn new(client: &'c Client, project_id: String) -> Self {
        Self { client, project_id }
    }

    /// `GET /organization/projects/{project_id}/certificates` (`listProjectCertificates`):
    /// every certificate of the organization, `active` at this project's level.
    pub async fn list(
        &self,
        params: &ListParams,
    ) -> Result<CursorPage<OrganizationProjectCertificate>> {
        let project = require_id("project_id", &self.project_id)?;
        PageRequest::new(
            self.client,
            &["organization", "projects", project, "certificates"],
            params.to_query()?,
        )
        .fetch()
        .await
    }

    /// `POST /organization/projects/{project_id}/certificates/activate`
    /// (`activateProjectCertificates`).
    pub async fn activate<I, S>(
        &self,
        certificate_ids: I,
    ) -> Result<Response<OrganizationProjectCertificateActivationResponse>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.toggle("activate", certificate_ids).await
    }

    /// `POST /organization/projects/{project_id}/certificates/deactivate`
    /// (`deactivateProjectCertificates`).
    pub async fn deactivate<I, S>(
        &self,
        certificate_ids: I,
    ) -> Result<Response<OrganizationProjectCertificateDeactivationResponse>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.toggle("deactivate", certificate_ids).await
    }

    async fn toggle<I, S>(
        &self,
        action: &str,
        certificate_ids: I,
    ) -> Result<Response<OrganizationProjectCertificateActivationResponse>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let project = require_id("project_id", &self.project_id)?;
        let request = toggle_request(certificate_ids);
        self.client
            .call(
                Method::POST,
                &["organization", "projects", project, "certificates", action],
                &Query::default(),
                Some(&request),
            )
            .await
    }
}
