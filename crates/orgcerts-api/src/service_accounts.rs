//! Wire types of `spec/openai-project-service-accounts.openapi.yaml`: a project's service
//! accounts and its API keys.

use serde::{Deserialize, Deserializer, Serialize};

use crate::ListResponse;
use crate::certificates::object_tag;

object_tag!(
    /// `organization.project.service_account`
    ProjectServiceAccountObject = "organization.project.service_account"
);
object_tag!(
    /// `organization.project.service_account.deleted`
    ProjectServiceAccountDeletedObject = "organization.project.service_account.deleted"
);
object_tag!(
    /// `organization.project.service_account.api_key`
    ProjectServiceAccountApiKeyObject = "organization.project.service_account.api_key"
);
object_tag!(
    /// `organization.project.api_key`
    ProjectApiKeyObject = "organization.project.api_key"
);
object_tag!(
    /// `organization.project.api_key.deleted`
    ProjectApiKeyDeletedObject = "organization.project.api_key.deleted"
);

/// A service account's `role`: `owner`, `member`, or `none` (created with
/// `create_service_account_only`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectServiceAccountRole {
    Owner,
    Member,
    None,
}

/// The roles `UpdateProjectServiceAccountBody` may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateProjectServiceAccountRole {
    Member,
    Owner,
}

/// The `ProjectServiceAccount` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectServiceAccount {
    pub object: ProjectServiceAccountObject,
    pub id: String,
    pub name: String,
    pub role: ProjectServiceAccountRole,
    pub created_at: u64,
}

/// The `ProjectServiceAccountListResponse` schema.
pub type ProjectServiceAccountListResponse = ListResponse<ProjectServiceAccount>;

/// The `ProjectServiceAccountCreateRequest` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectServiceAccountCreateRequest {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_service_account_only: Option<bool>,
}

/// The `ProjectServiceAccountApiKey` schema: a new key, with its `value` shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectServiceAccountApiKey {
    pub object: ProjectServiceAccountApiKeyObject,
    pub value: String,
    pub name: String,
    pub created_at: u64,
    pub id: String,
}

/// The `ServiceAccountApiKeyBody` schema (the answer of `CreateanAPIkeyforaserviceaccount`),
/// the same fields as [`ProjectServiceAccountApiKey`].
pub type ServiceAccountApiKeyBody = ProjectServiceAccountApiKey;

/// The `ProjectServiceAccountCreateResponse` schema: the account and, unless it was created
/// alone, its first key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectServiceAccountCreateResponse {
    pub object: ProjectServiceAccountObject,
    pub id: String,
    pub name: String,
    pub role: ProjectServiceAccountRole,
    pub created_at: u64,
    pub api_key: Option<ProjectServiceAccountApiKey>,
}

/// The `ProjectServiceAccountDeleteResponse` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectServiceAccountDeleteResponse {
    pub object: ProjectServiceAccountDeletedObject,
    pub id: String,
    pub deleted: bool,
}

/// An optional field the spec does not make nullable: it may be left out, but `null` is a value
/// of the wrong type (a 400), not the same as leaving it out.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// The `UpdateProjectServiceAccountBody` schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateProjectServiceAccountBody {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub role: Option<UpdateProjectServiceAccountRole>,
}

/// The `CreateProjectServiceAccountApiKeyBody` schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateProjectServiceAccountApiKeyBody {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub scopes: Option<Vec<String>>,
}

/// A project API key's `owner_project_access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectApiKeyOwnerAccess {
    Active,
    Inactive,
}

/// A project API key owner's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectApiKeyOwnerType {
    User,
    ServiceAccount,
}

/// The `ProjectApiKeyOwnerUser` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectApiKeyOwnerUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub created_at: u64,
    pub role: String,
}

/// The `ProjectApiKeyOwnerServiceAccount` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectApiKeyOwnerServiceAccount {
    pub id: String,
    pub name: String,
    pub created_at: u64,
    pub role: String,
}

/// The `owner` of a `ProjectApiKey`: a user or a service account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectApiKeyOwner {
    #[serde(rename = "type")]
    pub kind: ProjectApiKeyOwnerType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<ProjectApiKeyOwnerUser>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<ProjectApiKeyOwnerServiceAccount>,
}

/// The `ProjectApiKey` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectApiKey {
    pub object: ProjectApiKeyObject,
    pub redacted_value: String,
    pub name: String,
    pub created_at: u64,
    pub last_used_at: Option<u64>,
    pub id: String,
    pub owner_project_access: ProjectApiKeyOwnerAccess,
    pub owner: ProjectApiKeyOwner,
}

/// The `ProjectApiKeyListResponse` schema.
pub type ProjectApiKeyListResponse = ListResponse<ProjectApiKey>;

/// The `ProjectApiKeyDeleteResponse` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectApiKeyDeleteResponse {
    pub object: ProjectApiKeyDeletedObject,
    pub id: String,
    pub deleted: bool,
}
