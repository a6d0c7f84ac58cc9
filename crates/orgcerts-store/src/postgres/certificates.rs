//! Certificates: insert under the per-organization maximum, get, update, delete, list and
//! activation at organization or project level.
//!
//! Every rule that several instances could race on is settled by row locks taken in one
//! order, organization → project → certificates (by id), so that concurrent transactions wait
//! for each other instead of deadlocking:
//! - insert locks the organization row first, so inserts into one organization run one at a
//!   time and each sees the ones committed before it (duplicates, then the maximum);
//! - delete locks the certificate row, then updates the organization's counter;
//! - activation locks the project row (shared) and then the named certificate rows, so a
//!   concurrent delete either sees the activation or makes the activation find nothing.

use orgcerts_core::audit;
use orgcerts_core::ids::{CertificateId, OrganizationId, ProjectId};
use orgcerts_core::model::{
    Actor, CertificateRecord, CertificateUpdate, NewCertificate, Scope, ScopedCertificate,
};
use orgcerts_core::page::{Page, PageRequest};
use orgcerts_core::{Error, echo};
use sqlx::{AssertSqlSafe, PgConnection};

use super::error::Attempt;
use super::{keys, keyset, keyset_position, overfetch, projects};

/// The columns [`record_from_row`] reads, in its order.
const COLUMNS: &str = "id, name, created_at, valid_at, expires_at, attribute_filter";

/// The row [`COLUMNS`] reads: id, name, created_at, valid_at, expires_at, attribute_filter.
type CertRow = (String, Option<String>, i64, i64, i64, Option<String>);
/// A [`CertRow`] with the DER, when asked for.
type CertRowWithDer = (
    String,
    Option<String>,
    i64,
    i64,
    i64,
    Option<String>,
    Option<Vec<u8>>,
);
/// A [`CertRow`] with `active` at the listed scope.
type ScopedRow = (String, Option<String>, i64, i64, i64, Option<String>, bool);

fn record_from_row(
    (id, name, created_at, valid_at, expires_at, attribute_filter): CertRow,
) -> CertificateRecord {
    CertificateRecord {
        id: CertificateId::from_stored(id),
        name,
        created_at,
        valid_at,
        expires_at,
        der: None,
        attribute_filter,
    }
}

fn not_found(id: &CertificateId) -> Error {
    Error::CertificateNotFound {
        id: echo(id.as_str()),
    }
}

pub(super) async fn insert(
    conn: &mut PgConnection,
    cert: &NewCertificate,
    max: u32,
    actor: &Actor,
) -> Attempt<CertificateRecord> {
    let org = &cert.organization_id;
    // The organization's row lock: held until commit, it makes this organization's inserts
    // (and the counter updates of its deletes) take turns.
    let count: Option<i32> =
        sqlx::query_scalar("SELECT certificate_count FROM organizations WHERE id = $1 FOR UPDATE")
            .bind(org.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    if count.is_none() {
        return Err(keys::organization_not_found(org).into());
    }
    // A duplicate is reported even when the organization is full: "already uploaded as X" is
    // the more useful answer to a repeated upload. This statement starts after the lock was
    // granted, so it sees every insert that held the lock before.
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT id FROM certificates \
         WHERE organization_id = $1 AND fingerprint = $2 AND deleted_at IS NULL",
    )
    .bind(org.as_str())
    .bind(cert.anchor.fingerprint.as_slice())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(existing_id) = existing {
        return Err(Error::CertificateAlreadyExists {
            existing_id: echo(&existing_id),
        }
        .into());
    }
    let counted = sqlx::query(
        "UPDATE organizations SET certificate_count = certificate_count + 1 \
         WHERE id = $1 AND certificate_count < $2",
    )
    .bind(org.as_str())
    .bind(i64::from(max))
    .execute(&mut *conn)
    .await?;
    if counted.rows_affected() == 0 {
        return Err(Error::CertificateLimitExceeded { max }.into());
    }
    // A unique violation on the live-fingerprint index cannot happen behind the lock above;
    // should it anyway, the transaction is retried and the retry names the winner.
    sqlx::query(
        "INSERT INTO certificates \
         (id, organization_id, name, created_at, valid_at, expires_at, fingerprint, der, \
          attribute_filter) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(cert.id.as_str())
    .bind(org.as_str())
    .bind(cert.name.as_deref())
    .bind(cert.created_at)
    .bind(cert.anchor.valid_at)
    .bind(cert.anchor.expires_at)
    .bind(cert.anchor.fingerprint.as_slice())
    .bind(cert.anchor.der.as_slice())
    .bind(cert.attribute_filter.as_deref())
    .execute(&mut *conn)
    .await?;
    let record = CertificateRecord {
        id: cert.id.clone(),
        name: cert.name.clone(),
        created_at: cert.created_at,
        valid_at: cert.anchor.valid_at,
        expires_at: cert.anchor.expires_at,
        der: None,
        attribute_filter: cert.attribute_filter.clone(),
    };
    super::audit::record(conn, &audit::certificate_created(org, actor, &record)).await?;
    Ok(record)
}

pub(super) async fn get(
    conn: &mut PgConnection,
    org: &OrganizationId,
    id: &CertificateId,
    with_der: bool,
) -> Attempt<Option<CertificateRecord>> {
    // Two statements rather than one with a flag, so that the DER is not read unless wanted.
    let der_column = if with_der { "der" } else { "NULL::bytea" };
    let row: Option<CertRowWithDer> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS}, {der_column} FROM certificates \
             WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL"
    )))
    .bind(id.as_str())
    .bind(org.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(
        |(id, name, created_at, valid_at, expires_at, filter, der)| CertificateRecord {
            der,
            ..record_from_row((id, name, created_at, valid_at, expires_at, filter))
        },
    ))
}

