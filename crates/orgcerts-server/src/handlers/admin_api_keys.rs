//! The four Admin API keys operations of `openai-admin-api-keys.openapi.yaml`. The operator's
//! `orgcerts admin-key` commands call the same service methods.

use crate::json::Json;
use axum::extract::State;
use orgcerts_api::{
    AdminApiKey, AdminApiKeyCreateRequest, AdminApiKeyCreateResponse, AdminApiKeyDeleteResponse,
    AdminApiKeyDeletedObject, ApiKeyList,
};
use orgcerts_core::page::{Order, PageRequest};

use crate::AppState;
use crate::convert;
use crate::error::ApiError;
use crate::extract::{Authenticated, JsonBody, PathId, QueryParams};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// `GET /organization/admin_api_keys` (operationId `admin-api-keys-list`); `order` defaults
/// to `asc`, as the spec says.
pub async fn admin_api_keys_list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    query: QueryParams,
) -> ApiResult<ApiKeyList> {
    let page = PageRequest::parse(
        query.single("limit")?,
        query.single("after")?,
        query.single("order")?,
        Order::Asc,
    )?;
    let org = &principal.organization_id;
    let keys = state.service.list_admin_keys(org, &page).await?;
    let owner = state.service.organization(org).await?;
    Ok(Json(convert::list(
        keys,
        |k| convert::admin_api_key(&k, &owner),
        |k| &k.id,
    )))
}

/// `POST /organization/admin_api_keys` (operationId `admin-api-keys-create`).
pub async fn admin_api_keys_create(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    JsonBody(body): JsonBody<AdminApiKeyCreateRequest>,
) -> ApiResult<AdminApiKeyCreateResponse> {
    let org = &principal.organization_id;
    let issued = state
        .service
        .create_admin_key(
            org,
            Some(&principal.key_id),
            &body.name,
            body.expires_in_seconds,
        )
        .await?;
    let owner = state.service.organization(org).await?;
    Ok(Json(AdminApiKeyCreateResponse {
        key: convert::admin_api_key(&issued.key, &owner),
        value: issued.secret,
    }))
}

/// `GET /organization/admin_api_keys/{key_id}` (operationId `admin-api-keys-get`).
pub async fn admin_api_keys_get(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(key_id): PathId,
) -> ApiResult<AdminApiKey> {
    let org = &principal.organization_id;
    let key = state.service.get_admin_key(org, &key_id).await?;
    let owner = state.service.organization(org).await?;
    Ok(Json(convert::admin_api_key(&key, &owner)))
}

/// `DELETE /organization/admin_api_keys/{key_id}` (operationId `admin-api-keys-delete`). The
/// key this request is authenticated with may be deleted too: the next request with it is
/// refused.
pub async fn admin_api_keys_delete(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(key_id): PathId,
) -> ApiResult<AdminApiKeyDeleteResponse> {
    let key = state
        .service
        .delete_admin_key(&principal.organization_id, Some(&principal.key_id), &key_id)
        .await?;
    Ok(Json(AdminApiKeyDeleteResponse {
        id: key.id.to_string(),
        object: AdminApiKeyDeletedObject::Value,
        deleted: true,
    }))
}
