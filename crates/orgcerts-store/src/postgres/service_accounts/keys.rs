//! The keys of service accounts (a project's API keys), each listed with its owner.

use orgcerts_core::audit;
use orgcerts_core::ids::{OrganizationId, ProjectApiKeyId, ProjectId, ServiceAccountId};
use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::{
    Actor, OwnerAccess, ProjectApiKeyRecord, ProjectRecord, ServiceAccountKey,
    ServiceAccountKeyGrant, ServiceAccountRecord,
};
use orgcerts_core::page::{Page, PageRequest};
use orgcerts_core::{Error, echo};
use sqlx::{AssertSqlSafe, PgConnection};

use super::super::error::Attempt;
use super::super::{keyset, overfetch, storage};
use super::{position, role};

/// A key joined with its owner and the owner's access, as [`record_from_row`] reads it.
const COLUMNS: &str = "k.id, k.organization_id, k.project_id, k.service_account_id, k.name, \
     k.key_hash, k.redacted_value, k.created_at, k.last_used_at, a.name, a.role, a.created_at, \
     (a.role <> 'none' AND p.archived_at IS NULL)";

const FROM: &str = "service_account_keys k \
     JOIN service_accounts a ON a.id = k.service_account_id \
     JOIN projects p ON p.id = k.project_id";

type KeyRow = (
    String,
    String,
    String,
    String,
    String,
    Vec<u8>,
    String,
    i64,
    Option<i64>,
    String,
    String,
    i64,
    bool,
);

fn hash_of(bytes: Vec<u8>) -> Attempt<KeyHash> {
    let hash: [u8; 32] = bytes
        .try_into()
        .map_err(|_| storage("a service account key hash is not 32 bytes long"))?;
    Ok(KeyHash(hash))
}

fn record_from_row(row: KeyRow) -> Attempt<ProjectApiKeyRecord> {
    let (
        id,
        org,
        project,
        account,
        name,
        hash,
        redacted_value,
        created_at,
        last_used_at,
        owner_name,
        owner_role,
        owner_created_at,
        owner_has_access,
    ) = row;
    let key = ServiceAccountKey {
        id: ProjectApiKeyId::from_stored(id),
        organization_id: OrganizationId::from_stored(org),
        project_id: ProjectId::from_stored(project),
        service_account_id: ServiceAccountId::from_stored(account),
        name,
        hash: hash_of(hash)?,
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
pub(super) async fn insert(
    conn: &mut PgConnection,
    project: &ProjectRecord,
    key: &ServiceAccountKey,
    actor: &Actor,
) -> Attempt<()> {
    sqlx::query(
        "INSERT INTO service_account_keys (id, organization_id, project_id, service_account_id, \
         name, key_hash, redacted_value, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(key.id.as_str())
    .bind(key.organization_id.as_str())
    .bind(key.project_id.as_str())
    .bind(key.service_account_id.as_str())
    .bind(&key.name)
    .bind(&key.hash.0[..])
    .bind(&key.redacted_value)
    .bind(key.created_at)
    .bind(key.last_used_at)
    .execute(&mut *conn)
    .await?;
    let entry = audit::service_account_key_created(actor, project, key);
    super::super::audit::record(conn, &entry).await
}

pub(super) async fn get(
    conn: &mut PgConnection,
    org: &OrganizationId,
    project: &ProjectId,
    id: &ProjectApiKeyId,
) -> Attempt<Option<ProjectApiKeyRecord>> {
    let row: Option<KeyRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {FROM} \
         WHERE k.id = $1 AND k.project_id = $2 AND k.organization_id = $3 \
         AND k.deleted_at IS NULL"
    )))
    .bind(id.as_str())
    .bind(project.as_str())
    .bind(org.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(record_from_row).transpose()
}

pub(super) async fn list(
    conn: &mut PgConnection,
    org: &OrganizationId,
    project: &ProjectId,
    page: &PageRequest,
    access: OwnerAccess,
) -> Attempt<Page<ProjectApiKeyRecord>> {
    let (cmp, dir, start) = keyset(page.order);
    let (created_at, seq) = match &page.after {
        None => start,
        Some(after) => position(&mut *conn, "service_account_keys", org, project, after)
            .await?
            .ok_or_else(|| Error::UnknownCursor { value: echo(after) })?,
    };
    let wanted: Option<bool> = match access {
        OwnerAccess::Any => None,
        OwnerAccess::Active => Some(true),
        OwnerAccess::Inactive => Some(false),
    };
    let rows: Vec<KeyRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {FROM} \
         WHERE k.project_id = $1 AND k.organization_id = $2 AND k.deleted_at IS NULL \
         AND ($6::boolean IS NULL OR (a.role <> 'none' AND p.archived_at IS NULL) = $6) \
         AND (k.created_at, k.seq) {cmp} ($3, $4) \
         ORDER BY k.created_at {dir}, k.seq {dir} LIMIT $5"
    )))
    .bind(project.as_str())
    .bind(org.as_str())
    .bind(created_at)
    .bind(seq)
    .bind(overfetch(page))
    .bind(wanted)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(record_from_row)
        .collect::<Attempt<_>>()?;
    Ok(Page::from_overfetch(rows, page.limit))
}

