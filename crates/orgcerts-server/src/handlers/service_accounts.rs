//! The six service account operations of `openai-project-service-accounts.openapi.yaml`.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use orgcerts_api::{
    CreateProjectServiceAccountApiKeyBody, ProjectServiceAccount,
    ProjectServiceAccountCreateRequest, ProjectServiceAccountCreateResponse,
    ProjectServiceAccountDeleteResponse, ProjectServiceAccountDeletedObject,
    ProjectServiceAccountListResponse, ServiceAccountApiKeyBody, UpdateProjectServiceAccountBody,
    UpdateProjectServiceAccountRole,
};
use orgcerts_core::model::{ServiceAccountRole, ServiceAccountUpdate};

use super::page_request;
use crate::AppState;
use crate::convert;
use crate::error::ApiError;
use crate::extract::{Authenticated, JsonBody, PathId, QueryParams};
use crate::json::Json;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The two path parameters of a route below a project (`project_id`, then the account's or
/// the key's id). A segment that cannot be decoded names nothing: the same 404 as an unknown
/// route, as for [`PathId`].
pub struct PathIds(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path((a, b))| Self(a, b))
            .map_err(|_| ApiError::UnknownRoute {
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
            })
    }
}

/// `GET /organization/projects/{project_id}/service_accounts`
/// (operationId `list-project-service-accounts`); a 400 for an archived project.
pub async fn list_project_service_accounts(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(project_id): PathId,
    query: QueryParams,
) -> ApiResult<ProjectServiceAccountListResponse> {
    let page = page_request(&query, false)?;
    let page = state
        .service
        .list_project_service_accounts(&principal.organization_id, &project_id, &page)
        .await?;
    Ok(Json(convert::list(
        page,
        |a| convert::service_account(&a),
        |a| &a.id,
    )))
}

/// `POST /organization/projects/{project_id}/service_accounts`
/// (operationId `create-project-service-account`): the account with its first key, whose
/// `value` is shown this once.
pub async fn create_project_service_account(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(project_id): PathId,
    JsonBody(body): JsonBody<ProjectServiceAccountCreateRequest>,
) -> ApiResult<ProjectServiceAccountCreateResponse> {
    let created = state
        .service
        .create_project_service_account(
            &principal.organization_id,
            Some(&principal.key_id),
            &project_id,
            &body.name,
            body.create_service_account_only.unwrap_or(false),
        )
        .await?;
    Ok(Json(convert::created_service_account(created)))
}

/// `GET /organization/projects/{project_id}/service_accounts/{service_account_id}`
/// (operationId `retrieve-project-service-account`)
pub async fn retrieve_project_service_account(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathIds(project_id, id): PathIds,
) -> ApiResult<ProjectServiceAccount> {
    let account = state
        .service
        .retrieve_project_service_account(&principal.organization_id, &project_id, &id)
        .await?;
    Ok(Json(convert::service_account(&account)))
}

/// `POST /organization/projects/{project_id}/service_accounts/{service_account_id}`
/// (operationId `update-project-service-account`)
pub async fn update_project_service_account(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathIds(project_id, id): PathIds,
    JsonBody(body): JsonBody<UpdateProjectServiceAccountBody>,
) -> ApiResult<ProjectServiceAccount> {
    let update = ServiceAccountUpdate {
        name: body.name,
        role: body.role.map(|role| match role {
            UpdateProjectServiceAccountRole::Member => ServiceAccountRole::Member,
            UpdateProjectServiceAccountRole::Owner => ServiceAccountRole::Owner,
        }),
    };
    let account = state
        .service
        .update_project_service_account(
            &principal.organization_id,
            Some(&principal.key_id),
            &project_id,
            &id,
            update,
        )
        .await?;
    Ok(Json(convert::service_account(&account)))
}

/// `DELETE /organization/projects/{project_id}/service_accounts/{service_account_id}`
/// (operationId `delete-project-service-account`): the account and its keys.
pub async fn delete_project_service_account(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathIds(project_id, id): PathIds,
) -> ApiResult<ProjectServiceAccountDeleteResponse> {
    let account = state
        .service
        .delete_project_service_account(
            &principal.organization_id,
            Some(&principal.key_id),
            &project_id,
            &id,
        )
        .await?;
    Ok(Json(ProjectServiceAccountDeleteResponse {
        object: ProjectServiceAccountDeletedObject::Value,
        id: account.id.into_string(),
        deleted: true,
    }))
}

/// `POST /organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys`
/// (operationId `CreateanAPIkeyforaserviceaccount`): another key, its `value` shown once.
pub async fn create_an_api_key_for_a_service_account(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathIds(project_id, id): PathIds,
    JsonBody(body): JsonBody<CreateProjectServiceAccountApiKeyBody>,
) -> ApiResult<ServiceAccountApiKeyBody> {
    let issued = state
        .service
        .create_service_account_api_key(
            &principal.organization_id,
            Some(&principal.key_id),
            &project_id,
            &id,
            body.name.as_deref(),
            body.scopes.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok(Json(convert::issued_service_account_key(issued)))
}
