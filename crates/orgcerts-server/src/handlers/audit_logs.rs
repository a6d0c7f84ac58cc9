//! `list-audit-logs` of `openai-audit-logs.openapi.yaml`.

use crate::json::Json;
use axum::extract::State;
use orgcerts_api::ListAuditLogsResponse;
use orgcerts_core::audit::{AuditCursor, AuditQuery, SPEC_EVENT_TYPES, TimeRange};
use orgcerts_core::page::{Order, Page, PageRequest};
use orgcerts_core::{Error, echo};

use crate::AppState;
use crate::convert;
use crate::error::ApiError;
use crate::extract::{Authenticated, QueryParams};

/// One `effective_at` bound: an integer (Unix seconds), else 400 with param `effective_at`.
fn bound(query: &QueryParams, name: &'static str) -> Result<Option<i64>, ApiError> {
    query
        .single(name)?
        .map(|raw| {
            raw.parse::<i64>().map_err(|_| {
                ApiError::from(Error::InvalidParameter {
                    param: "effective_at",
                    message: format!(
                        "{name} must be an integer (Unix seconds), not '{}'.",
                        echo(raw)
                    ),
                })
            })
        })
        .transpose()
}

/// `effective_at[gt]`, `[gte]`, `[lt]`, `[lte]`; the bare `effective_at=N` means exactly N.
fn time_range(query: &QueryParams) -> Result<TimeRange, ApiError> {
    let mut range = TimeRange {
        gt: bound(query, "effective_at[gt]")?,
        gte: bound(query, "effective_at[gte]")?,
        lt: bound(query, "effective_at[lt]")?,
        lte: bound(query, "effective_at[lte]")?,
    };
    if let Some(exact) = bound(query, "effective_at")? {
        range.gte = Some(range.gte.map_or(exact, |v| v.max(exact)));
        range.lte = Some(range.lte.map_or(exact, |v| v.min(exact)));
    }
    Ok(range)
}

fn strings(query: &QueryParams, name: &'static str) -> Result<Vec<String>, ApiError> {
    Ok(query.array(name)?.into_iter().map(str::to_owned).collect())
}

/// `GET /organization/audit_logs` (operationId `list-audit-logs`): newest first.
pub async fn list_audit_logs(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    query: QueryParams,
) -> Result<Json<ListAuditLogsResponse>, ApiError> {
    // The same `limit` rules as every list.
    let limit = PageRequest::parse(query.single("limit")?, None, None, Order::Desc)?.limit;
    let event_types = strings(&query, "event_types")?;
    if let Some(unknown) = event_types
        .iter()
        .find(|t| !SPEC_EVENT_TYPES.contains(&t.as_str()))
    {
        return Err(Error::InvalidParameter {
            param: "event_types",
            message: format!("'{}' is not an audit log event type.", echo(unknown)),
        }
        .into());
    }
    let cursor = match (query.single("after")?, query.single("before")?) {
        (None, None) => AuditCursor::Start,
        (Some(after), None) => AuditCursor::After(after.to_owned()),
        (None, Some(before)) => AuditCursor::Before(before.to_owned()),
        (Some(after), Some(before)) => AuditCursor::Between {
            after: after.to_owned(),
            before: before.to_owned(),
        },
    };
    let audit_query = AuditQuery {
        effective_at: time_range(&query)?,
        event_types,
        project_ids: strings(&query, "project_ids")?,
        actor_ids: strings(&query, "actor_ids")?,
        resource_ids: strings(&query, "resource_ids")?,
        limit,
        cursor,
    };
    // No orgcerts actor has an email address, and no entry is tenant-scoped: these filters
    // match nothing. `tenant_only` is validated whatever `actor_emails` says.
    let tenant_only = query.boolean("tenant_only")?.unwrap_or(false);
    let matches_nothing = !query.array("actor_emails")?.is_empty() || tenant_only;
    let page = if matches_nothing {
        Page {
            items: Vec::new(),
            has_more: false,
        }
    } else {
        state
            .service
            .list_audit_logs(&principal.organization_id, &audit_query)
            .await?
    };
    Ok(Json(convert::list(
        page,
        |l| convert::audit_log(&l),
        |l| &l.id,
    )))
}
