//! Service accounts of projects and their API keys: the SQL, and [`ServiceAccountStore`] for
//! [`PostgresStore`]. A change share-locks its project (an archive waits for it, and it sees an
//! archive committed before) and locks the account it changes, so that no check can be
//! overtaken by a concurrent change on another instance.

use async_trait::async_trait;
use orgcerts_core::audit;
use orgcerts_core::ids::{OrganizationId, ProjectApiKeyId, ProjectId, ServiceAccountId};
use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::{
    Actor, OwnerAccess, ProjectApiKeyRecord, ProjectRecord, ServiceAccountKey,
    ServiceAccountKeyGrant, ServiceAccountRecord, ServiceAccountRole, ServiceAccountUpdate,
};
use orgcerts_core::page::{Page, PageRequest};
use orgcerts_core::store::ServiceAccountStore;
use orgcerts_core::{Error, Result, echo};
use sqlx::{AssertSqlSafe, PgConnection};

use std::ops::ControlFlow;

use super::error::Attempt;
use super::{
    Db, Mode, PostgresStore, Session, after_attempt, keyset, overfetch, projects, storage,
};

mod keys;

const ACCOUNT_COLUMNS: &str = "id, organization_id, project_id, name, role, created_at";

type AccountRow = (String, String, String, String, String, i64);

fn role(text: &str) -> Attempt<ServiceAccountRole> {
    ServiceAccountRole::parse(text)
        .ok_or_else(|| storage("a stored service account role is unknown"))
}

fn account_from_row(row: AccountRow) -> Attempt<ServiceAccountRecord> {
    let (id, organization_id, project_id, name, role_text, created_at) = row;
    Ok(ServiceAccountRecord {
        id: ServiceAccountId::from_stored(id),
        organization_id: OrganizationId::from_stored(organization_id),
        project_id: ProjectId::from_stored(project_id),
        name,
        role: role(&role_text)?,
        created_at,
    })
}

fn account_not_found(id: &ServiceAccountId) -> Error {
    Error::ServiceAccountNotFound {
        id: echo(id.as_str()),
    }
}

/// The project of a change, share-locked until commit: `ProjectNotFound` unless it exists in
/// the organization, and with `live`, `ProjectArchived` for an archived one.
async fn locked_project(
    conn: &mut PgConnection,
    org: &OrganizationId,
    id: &ProjectId,
    live: bool,
) -> Attempt<ProjectRecord> {
    let found = projects::select_shared(conn, org, id)
        .await?
        .ok_or_else(|| Error::ProjectNotFound {
            id: echo(id.as_str()),
        })?;
    if live && found.archived_at.is_some() {
        return Err(Error::ProjectArchived {
            id: echo(id.as_str()),
        }
        .into());
    }
    Ok(found)
}

/// A live account; `lock` is appended to the statement (` FOR UPDATE`, ` FOR SHARE`, or empty).
async fn account(
    conn: &mut PgConnection,
    org: &OrganizationId,
    project: &ProjectId,
    id: &ServiceAccountId,
    lock: &str,
) -> Attempt<Option<ServiceAccountRecord>> {
    let row: Option<AccountRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM service_accounts \
         WHERE id = $1 AND project_id = $2 AND organization_id = $3 AND deleted_at IS NULL{lock}"
    )))
    .bind(id.as_str())
    .bind(project.as_str())
    .bind(org.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(account_from_row).transpose()
}

