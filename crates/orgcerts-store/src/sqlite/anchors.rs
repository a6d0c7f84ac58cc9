//! Reads over every organization's certificates: the active anchors the mTLS gateway builds
//! its trust from, and the expiry counts of the operator metrics.

use orgcerts_core::Result;
use orgcerts_core::ids::{CertificateId, OrganizationId, ProjectId};
use orgcerts_core::model::{ActiveAnchor, ExpiryCounts, Scope};
use rusqlite::{Connection, params};

use super::SqlResult;

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
