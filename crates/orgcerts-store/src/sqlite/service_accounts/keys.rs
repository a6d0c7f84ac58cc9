//! The keys of service accounts (a project's API keys), each listed with its owner.

use orgcerts_core::audit;
use orgcerts_core::ids::{OrganizationId, ProjectApiKeyId, ProjectId, ServiceAccountId};
use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::{
    Actor, OwnerAccess, ProjectApiKeyRecord, ProjectRecord, ServiceAccountKey,
    ServiceAccountKeyGrant, ServiceAccountRecord,
};
use orgcerts_core::page::{Page, PageRequest};
use orgcerts_core::{Error, Result, echo};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::super::{SqlResult, keyset, overfetch};
use super::{position, role};

/// A key joined with its owner and the owner's access, as [`record_from_row`] reads it.
const COLUMNS: &str = "k.id, k.organization_id, k.project_id, k.service_account_id, k.name, \
     k.key_hash, k.redacted_value, k.created_at, k.last_used_at, a.name, a.role, a.created_at, \
     (a.role <> 'none' AND p.archived_at IS NULL)";

const FROM: &str = "service_account_keys k \
     JOIN service_accounts a ON a.id = k.service_account_id \
     JOIN projects p ON p.id = k.project_id";

type KeyRow = (
    (
        String,
        String,
        String,
        String,
        String,
        [u8; 32],
        String,
        i64,
    ),
    Option<i64>,
    (String, String, i64, bool),
);

fn key_row(row: &Row<'_>) -> rusqlite::Result<KeyRow> {
    Ok((
        (
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
            row.get(5)?,
            row.get(6)?,
            row.get(7)?,
        ),
        row.get(8)?,
        (row.get(9)?, row.get(10)?, row.get(11)?, row.get(12)?),
    ))
}

fn record_from_row(row: KeyRow) -> Result<ProjectApiKeyRecord> {
    let (
        (id, org, project, account, name, hash, redacted_value, created_at),
        last_used_at,
        (owner_name, owner_role, owner_created_at, owner_has_access),
    ) = row;
    let key = ServiceAccountKey {
        id: ProjectApiKeyId::from_stored(id),
        organization_id: OrganizationId::from_stored(org),
        project_id: ProjectId::from_stored(project),
        service_account_id: ServiceAccountId::from_stored(account),
        name,
        hash: KeyHash(hash),
        redacted_value,
        created_at,
        last_used_at,
    };
    let owner = ServiceAccountRecord {
        id: key.service_account_id.clone(),
        organization_id: key.organization_id.clone(),
        project_id: key.project_id.clone(),
        name: owner_name,
        role: role(&owner_role)?,
        created_at: owner_created_at,
    };
    Ok(ProjectApiKeyRecord {
        key,
        owner,
        owner_has_access,
    })
}

/// Inserts a key of a live account of `project`, recording `api_key.created`.
pub(super) fn insert(
    conn: &Connection,
    project: &ProjectRecord,
    key: &ServiceAccountKey,
    actor: &Actor,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO service_account_keys (id, organization_id, project_id, service_account_id, \
         name, key_hash, redacted_value, created_at, last_used_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .sql()?
    .execute(params![
        key.id.as_str(),
        key.organization_id.as_str(),
        key.project_id.as_str(),
        key.service_account_id.as_str(),
        key.name,
        key.hash.0,
        key.redacted_value,
        key.created_at,
        key.last_used_at,
    ])
    .sql()?;
    let entry = audit::service_account_key_created(actor, project, key);
    super::super::audit::record(conn, &entry)
}

pub(super) fn get(
    conn: &Connection,
    org: &OrganizationId,
    project: &ProjectId,
    id: &ProjectApiKeyId,
) -> Result<Option<ProjectApiKeyRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM {FROM} \
         WHERE k.id = ?1 AND k.project_id = ?2 AND k.organization_id = ?3 \
         AND k.deleted_at IS NULL"
    ))
    .sql()?
    .query_row(
        params![id.as_str(), project.as_str(), org.as_str()],
        key_row,
    )
    .optional()
    .sql()?
    .map(record_from_row)
    .transpose()
}

