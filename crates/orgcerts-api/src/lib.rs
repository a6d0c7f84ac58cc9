//! Wire types of OpenAI's Admin API for certificates and projects.
//!
//! Every struct is named after the schema of the same name in `spec/openai-certificates.openapi.yaml`
//! and `spec/openai-projects.openapi.yaml`. The server serializes them and the client deserializes
//! them, so the two cannot disagree about the wire.

mod certificates;
mod error;
mod list;
mod projects;

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
