//! The three project API key operations of `openai-project-service-accounts.openapi.yaml`.
//! Every key of orgcerts belongs to a service account.

use axum::extract::State;
use orgcerts_api::{
    ProjectApiKey, ProjectApiKeyDeleteResponse, ProjectApiKeyDeletedObject,
    ProjectApiKeyListResponse,
};
use orgcerts_core::model::OwnerAccess;

use super::page_request;
use super::service_accounts::PathIds;
use crate::AppState;
use crate::convert;
use crate::error::ApiError;
use crate::extract::{Authenticated, PathId, QueryParams};
use crate::json::Json;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// `owner_project_access`: `active`, `inactive` or `any`; left out, every key (as `any`).
fn owner_access(query: &QueryParams) -> Result<OwnerAccess, ApiError> {
    match query.single("owner_project_access")? {
        None | Some("any") => Ok(OwnerAccess::Any),
        Some("active") => Ok(OwnerAccess::Active),
        Some("inactive") => Ok(OwnerAccess::Inactive),
        Some(other) => Err(ApiError::InvalidQuery {
            param: "owner_project_access",
            message: format!(
                "Invalid value '{}' for owner_project_access: expected 'active', 'inactive' or 'any'.",
                orgcerts_core::echo(other)
            ),
        }),
    }
}

/// `GET /organization/projects/{project_id}/api_keys` (operationId `list-project-api-keys`);
/// also for an archived project, whose keys are all `inactive`.
pub async fn list_project_api_keys(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(project_id): PathId,
    query: QueryParams,
) -> ApiResult<ProjectApiKeyListResponse> {
    let page = page_request(&query, false)?;
    let access = owner_access(&query)?;
    let page = state
        .service
        .list_project_api_keys(&principal.organization_id, &project_id, &page, access)
        .await?;
    Ok(Json(convert::list(
        page,
        |k| convert::project_api_key(&k),
        |k| &k.id,
    )))
}

/// `GET /organization/projects/{project_id}/api_keys/{api_key_id}`
/// (operationId `retrieve-project-api-key`)
pub async fn retrieve_project_api_key(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathIds(project_id, id): PathIds,
) -> ApiResult<ProjectApiKey> {
    let key = state
        .service
        .retrieve_project_api_key(&principal.organization_id, &project_id, &id)
        .await?;
    Ok(Json(convert::project_api_key(&key)))
}

/// `DELETE /organization/projects/{project_id}/api_keys/{api_key_id}`
/// (operationId `delete-project-api-key`): the key authenticates nothing from now on.
pub async fn delete_project_api_key(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathIds(project_id, id): PathIds,
) -> ApiResult<ProjectApiKeyDeleteResponse> {
    let key_id = state
        .service
        .delete_project_api_key(
            &principal.organization_id,
            Some(&principal.key_id),
            &project_id,
            &id,
        )
        .await?;
    Ok(Json(ProjectApiKeyDeleteResponse {
        object: ProjectApiKeyDeletedObject::Value,
        id: key_id.into_string(),
        deleted: true,
    }))
}
