//! Wire types of OpenAI's Admin API for certificates, projects, admin API keys, audit logs, and
//! projects' service accounts and API keys.
//!
//! Every struct is named after the schema of the same name in `spec/openai-certificates.openapi.yaml`
//! and `spec/openai-projects.openapi.yaml`. The server serializes them and the client deserializes
//! them, so the two cannot disagree about the wire.

mod admin_api_keys;
mod audit_logs;
mod certificates;
mod error;
mod list;
mod projects;
mod service_accounts;

pub use admin_api_keys::{
    AdminApiKey, AdminApiKeyCreateRequest, AdminApiKeyCreateResponse, AdminApiKeyDeleteResponse,
    AdminApiKeyDeletedObject, AdminApiKeyObject, AdminApiKeyOwner, ApiKeyList,
};
pub use audit_logs::{
    AuditLog, AuditLogActor, AuditLogActorApiKey, AuditLogActorUser, AuditLogProject,
    ListAuditLogsResponse,
};
pub use certificates::{
    Certificate, CertificateDetails, CertificateObject, DeleteCertificateResponse,
    DeleteCertificateResponseObject, ListCertificatesResponse, ListProjectCertificatesResponse,
    ModifyCertificateRequest, OrganizationCertificate, OrganizationCertificateActivationResponse,
    OrganizationCertificateDeactivationResponse, OrganizationCertificateObject,
    OrganizationProjectCertificate, OrganizationProjectCertificateActivationResponse,
    OrganizationProjectCertificateDeactivationResponse, OrganizationProjectCertificateObject,
    ToggleCertificatesRequest, ToggleCertificatesResponse, ToggleObject, UploadCertificateRequest,
};
pub use error::{Error, ErrorResponse};
pub use list::{ListObject, ListResponse};
pub use projects::{
    Project, ProjectCreateRequest, ProjectListResponse, ProjectObject, ProjectStatus,
    ProjectUpdateRequest, PublicProjectResidency,
};
pub use service_accounts::{
    CreateProjectServiceAccountApiKeyBody, ProjectApiKey, ProjectApiKeyDeleteResponse,
    ProjectApiKeyDeletedObject, ProjectApiKeyListResponse, ProjectApiKeyObject, ProjectApiKeyOwner,
    ProjectApiKeyOwnerAccess, ProjectApiKeyOwnerServiceAccount, ProjectApiKeyOwnerType,
    ProjectApiKeyOwnerUser, ProjectServiceAccount, ProjectServiceAccountApiKey,
    ProjectServiceAccountApiKeyObject, ProjectServiceAccountCreateRequest,
    ProjectServiceAccountCreateResponse, ProjectServiceAccountDeleteResponse,
    ProjectServiceAccountDeletedObject, ProjectServiceAccountListResponse,
    ProjectServiceAccountObject, ProjectServiceAccountRole, ServiceAccountApiKeyBody,
    UpdateProjectServiceAccountBody, UpdateProjectServiceAccountRole,
};
