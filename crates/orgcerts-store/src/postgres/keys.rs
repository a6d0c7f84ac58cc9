//! Organizations and admin keys.

use orgcerts_core::audit;
use orgcerts_core::ids::{AdminKeyId, OrganizationId};
use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::{Actor, AdminKey, Organization};
use orgcerts_core::page::{Page, PageRequest};
use orgcerts_core::{Error, echo};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, FromRow, PgConnection, Row};

use super::error::{Attempt, Failure};
use super::{keyset, keyset_position, overfetch, storage};

const KEY_COLUMNS: &str = "id, organization_id, name, key_hash, redacted_value, created_at, \
     revoked_at, expires_at, last_used_at";

type KeyRow = (
    String,
    String,
    String,
    Vec<u8>,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn key_from_row(row: KeyRow) -> Attempt<AdminKey> {
    let (
        id,
        organization_id,
        name,
        hash,
        redacted_value,
        created_at,
        revoked_at,
        expires_at,
        last_used_at,
    ) = row;
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
        expires_at,
        last_used_at,
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
    insert_admin_key(conn, first_key, &Actor::operator(org.created_at)).await
}

/// `create_organization` on a database without organizations; whether it did. The table lock
/// (a mode that conflicts with itself and with inserts, not with reads) makes instances racing
/// to bootstrap take turns, so the second one sees the first one's organization.
pub(super) async fn create_first_organization(
    conn: &mut PgConnection,
    org: &Organization,
    first_key: &AdminKey,
) -> Attempt<bool> {
    sqlx::query("LOCK TABLE organizations IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *conn)
        .await?;
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM organizations)")
        .fetch_one(&mut *conn)
        .await?;
    if any {
        return Ok(false);
    }
    create_organization(conn, org, first_key).await?;
    Ok(true)
}

pub(super) async fn organization(
    conn: &mut PgConnection,
    org: &OrganizationId,
) -> Attempt<Option<Organization>> {
    let row: Option<(String, String, i64)> =
        sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = $1")
            .bind(org.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(id, name, created_at)| Organization {
        id: OrganizationId::from_stored(id),
        name,
        created_at,
    }))
}

pub(super) async fn admin_key(
    conn: &mut PgConnection,
    org: &OrganizationId,
    id: &AdminKeyId,
) -> Attempt<Option<AdminKey>> {
    let row: Option<KeyRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM admin_keys WHERE id = $1 AND organization_id = $2"
    )))
    .bind(id.as_str())
    .bind(org.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(key_from_row).transpose()
}

pub(super) async fn list_live_admin_keys(
    conn: &mut PgConnection,
    org: &OrganizationId,
    page: &PageRequest,
) -> Attempt<Page<AdminKey>> {
    let (cmp, dir, start) = keyset(page.order);
    // The cursor may name a deleted key: its position is kept.
    let (created_at, seq) = match &page.after {
        None => start,
        Some(after) => keyset_position(&mut *conn, "admin_keys", "created_at", org, after)
            .await?
            .ok_or_else(|| Error::UnknownCursor { value: echo(after) })?,
    };
    let rows: Vec<KeyRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM admin_keys \
         WHERE organization_id = $1 AND revoked_at IS NULL \
         AND (created_at, seq) {cmp} ($2, $3) \
         ORDER BY created_at {dir}, seq {dir} LIMIT $4"
    )))
    .bind(org.as_str())
    .bind(created_at)
    .bind(seq)
    .bind(overfetch(page))
    .fetch_all(conn)
    .await?;
    let keys = rows
        .into_iter()
        .map(key_from_row)
        .collect::<Attempt<Vec<_>>>()?;
    Ok(Page::from_overfetch(keys, page.limit))
}

pub(super) async fn record_use(conn: &mut PgConnection, uses: &[(AdminKeyId, i64)]) -> Attempt<()> {
    let ids: Vec<&str> = uses.iter().map(|(id, _)| id.as_str()).collect();
    let times: Vec<i64> = uses.iter().map(|(_, at)| *at).collect();
    sqlx::query(
        "UPDATE admin_keys k SET last_used_at = greatest(k.last_used_at, u.at) \
         FROM unnest($1::text[], $2::bigint[]) AS u(id, at) WHERE k.id = u.id",
    )
    .bind(&ids)
    .bind(&times)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn has_organizations(conn: &mut PgConnection) -> Attempt<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM organizations)")
            .fetch_one(conn)
            .await?,
    )
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

