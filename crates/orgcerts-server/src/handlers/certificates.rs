//! The ten Certificates operations of `openai-certificates.openapi.yaml`.

use crate::json::{self, Json};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use orgcerts_api::{
    Certificate, DeleteCertificateResponse, DeleteCertificateResponseObject,
    ModifyCertificateRequest, OrganizationCertificate, OrganizationProjectCertificate,
    ToggleCertificatesRequest, ToggleCertificatesResponse, ToggleObject, UploadCertificateRequest,
};
use orgcerts_core::cache::{CertificatePage, ListEncoding, Strings};
use orgcerts_core::model::{CertificateUpdate, Scope, ScopedCertificate};
use orgcerts_core::{Service, echo};
use serde::Serialize;

use super::page_request;
use crate::AppState;
use crate::convert;
use crate::error::ApiError;
use crate::extract::{Authenticated, JsonBody, PathId, QueryParams};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// A certificate page as its wire list (`ListCertificatesResponse`,
/// `ListProjectCertificatesResponse`): records are converted and encoded; a page of a cached
/// list is made of the encodings made when the list was read, the same bytes.
fn certificate_list<E: ListEncoding, W: Serialize>(
    page: CertificatePage<E>,
    item: fn(ScopedCertificate) -> W,
    id: fn(&W) -> &str,
) -> Response {
    match page {
        CertificatePage::Encoded(page) => json::encoded_list(
            page.items(),
            page.first_id(),
            page.last_id(),
            page.has_more(),
        ),
        CertificatePage::Records(page) => Json(convert::list(page, item, id)).into_response(),
    }
}

/// Each item as `item` makes it, encoded as JSON.
fn encode_each<W: Serialize>(
    items: &[ScopedCertificate],
    item: fn(ScopedCertificate) -> W,
) -> Option<Strings> {
    let encoded = items
        .iter()
        .map(|c| serde_json::to_string(&item(c.clone())).ok())
        .collect::<Option<Vec<_>>>()?;
    Strings::join(encoded)
}

/// The organization's list as the cache keeps it: each item's `OrganizationCertificate` JSON.
struct OrganizationItems(Strings);

impl ListEncoding for OrganizationItems {
    fn encode(items: &[ScopedCertificate]) -> Option<Self> {
        encode_each(items, convert::organization_certificate).map(Self)
    }

    fn count(&self) -> usize {
        self.0.len()
    }

    fn item(&self, i: usize) -> &str {
        self.0.get(i)
    }
}

/// A project's list as the cache keeps it: each item's `OrganizationProjectCertificate` JSON.
struct ProjectItems(Strings);

impl ListEncoding for ProjectItems {
    fn encode(items: &[ScopedCertificate]) -> Option<Self> {
        encode_each(items, convert::project_certificate).map(Self)
    }

    fn count(&self) -> usize {
        self.0.len()
    }

    fn item(&self, i: usize) -> &str {
        self.0.get(i)
    }
}

/// `GET /organization/certificates`
pub async fn list_organization_certificates(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let page = page_request(&query, true)?;
    let page = state
        .service
        .list_certificates::<OrganizationItems>(&principal, &Scope::Organization, &page)
        .await?;
    Ok(certificate_list(
        page,
        convert::organization_certificate,
        |c| &c.id,
    ))
}

/// `POST /organization/certificates`
pub async fn upload_certificate(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    JsonBody(body): JsonBody<UploadCertificateRequest>,
) -> ApiResult<Certificate> {
    let cert = state
        .service
        .upload_certificate(
            &principal.organization_id,
            Some(&principal.key_id),
            &body.certificate,
            body.name,
            body.attribute_filter,
        )
        .await?;
    Ok(Json(convert::certificate(&cert)))
}

/// `GET /organization/certificates/{certificate_id}`
pub async fn get_certificate(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(certificate_id): PathId,
    query: QueryParams,
) -> ApiResult<Certificate> {
    let (mut include_content, mut include_filter) = (false, false);
    for value in query.array("include")? {
        match value {
            "content" => include_content = true,
            "attribute_filter" => include_filter = true,
            _ => {
                return Err(ApiError::InvalidQuery {
                    param: "include",
                    message: format!(
                        "Invalid value '{}' for include: the supported values are 'content' \
                         and 'attribute_filter'.",
                        echo(value)
                    ),
                });
            }
        }
    }
    let cert = state
        .service
        .get_certificate(&principal.organization_id, &certificate_id, include_content)
        .await?;
    let mut wire = convert::certificate(&cert);
    if include_filter {
        wire.attribute_filter = Some(cert.attribute_filter);
    }
    Ok(Json(wire))
}