/// Deletes a live key of `project` (one statement: of two concurrent deletes, one wins),
/// recording `api_key.deleted`.
pub(super) async fn delete(
    conn: &mut PgConnection,
    org: &OrganizationId,
    project: &ProjectRecord,
    id: &ProjectApiKeyId,
    actor: &Actor,
) -> Attempt<()> {
    let account: Option<String> = sqlx::query_scalar(
        "UPDATE service_account_keys SET deleted_at = $3 \
         WHERE id = $1 AND project_id = $2 AND organization_id = $4 AND deleted_at IS NULL \
         RETURNING service_account_id",
    )
    .bind(id.as_str())
    .bind(project.id.as_str())
    .bind(actor.at)
    .bind(org.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(account) = account else {
        return Err(Error::ProjectApiKeyNotFound {
            id: echo(id.as_str()),
        }
        .into());
    };
    let account = ServiceAccountId::from_stored(account);
    let entry = audit::service_account_key_deleted(org, actor, project, id, &account);
    super::super::audit::record(conn, &entry).await
}

/// Moves each live key's `last_used_at` to the given time unless it is later already, in one
/// statement (a key named twice counts with its latest time).
pub(super) async fn record_use(
    conn: &mut PgConnection,
    uses: &[(ProjectApiKeyId, i64)],
) -> Attempt<()> {
    let ids: Vec<&str> = uses.iter().map(|(id, _)| id.as_str()).collect();
    let times: Vec<i64> = uses.iter().map(|(_, at)| *at).collect();
    sqlx::query(
        "UPDATE service_account_keys k SET last_used_at = greatest(k.last_used_at, u.at) \
         FROM (SELECT id, max(at) AS at FROM unnest($1::text[], $2::bigint[]) AS u(id, at) \
               GROUP BY id) AS u \
         WHERE k.id = u.id AND k.deleted_at IS NULL",
    )
    .bind(&ids)
    .bind(&times)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn grant_by_hash(
    conn: &mut PgConnection,
    hash: &KeyHash,
) -> Attempt<Option<ServiceAccountKeyGrant>> {
    let row: Option<(String, String, String, String, Vec<u8>, bool)> = sqlx::query_as(
        "SELECT k.organization_id, k.project_id, k.service_account_id, k.id, k.key_hash, \
         p.archived_at IS NOT NULL \
         FROM service_account_keys k JOIN projects p ON p.id = k.project_id \
         WHERE k.key_hash = $1 AND k.deleted_at IS NULL",
    )
    .bind(&hash.0[..])
    .fetch_optional(conn)
    .await?;
    row.map(|(org, project, account, id, stored, archived)| {
        Ok(ServiceAccountKeyGrant {
            organization_id: OrganizationId::from_stored(org),
            project_id: ProjectId::from_stored(project),
            service_account_id: ServiceAccountId::from_stored(account),
            key_id: ProjectApiKeyId::from_stored(id),
            hash: hash_of(stored)?,
            project_archived: archived,
        })
    })
    .transpose()
}
