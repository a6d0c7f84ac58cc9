//! Organizations and admin keys.

use orgcerts_core::audit;
use orgcerts_core::ids::{AdminKeyId, OrganizationId};
use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::{Actor, AdminKey, Organization};
use orgcerts_core::page::{Page, PageRequest};
use orgcerts_core::{Error, Result, echo};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqlResult, keyset, keyset_position, overfetch};

const KEY_COLUMNS: &str = "id, organization_id, name, key_hash, redacted_value, created_at, \
     revoked_at, expires_at, last_used_at";

fn key_from_row(row: &Row<'_>) -> rusqlite::Result<AdminKey> {
    Ok(AdminKey {
        id: AdminKeyId::from_stored(row.get(0)?),
        organization_id: OrganizationId::from_stored(row.get(1)?),
        name: row.get(2)?,
        hash: KeyHash(row.get(3)?),
        redacted_value: row.get(4)?,
        created_at: row.get(5)?,
        revoked_at: row.get(6)?,
        expires_at: row.get(7)?,
        last_used_at: row.get(8)?,
    })
}

/// `OrganizationNotFound` unless the organization exists.
pub(super) fn require_organization(conn: &Connection, org: &OrganizationId) -> Result<()> {
    let found = conn
        .prepare_cached("SELECT 1 FROM organizations WHERE id = ?1")
        .sql()?
        .exists([org.as_str()])
        .sql()?;
    if found {
        Ok(())
    } else {
        Err(Error::OrganizationNotFound {
            id: echo(org.as_str()),
        })
    }
}

pub(super) fn create_organization(
    conn: &Connection,
    org: &Organization,
    first_key: &AdminKey,
) -> Result<()> {
    conn.prepare_cached("INSERT INTO organizations (id, name, created_at) VALUES (?1, ?2, ?3)")
        .sql()?
        .execute(params![org.id.as_str(), org.name, org.created_at])
        .sql()?;
    insert_admin_key(conn, first_key, &Actor::operator(org.created_at))
}

/// `create_organization` on a database without organizations; whether it did. The caller's
/// write transaction (`BEGIN IMMEDIATE`) holds the database's write lock across the check and
/// the insert, against other processes too.
pub(super) fn create_first_organization(
    conn: &Connection,
    org: &Organization,
    first_key: &AdminKey,
) -> Result<bool> {
    let any: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM organizations)")
        .sql()?
        .query_row([], |row| row.get(0))
        .sql()?;
    if any {
        return Ok(false);
    }
    create_organization(conn, org, first_key)?;
    Ok(true)
}

pub(super) fn organization(
    conn: &Connection,
    org: &OrganizationId,
) -> Result<Option<Organization>> {
    conn.prepare_cached("SELECT id, name, created_at FROM organizations WHERE id = ?1")
        .sql()?
        .query_row([org.as_str()], |row| {
            Ok(Organization {
                id: OrganizationId::from_stored(row.get(0)?),
                name: row.get(1)?,
                created_at: row.get(2)?,
            })
        })
        .optional()
        .sql()
}

pub(super) fn admin_key(
    conn: &Connection,
    org: &OrganizationId,
    id: &AdminKeyId,
) -> Result<Option<AdminKey>> {
    conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM admin_keys WHERE id = ?1 AND organization_id = ?2"
    ))
    .sql()?
    .query_row(params![id.as_str(), org.as_str()], key_from_row)
    .optional()
    .sql()
}

pub(super) fn list_live_admin_keys(
    conn: &Connection,
    org: &OrganizationId,
    page: &PageRequest,
) -> Result<Page<AdminKey>> {
    let (cmp, dir, start) = keyset(page.order);
    // The cursor may name a deleted key: its position is kept.
    let (created_at, seq) = match &page.after {
        None => start,
        Some(after) => keyset_position(conn, "admin_keys", ("created_at", "rowid"), org, after)?
            .ok_or_else(|| Error::UnknownCursor { value: echo(after) })?,
    };
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {KEY_COLUMNS} FROM admin_keys \
             WHERE organization_id = ?1 AND revoked_at IS NULL \
             AND (created_at, rowid) {cmp} (?2, ?3) \
             ORDER BY created_at {dir}, rowid {dir} LIMIT ?4"
        ))
        .sql()?
        .query_map(
            params![org.as_str(), created_at, seq, overfetch(page)],
            key_from_row,
        )
        .sql()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .sql()?;
    Ok(Page::from_overfetch(rows, page.limit))
}

