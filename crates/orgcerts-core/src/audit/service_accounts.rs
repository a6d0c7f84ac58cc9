//! Entries of the service accounts and their keys: project-scoped, with the top-level
//! `project` of the account's project (`AuditLog.project`).

use serde_json::{Map, Value, json};

use super::{AuditEntry, entry};
use crate::ids::{OrganizationId, ProjectApiKeyId, ProjectId, ServiceAccountId};
use crate::model::{
    Actor, ProjectRecord, ServiceAccountKey, ServiceAccountRecord, ServiceAccountUpdate,
};

fn scope(project: &ProjectRecord) -> (ProjectId, String) {
    (project.id.clone(), project.name.clone())
}

/// `service_account.created`: `{"id", "data": {"role"}}`.
pub fn service_account_created(
    actor: &Actor,
    project: &ProjectRecord,
    account: &ServiceAccountRecord,
) -> AuditEntry {
    let payload = json!({
        "id": account.id.as_str(),
        "data": { "role": account.role.as_str() },
    });
    let ids = vec![account.id.to_string()];
    entry(
        &account.organization_id,
        actor,
        "service_account.created",
        Some(scope(project)),
        ids,
        payload,
    )
}

/// `service_account.updated`: `{"id", "changes_requested": {"role"}}`; the schema has no
/// property for the name, so a rename alone records empty `changes_requested` (as
/// `project.updated` does for `external_key_id`).
pub fn service_account_updated(
    actor: &Actor,
    project: &ProjectRecord,
    account: &ServiceAccountRecord,
    update: &ServiceAccountUpdate,
) -> AuditEntry {
    let mut changes = Map::new();
    if let Some(role) = update.role {
        changes.insert("role".into(), json!(role.as_str()));
    }
    let payload = json!({ "id": account.id.as_str(), "changes_requested": changes });
    let ids = vec![account.id.to_string()];
    entry(
        &account.organization_id,
        actor,
        "service_account.updated",
        Some(scope(project)),
        ids,
        payload,
    )
}

/// `service_account.deleted`: `{"id"}`. The keys deleted with the account are among its
/// `resource_ids`, so that filtering the log by a key's id finds its end too.
pub fn service_account_deleted(
    actor: &Actor,
    project: &ProjectRecord,
    account: &ServiceAccountRecord,
    deleted_keys: &[String],
) -> AuditEntry {
    let payload = json!({ "id": account.id.as_str() });
    let mut ids = vec![account.id.to_string()];
    ids.extend(deleted_keys.iter().cloned());
    entry(
        &account.organization_id,
        actor,
        "service_account.deleted",
        Some(scope(project)),
        ids,
        payload,
    )
}

/// `api_key.created` for a service account's key: `{"id", "data": {"scopes": []}}` (the keys
/// carry no scopes).
pub fn service_account_key_created(
    actor: &Actor,
    project: &ProjectRecord,
    key: &ServiceAccountKey,
) -> AuditEntry {
    let payload = json!({ "id": key.id.as_str(), "data": { "scopes": Value::Array(Vec::new()) } });
    let ids = vec![key.id.to_string(), key.service_account_id.to_string()];
    entry(
        &key.organization_id,
        actor,
        "api_key.created",
        Some(scope(project)),
        ids,
        payload,
    )
}

/// `api_key.deleted` for key `key` of service account `account`: `{"id"}`.
pub fn service_account_key_deleted(
    org: &OrganizationId,
    actor: &Actor,
    project: &ProjectRecord,
    key: &ProjectApiKeyId,
    account: &ServiceAccountId,
) -> AuditEntry {
    let payload = json!({ "id": key.as_str() });
    let ids = vec![key.to_string(), account.to_string()];
    entry(
        org,
        actor,
        "api_key.deleted",
        Some(scope(project)),
        ids,
        payload,
    )
}
