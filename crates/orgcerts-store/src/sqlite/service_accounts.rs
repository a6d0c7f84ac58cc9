//! Service accounts of projects and their API keys: the SQL, and [`ServiceAccountStore`] for
//! [`SqliteStore`]. Every change checks the project and the account in its own write
//! transaction (the writer's `BEGIN IMMEDIATE`), so an archive or a delete committed meanwhile
//! cannot slip between the check and the change.

use std::sync::Arc;

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
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqlResult, SqliteStore, keyset, overfetch, projects, storage};

mod keys;

const ACCOUNT_COLUMNS: &str = "id, organization_id, project_id, name, role, created_at";

type AccountRow = (String, String, String, String, String, i64);

fn account_row(row: &Row<'_>) -> rusqlite::Result<AccountRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn role(text: &str) -> Result<ServiceAccountRole> {
    ServiceAccountRole::parse(text)
        .ok_or_else(|| storage("a stored service account role is unknown"))
}

fn account_from_row(row: AccountRow) -> Result<ServiceAccountRecord> {
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

/// The project of a change: `ProjectNotFound` unless it exists in the organization.
fn project(conn: &Connection, org: &OrganizationId, id: &ProjectId) -> Result<ProjectRecord> {
    projects::get(conn, org, id)?.ok_or_else(|| Error::ProjectNotFound {
        id: echo(id.as_str()),
    })
}

/// The project of a change that needs it live: also `ProjectArchived`.
fn live_project(conn: &Connection, org: &OrganizationId, id: &ProjectId) -> Result<ProjectRecord> {
    let found = project(conn, org, id)?;
    if found.archived_at.is_some() {
        return Err(Error::ProjectArchived {
            id: echo(id.as_str()),
        });
    }
    Ok(found)
}

fn account(
    conn: &Connection,
    org: &OrganizationId,
    project: &ProjectId,
    id: &ServiceAccountId,
) -> Result<Option<ServiceAccountRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM service_accounts \
         WHERE id = ?1 AND project_id = ?2 AND organization_id = ?3 AND deleted_at IS NULL"
    ))
    .sql()?
    .query_row(
        params![id.as_str(), project.as_str(), org.as_str()],
        account_row,
    )
    .optional()
    .sql()?
    .map(account_from_row)
    .transpose()
}

fn insert_account(
    conn: &Connection,
    account: &ServiceAccountRecord,
    first_key: Option<&ServiceAccountKey>,
    actor: &Actor,
) -> Result<()> {
    let project = live_project(conn, &account.organization_id, &account.project_id)?;
    conn.prepare_cached(
        "INSERT INTO service_accounts (id, organization_id, project_id, name, role, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .sql()?
    .execute(params![
        account.id.as_str(),
        account.organization_id.as_str(),
        account.project_id.as_str(),
        account.name,
        account.role.as_str(),
        account.created_at,
    ])
    .sql()?;
    let entry = audit::service_account_created(actor, &project, account);
    super::audit::record(conn, &entry)?;
    if let Some(key) = first_key {
        keys::insert(conn, &project, key, actor)?;
    }
    Ok(())
}

fn list_accounts(
    conn: &Connection,
    org: &OrganizationId,
    project: &ProjectId,
    page: &PageRequest,
) -> Result<Page<ServiceAccountRecord>> {
    let (cmp, dir, start) = keyset(page.order);
    let (created_at, seq) = match &page.after {
        None => start,
        Some(after) => position(conn, "service_accounts", org, project, after)?
            .ok_or_else(|| Error::UnknownCursor { value: echo(after) })?,
    };
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM service_accounts \
             WHERE project_id = ?1 AND organization_id = ?2 AND deleted_at IS NULL \
             AND (created_at, seq) {cmp} (?3, ?4) \
             ORDER BY created_at {dir}, seq {dir} LIMIT ?5"
        ))
        .sql()?
        .query_map(
            params![
                project.as_str(),
                org.as_str(),
                created_at,
                seq,
                overfetch(page)
            ],
            account_row,
        )
        .sql()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .sql()?;
    let rows = rows
        .into_iter()
        .map(account_from_row)
        .collect::<Result<_>>()?;
    Ok(Page::from_overfetch(rows, page.limit))
}

