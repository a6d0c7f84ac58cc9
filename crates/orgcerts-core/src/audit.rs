//! The audit log: one entry per change, written by the store in the same transaction as the
//! change itself (`openai-audit-logs.openapi.yaml`, `AuditLog`).
//!
//! The entries are built here, by pure functions of the records the store has in hand, so that
//! every adapter records exactly the same payloads. Idempotent repeats (activating an active
//! certificate, archiving an archived project) are recorded like any other successful request,
//! as OpenAI records the request; refused changes record nothing.

use serde_json::{Map, Value, json};

use crate::anchor::canonical_pem;
use crate::ids::{AdminKeyId, AuditLogId, OrganizationId, ProjectId};
use crate::model::{Actor, AdminKey, CertificateRecord, ProjectRecord, ProjectUpdate};
use crate::page::DEFAULT_LIMIT;

mod service_accounts;

pub use service_accounts::{
    service_account_created, service_account_deleted, service_account_key_created,
    service_account_key_deleted, service_account_updated,
};

/// The event types orgcerts records (a subset of `AuditLogEventType`).
pub const EVENT_TYPES: [&str; 13] = [
    "api_key.created",
    "api_key.deleted",
    "certificate.created",
    "certificate.updated",
    "certificate.deleted",
    "certificates.activated",
    "certificates.deactivated",
    "project.created",
    "project.updated",
    "project.archived",
    "service_account.created",
    "service_account.updated",
    "service_account.deleted",
];

