//! Certificates: insert under the per-organization maximum, get, update, delete, list and
//! activation at organization or project level.

use orgcerts_core::audit;
use orgcerts_core::ids::{CertificateId, OrganizationId, ProjectId};
use orgcerts_core::model::{
    ActiveAnchor, Actor, CertificateRecord, CertificateUpdate, ExpiryCounts, NewCertificate, Scope,
    ScopedCertificate,
};
use orgcerts_core::page::{Page, PageRequest};
use orgcerts_core::{Error, Result, echo};
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};

use super::{SqlResult, keys, keyset, keyset_position, overfetch, projects};

/// The columns [`record_from_row`] reads, in its order.
const COLUMNS: &str = "id, name, created_at, valid_at, expires_at, attribute_filter";

fn record_from_row(row: &Row<'_>) -> rusqlite::Result<CertificateRecord> {
    Ok(CertificateRecord {
        id: CertificateId::from_stored(row.get(0)?),
        name: row.get(1)?,
        created_at: row.get(2)?,
        valid_at: row.get(3)?,
        expires_at: row.get(4)?,
        der: None,
        attribute_filter: row.get(5)?,
    })
}

fn not_found(id: &CertificateId) -> Error {
    Error::CertificateNotFound {
        id: echo(id.as_str()),
    }
}

/// The live certificate of this organization with this fingerprint, if any.
fn live_with_fingerprint(
    conn: &Connection,
    org: &OrganizationId,
    fingerprint: &[u8; 32],
) -> Result<Option<String>> {
    conn.prepare_cached(
        "SELECT id FROM certificates \
         WHERE organization_id = ?1 AND fingerprint = ?2 AND deleted_at IS NULL",
    )
    .sql()?
    .query_row(params![org.as_str(), fingerprint], |row| row.get(0))
    .optional()
    .sql()
}

fn already_exists(existing_id: &str) -> Error {
    Error::CertificateAlreadyExists {
        existing_id: echo(existing_id),
    }
}

/// Whether `err` is the live-fingerprint unique index refusing a row.
fn is_duplicate_fingerprint(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, Some(message))
            if e.code == ErrorCode::ConstraintViolation
                && message.contains("certificates.fingerprint")
    )
}

pub(super) fn insert(
    conn: &Connection,
    cert: &NewCertificate,
    max: u32,
    actor: &Actor,
) -> Result<CertificateRecord> {
    let org = &cert.organization_id;
    keys::require_organization(conn, org)?;
    // A duplicate is reported even when the organization is full: "already uploaded as X"
    // is the more useful answer to a repeated upload.
    if let Some(existing) = live_with_fingerprint(conn, org, &cert.anchor.fingerprint)? {
        return Err(already_exists(&existing));
    }
    // The maximum as one conditional update: the form that also holds under concurrent
    // transactions on engines with row locks.
    let counted = conn
        .prepare_cached(
            "UPDATE organizations SET certificate_count = certificate_count + 1 \
             WHERE id = ?1 AND certificate_count < ?2",
        )
        .sql()?
        .execute(params![org.as_str(), max])
        .sql()?;
    if counted == 0 {
        return Err(Error::CertificateLimitExceeded { max });
    }
    let inserted = conn
        .prepare_cached(
            "INSERT INTO certificates \
             (id, organization_id, name, created_at, valid_at, expires_at, fingerprint, der, \
              attribute_filter) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .sql()?
        .execute(params![
            cert.id.as_str(),
            org.as_str(),
            cert.name,
            cert.created_at,
            cert.anchor.valid_at,
            cert.anchor.expires_at,
            cert.anchor.fingerprint,
            cert.anchor.der,
            cert.attribute_filter,
        ]);
    match inserted {
        Ok(_) => {}
        Err(err) if is_duplicate_fingerprint(&err) => {
            // Unreachable while the check above runs in the same transaction; kept so that a
            // duplicate can never surface as a storage failure.
            let existing = live_with_fingerprint(conn, org, &cert.anchor.fingerprint)?;
            return Err(already_exists(existing.as_deref().unwrap_or_default()));
        }
        Err(err) => return Err(super::storage(err)),
    }
    let record = CertificateRecord {
        id: cert.id.clone(),
        name: cert.name.clone(),
        created_at: cert.created_at,
        valid_at: cert.anchor.valid_at,
        expires_at: cert.anchor.expires_at,
        der: None,
        attribute_filter: cert.attribute_filter.clone(),
    };
    super::audit::record(conn, &audit::certificate_created(org, actor, &record))?;
    Ok(record)
}

pub(super) fn get(
    conn: &Connection,
    org: &OrganizationId,
    id: &CertificateId,
    with_der: bool,
) -> Result<Option<CertificateRecord>> {
    // Two statements rather than one with a flag, so that the DER is not read unless wanted.
    let der_column = if with_der { "der" } else { "NULL" };
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, {der_column} FROM certificates \
         WHERE id = ?1 AND organization_id = ?2 AND deleted_at IS NULL"
    ))
    .sql()?
    .query_row(params![id.as_str(), org.as_str()], |row| {
        Ok(CertificateRecord {
            der: row.get(6)?,
            ..record_from_row(row)?
        })
    })
    .optional()
    .sql()
}