pub(super) async fn insert_admin_key(
    conn: &mut PgConnection,
    key: &AdminKey,
    actor: &Actor,
) -> Attempt<()> {
    require_organization(conn, &key.organization_id).await?;
    sqlx::query(
        "INSERT INTO admin_keys \
         (id, organization_id, name, key_hash, redacted_value, created_at, revoked_at, \
          expires_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(key.id.as_str())
    .bind(key.organization_id.as_str())
    .bind(&key.name)
    .bind(key.hash.0.as_slice())
    .bind(&key.redacted_value)
    .bind(key.created_at)
    .bind(key.revoked_at)
    .bind(key.expires_at)
    .bind(key.last_used_at)
    .execute(&mut *conn)
    .await?;
    super::audit::record(conn, &audit::admin_key_created(actor, key)).await
}

/// A key found by its hash, with its organization's `change_count`; or why its row could not
/// be read.
pub(super) type FoundKey = (Vec<u8>, Result<(AdminKey, u64), Error>);

/// The keys with these hashes, revoked or not, each with its organization's `change_count`, in
/// one statement: one round trip however many requests it authenticates. Each comes with the
/// hash it was found by; a row that cannot be read fails the lookups of its own hash only.
pub(super) async fn admin_keys_by_hashes(
    conn: &mut PgConnection,
    hashes: &[Vec<u8>],
) -> Attempt<Vec<FoundKey>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS}, \
                (SELECT change_count FROM organizations o WHERE o.id = k.organization_id) \
                    AS change_count \
         FROM admin_keys k WHERE key_hash = ANY($1)"
    )))
    .bind(hashes)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let hash: Vec<u8> = row.try_get("key_hash")?;
            Ok((hash, key_and_count(row).map_err(Failure::into_error)))
        })
        .collect()
}

/// A row of [`admin_keys_by_hashes`].
fn key_and_count(row: &PgRow) -> Attempt<(AdminKey, u64)> {
    // `KeyRow` reads the key's columns by position: they come first.
    let key = key_from_row(KeyRow::from_row(row)?)?;
    let count: i64 = row.try_get("change_count")?;
    let count =
        u64::try_from(count).map_err(|_| storage("an organization's change_count is negative"))?;
    Ok((key, count))
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
    actor: &Actor,
) -> Attempt<AdminKey> {
    // One statement decides: of concurrent revocations, exactly one changes the row (and
    // records the deletion); the others find it revoked and keep the first time.
    let row: Option<KeyRow> = sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE admin_keys SET revoked_at = $3 \
         WHERE id = $1 AND organization_id = $2 AND revoked_at IS NULL \
         RETURNING {KEY_COLUMNS}"
    )))
    .bind(id.as_str())
    .bind(org.as_str())
    .bind(actor.at)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = row {
        super::audit::record(conn, &audit::admin_key_deleted(org, actor, id)).await?;
        return key_from_row(row);
    }
    match admin_key(conn, org, id).await? {
        Some(key) => Ok(key),
        None => Err(Error::AdminKeyNotFound {
            id: echo(id.as_str()),
        }
        .into()),
    }
}

/// The sum of the organizations' change counts, plus their number: every audited change bumps
/// its organization's count in its own transaction (migration 0003), and neither counts nor
/// organizations ever go away, so the value grows with every such commit. Each read sees every
/// commit an earlier read saw (its snapshot is taken later), so it never decreases either.
pub(super) async fn trust_version(conn: &mut PgConnection) -> Attempt<u64> {
    let version: i64 = sqlx::query_scalar(
        "SELECT (coalesce(sum(change_count), 0) + count(*))::bigint FROM organizations",
    )
    .fetch_one(conn)
    .await?;
    u64::try_from(version).map_err(|_| storage("the organizations' change counts are negative"))
}
