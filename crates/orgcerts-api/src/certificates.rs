use serde::{Deserialize, Deserializer, Serialize};

use crate::ListResponse;

/// Declares a single-valued `object` discriminator, serialized as the given string.
macro_rules! object_tag {
    ($(#[$doc:meta])* $name:ident = $value:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
        pub enum $name {
            #[default]
            #[serde(rename = $value)]
            Value,
        }
    };
}
pub(crate) use object_tag;

/// The `object` of the `Certificate` schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CertificateObject {
    /// Returned by upload, get and modify.
    #[default]
    #[serde(rename = "certificate")]
    Certificate,
    #[serde(rename = "organization.certificate")]
    OrganizationCertificate,
    #[serde(rename = "organization.project.certificate")]
    OrganizationProjectCertificate,
}

object_tag!(
    /// `organization.certificate`
    OrganizationCertificateObject = "organization.certificate"
);
object_tag!(
    /// `organization.project.certificate`
    OrganizationProjectCertificateObject = "organization.project.certificate"
);
object_tag!(
    /// `certificate.deleted`
    DeleteCertificateResponseObject = "certificate.deleted"
);

/// `certificate_details`: the validity window of the trust anchor, and its PEM when asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateDetails {
    /// notBefore in Unix seconds (0 for dates before 1970).
    pub valid_at: u64,
    /// notAfter in Unix seconds.
    pub expires_at: u64,
    /// Canonical PEM of the anchor; only on get with `include[]=content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// The `Certificate` schema, as returned by upload, get and modify (no `active`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub object: CertificateObject,
    pub id: String,
    pub name: Option<String>,
    pub created_at: u64,
    pub certificate_details: CertificateDetails,
    /// An orgcerts extension, present only on get with `include[]=attribute_filter`: the
    /// attribute filter's source text, `Some(None)` (`null`) when none is set. Absent (`None`)
    /// everywhere else, so that the object stays the spec's.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub attribute_filter: Option<Option<String>>,
}

/// The `OrganizationCertificate` schema: a certificate with its organization-level `active` flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationCertificate {
    pub object: OrganizationCertificateObject,
    pub id: String,
    pub name: Option<String>,
    pub created_at: u64,
    pub certificate_details: CertificateDetails,
    pub active: bool,
}

/// The `OrganizationProjectCertificate` schema: a certificate with its project-level `active` flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationProjectCertificate {
    pub object: OrganizationProjectCertificateObject,
    pub id: String,
    pub name: Option<String>,
    pub created_at: u64,
    pub certificate_details: CertificateDetails,
    pub active: bool,
}

/// The `ListCertificatesResponse` schema.
pub type ListCertificatesResponse = ListResponse<OrganizationCertificate>;
/// The `ListProjectCertificatesResponse` schema.
pub type ListProjectCertificatesResponse = ListResponse<OrganizationProjectCertificate>;

/// The `DeleteCertificateResponse` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteCertificateResponse {
    pub object: DeleteCertificateResponseObject,
    pub id: String,
}

/// The `UploadCertificateRequest` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadCertificateRequest {
    /// The certificate in PEM. `content` is the field's name in older spec releases and is
    /// accepted as an alias (docs/contract.md: both at once is a 400).
    #[serde(alias = "content")]
    pub certificate: String,
    #[serde(
        default,
        deserialize_with = "string_if_present",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// An orgcerts extension (the official SDKs send it with `extra_body`): the attribute
    /// filter, a CEL expression; `null` or an empty string sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_filter: Option<String>,
}

/// The `ModifyCertificateRequest` schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifyCertificateRequest {
    #[serde(
        default,
        deserialize_with = "string_if_present",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// An orgcerts extension, like [`UploadCertificateRequest::attribute_filter`]: left out
    /// (`None`), the filter stays as it is; `null` (`Some(None)`) or an empty string clears it;
    /// any other string sets it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub attribute_filter: Option<Option<String>>,
}

/// An optional field the spec types as a plain string: it may be left out, but `null` is a value
/// of the wrong type (docs/contract.md: a 400), not the same as leaving it out.
fn string_if_present<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    String::deserialize(deserializer).map(Some)
}

/// A field whose `null` differs from its absence: present, it is `Some`, holding `None` for
/// `null` (serde alone reads `null` as absent).
#[allow(clippy::option_option)] // absent, null and a string are three different requests
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// The `ToggleCertificatesRequest` schema, for activation and deactivation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToggleCertificatesRequest {
    pub certificate_ids: Vec<String>,
}

/// The `object` of the four activation / deactivation responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToggleObject {
    #[serde(rename = "organization.certificate.activation")]
    OrganizationActivation,
    #[serde(rename = "organization.certificate.deactivation")]
    OrganizationDeactivation,
    #[serde(rename = "organization.project.certificate.activation")]
    ProjectActivation,
    #[serde(rename = "organization.project.certificate.deactivation")]
    ProjectDeactivation,
}

/// The shape of the four activation / deactivation responses: `data` lists each requested
/// certificate once, in request order.
///
/// `has_more` is not in the spec: docs/contract.md allows it (always `false`) so that async-openai
/// releases that typed these responses as lists still parse them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToggleCertificatesResponse<T> {
    pub object: ToggleObject,
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

/// The `OrganizationCertificateActivationResponse` schema.
pub type OrganizationCertificateActivationResponse =
    ToggleCertificatesResponse<OrganizationCertificate>;
/// The `OrganizationCertificateDeactivationResponse` schema.
pub type OrganizationCertificateDeactivationResponse =
    ToggleCertificatesResponse<OrganizationCertificate>;
/// The `OrganizationProjectCertificateActivationResponse` schema.
pub type OrganizationProjectCertificateActivationResponse =
    ToggleCertificatesResponse<OrganizationProjectCertificate>;
/// The `OrganizationProjectCertificateDeactivationResponse` schema.
pub type OrganizationProjectCertificateDeactivationResponse =
    ToggleCertificatesResponse<OrganizationProjectCertificate>;
