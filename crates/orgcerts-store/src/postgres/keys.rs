//! Organizations and admin keys.

use orgcerts_core::ids::{AdminKeyId, OrganizationId};
use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::{AdminKey, Organization};
use orgcerts_core::{Error, echo};
use sqlx::PgConnection;

use super::error::Attempt;
use super::storage;

const KEY_COLUMNS: &str =
    "id, organization_id, name, key_hash, redacted_value, created_at, revoked_at";

type KeyRow = (String, String, String, Vec<u8>, String, i64, Option<i64>);

fn key_from_row(row: KeyRow) -> Attempt<AdminKey> {
    let (id, organization_id, name, hash, redacted_value, created_at, revoked_at) = row;
    let hash: [u8; 32] = hash
        .try_into()
        .map_err(|_| storage("an admin key hash is not 32 bytes long"))?;
    Ok(AdminKey {
        id: AdminKeyId::from_stored(id),
        organization_id: OrganizationId::from_stored(organization_id),
        name,
        hash: KeyHash(hash),
        redacted_value,
        created_at,
        revoked_at,
    })
}

pub(super) fn organization_not_found(org: &OrganizationId) -> Error {
    Error::OrganizationNotFound {
        id: echo(org.as_str()),
    }
}

/// `OrganizationNotFound` unless the organization exists.
pub(super) async fn require_organization(
    conn: &mut PgConnection,
    org: &OrganizationId,
) -> Attempt<()> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM organizations WHERE id = $1")
        .bind(org.as_str())
        .fetch_optional(conn)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(organization_not_found(org).into()),
    }
}

pub(super) async fn create_organization(
    conn: &mut PgConnection,
    org: &Organization,
    first_key: &AdminKey,
) -> Attempt<()> {
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(org.id.as_str())
        .bind(&org.name)
        .bind(org.created_at)
        .execute(&mut *conn)
        .await?;
    insert_admin_key(conn, first_key).await
}

pub(super) async fn list_organizations(conn: &mut PgConnection) -> Attempt<Vec<Organization>> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT id, name, created_at FROM organizations ORDER BY created_at, seq")
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, created_at)| Organization {
            id: OrganizationId::from_stored(id),
            name,
            created_at,
        })
        .collect())
}

pub(super) async fn insert_admin_key(conn: &mut PgConnection, key: &AdminKey) -> Attempt<()> {
    require_organization(conn, &key.organization_id).await?;
    sqlx::query(
        "INSERT INTO admin_keys \
         (id, organization_id, name, key_hash, redacted_value, created_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(key.id.as_str())
    .bind(key.organization_id.as_str())
    .bind(&key.name)
    .bind(key.hash.0.as_slice())
    .bind(&key.redacted_value)
    .bind(key.created_at)
    .bind(key.revoked_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn admin_key_by_hash(
    conn: &mut PgConnection,
    hash: &KeyHash,
) -> Attempt<Option<AdminKey>> {
    let row: Option<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM admin_keys WHERE key_hash = $1"
    )))
    .bind(hash.0.as_slice())
    .fetch_optional(conn)
    .await?;
    row.map(key_from_row).transpose()
}

pub(super) async fn list_admin_keys(
    conn: &mut PgConnection,
    org: &OrganizationId,
) -> Attempt<Vec<AdminKey>> {
    require_organization(conn, org).await?;
    let rows: Vec<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM admin_keys WHERE organization_id = $1 \
         ORDER BY created_at, seq"
    )))
    .bind(org.as_str())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(key_from_row).collect()
}

pub(super) async fn revoke_admin_key(
    conn: &mut PgConnection,
    org: &OrganizationId,
    id: &AdminKeyId,
    at: i64,
) -> Attempt<AdminKey> {
    // One statement: revoking twice, even concurrently, keeps the first time.
    let row: Option<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE admin_keys SET revoked_at = coalesce(revoked_at, $3) \
         WHERE id = $1 AND organization_id = $2 RETURNING {KEY_COLUMNS}"
    )))
    .bind(id.as_str())
    .bind(org.as_str())
    .bind(at)
    .fetch_optional(conn)
    .await?;
    match row {
        Some(row) => key_from_row(row),
        None => Err(Error::AdminKeyNotFound {
            id: echo(id.as_str()),
        }
        .into()),
    }
}