/// Every `AuditLogEventType` of the spec, in its order: the values `event_types[]` accepts.
pub const SPEC_EVENT_TYPES: &[&str] = &[
    "api_key.created",
    "api_key.updated",
    "api_key.deleted",
    "certificate.created",
    "certificate.updated",
    "certificate.deleted",
    "certificates.activated",
    "certificates.deactivated",
    "checkpoint.permission.created",
    "checkpoint.permission.deleted",
    "external_key.registered",
    "external_key.removed",
    "group.created",
    "group.updated",
    "group.deleted",
    "invite.sent",
    "invite.accepted",
    "invite.deleted",
    "ip_allowlist.created",
    "ip_allowlist.updated",
    "ip_allowlist.deleted",
    "ip_allowlist.config.activated",
    "ip_allowlist.config.deactivated",
    "login.succeeded",
    "login.failed",
    "logout.succeeded",
    "logout.failed",
    "organization.updated",
    "project.created",
    "project.updated",
    "project.archived",
    "project.deleted",
    "rate_limit.updated",
    "rate_limit.deleted",
    "resource.deleted",
    "tunnel.created",
    "tunnel.updated",
    "tunnel.deleted",
    "workload_identity_provider.created",
    "workload_identity_provider.updated",
    "workload_identity_provider.deleted",
    "workload_identity_provider_mapping.created",
    "workload_identity_provider_mapping.updated",
    "workload_identity_provider_mapping.deleted",
    "role.created",
    "role.updated",
    "role.deleted",
    "role.assignment.created",
    "role.assignment.deleted",
    "role.bound_to_resource",
    "role.unbound_from_resource",
    "scim.enabled",
    "scim.disabled",
    "service_account.created",
    "service_account.updated",
    "service_account.deleted",
    "user.added",
    "user.updated",
    "user.deleted",
    "tenant.metadata.updated",
    "tenant.microsoft_entra_mapping.upserted",
    "tenant.microsoft_entra_mapping.deleted",
    "tenant.workload_identity.provider.created",
    "tenant.workload_identity.provider.updated",
    "tenant.workload_identity.provider.archived",
    "tenant.workload_identity.mapping.created",
    "tenant.workload_identity.mapping.updated",
    "tenant.workload_identity.mapping.archived",
    "tenant.workload_identity.binding.created",
    "tenant.workload_identity.principal.provisioned",
    "tenant.workload_identity.access_token.issued",
    "tenant.admin_api_key.created",
    "tenant.admin_api_key.updated",
    "tenant.admin_api_key.deleted",
    "tenant.project_api_key.created",
    "tenant.chatgpt_access_token.revoked",
    "tenant.migration.completed",
    "tenant.sso.migrated",
    "tenant.domains.migrated",
    "tenant.sso_connection.created",
    "tenant.sso_connection.updated",
    "tenant.sso_connection.deleted",
    "tenant.sso_connection.setup.started",
    "tenant.policy.created",
    "tenant.policy.updated",
    "tenant.policy.deleted",
    "tenant.policy.attached",
    "tenant.policy.detached",
    "tenant.principal_authentication_policy.resolved",
    "tenant.scim.setup.started",
    "tenant.scim.deletion.requested",
    "tenant.scim.directory.created",
    "tenant.product_access_policy.updated",
    "tenant.resource_share_grant.created",
    "tenant.resource_share_grant.updated",
    "tenant.resource_share_grant.accepted",
    "tenant.resource_share_grant.declined",
    "tenant.resource_share_grant.revoked",
    "tenant.resource_share_grant.deleted",
    "tenant.service_account.updated",
    "tenant.service_account.deleted",
    "tenant.service_account.token.revoked",
    "tenant.billing.overage_limit.updated",
    "tenant.billing.alerts.updated",
    "tenant.billing.info.updated",
    "tenant.usage_limit.workspace.updated",
    "tenant.usage_limit.group.updated",
    "tenant.usage_limit.user.updated",
    "tenant.usage_limit.increase_request.updated",
    "tenant.usage_limit.increase_request.resolved",
    "tenant.group.created",
    "tenant.group.updated",
    "tenant.group.deleted",
    "tenant.group.member.added",
    "tenant.group.member.removed",
    "tenant.migration_rollout.status.updated",
    "tenant.migration_rollout.tier.updated",
    "tenant.role.metadata.updated",
    "tenant.custom_role.created",
    "tenant.custom_role.updated",
    "tenant.custom_role.deleted",
    "tenant.role_assignment.created",
    "tenant.role_assignment.deleted",
    "tenant.resource_role_assignment.created",
    "tenant.resource_role_assignment.deleted",
    "tenant.resource_access.updated",
    "tenant.resource_access.deleted",
    "tenant.ads_account.onboarding.redemption",
    "tenant.session_policy.created",
    "tenant.session_policy.updated",
    "tenant.session_policy.deleted",
    "tenant.session_revocation.started",
    "tenant.third_party_app_policy.updated",
    "tenant.user.added",
    "tenant.user.updated",
    "tenant.user.removed",
    "tenant.user.looked_up",
    "tenant.user.invited",
    "tenant.membership.revoked",
    "tenant.api_organization_invite.upserted",
    "tenant.api_organization_invite.deleted",
    "tenant.chatgpt_workspace_invite.upserted",
    "tenant.membership.accepted",
    "tenant.membership.declined",
    "tenant.workspace_invite_email_settings.updated",
];

/// One audit log entry, as stored and listed.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: AuditLogId,
    pub organization_id: OrganizationId,
    /// One of [`EVENT_TYPES`].
    pub event_type: String,
    pub effective_at: i64,
    /// The admin key that made the change; `None` for the operator's command line.
    pub actor_key_id: Option<AdminKeyId>,
    /// The top-level `project` (`id`, `name` at the time) of project-scoped events.
    pub project: Option<(ProjectId, String)>,
    /// The ids the event touched, for `resource_ids[]`.
    pub resource_ids: Vec<String>,
    /// The object under the property named after `event_type`.
    pub payload: Value,
}

fn entry(
    org: &OrganizationId,
    actor: &Actor,
    event_type: &str,
    project: Option<(ProjectId, String)>,
    resource_ids: Vec<String>,
    payload: Value,
) -> AuditEntry {
    AuditEntry {
        id: AuditLogId::generate(),
        organization_id: org.clone(),
        event_type: event_type.to_owned(),
        effective_at: actor.at,
        actor_key_id: actor.key_id.clone(),
        project,
        resource_ids,
        payload,
    }
}

/// `{"id", "name"}`, without `name` when the certificate has none.
fn id_and_name(cert: &CertificateRecord) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("id".into(), json!(cert.id.as_str()));
    if let Some(name) = &cert.name {
        object.insert("name".into(), json!(name));
    }
    object
}

