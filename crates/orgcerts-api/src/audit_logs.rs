//! Wire types of `spec/openai-audit-logs.openapi.yaml`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ListResponse;

/// The `AuditLogActorApiKey` schema, as orgcerts fills it: the key's id, and the organization
/// owner it acts for as `user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogActorApiKey {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub user: AuditLogActorUser,
}

/// The `AuditLogActorUser` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogActorUser {
    pub id: String,
}

/// The `AuditLogActor` schema (orgcerts has no sessions: always `api_key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogActor {
    #[serde(rename = "type")]
    pub kind: String,
    pub api_key: AuditLogActorApiKey,
}

/// The top-level `project` of a project-scoped `AuditLog`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogProject {
    pub id: String,
    pub name: String,
}

/// The `AuditLog` schema: the event's payload sits under the property named after `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLog {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub effective_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<AuditLogProject>,
    /// `null` for changes made by the operator's command line (no API key).
    pub actor: Option<AuditLogActor>,
    /// Exactly one entry: `type` → payload.
    #[serde(flatten)]
    pub payload: Map<String, Value>,
}

/// The `ListAuditLogsResponse` schema.
pub type ListAuditLogsResponse = ListResponse<AuditLog>;