pub(super) fn list(
    conn: &Connection,
    org: &OrganizationId,
    project: &ProjectId,
    page: &PageRequest,
    access: OwnerAccess,
) -> Result<Page<ProjectApiKeyRecord>> {
    let (cmp, dir, start) = keyset(page.order);
    let (created_at, seq) = match &page.after {
        None => start,
        Some(after) => position(conn, "service_account_keys", org, project, after)?
            .ok_or_else(|| Error::UnknownCursor { value: echo(after) })?,
    };
    let wanted: Option<bool> = match access {
        OwnerAccess::Any => None,
        OwnerAccess::Active => Some(true),
        OwnerAccess::Inactive => Some(false),
    };
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM {FROM} \
             WHERE k.project_id = ?1 AND k.organization_id = ?2 AND k.deleted_at IS NULL \
             AND (?6 IS NULL OR (a.role <> 'none' AND p.archived_at IS NULL) = ?6) \
             AND (k.created_at, k.seq) {cmp} (?3, ?4) \
             ORDER BY k.created_at {dir}, k.seq {dir} LIMIT ?5"
        ))
        .sql()?
        .query_map(
            params![
                project.as_str(),
                org.as_str(),
                created_at,
                seq,
                overfetch(page),
                wanted
            ],
            key_row,
        )
        .sql()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .sql()?;
    let rows = rows
        .into_iter()
        .map(record_from_row)
        .collect::<Result<_>>()?;
    Ok(Page::from_overfetch(rows, page.limit))
}

/// Deletes a live key of `project`, recording `api_key.deleted`.
pub(super) fn delete(
    conn: &Connection,
    project: &ProjectRecord,
    org: &OrganizationId,
    id: &ProjectApiKeyId,
    actor: &Actor,
) -> Result<()> {
    let found = get(conn, org, &project.id, id)?.ok_or_else(|| Error::ProjectApiKeyNotFound {
        id: echo(id.as_str()),
    })?;
    conn.prepare_cached("UPDATE service_account_keys SET deleted_at = ?2 WHERE id = ?1")
        .sql()?
        .execute(params![id.as_str(), actor.at])
        .sql()?;
    let entry =
        audit::service_account_key_deleted(org, actor, project, id, &found.key.service_account_id);
    super::super::audit::record(conn, &entry)
}

/// Moves each live key's `last_used_at` to the given time unless it is later already.
pub(super) fn record_use(conn: &Connection, uses: &[(ProjectApiKeyId, i64)]) -> Result<()> {
    let mut update = conn
        .prepare_cached(
            "UPDATE service_account_keys SET last_used_at = max(coalesce(last_used_at, ?2), ?2) \
             WHERE id = ?1 AND deleted_at IS NULL",
        )
        .sql()?;
    for (id, at) in uses {
        update.execute(params![id.as_str(), at]).sql()?;
    }
    Ok(())
}

pub(super) fn grant_by_hash(
    conn: &Connection,
    hash: &KeyHash,
) -> Result<Option<ServiceAccountKeyGrant>> {
    conn.prepare_cached(
        "SELECT k.organization_id, k.project_id, k.service_account_id, k.id, k.key_hash, \
         p.archived_at IS NOT NULL \
         FROM service_account_keys k JOIN projects p ON p.id = k.project_id \
         WHERE k.key_hash = ?1 AND k.deleted_at IS NULL",
    )
    .sql()?
    .query_row([hash.0], |row| {
        Ok(ServiceAccountKeyGrant {
            organization_id: OrganizationId::from_stored(row.get(0)?),
            project_id: ProjectId::from_stored(row.get(1)?),
            service_account_id: ServiceAccountId::from_stored(row.get(2)?),
            key_id: ProjectApiKeyId::from_stored(row.get(3)?),
            hash: KeyHash(row.get(4)?),
            project_archived: row.get(5)?,
        })
    })
    .optional()
    .sql()
}
