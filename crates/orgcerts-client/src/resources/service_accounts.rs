use orgcerts_api::{
    CreateProjectServiceAccountApiKeyBody, ProjectApiKey, ProjectApiKeyDeleteResponse,
    ProjectServiceAccount, ProjectServiceAccountCreateRequest, ProjectServiceAccountCreateResponse,
    ProjectServiceAccountDeleteResponse, ServiceAccountApiKeyBody, UpdateProjectServiceAccountBody,
};
use reqwest::Method;

use crate::client::require_id;
use crate::page::PageRequest;
use crate::params::Query;
use crate::{
    Client, CursorPage, ListProjectApiKeysParams, ListServiceAccountsParams, Response, Result,
};

/// A project's service accounts:
/// `client.admin().organization().projects().service_accounts(project_id)`.
#[derive(Debug, Clone)]
pub struct ProjectServiceAccounts<'c> {
    client: &'c Client,
    project_id: String,
}

impl<'c> ProjectServiceAccounts<'c> {
    pub(crate) fn new(client: &'c Client, project_id: String) -> Self {
        Self { client, project_id }
    }

    /// `GET /organization/projects/{project_id}/service_accounts`
    /// (`list-project-service-accounts`): one page, oldest first.
    pub async fn list(
        &self,
        params: &ListServiceAccountsParams,
    ) -> Result<CursorPage<ProjectServiceAccount>> {
        let project = require_id("project_id", &self.project_id)?;
        PageRequest::new(
            self.client,
            &["organization", "projects", project, "service_accounts"],
            params.to_query()?,
        )
        .fetch()
        .await
    }

    /// `POST /organization/projects/{project_id}/service_accounts`
    /// (`create-project-service-account`): the account and, unless
    /// `create_service_account_only`, its first key, whose `value` is shown this once.
    pub async fn create(
        &self,
        request: &ProjectServiceAccountCreateRequest,
    ) -> Result<Response<ProjectServiceAccountCreateResponse>> {
        let project = require_id("project_id", &self.project_id)?;
        self.client
            .call(
                Method::POST,
                &["organization", "projects", project, "service_accounts"],
                &Query::default(),
                Some(request),
            )
            .await
    }

    /// `GET /organization/projects/{project_id}/service_accounts/{service_account_id}`
    /// (`retrieve-project-service-account`).
    pub async fn retrieve(
        &self,
        service_account_id: &str,
    ) -> Result<Response<ProjectServiceAccount>> {
        self.on_account(Method::GET, service_account_id, None::<&()>)
            .await
    }

    /// `POST /organization/projects/{project_id}/service_accounts/{service_account_id}`
    /// (`update-project-service-account`): its name and role.
    pub async fn update(
        &self,
        service_account_id: &str,
        request: &UpdateProjectServiceAccountBody,
    ) -> Result<Response<ProjectServiceAccount>> {
        self.on_account(Method::POST, service_account_id, Some(request))
            .await
    }

    /// `DELETE /organization/projects/{project_id}/service_accounts/{service_account_id}`
    /// (`delete-project-service-account`): the account and its keys.
    pub async fn delete(
        &self,
        service_account_id: &str,
    ) -> Result<Response<ProjectServiceAccountDeleteResponse>> {
        self.on_account(Method::DELETE, service_account_id, None::<&()>)
            .await
    }

    /// `POST .../service_accounts/{service_account_id}/api_keys`
    /// (`CreateanAPIkeyforaserviceaccount`): another key, its `value` shown this once.
    pub async fn create_api_key(
        &self,
        service_account_id: &str,
        request: &CreateProjectServiceAccountApiKeyBody,
    ) -> Result<Response<ServiceAccountApiKeyBody>> {
        let project = require_id("project_id", &self.project_id)?;
        let id = require_id("service_account_id", service_account_id)?;
        self.client
            .call(
                Method::POST,
                &[
                    "organization",
                    "projects",
                    project,
                    "service_accounts",
                    id,
                    "api_keys",
                ],
                &Query::default(),
                Some(request),
            )
            .await
    }

    async fn on_account<B, T>(
        &self,
        method: Method,
        service_account_id: &str,
        body: Option<&B>,
    ) -> Result<Response<T>>
    where
        B: serde::Serialize + Sync,
        T: serde::de::DeserializeOwned,
    {
        let project = require_id("project_id", &self.project_id)?;
        let id = require_id("service_account_id", service_account_id)?;
        self.client
            .call(
                method,
                &["organization", "projects", project, "service_accounts", id],
                &Query::default(),
                body,
            )
            .await
    }
}

/// A project's API keys: `client.admin().organization().projects().api_keys(project_id)`.
#[derive(Debug, Clone)]
pub struct ProjectApiKeys<'c> {
    client: &'c Client,
    project_id: String,
}

impl<'c> ProjectApiKeys<'c> {
    pub(crate) fn new(client: &'c Client, project_id: String) -> Self {
        Self { client, project_id }
    }

    /// `GET /organization/projects/{project_id}/api_keys` (`list-project-api-keys`): one page,
    /// oldest first.
    pub async fn list(
        &self,
        params: &ListProjectApiKeysParams,
    ) -> Result<CursorPage<ProjectApiKey>> {
        let project = require_id("project_id", &self.project_id)?;
        PageRequest::new(
            self.client,
            &["organization", "projects", project, "api_keys"],
            params.to_query()?,
        )
        .fetch()
        .await
    }

    /// `GET /organization/projects/{project_id}/api_keys/{api_key_id}`
    /// (`retrieve-project-api-key`); the key without its secret.
    pub async fn retrieve(&self, api_key_id: &str) -> Result<Response<ProjectApiKey>> {
        self.on_key(Method::GET, api_key_id).await
    }

    /// `DELETE /organization/projects/{project_id}/api_keys/{api_key_id}`
    /// (`delete-project-api-key`): the key stops working at once.
    pub async fn delete(&self, api_key_id: &str) -> Result<Response<ProjectApiKeyDeleteResponse>> {
        self.on_key(Method::DELETE, api_key_id).await
    }

    async fn on_key<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        api_key_id: &str,
    ) -> Result<Response<T>> {
        let project = require_id("project_id", &self.project_id)?;
        let id = require_id("api_key_id", api_key_id)?;
        self.client
            .call(
                method,
                &["organization", "projects", project, "api_keys", id],
                &Query::default(),
                None::<&()>,
            )
            .await
    }
}
