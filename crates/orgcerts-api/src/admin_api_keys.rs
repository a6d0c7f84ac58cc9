//! Wire types of `spec/openai-admin-api-keys.openapi.yaml`.

use serde::{Deserialize, Serialize};

use crate::ListResponse;
use crate::certificates::object_tag;

object_tag!(
    /// `organization.admin_api_key`
    AdminApiKeyObject = "organization.admin_api_key"
);
object_tag!(
    /// `organization.admin_api_key.deleted`
    AdminApiKeyDeletedObject = "organization.admin_api_key.deleted"
);

/// The `owner` of an `AdminApiKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminApiKeyOwner {
    #[serde(rename = "type")]
    pub kind: String,
    pub object: String,
    pub id: String,
    pub name: String,
    pub created_at: u64,
    pub role: String,
}

/// The `AdminApiKey` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminApiKey {
    pub object: AdminApiKeyObject,
    pub id: String,
    pub name: Option<String>,
    pub redacted_value: String,
    pub created_at: u64,
    pub expires_at: Option<u64>,
    pub last_used_at: Option<u64>,
    pub owner: AdminApiKeyOwner,
}

/// The `AdminApiKeyCreateResponse` schema: the key and, this once, its `value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminApiKeyCreateResponse {
    #[serde(flatten)]
    pub key: AdminApiKey,
    pub value: String,
}

/// The body of `admin-api-keys-create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminApiKeyCreateRequest {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
}

/// The response of `admin-api-keys-delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminApiKeyDeleteResponse {
    pub id: String,
    pub object: AdminApiKeyDeletedObject,
    pub deleted: bool,
}

/// The `ApiKeyList` schema.
pub type ApiKeyList = ListResponse<AdminApiKey>;
