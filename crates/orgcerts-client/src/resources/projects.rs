use orgcerts_api::{Project, ProjectCreateRequest, ProjectUpdateRequest};
use reqwest::Method;

use crate::client::require_id;
use crate::page::PageRequest;
use crate::params::Query;
use crate::resources::{ProjectApiKeys, ProjectCertificates, ProjectServiceAccounts};
use crate::{Client, CursorPage, ListProjectsParams, Response, Result};

/// The organization's projects: `client.admin().organization().projects()`.
#[derive(Debug, Clone, Copy)]
pub struct Projects<'c> {
    client: &'c Client,
}

impl<'c> Projects<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// The certificates as seen by one project: list, activate, deactivate.
    pub fn certificates(&self, project_id: impl Into<String>) -> ProjectCertificates<'c> {
        ProjectCertificates::new(self.client, project_id.into())
    }

    /// One project's service accounts: list, create, retrieve, update, delete, create a key.
    pub fn service_accounts(&self, project_id: impl Into<String>) -> ProjectServiceAccounts<'c> {
        ProjectServiceAccounts::new(self.client, project_id.into())
    }

    /// One project's API keys: list, retrieve, delete.
    pub fn api_keys(&self, project_id: impl Into<String>) -> ProjectApiKeys<'c> {
        ProjectApiKeys::new(self.client, project_id.into())
    }

    /// `GET /organization/projects` (`list-projects`): one page of projects.
    pub async fn list(&self, params: &ListProjectsParams) -> Result<CursorPage<Project>> {
        PageRequest::new(
            self.client,
            &["organization", "projects"],
            params.to_query()?,
        )
        .fetch()
        .await
    }

    /// `POST /organization/projects` (`create-project`).
    pub async fn create(&self, request: &ProjectCreateRequest) -> Result<Response<Project>> {
        self.client
            .call(
                Method::POST,
                &["organization", "projects"],
                &Query::default(),
                Some(request),
            )
            .await
    }

    /// `GET /organization/projects/{project_id}` (`retrieve-project`).
    pub async fn retrieve(&self, project_id: &str) -> Result<Response<Project>> {
        let id = require_id("project_id", project_id)?;
        self.client
            .call(
                Method::GET,
                &["organization", "projects", id],
                &Query::default(),
                None::<&()>,
            )
            .await
    }

    /// `POST /organization/projects/{project_id}` (`modify-project`).
    pub async fn update(
        &self,
        project_id: &str,
        request: &ProjectUpdateRequest,
    ) -> Result<Response<Project>> {
        let id = require_id("project_id", project_id)?;
        self.client
            .call(
                Method::POST,
                &["organization", "projects", id],
                &Query::default(),
                Some(request),
            )
            .await
    }

    /// `POST /organization/projects/{project_id}/archive` (`archive-project`). Projects cannot
    /// be deleted; archived ones leave the default list.
    pub async fn archive(&self, project_id: &str) -> Result<Response<Project>> {
        let id = require_id("project_id", project_id)?;
        self.client
            .call(
                Method::POST,
                &["organization", "projects", id, "archive"],
                &Query::default(),
                None::<&()>,
            )
            .await
    }
}