/// Sets the fields `update` names, each only when named (`CASE` on a flag per field), in one
/// statement.
pub(super) async fn update(
    conn: &mut PgConnection,
    org: &OrganizationId,
    id: &CertificateId,
    update: &CertificateUpdate,
    actor: &Actor,
) -> Attempt<CertificateRecord> {
    let row: Option<CertRow> = sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE certificates \
         SET name = CASE WHEN $3 THEN $4 ELSE name END, \
             attribute_filter = CASE WHEN $5 THEN $6 ELSE attribute_filter END \
         WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL \
         RETURNING {COLUMNS}"
    )))
    .bind(id.as_str())
    .bind(org.as_str())
    .bind(update.name.is_some())
    .bind(update.name.as_deref())
    .bind(update.attribute_filter.is_some())
    .bind(update.attribute_filter.clone().flatten())
    .fetch_optional(&mut *conn)
    .await?;
    let record = row.map(record_from_row).ok_or_else(|| not_found(id))?;
    super::audit::record(conn, &audit::certificate_updated(org, actor, &record)).await?;
    Ok(record)
}

pub(super) async fn delete(
    conn: &mut PgConnection,
    org: &OrganizationId,
    id: &CertificateId,
    actor: &Actor,
) -> Attempt<()> {
    let at = actor.at;
    // The row lock orders this delete against any activation naming the certificate: either
    // the activation committed first (and is seen below), or it waits and then finds the
    // certificate deleted.
    let active: Option<bool> = sqlx::query_scalar(
        "SELECT active FROM certificates \
         WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(id.as_str())
    .bind(org.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let in_use = match active {
        None => return Err(not_found(id).into()),
        Some(true) => true,
        // Archived projects count too: their activations are still recorded.
        Some(false) => {
            sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM project_certificates WHERE certificate_id = $1)",
            )
            .bind(id.as_str())
            .fetch_one(&mut *conn)
            .await?
        }
    };
    if in_use {
        return Err(Error::CertificateInUse {
            id: echo(id.as_str()),
        }
        .into());
    }
    // Read before the DER is dropped: the entry records the deleted anchor.
    let record = get(conn, org, id, true)
        .await?
        .ok_or_else(|| not_found(id))?;
    // The row stays, without its DER, so that `after=<this id>` keeps its position.
    sqlx::query(
        "UPDATE certificates SET deleted_at = $2, der = NULL, active = FALSE WHERE id = $1",
    )
    .bind(id.as_str())
    .bind(at)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE organizations SET certificate_count = certificate_count - 1 WHERE id = $1")
        .bind(org.as_str())
        .execute(&mut *conn)
        .await?;
    super::audit::record(conn, &audit::certificate_deleted(org, actor, &record)).await
}

/// `ProjectNotFound` unless the project is this organization's; `Some(archived_at)` otherwise.
/// With `lock`, the row is share-locked until commit, so that archiving waits for an
/// activation in progress.
async fn project_archived_at(
    conn: &mut PgConnection,
    org: &OrganizationId,
    project: &ProjectId,
    lock: bool,
) -> Attempt<Option<i64>> {
    let sql = if lock {
        "SELECT archived_at FROM projects WHERE id = $1 AND organization_id = $2 FOR SHARE"
    } else {
        "SELECT archived_at FROM projects WHERE id = $1 AND organization_id = $2"
    };
    let row: Option<(Option<i64>,)> = sqlx::query_as(sql)
        .bind(project.as_str())
        .bind(org.as_str())
        .fetch_optional(conn)
        .await?;
    row.map(|(archived_at,)| archived_at).ok_or_else(|| {
        Error::ProjectNotFound {
            id: echo(project.as_str()),
        }
        .into()
    })
}

/// The position `(created_at, seq)` of `after` among every certificate this organization ever
/// had, deleted ones included.
async fn cursor(conn: &mut PgConnection, org: &OrganizationId, after: &str) -> Attempt<(i64, i64)> {
    let position = keyset_position(conn, "certificates", "created_at", org, after).await?;
    position.ok_or_else(|| Error::UnknownCursor { value: echo(after) }.into())
}