pub(super) fn record_use(conn: &Connection, uses: &[(AdminKeyId, i64)]) -> Result<()> {
    let mut update = conn
        .prepare_cached(
            "UPDATE admin_keys SET last_used_at = max(coalesce(last_used_at, ?2), ?2) \
             WHERE id = ?1",
        )
        .sql()?;
    for (id, at) in uses {
        update.execute(params![id.as_str(), at]).sql()?;
    }
    Ok(())
}

pub(super) fn has_organizations(conn: &Connection) -> Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM organizations)")
        .sql()?
        .query_row([], |row| row.get(0))
        .sql()
}

pub(super) fn list_organizations(conn: &Connection) -> Result<Vec<Organization>> {
    conn.prepare_cached("SELECT id, name, created_at FROM organizations ORDER BY created_at, rowid")
        .sql()?
        .query_map([], |row| {
            Ok(Organization {
                id: OrganizationId::from_stored(row.get(0)?),
                name: row.get(1)?,
                created_at: row.get(2)?,
            })
        })
        .sql()?
        .collect::<rusqlite::Result<_>>()
        .sql()
}

pub(super) fn insert_admin_key(conn: &Connection, key: &AdminKey, actor: &Actor) -> Result<()> {
    require_organization(conn, &key.organization_id)?;
    conn.prepare_cached(
        "INSERT INTO admin_keys \
         (id, organization_id, name, key_hash, redacted_value, created_at, revoked_at, \
          expires_at, last_used_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .sql()?
    .execute(params![
        key.id.as_str(),
        key.organization_id.as_str(),
        key.name,
        key.hash.0,
        key.redacted_value,
        key.created_at,
        key.revoked_at,
        key.expires_at,
        key.last_used_at,
    ])
    .sql()?;
    super::audit::record(conn, &audit::admin_key_created(actor, key))
}

pub(super) fn admin_key_by_hash(conn: &Connection, hash: &KeyHash) -> Result<Option<AdminKey>> {
    conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM admin_keys WHERE key_hash = ?1"
    ))
    .sql()?
    .query_row([hash.0], key_from_row)
    .optional()
    .sql()
}

pub(super) fn list_admin_keys(conn: &Connection, org: &OrganizationId) -> Result<Vec<AdminKey>> {
    require_organization(conn, org)?;
    conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM admin_keys WHERE organization_id = ?1 \
         ORDER BY created_at, rowid"
    ))
    .sql()?
    .query_map([org.as_str()], key_from_row)
    .sql()?
    .collect::<rusqlite::Result<_>>()
    .sql()
}

pub(super) fn revoke_admin_key(
    conn: &Connection,
    org: &OrganizationId,
    id: &AdminKeyId,
    actor: &Actor,
) -> Result<AdminKey> {
    let revoked = conn
        .prepare_cached(&format!(
            "UPDATE admin_keys SET revoked_at = ?3 \
             WHERE id = ?1 AND organization_id = ?2 AND revoked_at IS NULL \
             RETURNING {KEY_COLUMNS}"
        ))
        .sql()?
        .query_row(params![id.as_str(), org.as_str(), actor.at], key_from_row)
        .optional()
        .sql()?;
    if let Some(key) = revoked {
        super::audit::record(conn, &audit::admin_key_deleted(org, actor, id))?;
        return Ok(key);
    }
    // Revoked before: the first time stays, and nothing new is recorded.
    admin_key(conn, org, id)?.ok_or_else(|| Error::AdminKeyNotFound {
        id: echo(id.as_str()),
    })
}