/// `POST /organization/certificates/{certificate_id}`
pub async fn modify_certificate(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(certificate_id): PathId,
    JsonBody(body): JsonBody<ModifyCertificateRequest>,
) -> ApiResult<Certificate> {
    let cert = state
        .service
        .modify_certificate(
            &principal.organization_id,
            Some(&principal.key_id),
            &certificate_id,
            CertificateUpdate {
                name: body.name,
                attribute_filter: body.attribute_filter,
            },
        )
        .await?;
    Ok(Json(convert::certificate(&cert)))
}

/// `DELETE /organization/certificates/{certificate_id}`
pub async fn delete_certificate(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(certificate_id): PathId,
) -> ApiResult<DeleteCertificateResponse> {
    let id = state
        .service
        .delete_certificate(
            &principal.organization_id,
            Some(&principal.key_id),
            &certificate_id,
        )
        .await?;
    Ok(Json(DeleteCertificateResponse {
        object: DeleteCertificateResponseObject::Value,
        id: id.into_string(),
    }))
}

async fn toggle<T>(
    state: &AppState,
    principal: &orgcerts_core::model::Principal,
    scope: &Scope,
    ids: &[String],
    active: bool,
    object: ToggleObject,
    item: fn(ScopedCertificate) -> T,
) -> ApiResult<ToggleCertificatesResponse<T>> {
    let toggled = state
        .service
        .set_certificates_active(
            &principal.organization_id,
            Some(&principal.key_id),
            scope,
            ids,
            active,
        )
        .await?;
    Ok(Json(ToggleCertificatesResponse {
        object,
        data: toggled.into_iter().map(item).collect(),
        has_more: false,
    }))
}

/// `POST /organization/certificates/activate`
pub async fn activate_organization_certificates(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    JsonBody(body): JsonBody<ToggleCertificatesRequest>,
) -> ApiResult<ToggleCertificatesResponse<OrganizationCertificate>> {
    toggle(
        &state,
        &principal,
        &Scope::Organization,
        &body.certificate_ids,
        true,
        ToggleObject::OrganizationActivation,
        convert::organization_certificate,
    )
    .await
}

/// `POST /organization/certificates/deactivate`
pub async fn deactivate_organization_certificates(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    JsonBody(body): JsonBody<ToggleCertificatesRequest>,
) -> ApiResult<ToggleCertificatesResponse<OrganizationCertificate>> {
    toggle(
        &state,
        &principal,
        &Scope::Organization,
        &body.certificate_ids,
        false,
        ToggleObject::OrganizationDeactivation,
        convert::organization_certificate,
    )
    .await
}

/// `GET /organization/projects/{project_id}/certificates`
pub async fn list_project_certificates(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(project_id): PathId,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let scope = Service::project_scope(&project_id)?;
    let page = page_request(&query, true)?;
    let page = state
        .service
        .list_certificates::<ProjectItems>(&principal, &scope, &page)
        .await?;
    Ok(certificate_list(page, convert::project_certificate, |c| {
        &c.id
    }))
}

/// `POST /organization/projects/{project_id}/certificates/activate`
pub async fn activate_project_certificates(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(project_id): PathId,
    JsonBody(body): JsonBody<ToggleCertificatesRequest>,
) -> ApiResult<ToggleCertificatesResponse<OrganizationProjectCertificate>> {
    toggle(
        &state,
        &principal,
        &Service::project_scope(&project_id)?,
        &body.certificate_ids,
        true,
        ToggleObject::ProjectActivation,
        convert::project_certificate,
    )
    .await
}

/// `POST /organization/projects/{project_id}/certificates/deactivate`
pub async fn deactivate_project_certificates(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(project_id): PathId,
    JsonBody(body): JsonBody<ToggleCertificatesRequest>,
) -> ApiResult<ToggleCertificatesResponse<OrganizationProjectCertificate>> {
    toggle(
        &state,
        &principal,
        &Service::project_scope(&project_id)?,
        &body.certificate_ids,
        false,
        ToggleObject::ProjectDeactivation,
        convert::project_certificate,
    )
    .await
}