/// Sets the fields `update` names, each only when named (`CASE` on a flag per field), in one
/// statement.
pub(super) fn update(
    conn: &Connection,
    org: &OrganizationId,
    id: &CertificateId,
    update: &CertificateUpdate,
    actor: &Actor,
) -> Result<CertificateRecord> {
    let record = conn
        .prepare_cached(&format!(
            "UPDATE certificates \
             SET name = CASE WHEN ?3 THEN ?4 ELSE name END, \
                 attribute_filter = CASE WHEN ?5 THEN ?6 ELSE attribute_filter END \
             WHERE id = ?1 AND organization_id = ?2 AND deleted_at IS NULL \
             RETURNING {COLUMNS}"
        ))
        .sql()?
        .query_row(
            params![
                id.as_str(),
                org.as_str(),
                update.name.is_some(),
                update.name,
                update.attribute_filter.is_some(),
                update.attribute_filter.clone().flatten(),
            ],
            record_from_row,
        )
        .optional()
        .sql()?
        .ok_or_else(|| not_found(id))?;
    super::audit::record(conn, &audit::certificate_updated(org, actor, &record))?;
    Ok(record)
}

pub(super) fn delete(
    conn: &Connection,
    org: &OrganizationId,
    id: &CertificateId,
    actor: &Actor,
) -> Result<()> {
    let at = actor.at;
    let active: Option<bool> = conn
        .prepare_cached(
            "SELECT active FROM certificates \
             WHERE id = ?1 AND organization_id = ?2 AND deleted_at IS NULL",
        )
        .sql()?
        .query_row(params![id.as_str(), org.as_str()], |row| row.get(0))
        .optional()
        .sql()?;
    let in_use = match active {
        None => return Err(not_found(id)),
        Some(true) => true,
        // Archived projects count too: their activations are still recorded.
        Some(false) => conn
            .prepare_cached("SELECT 1 FROM project_certificates WHERE certificate_id = ?1")
            .sql()?
            .exists([id.as_str()])
            .sql()?,
    };
    if in_use {
        return Err(Error::CertificateInUse {
            id: echo(id.as_str()),
        });
    }
    // Read before the DER is dropped: the entry records the deleted anchor.
    let record = get(conn, org, id, true)?.ok_or_else(|| not_found(id))?;
    // The row stays, without its DER, so that `after=<this id>` keeps its position.
    conn.prepare_cached(
        "UPDATE certificates SET deleted_at = ?2, der = NULL, active = 0 WHERE id = ?1",
    )
    .sql()?
    .execute(params![id.as_str(), at])
    .sql()?;
    conn.prepare_cached(
        "UPDATE organizations SET certificate_count = certificate_count - 1 WHERE id = ?1",
    )
    .sql()?
    .execute([org.as_str()])
    .sql()?;
    super::audit::record(conn, &audit::certificate_deleted(org, actor, &record))
}

/// `ProjectNotFound` unless the project is this organization's; `Some(archived_at)` otherwise.
fn project_archived_at(
    conn: &Connection,
    org: &OrganizationId,
    project: &ProjectId,
) -> Result<Option<i64>> {
    conn.prepare_cached("SELECT archived_at FROM projects WHERE id = ?1 AND organization_id = ?2")
        .sql()?
        .query_row(params![project.as_str(), org.as_str()], |row| row.get(0))
        .optional()
        .sql()?
        .ok_or_else(|| Error::ProjectNotFound {
            id: echo(project.as_str()),
        })
}

/// The position `(created_at, seq)` of `after` among every certificate this organization ever
/// had, deleted ones included.
fn cursor(conn: &Connection, org: &OrganizationId, after: &str) -> Result<(i64, i64)> {
    keyset_position(conn, "certificates", ("created_at", "seq"), org, after)?
        .ok_or_else(|| Error::UnknownCursor { value: echo(after) })
}

