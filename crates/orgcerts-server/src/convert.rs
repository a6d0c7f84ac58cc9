//! From domain records to wire types.

use orgcerts_api as api;
use orgcerts_core::anchor::canonical_pem;
use orgcerts_core::audit::AuditEntry;
use orgcerts_core::model::{
    AdminKey, CertificateRecord, Organization, ProjectApiKeyRecord, ProjectRecord,
    ScopedCertificate, ServiceAccountRecord, ServiceAccountRole,
};
use orgcerts_core::page::Page;
use orgcerts_core::service::{CreatedServiceAccount, IssuedServiceAccountKey};

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

/// The `Certificate` object of upload, get and modify, without the `attribute_filter`
/// extension (only a get that asks for it shows it).
pub fn certificate(cert: &CertificateRecord) -> api::Certificate {
    api::Certificate {
        object: api::CertificateObject::Certificate,
        id: cert.id.as_str().to_owned(),
        name: cert.name.clone(),
        created_at: unix(cert.created_at),
        certificate_details: details(cert),
        attribute_filter: None,
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

fn service_account_role(role: ServiceAccountRole) -> api::ProjectServiceAccountRole {
    match role {
        ServiceAccountRole::Owner => api::ProjectServiceAccountRole::Owner,
        ServiceAccountRole::Member => api::ProjectServiceAccountRole::Member,
        ServiceAccountRole::None => api::ProjectServiceAccountRole::None,
    }
}

/// A `ProjectServiceAccount`.
pub fn service_account(account: &ServiceAccountRecord) -> api::ProjectServiceAccount {
    api::ProjectServiceAccount {
        object: api::ProjectServiceAccountObject::Value,
        id: account.id.to_string(),
        name: account.name.clone(),
        role: service_account_role(account.role),
        created_at: unix(account.created_at),
    }
}

/// A new key with its secret: `ProjectServiceAccountApiKey` (also `ServiceAccountApiKeyBody`).
pub fn issued_service_account_key(
    issued: IssuedServiceAccountKey,
) -> api::ProjectServiceAccountApiKey {
    api::ProjectServiceAccountApiKey {
        object: api::ProjectServiceAccountApiKeyObject::Value,
        value: issued.secret,
        name: issued.key.name,
        created_at: unix(issued.key.created_at),
        id: issued.key.id.into_string(),
    }
}

/// A `ProjectServiceAccountCreateResponse`.
pub fn created_service_account(
    created: CreatedServiceAccount,
) -> api::ProjectServiceAccountCreateResponse {
    let account = service_account(&created.account);
    api::ProjectServiceAccountCreateResponse {
        object: account.object,
        id: account.id,
        name: account.name,
        role: account.role,
        created_at: account.created_at,
        api_key: created.key.map(issued_service_account_key),
    }
}

/// A `ProjectApiKey`: every key of orgcerts belongs to a service account.
pub fn project_api_key(record: &ProjectApiKeyRecord) -> api::ProjectApiKey {
    let (key, owner) = (&record.key, &record.owner);
    api::ProjectApiKey {
        object: api::ProjectApiKeyObject::Value,
        redacted_value: key.redacted_value.clone(),
        name: key.name.clone(),
        created_at: unix(key.created_at),
        last_used_at: key.last_used_at.map(unix),
        id: key.id.to_string(),
        owner_project_access: if record.owner_has_access {
            api::ProjectApiKeyOwnerAccess::Active
        } else {
            api::ProjectApiKeyOwnerAccess::Inactive
        },
        owner: api::ProjectApiKeyOwner {
            kind: api::ProjectApiKeyOwnerType::ServiceAccount,
            user: None,
            service_account: Some(api::ProjectApiKeyOwnerServiceAccount {
                id: owner.id.to_string(),
                name: owner.name.clone(),
                created_at: unix(owner.created_at),
                role: owner.role.as_str().to_owned(),
            }),
        },
    }
}
