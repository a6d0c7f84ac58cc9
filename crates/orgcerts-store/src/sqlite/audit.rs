//! The audit log: entries written inside the changes' transactions, and the list.

use orgcerts_core::Result;
use orgcerts_core::audit::{AuditEntry, AuditQuery, unknown_cursor};
use orgcerts_core::ids::{AdminKeyId, AuditLogId, OrganizationId, ProjectId};
use orgcerts_core::page::Page;
use rusqlite::{Connection, Row, params};

use super::{SqlResult, keyset_position, storage};

/// Appends `entry`; called inside the transaction of the change it records.
pub(super) fn record(conn: &Connection, entry: &AuditEntry) -> Result<()> {
    let (project_id, project_name) = match &entry.project {
        Some((id, name)) => (Some(id.as_str()), Some(name.as_str())),
        None => (None, None),
    };
    conn.prepare_cached(
        "INSERT INTO audit_logs (id, organization_id, type, effective_at, actor_key_id, \
         project_id, project_name, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .sql()?
    .execute(params![
        entry.id.as_str(),
        entry.organization_id.as_str(),
        entry.event_type,
        entry.effective_at,
        entry.actor_key_id.as_ref().map(AdminKeyId::as_str),
        project_id,
        project_name,
        entry.payload.to_string(),
    ])
    .sql()?;
    let seq = conn.last_insert_rowid();
    let mut insert = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO audit_log_resources (audit_seq, organization_id, resource_id) \
             VALUES (?1, ?2, ?3)",
        )
        .sql()?;
    for resource in &entry.resource_ids {
        insert
            .execute(params![seq, entry.organization_id.as_str(), resource])
            .sql()?;
    }
    Ok(())
}

/// A filter list as the JSON array `json_each` reads, or NULL when it does not filter.
fn filter(values: &[String]) -> Option<String> {
    (!values.is_empty()).then(|| serde_json::Value::from(values.to_vec()).to_string())
}

type Raw = (
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

fn raw_from_row(row: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
    ))
}

fn entry_from_raw(org: &OrganizationId, raw: Raw) -> Result<AuditEntry> {
    let (id, event_type, effective_at, actor, project_id, project_name, payload, resources) = raw;
    Ok(AuditEntry {
        id: AuditLogId::from_stored(id),
        organization_id: org.clone(),
        event_type,
        effective_at,
        actor_key_id: actor.map(AdminKeyId::from_stored),
        project: project_id
            .map(|id| (ProjectId::from_stored(id), project_name.unwrap_or_default())),
        resource_ids: resources
            .map(|r| r.split(' ').map(str::to_owned).collect())
            .unwrap_or_default(),
        payload: serde_json::from_str(&payload).map_err(storage)?,
    })
}

pub(super) fn list(
    conn: &Connection,
    org: &OrganizationId,
    query: &AuditQuery,
) -> Result<Page<AuditEntry>> {
    // Newest first, between the cursors' positions. `before` alone walks towards newer
    // entries (ascending), then turns the page.
    let (after, before) = query.cursor.bounds();
    let upper = match after {
        Some(id) => keyset_position(conn, "audit_logs", ("effective_at", "seq"), org, id)?
            .ok_or_else(|| unknown_cursor(id, "after"))?,
        None => (i64::MAX, i64::MAX),
    };
    let lower = match before {
        Some(id) => keyset_position(conn, "audit_logs", ("effective_at", "seq"), org, id)?
            .ok_or_else(|| unknown_cursor(id, "before"))?,
        None => (i64::MIN, i64::MIN),
    };
    let dir = if query.cursor.reads_upwards() {
        "ASC"
    } else {
        "DESC"
    };
    let (low, high) = query.effective_at.inclusive();
    let sql = format!(
        "SELECT a.id, a.type, a.effective_at, a.actor_key_id, a.project_id, a.project_name, \
         a.payload, (SELECT group_concat(r.resource_id, ' ') FROM audit_log_resources r \
                     WHERE r.audit_seq = a.seq) \
         FROM audit_logs a \
         WHERE a.organization_id = ?1 AND (a.effective_at, a.seq) < (?2, ?3) \
         AND (a.effective_at, a.seq) > (?11, ?12) \
         AND a.effective_at >= ?4 AND a.effective_at <= ?5 \
         AND (?6 IS NULL OR a.type IN (SELECT value FROM json_each(?6))) \
         AND (?7 IS NULL OR a.project_id IN (SELECT value FROM json_each(?7))) \
         AND (?8 IS NULL OR a.actor_key_id IN (SELECT value FROM json_each(?8))) \
         AND (?9 IS NULL OR EXISTS (SELECT 1 FROM audit_log_resources r \
              WHERE r.audit_seq = a.seq AND r.resource_id IN (SELECT value FROM json_each(?9)))) \
         ORDER BY a.effective_at {dir}, a.seq {dir} LIMIT ?10"
    );
    let rows = conn
        .prepare_cached(&sql)
        .sql()?
        .query_map(
            params![
                org.as_str(),
                upper.0,
                upper.1,
                low,
                high,
                filter(&query.event_types),
                filter(&query.project_ids),
                filter(&query.actor_ids),
                filter(&query.resource_ids),
                i64::from(query.limit) + 1,
                lower.0,
                lower.1,
            ],
            raw_from_row,
        )
        .sql()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .sql()?;
    let mut page = Page::from_overfetch(
        rows.into_iter()
            .map(|raw| entry_from_raw(org, raw))
            .collect::<Result<Vec<_>>>()?,
        query.limit,
    );
    if query.cursor.reads_upwards() {
        page.items.reverse();
    }
    Ok(page)
}
