use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use orgcerts_api::{
    Project, ProjectCreateRequest, ProjectObject, ProjectStatus, ProjectUpdateRequest,
};

use crate::state::{ProjectRecord, now};
use crate::{AppState, bad_request, json_body, list, lock, not_found};

fn as_project(record: &ProjectRecord) -> Project {
    Project {
        id: record.id.clone(),
        object: ProjectObject::Value,
        name: Some(record.name.clone()),
        created_at: record.created_at,
        archived_at: record.archived_at,
        status: Some(if record.archived_at.is_some() {
            ProjectStatus::Archived
        } else {
            ProjectStatus::Active
        }),
        external_key_id: None,
        residency: None,
    }
}

pub(crate) async fn create(State(shared): State<AppState>, body: Bytes) -> Response {
    let request: ProjectCreateRequest = match json_body(&body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    if request.name.trim().is_empty() {
        return bad_request("A project needs a name.", Some("name"), None);
    }
    let mut data = lock(&shared.data);
    let record = ProjectRecord {
        id: data.new_id("proj_"),
        name: request.name,
        created_at: now(),
        archived_at: None,
    };
    let body = as_project(&record);
    data.projects.push(record);
    Json(body).into_response()
}

pub(crate) async fn list(State(shared): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let mut query = match list::parse(raw.as_deref()) {
        Ok(query) => query,
        Err(response) => return response,
    };
    // The projects list has no `order`; the fake lists them oldest first.
    query.descending = false;
    let data = lock(&shared.data);
    let page = list::paginate(
        &data.projects,
        &query,
        |record| &record.id,
        |record| query.include_archived || record.archived_at.is_none(),
        as_project,
        |item| &item.id,
    );
    page.map_or_else(|response| response, |page| Json(page).into_response())
}

pub(crate) async fn retrieve(State(shared): State<AppState>, Path(id): Path<String>) -> Response {
    match lock(&shared.data).project(&id) {
        Some(record) => Json(as_project(record)).into_response(),
        None => not_found("project", &id, "project_id"),
    }
}

pub(crate) async fn modify(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let request: ProjectUpdateRequest = match json_body(&body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let mut data = lock(&shared.data);
    let Some(record) = data.project(&id) else {
        return not_found("project", &id, "project_id");
    };
    if let Some(name) = request.name {
        record.name = name;
    }
    Json(as_project(record)).into_response()
}

pub(crate) async fn archive(State(shared): State<AppState>, Path(id): Path<String>) -> Response {
    let mut data = lock(&shared.data);
    let Some(record) = data.project(&id) else {
        return not_found("project", &id, "project_id");
    };
    record.archived_at.get_or_insert_with(now);
    Json(as_project(record)).into_response()
}
