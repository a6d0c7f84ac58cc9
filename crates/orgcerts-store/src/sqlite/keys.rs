//! Organizations and admin keys.

use orgcerts_core::ids::{AdminKeyId, OrganizationId};
use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::{AdminKey, Organization};
use orgcerts_core::{Error, Result, echo};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqlResult;

const KEY_COLUMNS: &str =
    "id, organization_id, name, key_hash, redacted_value, created_at, revoked_at";

fn key_from_row(row: &Row<'_>) -> rusqlite::Result<AdminKey> {
    Ok(AdminKey {
        id: AdminKeyId::from_stored(row.get(0)?),
        organization_id: OrganizationId::from_stored(row.get(1)?),
        name: row.get(2)?,
        hash: KeyHash(row.get(3)?),
        redacted_value: row.get(4)?,
        created_at: row.get(5)?,
        revoked_at: row.get(6)?,
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
    insert_admin_key(conn, first_key)
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

pub(super) fn insert_admin_key(conn: &Connection, key: &AdminKey) -> Result<()> {
    require_organization(conn, &key.organization_id)?;
    conn.prepare_cached(
        "INSERT INTO admin_keys \
         (id, organization_id, name, key_hash, redacted_value, created_at, revoked_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
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
    ])
    .sql()?;
    Ok(())
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
    at: i64,
) -> Result<AdminKey> {
    conn.prepare_cached(&format!(
        "UPDATE admin_keys SET revoked_at = coalesce(revoked_at, ?3) \
         WHERE id = ?1 AND organization_id = ?2 RETURNING {KEY_COLUMNS}"
    ))
    .sql()?
    .query_row(params![id.as_str(), org.as_str(), at], key_from_row)
    .optional()
    .sql()?
    .ok_or_else(|| Error::AdminKeyNotFound {
        id: echo(id.as_str()),
    })
}