async fn insert_account(
    conn: &mut PgConnection,
    account: &ServiceAccountRecord,
    first_key: Option<&ServiceAccountKey>,
    actor: &Actor,
) -> Attempt<()> {
    let project = locked_project(conn, &account.organization_id, &account.project_id, true).await?;
    sqlx::query(
        "INSERT INTO service_accounts (id, organization_id, project_id, name, role, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(account.id.as_str())
    .bind(account.organization_id.as_str())
    .bind(account.project_id.as_str())
    .bind(&account.name)
    .bind(account.role.as_str())
    .bind(account.created_at)
    .execute(&mut *conn)
    .await?;
    let entry = audit::service_account_created(actor, &project, account);
    super::audit::record(conn, &entry).await?;
    if let Some(key) = first_key {
        keys::insert(conn, &project, key, actor).await?;
    }
    Ok(())
}

/// Where row `id` of `project` sits in `table`'s keyset order, deleted or not.
async fn position(
    conn: &mut PgConnection,
    table: &str,
    org: &OrganizationId,
    project: &ProjectId,
    id: &str,
) -> Attempt<Option<(i64, i64)>> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "SELECT created_at, seq FROM {table} \
         WHERE id = $1 AND project_id = $2 AND organization_id = $3"
    )))
    .bind(id)
    .bind(project.as_str())
    .bind(org.as_str())
    .fetch_optional(conn)
    .await?)
}

async fn list_accounts(
    conn: &mut PgConnection,
    org: &OrganizationId,
    project: &ProjectId,
    page: &PageRequest,
) -> Attempt<Page<ServiceAccountRecord>> {
    let (cmp, dir, start) = keyset(page.order);
    let (created_at, seq) = match &page.after {
        None => start,
        Some(after) => position(&mut *conn, "service_accounts", org, project, after)
            .await?
            .ok_or_else(|| Error::UnknownCursor { value: echo(after) })?,
    };
    let rows: Vec<AccountRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM service_accounts \
         WHERE project_id = $1 AND organization_id = $2 AND deleted_at IS NULL \
         AND (created_at, seq) {cmp} ($3, $4) \
         ORDER BY created_at {dir}, seq {dir} LIMIT $5"
    )))
    .bind(project.as_str())
    .bind(org.as_str())
    .bind(created_at)
    .bind(seq)
    .bind(overfetch(page))
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(account_from_row)
        .collect::<Attempt<_>>()?;
    Ok(Page::from_overfetch(rows, page.limit))
}

async fn update_account(
    conn: &mut PgConnection,
    org: &OrganizationId,
    project_id: &ProjectId,
    id: &ServiceAccountId,
    update: &ServiceAccountUpdate,
    actor: &Actor,
) -> Attempt<ServiceAccountRecord> {
    account(&mut *conn, org, project_id, id, " FOR UPDATE")
        .await?
        .ok_or_else(|| account_not_found(id))?;
    let project = locked_project(conn, org, project_id, true).await?;
    let row: AccountRow = sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE service_accounts SET name = coalesce($2, name), role = coalesce($3, role) \
         WHERE id = $1 RETURNING {ACCOUNT_COLUMNS}"
    )))
    .bind(id.as_str())
    .bind(update.name.as_deref())
    .bind(update.role.map(ServiceAccountRole::as_str))
    .fetch_one(&mut *conn)
    .await?;
    let updated = account_from_row(row)?;
    let entry = audit::service_account_updated(actor, &project, &updated, update);
    super::audit::record(conn, &entry).await?;
    Ok(updated)
}

async fn delete_account(
    conn: &mut PgConnection,
    org: &OrganizationId,
    project_id: &ProjectId,
    id: &ServiceAccountId,
    actor: &Actor,
) -> Attempt<ServiceAccountRecord> {
    let deleted = account(&mut *conn, org, project_id, id, " FOR UPDATE")
        .await?
        .ok_or_else(|| account_not_found(id))?;
    let project = locked_project(conn, org, project_id, false).await?;
    let key_ids: Vec<String> = sqlx::query_scalar(
        "UPDATE service_account_keys SET deleted_at = $2 \
         WHERE service_account_id = $1 AND deleted_at IS NULL RETURNING id",
    )
    .bind(id.as_str())
    .bind(actor.at)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("UPDATE service_accounts SET deleted_at = $2 WHERE id = $1")
        .bind(id.as_str())
        .bind(actor.at)
        .execute(&mut *conn)
        .await?;
    let entry = audit::service_account_deleted(actor, &project, &deleted, &key_ids);
    super::audit::record(conn, &entry).await?;
    Ok(deleted)
}