/// Which rows of the list one statement reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slice {
    /// From the start of the list (no cursor).
    Start,
    /// The rows of the cursor's second that follow the cursor (`created_at = ?2`, `seq` past ?3).
    RestOfSecond,
    /// The rows of the seconds past the cursor's (`created_at` past ?2).
    LaterSeconds,
}

/// The statements of a page, each one index range scan on `certificates_live_by_creation`
/// without a sort step, so that the cost of a page does not grow with its depth. A page after
/// a cursor takes two: SQLite seeks on `created_at` alone for a row-value range such as
/// `(created_at, seq) < (?2, ?3)` (`seq` is the rowid), and would step one by one over every
/// row sharing the cursor's second, thousands when certificates arrive in bulk, whereas
/// `created_at = ?2 AND seq < ?3` seeks on both.
pub(super) fn list_sql(cmp: &str, dir: &str, scope: &Scope, slice: Slice) -> String {
    // Project level: every live certificate of the organization, active when the project has
    // it (organization-level activation is not folded in; docs/contract.md, "Lists and
    // pagination").
    let active = match scope {
        Scope::Organization => "c.active",
        Scope::Project(_) => {
            "EXISTS (SELECT 1 FROM project_certificates pc \
             WHERE pc.project_id = ?5 AND pc.certificate_id = c.id)"
        }
    };
    // Every statement is bound ?1 to ?4 (and ?5); SQLite accepts values for numbered
    // parameters that a statement does not mention, below its highest one (?4).
    let range = match slice {
        Slice::Start => String::new(),
        Slice::RestOfSecond => format!("AND c.created_at = ?2 AND c.seq {cmp} ?3"),
        Slice::LaterSeconds => format!("AND c.created_at {cmp} ?2"),
    };
    format!(
        "SELECT {COLUMNS}, {active} FROM certificates c \
         WHERE c.organization_id = ?1 AND c.deleted_at IS NULL {range} \
         ORDER BY c.created_at {dir}, c.seq {dir} LIMIT ?4"
    )
}

pub(super) fn list(
    conn: &Connection,
    org: &OrganizationId,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Page<ScopedCertificate>> {
    if let Scope::Project(project) = scope {
        project_archived_at(conn, org, project)?;
    }
    let (cmp, dir, _) = keyset(page.order);
    let (slices, (created_at, seq)): (&[Slice], _) = match &page.after {
        Some(after) => (
            &[Slice::RestOfSecond, Slice::LaterSeconds],
            cursor(conn, org, after)?,
        ),
        None => (&[Slice::Start], (0, 0)),
    };
    let wanted = overfetch(page);
    let mut rows = Vec::new();
    for &slice in slices {
        let left = wanted - i64::try_from(rows.len()).unwrap_or(wanted);
        if left <= 0 {
            break;
        }
        let mut statement = conn
            .prepare_cached(&list_sql(cmp, dir, scope, slice))
            .sql()?;
        let to_scoped = |row: &Row<'_>| {
            Ok(ScopedCertificate {
                certificate: record_from_row(row)?,
                active: row.get(6)?,
            })
        };
        let found = match scope {
            Scope::Organization => statement
                .query_map(params![org.as_str(), created_at, seq, left], to_scoped)
                .sql()?
                .collect::<rusqlite::Result<Vec<_>>>(),
            Scope::Project(project) => statement
                .query_map(
                    params![org.as_str(), created_at, seq, left, project.as_str()],
                    to_scoped,
                )
                .sql()?
                .collect::<rusqlite::Result<Vec<_>>>(),
        }
        .sql()?;
        rows.extend(found);
    }
    Ok(Page::from_overfetch(rows, page.limit))
}