/// Where row `id` of `project` sits in `table`'s keyset order, deleted or not.
fn position(
    conn: &Connection,
    table: &str,
    org: &OrganizationId,
    project: &ProjectId,
    id: &str,
) -> Result<Option<(i64, i64)>> {
    conn.prepare_cached(&format!(
        "SELECT created_at, seq FROM {table} \
         WHERE id = ?1 AND project_id = ?2 AND organization_id = ?3"
    ))
    .sql()?
    .query_row(params![id, project.as_str(), org.as_str()], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
    .optional()
    .sql()
}

fn update_account(
    conn: &Connection,
    org: &OrganizationId,
    project_id: &ProjectId,
    id: &ServiceAccountId,
    update: &ServiceAccountUpdate,
    actor: &Actor,
) -> Result<ServiceAccountRecord> {
    account(conn, org, project_id, id)?.ok_or_else(|| account_not_found(id))?;
    let project = live_project(conn, org, project_id)?;
    let row = conn
        .prepare_cached(&format!(
            "UPDATE service_accounts SET name = coalesce(?2, name), role = coalesce(?3, role) \
             WHERE id = ?1 RETURNING {ACCOUNT_COLUMNS}"
        ))
        .sql()?
        .query_row(
            params![
                id.as_str(),
                update.name,
                update.role.map(ServiceAccountRole::as_str)
            ],
            account_row,
        )
        .sql()?;
    let updated = account_from_row(row)?;
    let entry = audit::service_account_updated(actor, &project, &updated, update);
    super::audit::record(conn, &entry)?;
    Ok(updated)
}

fn delete_account(
    conn: &Connection,
    org: &OrganizationId,
    project_id: &ProjectId,
    id: &ServiceAccountId,
    actor: &Actor,
) -> Result<ServiceAccountRecord> {
    let deleted = account(conn, org, project_id, id)?.ok_or_else(|| account_not_found(id))?;
    let project = project(conn, org, project_id)?;
    let key_ids = conn
        .prepare_cached(
            "UPDATE service_account_keys SET deleted_at = ?2 \
             WHERE service_account_id = ?1 AND deleted_at IS NULL RETURNING id",
        )
        .sql()?
        .query_map(params![id.as_str(), actor.at], |row| row.get(0))
        .sql()?
        .collect::<rusqlite::Result<Vec<String>>>()
        .sql()?;
    conn.prepare_cached("UPDATE service_accounts SET deleted_at = ?2 WHERE id = ?1")
        .sql()?
        .execute(params![id.as_str(), actor.at])
        .sql()?;
    let entry = audit::service_account_deleted(actor, &project, &deleted, &key_ids);
    super::audit::record(conn, &entry)?;
    Ok(deleted)
}

#[async_trait]
impl ServiceAccountStore for SqliteStore {
    async fn insert_service_account(
        &self,
        account: &ServiceAccountRecord,
        first_key: Option<&ServiceAccountKey>,
        actor: &Actor,
    ) -> Result<()> {
        let (account, key, actor) = (account.clone(), first_key.cloned(), actor.clone());
        self.write(move |tx| insert_account(tx, &account, key.as_ref(), &actor))
            .await
    }

    async fn service_account(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ServiceAccountId,
    ) -> Result<Option<ServiceAccountRecord>> {
        let (org, project, id) = (org.clone(), project.clone(), id.clone());
        self.read(move |tx| account(tx, &org, &project, &id)).await
    }

    async fn list_service_accounts(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ServiceAccountRecord>> {
        let (org, project, page) = (org.clone(), project.clone(), page.clone());
        self.read(move |tx| list_accounts(tx, &org, &project, &page))
            .await
    }

    async fn update_service_account(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ServiceAccountId,
        update: &ServiceAccountUpdate,
        actor: &Actor,
    ) -> Result<ServiceAccountRecord> {
        let (org, project, id) = (org.clone(), project.clone(), id.clone());
        let (update, actor) = (update.clone(), actor.clone());
        self.write(move |tx| update_account(tx, &org, &project, &id, &update, &actor))
            .await
    }

    async fn delete_service_account(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ServiceAccountId,
        actor: &Actor,
    ) -> Result<ServiceAccountRecord> {
        let (org, project, id, actor) = (org.clone(), project.clone(), id.clone(), actor.clone());
        self.write(move |tx| delete_account(tx, &org, &project, &id, &actor))
            .await
    }

    async fn insert_service_account_key(
        &self,
        key: &ServiceAccountKey,
        actor: &Actor,
    ) -> Result<()> {
        let (key, actor) = (key.clone(), actor.clone());
        self.write(move |tx| {
            let (org, project_id) = (&key.organization_id, &key.project_id);
            account(tx, org, project_id, &key.service_account_id)?
                .ok_or_else(|| account_not_found(&key.service_account_id))?;
            let project = live_project(tx, org, project_id)?;
            keys::insert(tx, &project, &key, &actor)
        })
        .await
    }

    async fn project_api_key(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ProjectApiKeyId,
    ) -> Result<Option<ProjectApiKeyRecord>> {
        let (org, project, id) = (org.clone(), project.clone(), id.clone());
        self.read(move |tx| keys::get(tx, &org, &project, &id))
            .await
    }

    async fn list_project_api_keys(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        page: &PageRequest,
        access: OwnerAccess,
    ) -> Result<Page<ProjectApiKeyRecord>> {
        let (org, project, page) = (org.clone(), project.clone(), page.clone());
        self.read(move |tx| keys::list(tx, &org, &project, &page, access))
            .await
    }

    async fn delete_project_api_key(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ProjectApiKeyId,
        actor: &Actor,
    ) -> Result<()> {
        let (org, project_id, id, actor) =
            (org.clone(), project.clone(), id.clone(), actor.clone());
        self.write(move |tx| {
            // An unknown project holds no key: the key's 404, as for reads.
            let found = projects::get(tx, &org, &project_id)?.ok_or_else(|| {
                Error::ProjectApiKeyNotFound {
                    id: echo(id.as_str()),
                }
            })?;
            keys::delete(tx, &found, &org, &id, &actor)
        })
        .await
    }

    async fn service_account_key_by_hash(
        &self,
        hash: &KeyHash,
    ) -> Result<Option<ServiceAccountKeyGrant>> {
        let hash = *hash;
        self.read(move |tx| keys::grant_by_hash(tx, &hash)).await
    }

    async fn record_service_account_key_use(&self, uses: &[(ProjectApiKeyId, i64)]) -> Result<()> {
        if uses.is_empty() {
            return Ok(());
        }
        // Written quietly, like admin keys' use, so that the change token stays as it is. That
        // is right only while nothing the token guards shows a service account key's
        // `last_used_at`: the service's read cache ([`orgcerts_core::cache`]) holds admin keys'
        // principals and certificate lists, never project API keys (their retrievals and lists
        // read the store every time), and the gateway's trust snapshot and cached keys, renewed
        // when `trust_version` (this token) moves, hold grants, which carry no `last_used_at`.
        // A write through the writer would only make every flush of a gateway rebuild its
        // snapshot and forget its keys, for nothing. (Other processes on the file see the
        // commit all the same, as for admin keys.) Should project API keys ever be cached
        // under the token, this must become a write through the writer instead.
        let uses = uses.to_vec();
        let changes = Arc::clone(&self.changes);
        tokio::task::spawn_blocking(move || changes.write_quietly(|tx| keys::record_use(tx, &uses)))
            .await
            .map_err(storage)?
    }
}
