//! The five Projects operations of `openai-projects.openapi.yaml`.

use crate::json::Json;
use axum::extract::State;
use orgcerts_api::{Project, ProjectCreateRequest, ProjectListResponse, ProjectUpdateRequest};
use orgcerts_core::model::ProjectUpdate;

use super::page_request;
use crate::AppState;
use crate::convert;
use crate::error::ApiError;
use crate::extract::{Authenticated, JsonBody, PathId, QueryParams};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// A `PublicProjectResidency` as the text the store keeps.
fn residency_text(residency: orgcerts_api::PublicProjectResidency) -> Option<String> {
    serde_json::to_value(residency)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// `GET /organization/projects` (operationId `list-projects`)
pub async fn list_projects(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    query: QueryParams,
) -> ApiResult<ProjectListResponse> {
    let page = page_request(&query, false)?;
    let include_archived = query.boolean("include_archived")?.unwrap_or(false);
    let page = state
        .service
        .list_projects(&principal.organization_id, &page, include_archived)
        .await?;
    Ok(Json(convert::list(
        page,
        |p| convert::project(&p),
        |p| &p.id,
    )))
}

/// `POST /organization/projects` (operationId `create-project`)
pub async fn create_project(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    JsonBody(body): JsonBody<ProjectCreateRequest>,
) -> ApiResult<Project> {
    let project = state
        .service
        .create_project(
            &principal.organization_id,
            Some(&principal.key_id),
            &body.name,
            body.external_key_id,
            body.residency.and_then(residency_text),
        )
        .await?;
    Ok(Json(convert::project(&project)))
}

/// `GET /organization/projects/{project_id}` (operationId `retrieve-project`)
pub async fn retrieve_project(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(project_id): PathId,
) -> ApiResult<Project> {
    let project = state
        .service
        .retrieve_project(&principal.organization_id, &project_id)
        .await?;
    Ok(Json(convert::project(&project)))
}

/// `POST /organization/projects/{project_id}` (operationId `modify-project`)
pub async fn modify_project(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(project_id): PathId,
    JsonBody(body): JsonBody<ProjectUpdateRequest>,
) -> ApiResult<Project> {
    let update = ProjectUpdate {
        name: body.name,
        external_key_id: body.external_key_id,
    };
    let project = state
        .service
        .modify_project(
            &principal.organization_id,
            Some(&principal.key_id),
            &project_id,
            update,
        )
        .await?;
    Ok(Json(convert::project(&project)))
}

/// `POST /organization/projects/{project_id}/archive` (operationId `archive-project`)
pub async fn archive_project(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(project_id): PathId,
) -> ApiResult<Project> {
    let project = state
        .service
        .archive_project(
            &principal.organization_id,
            Some(&principal.key_id),
            &project_id,
        )
        .await?;
    Ok(Json(convert::project(&project)))
}
