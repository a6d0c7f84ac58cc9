use serde::{Deserialize, Serialize};

use crate::ListResponse;
use crate::certificates::object_tag;

object_tag!(
    /// `organization.project`
    ProjectObject = "organization.project"
);

/// A project's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectStatus {
    Active,
    Archived,
}

/// The `PublicProjectResidency` schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
pub enum PublicProjectResidency {
    GLOBAL,
    US_STORAGE_PROCESSING,
    EU_STORAGE_PROCESSING,
    JP_STORAGE,
    KR_STORAGE,
    CA_STORAGE,
    SG_STORAGE,
    IN_STORAGE,
    AU_STORAGE,
    GB_STORAGE,
    AE_STORAGE,
    AE_STORAGE_PROCESSING,
}

/// The `Project` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: String,
    pub object: ProjectObject,
    pub name: Option<String>,
    pub created_at: u64,
    pub archived_at: Option<u64>,
    pub status: Option<ProjectStatus>,
    #[serde(default)]
    pub external_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residency: Option<PublicProjectResidency>,
}

/// The `ProjectListResponse` schema.
pub type ProjectListResponse = ListResponse<Project>;

/// The `ProjectCreateRequest` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectCreateRequest {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residency: Option<PublicProjectResidency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_key_id: Option<String>,
}

/// The `ProjectUpdateRequest` schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectUpdateRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_key_id: Option<String>,
}
