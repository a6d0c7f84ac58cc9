//! The audit log: entries written inside the changes' transactions, and the list.

use orgcerts_core::audit::{AuditEntry, AuditQuery, unknown_cursor};
use orgcerts_core::ids::{AdminKeyId, AuditLogId, OrganizationId, ProjectId};
use orgcerts_core::page::Page;

use sqlx::{AssertSqlSafe, PgConnection};

use super::error::Attempt;
use super::{keyset_position, storage};

/// Appends `entry`; called inside the transaction of the change it records.
pub(super) async fn record(conn: &mut PgConnection, entry: &AuditEntry) -> Attempt<()> {
    let (project_id, project_name) = match &entry.project {
        Some((id, name)) => (Some(id.as_str()), Some(name.as_str())),
        None => (None, None),
    };
    let resources: Vec<&str> = entry.resource_ids.iter().map(String::as_str).collect();
    // One round trip: the entry and the resources it touched.
    sqlx::query(
        "WITH entry AS ( \
             INSERT INTO audit_logs (id, organization_id, type, effective_at, actor_key_id, \
                                     project_id, project_name, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq) \
         INSERT INTO audit_log_resources (audit_seq, organization_id, resource_id) \
         SELECT entry.seq, $2, r FROM entry, (SELECT DISTINCT unnest($9::text[]) AS r) rs",
    )
    .bind(entry.id.as_str())
    .bind(entry.organization_id.as_str())
    .bind(&entry.event_type)
    .bind(entry.effective_at)
    .bind(entry.actor_key_id.as_ref().map(AdminKeyId::as_str))
    .bind(project_id)
    .bind(project_name)
    .bind(entry.payload.to_string())
    .bind(&resources)
    .execute(conn)
    .await?;
    Ok(())
}

/// A filter list, or NULL when it does not filter.
fn filter(values: &[String]) -> Option<Vec<String>> {
    (!values.is_empty()).then(|| values.to_vec())
}

type Raw = (
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<Vec<String>>,
);

pub(super) async fn list(
    conn: &mut PgConnection,
    org: &OrganizationId,
    query: &AuditQuery,
) -> Attempt<Page<AuditEntry>> {
    // Newest first, between the cursors' positions. `before` alone walks towards newer
    // entries (ascending), then turns the page.
    let (after, before) = query.cursor.bounds();
    let upper = match after {
        Some(id) => keyset_position(&mut *conn, "audit_logs", "effective_at", org, id)
            .await?
            .ok_or_else(|| unknown_cursor(id, "after"))?,
        None => (i64::MAX, i64::MAX),
    };
    let lower = match before {
        Some(id) => keyset_position(&mut *conn, "audit_logs", "effective_at", org, id)
            .await?
            .ok_or_else(|| unknown_cursor(id, "before"))?,
        None => (i64::MIN, i64::MIN),
    };
    let dir = if query.cursor.reads_upwards() {
        "ASC"
    } else {
        "DESC"
    };
    let (low, high) = query.effective_at.inclusive();
    let rows: Vec<Raw> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT a.id, a.type, a.effective_at, a.actor_key_id, a.project_id, a.project_name, \
         a.payload, ARRAY(SELECT r.resource_id FROM audit_log_resources r \
                          WHERE r.audit_seq = a.seq) \
         FROM audit_logs a \
         WHERE a.organization_id = $1 AND (a.effective_at, a.seq) < ($2, $3) \
         AND (a.effective_at, a.seq) > ($11, $12) \
         AND a.effective_at >= $4 AND a.effective_at <= $5 \
         AND ($6::text[] IS NULL OR a.type = ANY($6)) \
         AND ($7::text[] IS NULL OR a.project_id = ANY($7)) \
         AND ($8::text[] IS NULL OR a.actor_key_id = ANY($8)) \
         AND ($9::text[] IS NULL OR EXISTS (SELECT 1 FROM audit_log_resources r \
              WHERE r.audit_seq = a.seq AND r.resource_id = ANY($9))) \
         ORDER BY a.effective_at {dir}, a.seq {dir} LIMIT $10"
    )))
    .bind(org.as_str())
    .bind(upper.0)
    .bind(upper.1)
    .bind(low)
    .bind(high)
    .bind(filter(&query.event_types))
    .bind(filter(&query.project_ids))
    .bind(filter(&query.actor_ids))
    .bind(filter(&query.resource_ids))
    .bind(i64::from(query.limit) + 1)
    .bind(lower.0)
    .bind(lower.1)
    .fetch_all(conn)
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for (id, event_type, effective_at, actor, project_id, project_name, payload, resources) in rows
    {
        items.push(AuditEntry {
            id: AuditLogId::from_stored(id),
            organization_id: org.clone(),
            event_type,
            effective_at,
            actor_key_id: actor.map(AdminKeyId::from_stored),
            project: project_id
                .map(|id| (ProjectId::from_stored(id), project_name.unwrap_or_default())),
            resource_ids: resources.unwrap_or_default(),
            payload: serde_json::from_str(&payload)
                .map_err(|_| storage("an audit log payload is not JSON"))?,
        });
    }
    let mut page = Page::from_overfetch(items, query.limit);
    if query.cursor.reads_upwards() {
        page.items.reverse();
    }
    Ok(page)
}
