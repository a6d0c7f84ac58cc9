//! Reads over every organization's certificates: the active anchors the mTLS gateway builds
//! its trust from, and the expiry counts of the operator metrics.

use orgcerts_core::ids::{CertificateId, OrganizationId, ProjectId};
use orgcerts_core::model::{ActiveAnchor, ExpiryCounts, Scope};
use sqlx::PgConnection;

use super::error::Attempt;

/// An activation as [`active_anchors`] reads it: organization, certificate, project (NULL at
/// organization level), DER, notAfter and attribute filter.
type AnchorRow = (String, String, Option<String>, Vec<u8>, i64, Option<String>);

/// Every activation of a live certificate, in all organizations, for the mTLS gateway: one row
/// per organization-level activation (`certificates.active`) and one per row of
/// `project_certificates`, archived projects included, ordered by organization, certificate,
/// then project (NULL, the organization scope, first). Ids compare bytewise (`COLLATE "C"`),
/// as on SQLite, whatever the database's collation. A project activation counts only with its
/// project in the certificate's organization, which activation guarantees; the join keeps it
/// so should a row ever say otherwise.
pub(super) async fn active_anchors(conn: &mut PgConnection) -> Attempt<Vec<ActiveAnchor>> {
    let rows: Vec<AnchorRow> = sqlx::query_as(
        "SELECT organization_id, certificate_id, project_id, der, expires_at, \
                attribute_filter FROM ( \
             SELECT c.organization_id, c.id AS certificate_id, NULL::text AS project_id, \
                    c.der, c.expires_at, c.attribute_filter \
               FROM certificates c \
              WHERE c.active AND c.deleted_at IS NULL \
             UNION ALL \
             SELECT c.organization_id, c.id, pc.project_id, c.der, c.expires_at, \
                    c.attribute_filter \
               FROM project_certificates pc \
               JOIN certificates c ON c.id = pc.certificate_id \
               JOIN projects p \
                 ON p.id = pc.project_id AND p.organization_id = c.organization_id \
              WHERE c.deleted_at IS NULL \
         ) a \
         ORDER BY organization_id COLLATE \"C\", certificate_id COLLATE \"C\", \
                  project_id COLLATE \"C\" NULLS FIRST",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(org, id, project, der, expires_at, attribute_filter)| ActiveAnchor {
                certificate_id: CertificateId::from_stored(id),
                organization_id: OrganizationId::from_stored(org),
                scope: project.map_or(Scope::Organization, |id| {
                    Scope::Project(ProjectId::from_stored(id))
                }),
                der,
                expires_at,
                attribute_filter,
            },
        )
        .collect())
}

/// Live certificates of every organization by time left before expiry: four ranges of
/// `certificates_live_by_expiry`, and the rest from the organizations' maintained counts of
/// live certificates, so that no certificate row is read.
pub(super) async fn expiry_counts(conn: &mut PgConnection, now: i64) -> Attempt<ExpiryCounts> {
    let [d7, d30, d90] = ExpiryCounts::WINDOWS;
    let row: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT
             (SELECT COUNT(*) FROM certificates
               WHERE deleted_at IS NULL AND expires_at <= $1),
             (SELECT COUNT(*) FROM certificates
               WHERE deleted_at IS NULL AND expires_at > $1 AND expires_at <= $1 + $2),
             (SELECT COUNT(*) FROM certificates
               WHERE deleted_at IS NULL AND expires_at > $1 + $2 AND expires_at <= $1 + $3),
             (SELECT COUNT(*) FROM certificates
               WHERE deleted_at IS NULL AND expires_at > $1 + $3 AND expires_at <= $1 + $4),
             (SELECT COALESCE(SUM(certificate_count), 0)::BIGINT FROM organizations)",
    )
    .bind(now)
    .bind(d7)
    .bind(d30)
    .bind(d90)
    .fetch_one(conn)
    .await?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(ExpiryCounts {
        expired: count(row.0),
        within_7_days: count(row.1),
        within_30_days: count(row.2),
        within_90_days: count(row.3),
        later: 0,
    }
    .with_live_total(count(row.4)))
}