async fn insert_key(
    conn: &mut PgConnection,
    key: &ServiceAccountKey,
    actor: &Actor,
) -> Attempt<()> {
    let (org, project_id) = (&key.organization_id, &key.project_id);
    // Share-locked: a delete of the account waits for this key, and then deletes it too.
    account(
        &mut *conn,
        org,
        project_id,
        &key.service_account_id,
        " FOR SHARE",
    )
    .await?
    .ok_or_else(|| account_not_found(&key.service_account_id))?;
    let project = locked_project(conn, org, project_id, true).await?;
    keys::insert(conn, &project, key, actor).await
}

async fn delete_key(
    conn: &mut PgConnection,
    org: &OrganizationId,
    project_id: &ProjectId,
    id: &ProjectApiKeyId,
    actor: &Actor,
) -> Attempt<()> {
    // An unknown project holds no key: the key's 404, as for reads.
    let project = projects::select_shared(conn, org, project_id)
        .await?
        .ok_or_else(|| Error::ProjectApiKeyNotFound {
            id: echo(id.as_str()),
        })?;
    keys::delete(conn, org, &project, id, actor).await
}

#[async_trait]
impl ServiceAccountStore for PostgresStore {
    async fn insert_service_account(
        &self,
        account: &ServiceAccountRecord,
        first_key: Option<&ServiceAccountKey>,
        actor: &Actor,
    ) -> Result<()> {
        run!(&self.db, Mode::Write, |conn| insert_account(
            conn, account, first_key, actor
        ))
    }

    async fn service_account(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ServiceAccountId,
    ) -> Result<Option<ServiceAccountRecord>> {
        run!(&self.db, Mode::Read, |conn| account(
            conn, org, project, id, ""
        ))
    }

    async fn list_service_accounts(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ServiceAccountRecord>> {
        run!(&self.db, Mode::Read, |conn| list_accounts(
            conn, org, project, page
        ))
    }

    async fn update_service_account(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ServiceAccountId,
        update: &ServiceAccountUpdate,
        actor: &Actor,
    ) -> Result<ServiceAccountRecord> {
        run!(&self.db, Mode::Write, |conn| update_account(
            conn, org, project, id, update, actor
        ))
    }

    async fn delete_service_account(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ServiceAccountId,
        actor: &Actor,
    ) -> Result<ServiceAccountRecord> {
        run!(&self.db, Mode::Write, |conn| delete_account(
            conn, org, project, id, actor
        ))
    }

    async fn insert_service_account_key(
        &self,
        key: &ServiceAccountKey,
        actor: &Actor,
    ) -> Result<()> {
        run!(&self.db, Mode::Write, |conn| insert_key(conn, key, actor))
    }

    async fn project_api_key(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ProjectApiKeyId,
    ) -> Result<Option<ProjectApiKeyRecord>> {
        run!(&self.db, Mode::Read, |conn| keys::get(
            conn, org, project, id
        ))
    }

    async fn list_project_api_keys(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        page: &PageRequest,
        access: OwnerAccess,
    ) -> Result<Page<ProjectApiKeyRecord>> {
        run!(&self.db, Mode::Read, |conn| keys::list(
            conn, org, project, page, access
        ))
    }

    async fn delete_project_api_key(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ProjectApiKeyId,
        actor: &Actor,
    ) -> Result<()> {
        run!(&self.db, Mode::Write, |conn| delete_key(
            conn, org, project, id, actor
        ))
    }

    async fn service_account_key_by_hash(
        &self,
        hash: &KeyHash,
    ) -> Result<Option<ServiceAccountKeyGrant>> {
        run!(&self.db, Mode::Read, |conn| keys::grant_by_hash(conn, hash))
    }

    async fn record_service_account_key_use(&self, uses: &[(ProjectApiKeyId, i64)]) -> Result<()> {
        if uses.is_empty() {
            return Ok(());
        }
        // Not audited: the organizations' change counts, and so the trust version and the
        // read cache's stamps, stay as they are.
        run!(&self.db, Mode::Write, |conn| keys::record_use(conn, uses))
    }
}