/// One statement on `certificates_live_by_creation` for every page, however deep.
pub(super) fn list_sql(cmp: &str, dir: &str, scope: &Scope) -> String {
    // Project level: every live certificate of the organization, active when the project has
    // it (organization-level activation is not folded in; docs/contract.md, "Lists and
    // pagination").
    let active = match scope {
        Scope::Organization => "c.active",
        Scope::Project(_) => {
            "EXISTS (SELECT 1 FROM project_certificates pc \
             WHERE pc.project_id = $5 AND pc.certificate_id = c.id)"
        }
    };
    format!(
        "SELECT {COLUMNS}, {active} FROM certificates c \
         WHERE c.organization_id = $1 AND c.deleted_at IS NULL \
         AND (c.created_at, c.seq) {cmp} ($2, $3) \
         ORDER BY c.created_at {dir}, c.seq {dir} LIMIT $4"
    )
}

pub(super) async fn list(
    conn: &mut PgConnection,
    org: &OrganizationId,
    scope: &Scope,
    page: &PageRequest,
) -> Attempt<Page<ScopedCertificate>> {
    if let Scope::Project(project) = scope {
        project_archived_at(conn, org, project, false).await?;
    }
    let (cmp, dir, start) = keyset(page.order);
    // Positions never change once given, so the cursor and the page need no common snapshot.
    let (created_at, seq) = match &page.after {
        Some(after) => cursor(conn, org, after).await?,
        None => start,
    };
    let mut query = sqlx::query_as::<_, ScopedRow>(AssertSqlSafe(list_sql(cmp, dir, scope)))
        .bind(org.as_str())
        .bind(created_at)
        .bind(seq)
        .bind(overfetch(page));
    if let Scope::Project(project) = scope {
        query = query.bind(project.as_str());
    }
    let rows = query.fetch_all(conn).await?;
    let items = rows
        .into_iter()
        .map(
            |(id, name, created_at, valid_at, expires_at, filter, active)| ScopedCertificate {
                certificate: record_from_row((id, name, created_at, valid_at, expires_at, filter)),
                active,
            },
        )
        .collect();
    Ok(Page::from_overfetch(items, page.limit))
}

pub(super) async fn set_active(
    conn: &mut PgConnection,
    org: &OrganizationId,
    scope: &Scope,
    ids: &[CertificateId],
    active: bool,
    actor: &Actor,
) -> Attempt<Vec<ScopedCertificate>> {
    let at = actor.at;
    let project = match scope {
        Scope::Organization => None,
        Scope::Project(project) => {
            // Share-locked until commit, so that archiving waits for this activation.
            let record = projects::select_shared(conn, org, project)
                .await?
                .ok_or_else(|| Error::ProjectNotFound {
                    id: echo(project.as_str()),
                })?;
            // Deactivation stays allowed on an archived project, to clean up.
            if record.archived_at.is_some() && active {
                return Err(Error::ProjectArchived {
                    id: echo(project.as_str()),
                }
                .into());
            }
            Some(record)
        }
    };
    // Every id is checked, and locked in id order, before anything changes: one unknown id
    // and nothing does.
    let texts: Vec<&str> = ids.iter().map(CertificateId::as_str).collect();
    let rows: Vec<CertRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM certificates \
         WHERE organization_id = $1 AND id = ANY($2) AND deleted_at IS NULL \
         ORDER BY id FOR UPDATE"
    )))
    .bind(org.as_str())
    .bind(&texts)
    .fetch_all(&mut *conn)
    .await?;
    let found: Vec<CertificateRecord> = rows.into_iter().map(record_from_row).collect();
    let records = ids
        .iter()
        .map(|id| {
            found.iter().find(|r| &r.id == id).cloned().ok_or_else(|| {
                Error::UnknownCertificateInSet {
                    id: echo(id.as_str()),
                }
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    match (scope, active) {
        (Scope::Organization, _) => {
            sqlx::query("UPDATE certificates SET active = $2 WHERE id = ANY($1)")
                .bind(&texts)
                .bind(active)
                .execute(&mut *conn)
                .await?
        }
        // Re-activating keeps the first activation time.
        (Scope::Project(project), true) => {
            sqlx::query(
                "INSERT INTO project_certificates (project_id, certificate_id, activated_at) \
                 SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING",
            )
            .bind(project.as_str())
            .bind(&texts)
            .bind(at)
            .execute(&mut *conn)
            .await?
        }
        (Scope::Project(project), false) => {
            sqlx::query(
                "DELETE FROM project_certificates \
                 WHERE project_id = $1 AND certificate_id = ANY($2)",
            )
            .bind(project.as_str())
            .bind(&texts)
            .execute(&mut *conn)
            .await?
        }
    };
    let entry = audit::certificates_toggled(org, actor, project.as_ref(), &records, active);
    super::audit::record(conn, &entry).await?;
    Ok(records
        .into_iter()
        .map(|certificate| ScopedCertificate {
            certificate,
            active,
        })
        .collect())
}