/// `certificate.created`: `{"id", "name"}`.
pub fn certificate_created(
    org: &OrganizationId,
    actor: &Actor,
    cert: &CertificateRecord,
) -> AuditEntry {
    let payload = Value::Object(id_and_name(cert));
    let ids = vec![cert.id.to_string()];
    entry(org, actor, "certificate.created", None, ids, payload)
}

/// `certificate.updated`: `{"id", "name"}` with the name as it now is (the schema has no
/// property for the attribute filter: a filter change alone records the unchanged name).
pub fn certificate_updated(
    org: &OrganizationId,
    actor: &Actor,
    cert: &CertificateRecord,
) -> AuditEntry {
    let payload = Value::Object(id_and_name(cert));
    let ids = vec![cert.id.to_string()];
    entry(org, actor, "certificate.updated", None, ids, payload)
}

/// `certificate.deleted`: `{"id", "name", "certificate"}`, the last being the deleted anchor as
/// canonical PEM (the store reads its DER before dropping it).
pub fn certificate_deleted(
    org: &OrganizationId,
    actor: &Actor,
    cert: &CertificateRecord,
) -> AuditEntry {
    let mut object = id_and_name(cert);
    if let Some(der) = &cert.der {
        object.insert("certificate".into(), json!(canonical_pem(der)));
    }
    let ids = vec![cert.id.to_string()];
    entry(
        org,
        actor,
        "certificate.deleted",
        None,
        ids,
        Value::Object(object),
    )
}

/// `certificates.activated` / `certificates.deactivated`: `{"certificates": [{"id", "name"}]}`,
/// with the top-level `project` at project level.
pub fn certificates_toggled(
    org: &OrganizationId,
    actor: &Actor,
    project: Option<&ProjectRecord>,
    certs: &[CertificateRecord],
    active: bool,
) -> AuditEntry {
    let event_type = if active {
        "certificates.activated"
    } else {
        "certificates.deactivated"
    };
    let list: Vec<Value> = certs
        .iter()
        .map(|c| Value::Object(id_and_name(c)))
        .collect();
    let ids = certs.iter().map(|c| c.id.to_string()).collect();
    let project = project.map(|p| (p.id.clone(), p.name.clone()));
    entry(
        org,
        actor,
        event_type,
        project,
        ids,
        json!({ "certificates": list }),
    )
}

fn project_entry(
    org: &OrganizationId,
    actor: &Actor,
    event_type: &str,
    project: &ProjectRecord,
    payload: Value,
) -> AuditEntry {
    let scope = Some((project.id.clone(), project.name.clone()));
    let ids = vec![project.id.to_string()];
    entry(org, actor, event_type, scope, ids, payload)
}

/// `project.created`: `{"id", "data": {"name", "title"}}` (a project's title is its name).
pub fn project_created(org: &OrganizationId, actor: &Actor, project: &ProjectRecord) -> AuditEntry {
    let payload = json!({
        "id": project.id.as_str(),
        "data": { "name": project.name, "title": project.name },
    });
    project_entry(org, actor, "project.created", project, payload)
}

/// `project.updated`: `{"id", "changes_requested": {"title"}}`; the schema has no property for
/// `external_key_id`, so a change of it alone records empty `changes_requested`.
pub fn project_updated(
    org: &OrganizationId,
    actor: &Actor,
    project: &ProjectRecord,
    update: &ProjectUpdate,
) -> AuditEntry {
    let mut changes = Map::new();
    if let Some(name) = &update.name {
        changes.insert("title".into(), json!(name));
    }
    let payload = json!({ "id": project.id.as_str(), "changes_requested": changes });
    project_entry(org, actor, "project.updated", project, payload)
}

/// `project.archived`: `{"id"}`.
pub fn project_archived(
    org: &OrganizationId,
    actor: &Actor,
    project: &ProjectRecord,
) -> AuditEntry {
    let payload = json!({ "id": project.id.as_str() });
    project_entry(org, actor, "project.archived", project, payload)
}

