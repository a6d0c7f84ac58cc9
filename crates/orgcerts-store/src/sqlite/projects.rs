//! Projects.

use orgcerts_core::audit;
use orgcerts_core::ids::{OrganizationId, ProjectId};
use orgcerts_core::model::{Actor, ProjectRecord, ProjectUpdate};
use orgcerts_core::page::{Page, PageRequest};
use orgcerts_core::{Error, Result, echo};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqlResult, keys, keyset, keyset_position, overfetch};

/// The columns [`project_from_row`] reads, in its order.
const COLUMNS: &str = "id, name, created_at, archived_at, external_key_id, residency";

fn project_from_row(row: &Row<'_>) -> rusqlite::Result<ProjectRecord> {
    Ok(ProjectRecord {
        id: ProjectId::from_stored(row.get(0)?),
        name: row.get(1)?,
        created_at: row.get(2)?,
        archived_at: row.get(3)?,
        external_key_id: row.get(4)?,
        residency: row.get(5)?,
    })
}

fn not_found(id: &ProjectId) -> Error {
    Error::ProjectNotFound {
        id: echo(id.as_str()),
    }
}

pub(super) fn insert(
    conn: &Connection,
    org: &OrganizationId,
    project: &ProjectRecord,
    actor: &Actor,
) -> Result<()> {
    keys::require_organization(conn, org)?;
    conn.prepare_cached(
        "INSERT INTO projects \
         (id, organization_id, name, created_at, archived_at, external_key_id, residency) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .sql()?
    .execute(params![
        project.id.as_str(),
        org.as_str(),
        project.name,
        project.created_at,
        project.archived_at,
        project.external_key_id,
        project.residency,
    ])
    .sql()?;
    super::audit::record(conn, &audit::project_created(org, actor, project))
}

pub(super) fn get(
    conn: &Connection,
    org: &OrganizationId,
    id: &ProjectId,
) -> Result<Option<ProjectRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM projects WHERE id = ?1 AND organization_id = ?2"
    ))
    .sql()?
    .query_row(params![id.as_str(), org.as_str()], project_from_row)
    .optional()
    .sql()
}

pub(super) fn list(
    conn: &Connection,
    org: &OrganizationId,
    page: &PageRequest,
    include_archived: bool,
) -> Result<Page<ProjectRecord>> {
    let (cmp, dir, start) = keyset(page.order);
    // The cursor may name an archived project even when archived ones are not listed.
    let (created_at, seq) = match &page.after {
        None => start,
        Some(after) => keyset_position(conn, "projects", ("created_at", "seq"), org, after)?
            .ok_or_else(|| Error::UnknownCursor { value: echo(after) })?,
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM projects \
         WHERE organization_id = ?1 AND (?5 OR archived_at IS NULL) \
         AND (created_at, seq) {cmp} (?2, ?3) \
         ORDER BY created_at {dir}, seq {dir} LIMIT ?4"
    );
    let rows = conn
        .prepare_cached(&sql)
        .sql()?
        .query_map(
            params![
                org.as_str(),
                created_at,
                seq,
                overfetch(page),
                include_archived
            ],
            project_from_row,
        )
        .sql()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .sql()?;
    Ok(Page::from_overfetch(rows, page.limit))
}

pub(super) fn update(
    conn: &Connection,
    org: &OrganizationId,
    id: &ProjectId,
    update: &ProjectUpdate,
    actor: &Actor,
) -> Result<ProjectRecord> {
    let current = get(conn, org, id)?.ok_or_else(|| not_found(id))?;
    if current.archived_at.is_some() {
        return Err(Error::ProjectArchived {
            id: echo(id.as_str()),
        });
    }
    let updated = conn
        .prepare_cached(&format!(
            "UPDATE projects SET name = coalesce(?3, name), \
         external_key_id = coalesce(?4, external_key_id) \
         WHERE id = ?1 AND organization_id = ?2 RETURNING {COLUMNS}"
        ))
        .sql()?
        .query_row(
            params![
                id.as_str(),
                org.as_str(),
                update.name,
                update.external_key_id
            ],
            project_from_row,
        )
        .sql()?;
    super::audit::record(conn, &audit::project_updated(org, actor, &updated, update))?;
    Ok(updated)
}

pub(super) fn archive(
    conn: &Connection,
    org: &OrganizationId,
    id: &ProjectId,
    actor: &Actor,
) -> Result<ProjectRecord> {
    // Archiving twice keeps the first time (and is recorded, like every successful request).
    let archived = conn
        .prepare_cached(&format!(
            "UPDATE projects SET archived_at = coalesce(archived_at, ?3) \
         WHERE id = ?1 AND organization_id = ?2 RETURNING {COLUMNS}"
        ))
        .sql()?
        .query_row(
            params![id.as_str(), org.as_str(), actor.at],
            project_from_row,
        )
        .optional()
        .sql()?
        .ok_or_else(|| not_found(id))?;
    super::audit::record(conn, &audit::project_archived(org, actor, &archived))?;
    Ok(archived)
}
