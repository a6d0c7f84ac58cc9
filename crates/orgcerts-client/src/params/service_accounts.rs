//! Parameters of the service account and project API key lists.

use serde::Serialize;

use super::Query;
use crate::Result;

/// Parameters of `list-project-service-accounts`: oldest first, no `order`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListServiceAccountsParams {
    /// Start after this id (the `last_id` of the previous page).
    #[serde(skip)]
    pub after: Option<String>,
    /// Items per page, 1..=100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl ListServiceAccountsParams {
    /// No parameters: the API's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Start after this id.
    #[must_use]
    pub fn after(mut self, after: impl Into<String>) -> Self {
        self.after = Some(after.into());
        self
    }

    /// Items per page, 1..=100.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    pub(crate) fn to_query(&self) -> Result<Query> {
        Query::new(self, self.after.clone(), None)
    }
}

/// `owner_project_access` of `list-project-api-keys`: which keys to list by whether their
/// owner has access to the project now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OwnerProjectAccess {
    /// Owners with access.
    Active,
    /// Owners without access.
    Inactive,
    /// Every key.
    Any,
}

impl OwnerProjectAccess {
    /// The value as the query string carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Any => "any",
        }
    }
}

/// Parameters of `list-project-api-keys`: oldest first, no `order`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListProjectApiKeysParams {
    /// Start after this id (the `last_id` of the previous page).
    #[serde(skip)]
    pub after: Option<String>,
    /// Items per page, 1..=100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only the keys whose owner has (or has not) access to the project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_project_access: Option<OwnerProjectAccess>,
}

impl ListProjectApiKeysParams {
    /// No parameters: the API's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Start after this id.
    #[must_use]
    pub fn after(mut self, after: impl Into<String>) -> Self {
        self.after = Some(after.into());
        self
    }

    /// Items per page, 1..=100.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Only the keys whose owner has this access.
    #[must_use]
    pub fn owner_project_access(mut self, access: OwnerProjectAccess) -> Self {
        self.owner_project_access = Some(access);
        self
    }

    pub(crate) fn to_query(&self) -> Result<Query> {
        Query::new(self, self.after.clone(), None)
    }
}