/// `api_key.created` for an admin key: `{"id"}` (the schema's `data.scopes` describes project
/// keys; admin keys have no scopes, so it is left out).
pub fn admin_key_created(actor: &Actor, key: &AdminKey) -> AuditEntry {
    let payload = json!({ "id": key.id.as_str() });
    let ids = vec![key.id.to_string()];
    entry(
        &key.organization_id,
        actor,
        "api_key.created",
        None,
        ids,
        payload,
    )
}

/// `api_key.deleted`: `{"id"}`.
pub fn admin_key_deleted(org: &OrganizationId, actor: &Actor, key: &AdminKeyId) -> AuditEntry {
    let payload = json!({ "id": key.as_str() });
    entry(
        org,
        actor,
        "api_key.deleted",
        None,
        vec![key.to_string()],
        payload,
    )
}

/// A bound on `effective_at`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub gt: Option<i64>,
    pub gte: Option<i64>,
    pub lt: Option<i64>,
    pub lte: Option<i64>,
}

impl TimeRange {
    /// The range as an inclusive `[low, high]` (Unix seconds are integers).
    pub fn inclusive(&self) -> (i64, i64) {
        let low = [self.gt.map(|v| v.saturating_add(1)), self.gte]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(i64::MIN);
        let high = [self.lt.map(|v| v.saturating_sub(1)), self.lte]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(i64::MAX);
        (low, high)
    }
}

/// Which way a page goes from its cursor. Entries are always listed newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditCursor {
    /// The newest entries.
    Start,
    /// The entries older than this id.
    After(String),
    /// The entries newer than this id (the page just before it).
    Before(String),
    /// The entries older than `after` and newer than `before`, newest first: what an official
    /// SDK asks for when it pages on from a list that began with `before` (it keeps the
    /// request's parameters and adds `after`).
    Between { after: String, before: String },
}

/// The error for a cursor (`after` or `before`, named by `param`) that names no entry of the
/// organization.
pub fn unknown_cursor(id: &str, param: &'static str) -> crate::Error {
    crate::Error::InvalidParameter {
        param,
        message: format!(
            "'{}' names no audit log entry of this organization.",
            crate::echo(id)
        ),
    }
}

impl AuditCursor {
    /// The id the page stays older than (`after`), and the id it stays newer than (`before`).
    pub fn bounds(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Self::Start => (None, None),
            Self::After(after) => (Some(after), None),
            Self::Before(before) => (None, Some(before)),
            Self::Between { after, before } => (Some(after), Some(before)),
        }
    }

    /// Whether the page is read from its older end and then turned: `before` alone means the
    /// entries just newer than it, not the newest ones.
    pub fn reads_upwards(&self) -> bool {
        matches!(self, Self::Before(_))
    }
}

/// A validated `list-audit-logs` request. Empty filter lists do not filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub effective_at: TimeRange,
    pub event_types: Vec<String>,
    pub project_ids: Vec<String>,
    pub actor_ids: Vec<String>,
    pub resource_ids: Vec<String>,
    pub limit: u32,
    pub cursor: AuditCursor,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            effective_at: TimeRange::default(),
            event_types: Vec::new(),
            project_ids: Vec::new(),
            actor_ids: Vec::new(),
            resource_ids: Vec::new(),
            limit: DEFAULT_LIMIT,
            cursor: AuditCursor::Start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ranges_become_inclusive_bounds() {
        let r = TimeRange {
            gt: Some(10),
            gte: Some(5),
            lt: Some(20),
            lte: None,
        };
        assert_eq!(r.inclusive(), (11, 19));
        assert_eq!(TimeRange::default().inclusive(), (i64::MIN, i64::MAX));
    }

    #[test]
    fn project_scoped_toggles_carry_the_project() {
        let org = OrganizationId::generate();
        let actor = Actor::operator(7);
        let project = ProjectRecord {
            id: ProjectId::generate(),
            name: "P".into(),
            created_at: 1,
            archived_at: None,
            external_key_id: None,
            residency: None,
        };
        let e = certificates_toggled(&org, &actor, Some(&project), &[], true);
        assert_eq!(e.event_type, "certificates.activated");
        assert_eq!(e.project, Some((project.id.clone(), "P".into())));
        assert_eq!(e.payload, json!({"certificates": []}));
        assert_eq!(e.effective_at, 7);
    }
}
