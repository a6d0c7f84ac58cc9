//! From domain records to wire types.

use orgcerts_api as api;
use orgcerts_core::anchor::canonical_pem;
use orgcerts_core::audit::AuditEntry;
use orgcerts_core::model::{
    AdminKey, CertificateRecord, Organization, ProjectRecord, ScopedCertificate,
};
use orgcerts_core::page::Page;

/// Unix seconds as the wire's non-negative integer (async-openai reads them as `u64`).
fn unix(secs: i64) -> u64 {
    u64::try_from(secs).unwrap_or(0)
}

fn details(cert: &CertificateRecord) -> api::CertificateDetails {
    api::CertificateDetails {
        valid_at: unix(cert.valid_at),
        expires_at: unix(cert.expires_at),
        content: cert.der.as_deref().map(canonical_pem),
    }
}

/// The `Certificate` object of upload, get and modify.
pub fn certificate(cert: &CertificateRecord) -> api::Certificate {
    api::Certificate {
        object: api::CertificateObject::Certificate,
        id: cert.id.as_str().to_owned(),
        name: cert.name.clone(),
        created_at: unix(cert.created_at),
        certificate_details: details(cert),
    }
}

/// An `OrganizationCertificate`: listed or toggled at organization level. Takes the record
/// by value, so that its id and name move into the wire object instead of being copied.
pub fn organization_certificate(scoped: ScopedCertificate) -> api::OrganizationCertificate {
    let cert = scoped.certificate;
    api::OrganizationCertificate {
        object: api::OrganizationCertificateObject::Value,
        certificate_details: details(&cert),
        created_at: unix(cert.created_at),
        id: cert.id.into_string(),
        name: cert.name,
        active: scoped.active,
    }
}

/// An `OrganizationProjectCertificate`: listed or toggled at project level (by value, like
/// [`organization_certificate`]).
pub fn project_certificate(scoped: ScopedCertificate) -> api::OrganizationProjectCertificate {
    let cert = scoped.certificate;
    api::OrganizationProjectCertificate {
        object: api::OrganizationProjectCertificateObject::Value,
        certificate_details: details(&cert),
        created_at: unix(cert.created_at),
        id: cert.id.into_string(),
        name: cert.name,
        active: scoped.active,
    }
}

/// A `Project`.
pub fn project(p: &ProjectRecord) -> api::Project {
    api::Project {
        id: p.id.to_string(),
        object: api::ProjectObject::Value,
        name: Some(p.name.clone()),
        created_at: unix(p.created_at),
        archived_at: p.archived_at.map(unix),
        status: Some(if p.archived_at.is_some() {
            api::ProjectStatus::Archived
        } else {
            api::ProjectStatus::Active
        }),
        external_key_id: p.external_key_id.clone(),
        residency: p
            .residency
            .as_deref()
            .and_then(|r| serde_json::from_value(serde_json::Value::String(r.to_owned())).ok()),
    }
}

/// A cursor page of wire items, made from the page's own items.
pub fn list<T, W>(
    page: Page<T>,
    item: impl FnMut(T) -> W,
    id: impl Fn(&W) -> &str,
) -> api::ListResponse<W> {
    api::ListResponse::new(
        page.items.into_iter().map(item).collect(),
        page.has_more,
        id,
    )
}

/// The `owner` of every admin key: orgcerts has no users, so each key acts for its
/// organization's owner, identified by the organization's id and creation time.
fn owner(org: &Organization) -> api::AdminApiKeyOwner {
    api::AdminApiKeyOwner {
        kind: "user".into(),
        object: "organization.user".into(),
        id: org.id.to_string(),
        name: "Organization owner".into(),
        created_at: unix(org.created_at),
        role: "owner".into(),
    }
}

/// An `AdminApiKey` of `org`.
pub fn admin_api_key(key: &AdminKey, org: &Organization) -> api::AdminApiKey {
    api::AdminApiKey {
        object: api::AdminApiKeyObject::Value,
        id: key.id.to_string(),
        name: Some(key.name.clone()),
        redacted_value: key.redacted_value.clone(),
        created_at: unix(key.created_at),
        expires_at: key.expires_at.map(unix),
        last_used_at: key.last_used_at.map(unix),
        owner: owner(org),
    }
}

/// An `AuditLog`: the payload under the property named after its type; the actor is the admin
/// key (acting for the organization's owner), or `null` for the operator's command line.
pub fn audit_log(entry: &AuditEntry) -> api::AuditLog {
    let mut payload = serde_json::Map::new();
    payload.insert(entry.event_type.clone(), entry.payload.clone());
    api::AuditLog {
        id: entry.id.to_string(),
        kind: entry.event_type.clone(),
        effective_at: unix(entry.effective_at),
        project: entry
            .project
            .as_ref()
            .map(|(id, name)| api::AuditLogProject {
                id: id.to_string(),
                name: name.clone(),
            }),
        actor: entry.actor_key_id.as_ref().map(|key| api::AuditLogActor {
            kind: "api_key".into(),
            api_key: api::AuditLogActorApiKey {
                id: key.to_string(),
                kind: "user".into(),
                user: api::AuditLogActorUser {
                    id: entry.organization_id.to_string(),
                },
            },
        }),
        payload,
    }
}
