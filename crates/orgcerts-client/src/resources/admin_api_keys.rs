use orgcerts_api::{
    AdminApiKey, AdminApiKeyCreateRequest, AdminApiKeyCreateResponse, AdminApiKeyDeleteResponse,
};
use reqwest::Method;

use crate::client::require_id;
use crate::page::PageRequest;
use crate::params::Query;
use crate::{Client, CursorPage, Error, ListParams, Response, Result};

/// The organization's admin API keys: `client.admin().organization().admin_api_keys()`.
#[derive(Debug, Clone, Copy)]
pub struct AdminApiKeys<'c> {
    client: &'c Client,
}

impl<'c> AdminApiKeys<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `GET /organization/admin_api_keys` (`admin-api-keys-list`): one page of the admin keys,
    /// oldest first unless `order` says otherwise (the spec's default is `asc`).
    pub async fn list(&self, params: &ListParams) -> Result<CursorPage<AdminApiKey>> {
        PageRequest::new(
            self.client,
            &["organization", "admin_api_keys"],
            params.to_query()?,
        )
        .fetch()
        .await
    }

    /// `POST /organization/admin_api_keys` (`admin-api-keys-create`): a new admin key, expiring
    /// after `expires_in_seconds` (1..=31536000) or never. The answer's `value` is the secret,
    /// shown this once.
    pub async fn create(
        &self,
        name: impl Into<String>,
        expires_in_seconds: Option<u64>,
    ) -> Result<Response<AdminApiKeyCreateResponse>> {
        let expires_in_seconds = expires_in_seconds
            .map(i64::try_from)
            .transpose()
            .map_err(|_| Error::InvalidInput("`expires_in_seconds` is out of range".to_owned()))?;
        let request = AdminApiKeyCreateRequest {
            name: name.into(),
            expires_in_seconds,
        };
        self.client
            .call(
                Method::POST,
                &["organization", "admin_api_keys"],
                &Query::default(),
                Some(&request),
            )
            .await
    }

    /// `GET /organization/admin_api_keys/{key_id}` (`admin-api-keys-get`); the key without
    /// its secret.
    pub async fn retrieve(&self, key_id: &str) -> Result<Response<AdminApiKey>> {
        let id = require_id("key_id", key_id)?;
        self.client
            .call(
                Method::GET,
                &["organization", "admin_api_keys", id],
                &Query::default(),
                None::<&()>,
            )
            .await
    }

    /// `DELETE /organization/admin_api_keys/{key_id}` (`admin-api-keys-delete`): the key stops
    /// working at once, even the one making this call.
    pub async fn delete(&self, key_id: &str) -> Result<Response<AdminApiKeyDeleteResponse>> {
        let id = require_id("key_id", key_id)?;
        self.client
            .call(
                Method::DELETE,
                &["organization", "admin_api_keys", id],
                &Query::default(),
                None::<&()>,
            )
            .await
    }
}
