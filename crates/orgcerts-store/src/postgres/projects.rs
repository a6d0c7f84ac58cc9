//! Projects.

use orgcerts_core::audit;
use orgcerts_core::ids::{OrganizationId, ProjectId};
use orgcerts_core::model::{Actor, ProjectRecord, ProjectUpdate};
use orgcerts_core::page::{Page, PageRequest};
use orgcerts_core::{Error, echo};
use sqlx::{AssertSqlSafe, PgConnection};

use super::error::Attempt;
use super::{keys, keyset, keyset_position, overfetch};

/// The columns [`project_from_row`] reads, in its order.
const COLUMNS: &str = "id, name, created_at, archived_at, external_key_id, residency";

type ProjectRow = (
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn project_from_row(row: ProjectRow) -> ProjectRecord {
    let (id, name, created_at, archived_at, external_key_id, residency) = row;
    ProjectRecord {
        id: ProjectId::from_stored(id),
        name,
        created_at,
        archived_at,
        external_key_id,
        residency,
    }
}

fn not_found(id: &ProjectId) -> Error {
    Error::ProjectNotFound {
        id: echo(id.as_str()),
    }
}

pub(super) async fn insert(
    conn: &mut PgConnection,
    org: &OrganizationId,
    project: &ProjectRecord,
    actor: &Actor,
) -> Attempt<()> {
    keys::require_organization(conn, org).await?;
    sqlx::query(
        "INSERT INTO projects \
         (id, organization_id, name, created_at, archived_at, external_key_id, residency) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(project.id.as_str())
    .bind(org.as_str())
    .bind(&project.name)
    .bind(project.created_at)
    .bind(project.archived_at)
    .bind(project.external_key_id.as_deref())
    .bind(project.residency.as_deref())
    .execute(&mut *conn)
    .await?;
    super::audit::record(conn, &audit::project_created(org, actor, project)).await
}

/// The project, row-locked until commit when `for_update`.
async fn select(
    conn: &mut PgConnection,
    org: &OrganizationId,
    id: &ProjectId,
    lock: &str,
) -> Attempt<Option<ProjectRecord>> {
    let row: Option<ProjectRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM projects WHERE id = $1 AND organization_id = $2{lock}"
    )))
    .bind(id.as_str())
    .bind(org.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(project_from_row))
}

pub(super) async fn get(
    conn: &mut PgConnection,
    org: &OrganizationId,
    id: &ProjectId,
) -> Attempt<Option<ProjectRecord>> {
    select(conn, org, id, "").await
}

/// The project, share-locked until commit (activation: archiving waits for it).
pub(super) async fn select_shared(
    conn: &mut PgConnection,
    org: &OrganizationId,
    id: &ProjectId,
) -> Attempt<Option<ProjectRecord>> {
    select(conn, org, id, " FOR SHARE").await
}

pub(super) async fn list(
    conn: &mut PgConnection,
    org: &OrganizationId,
    page: &PageRequest,
    include_archived: bool,
) -> Attempt<Page<ProjectRecord>> {
    let (cmp, dir, start) = keyset(page.order);
    // The cursor may name an archived project even when archived ones are not listed.
    let (created_at, seq) = match &page.after {
        None => start,
        Some(after) => keyset_position(&mut *conn, "projects", "created_at", org, after)
            .await?
            .ok_or_else(|| Error::UnknownCursor { value: echo(after) })?,
    };
    let rows: Vec<ProjectRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM projects \
         WHERE organization_id = $1 AND ($5 OR archived_at IS NULL) \
         AND (created_at, seq) {cmp} ($2, $3) \
         ORDER BY created_at {dir}, seq {dir} LIMIT $4"
    )))
    .bind(org.as_str())
    .bind(created_at)
    .bind(seq)
    .bind(overfetch(page))
    .bind(include_archived)
    .fetch_all(conn)
    .await?;
    Ok(Page::from_overfetch(
        rows.into_iter().map(project_from_row).collect(),
        page.limit,
    ))
}

pub(super) async fn update(
    conn: &mut PgConnection,
    org: &OrganizationId,
    id: &ProjectId,
    update: &ProjectUpdate,
    actor: &Actor,
) -> Attempt<ProjectRecord> {
    // Locked, so that an archive committed meanwhile cannot slip between check and change.
    let current = select(conn, org, id, " FOR UPDATE")
        .await?
        .ok_or_else(|| not_found(id))?;
    if current.archived_at.is_some() {
        return Err(Error::ProjectArchived {
            id: echo(id.as_str()),
        }
        .into());
    }
    let row: ProjectRow = sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE projects SET name = coalesce($3, name), \
         external_key_id = coalesce($4, external_key_id) \
         WHERE id = $1 AND organization_id = $2 RETURNING {COLUMNS}"
    )))
    .bind(id.as_str())
    .bind(org.as_str())
    .bind(update.name.as_deref())
    .bind(update.external_key_id.as_deref())
    .fetch_one(&mut *conn)
    .await?;
    let updated = project_from_row(row);
    super::audit::record(conn, &audit::project_updated(org, actor, &updated, update)).await?;
    Ok(updated)
}

pub(super) async fn archive(
    conn: &mut PgConnection,
    org: &OrganizationId,
    id: &ProjectId,
    actor: &Actor,
) -> Attempt<ProjectRecord> {
    // One statement: archiving twice, even concurrently, keeps the first time.
    let row: Option<ProjectRow> = sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE projects SET archived_at = coalesce(archived_at, $3) \
         WHERE id = $1 AND organization_id = $2 RETURNING {COLUMNS}"
    )))
    .bind(id.as_str())
    .bind(org.as_str())
    .bind(actor.at)
    .fetch_optional(&mut *conn)
    .await?;
    let archived = row.map(project_from_row).ok_or_else(|| not_found(id))?;
    // Archiving twice is recorded too, like every successful request.
    super::audit::record(conn, &audit::project_archived(org, actor, &archived)).await?;
    Ok(archived)
}