pub(super) fn set_active(
    conn: &Connection,
    org: &OrganizationId,
    scope: &Scope,
    ids: &[CertificateId],
    active: bool,
    actor: &Actor,
) -> Result<Vec<ScopedCertificate>> {
    let at = actor.at;
    let project = match scope {
        Scope::Organization => None,
        Scope::Project(project) => {
            let record =
                projects::get(conn, org, project)?.ok_or_else(|| Error::ProjectNotFound {
                    id: echo(project.as_str()),
                })?;
            // Deactivation stays allowed on an archived project, to clean up.
            if record.archived_at.is_some() && active {
                return Err(Error::ProjectArchived {
                    id: echo(project.as_str()),
                });
            }
            Some(record)
        }
    };
    // Every id is checked before anything changes: one unknown id and nothing does.
    let mut records = Vec::with_capacity(ids.len());
    for id in ids {
        let record = get(conn, org, id, false)?.ok_or_else(|| Error::UnknownCertificateInSet {
            id: echo(id.as_str()),
        })?;
        records.push(record);
    }
    for id in ids {
        match (scope, active) {
            (Scope::Organization, _) => conn
                .prepare_cached("UPDATE certificates SET active = ?2 WHERE id = ?1")
                .sql()?
                .execute(params![id.as_str(), active]),
            // Re-activating keeps the first activation time.
            (Scope::Project(project), true) => conn
                .prepare_cached(
                    "INSERT INTO project_certificates (project_id, certificate_id, activated_at) \
                     VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                )
                .sql()?
                .execute(params![project.as_str(), id.as_str(), at]),
            (Scope::Project(project), false) => conn
                .prepare_cached(
                    "DELETE FROM project_certificates \
                     WHERE project_id = ?1 AND certificate_id = ?2",
                )
                .sql()?
                .execute(params![project.as_str(), id.as_str()]),
        }
        .sql()?;
    }
    let entry = audit::certificates_toggled(org, actor, project.as_ref(), &records, active);
    super::audit::record(conn, &entry)?;
    Ok(records
        .into_iter()
        .map(|certificate| ScopedCertificate {
            certificate,
            active,
        })
        .collect())
}

/// Every activation of a live certificate, in all organizations, for the mTLS gateway: one row
/// per organization-level activation (`certificates.active`) and one per row of
/// `project_certificates`, archived projects included, ordered by organization, certificate,
/// then project (NULL, the organization scope, first); ids compare bytewise (BINARY). A
/// project activation counts only with its project in the certificate's organization, which
/// activation guarantees; the join keeps it so should a row ever say otherwise.
pub(super) fn active_anchors(conn: &Connection) -> Result<Vec<ActiveAnchor>> {
    conn.prepare_cached(
        "SELECT c.organization_id, c.id, NULL AS project_id, c.der, c.expires_at, \
                c.attribute_filter \
           FROM certificates c \
          WHERE c.active = 1 AND c.deleted_at IS NULL \
         UNION ALL \
         SELECT c.organization_id, c.id, pc.project_id, c.der, c.expires_at, \
                c.attribute_filter \
           FROM project_certificates pc \
           JOIN certificates c ON c.id = pc.certificate_id \
           JOIN projects p ON p.id = pc.project_id AND p.organization_id = c.organization_id \
          WHERE c.deleted_at IS NULL \
         ORDER BY 1, 2, 3 NULLS FIRST",
    )
    .sql()?
    .query_map([], |row| {
        let project: Option<String> = row.get(2)?;
        Ok(ActiveAnchor {
            organization_id: OrganizationId::from_stored(row.get(0)?),
            certificate_id: CertificateId::from_stored(row.get(1)?),
            scope: project.map_or(Scope::Organization, |id| {
                Scope::Project(ProjectId::from_stored(id))
            }),
            der: row.get(3)?,
            expires_at: row.get(4)?,
            attribute_filter: row.get(5)?,
        })
    })
    .sql()?
    .collect::<rusqlite::Result<_>>()
    .sql()
}

/// Live certificates of every organization by time left before expiry; one pass over them.
pub(super) fn expiry_counts(conn: &Connection, now: i64) -> Result<ExpiryCounts> {
    let [d7, d30, d90] = ExpiryCounts::WINDOWS;
    // Four ranges of `certificates_live_by_expiry`, and the rest from the organizations'
    // maintained counts of live certificates: no certificate row is read.
    let mut stmt = conn
        .prepare_cached(
            "SELECT
                 (SELECT COUNT(*) FROM certificates
                   WHERE deleted_at IS NULL AND expires_at <= ?1),
                 (SELECT COUNT(*) FROM certificates
                   WHERE deleted_at IS NULL AND expires_at > ?1 AND expires_at <= ?1 + ?2),
                 (SELECT COUNT(*) FROM certificates
                   WHERE deleted_at IS NULL AND expires_at > ?1 + ?2 AND expires_at <= ?1 + ?3),
                 (SELECT COUNT(*) FROM certificates
                   WHERE deleted_at IS NULL AND expires_at > ?1 + ?3 AND expires_at <= ?1 + ?4),
                 (SELECT COALESCE(SUM(certificate_count), 0) FROM organizations)",
        )
        .sql()?;
    stmt.query_row(params![now, d7, d30, d90], |row| {
        let count = |i| row.get::<_, i64>(i).map(|n| u64::try_from(n).unwrap_or(0));
        Ok(ExpiryCounts {
            expired: count(0)?,
            within_7_days: count(1)?,
            within_30_days: count(2)?,
            within_90_days: count(3)?,
            later: 0,
        }
        .with_live_total(count(4)?))
    })
    .sql()
}
