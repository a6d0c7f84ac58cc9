//! The SQLite adapter.
//!
//! One writer connection, on a thread of its own ([`writer`]), takes every write, in `BEGIN
//! IMMEDIATE` transactions so that writes never fail half-way on a lock upgrade, and commits
//! the writes queued meanwhile together; reader connections, each on a thread of its own
//! ([`readers`]), serve reads from WAL snapshots, concurrently with the writer. Both queues
//! are bounded, and an operation that waits in one past its deadline (the acquire timeout of
//! [`OpenOptions`]) is refused with `StorageUnavailable` without running ([`queue`]).

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use orgcerts_core::audit::{AuditEntry, AuditQuery};
use orgcerts_core::ids::{AdminKeyId, CertificateId, OrganizationId, ProjectId};
use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::{
    ActiveAnchor, Actor, AdminKey, CertificateRecord, CertificateUpdate, ExpiryCounts,
    NewCertificate, Organization, PoolStatus, ProjectRecord, ProjectUpdate, Scope,
    ScopedCertificate,
};
use orgcerts_core::page::{Page, PageRequest};
use orgcerts_core::{Result, Store};
use rusqlite::{Connection, OptionalExtension, params};

use crate::keyset::{keyset, overfetch};
use crate::{OpenError, OpenOptions};
use changes::ChangeWatch;
pub use changes::OTHER_PROCESS_DELAY;
use error::{SqlResult, sql_error, storage};
use queue::Limits;
use readers::Readers;
use writer::Writer;

mod audit;
mod certificates;
mod changes;
mod error;
mod keys;
mod open;
mod projects;
mod queue;
mod readers;
mod service_accounts;
mod writer;

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    writer: Writer,
    readers: Readers,
    /// The change token ([`changes`]).
    changes: Arc<ChangeWatch>,
    /// Holds the directory of a throw-away database; dropped (and deleted) last.
    temporary: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Sets how long another process's commits may go unseen by the change token (default
    /// [`OTHER_PROCESS_DELAY`]). For tests: with a long delay, only this store's own writes
    /// change the token, which shows that they do so without waiting for a check.
    #[doc(hidden)]
    pub fn set_other_process_delay(&self, delay: std::time::Duration) {
        self.changes.set_delay(delay);
    }

    /// Opens (creating if needed) the database file at `path` and migrates it. This blocks:
    /// call it at start-up or from `spawn_blocking` ([`crate::open`] does).
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        Self::open_with(path, &OpenOptions::default())
    }

    /// Opens the database like [`Self::open`]; of `options`, only the acquire timeout applies:
    /// how long an operation may wait for a reader or the writer thread before it is refused.
    pub fn open_with(path: &Path, options: &OpenOptions) -> Result<Self, OpenError> {
        Self::open_inner(path, options, false)
    }

    /// Opens the database like [`Self::open`], but its writer connection does not flush
    /// commits to disk (`PRAGMA synchronous=OFF`): for seeding large benchmark data sets fast
    /// (`bench/seed`), and for nothing else. A crash or power loss while loading may lose the
    /// load or leave the file damaged, so load into a file you can throw away. `orgcerts serve`
    /// and the operator commands never use it; the setting belongs to this connection only,
    /// so a later [`Self::open`] of the same file is durable again.
    pub fn open_for_bulk_load(path: &Path) -> Result<Self, OpenError> {
        Self::open_inner(path, &OpenOptions::default(), true)
    }

    fn open_inner(path: &Path, options: &OpenOptions, bulk_load: bool) -> Result<Self, OpenError> {
        let limits = Limits {
            capacity: queue::DEFAULT_CAPACITY,
            wait: options.acquire_timeout,
        };
        open::create_parent_directory(path)?;
        open::create_file(path)?;
        let writer = open::open_writer(path)?;
        if bulk_load {
            writer
                .pragma_update(None, "synchronous", "OFF")
                .map_err(|source| OpenError::Open {
                    path: path.to_owned(),
                    source,
                })?;
        }
        let readers = open::open_readers(path, limits)?;
        let changes = open::open_watcher(path)?;
        let writer = Writer::start(writer, Arc::clone(&changes), limits).map_err(|source| {
            OpenError::Threads {
                path: path.to_owned(),
                source,
            }
        })?;
        Ok(Self {
            writer,
            readers,
            changes,
            temporary: None,
        })
    }

    /// Opens a fresh database in a new temporary directory, deleted when the store is dropped:
    /// what `sqlite::memory:` means. (A real in-memory database cannot be shared between the
    /// writer and the readers in WAL mode.) Blocks like [`Self::open`].
    pub fn open_temporary() -> Result<Self, OpenError> {
        Self::open_temporary_with(&OpenOptions::default())
    }

    /// Opens a fresh temporary database like [`Self::open_temporary`], with `options` as in
    /// [`Self::open_with`].
    pub fn open_temporary_with(options: &OpenOptions) -> Result<Self, OpenError> {
        let dir = tempfile::Builder::new()
            .prefix("orgcerts-")
            .tempdir()
            .map_err(OpenError::TemporaryDirectory)?;
        let mut store = Self::open_with(&dir.path().join("orgcerts.db"), options)?;
        store.temporary = Some(dir);
        Ok(store)
    }

    /// Runs `f` in a write transaction ([`writer`]): its changes are kept and acknowledged
    /// once durable when it returns `Ok`, rolled back otherwise.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.writer.run(f).await
    }

    /// Runs `f` on a reader connection, in one read transaction so that its statements see
    /// the same snapshot. `BEGIN` and `COMMIT` are prepared once per connection, like every
    /// other statement (rusqlite's `transaction()` parses them anew each time: a sixth of the
    /// CPU of reads that miss the cache, `bench/profiles/breadth.txt`).
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.readers
            .run(move |conn| {
                let run = |sql: &str| conn.prepare_cached(sql)?.execute([]).map(drop);
                if !conn.is_autocommit() {
                    // Left open by a read that panicked: start clean.
                    run("ROLLBACK").sql()?;
                }
                run("BEGIN").sql()?;
                match f(conn) {
                    Ok(out) => {
                        run("COMMIT").sql()?;
                        Ok(out)
                    }
                    Err(err) => {
                        // A read changes nothing; ending it only releases its snapshot.
                        let _ = run("ROLLBACK");
                        Err(err)
                    }
                }
            })
            .await
    }
}

/// Where row `id` of `org` sits in `table`'s keyset order: its `(time, seq)` columns, whatever
/// the row's state (a deleted, revoked or archived row keeps its place for a cursor naming it).
fn keyset_position(
    conn: &Connection,
    table: &str,
    (time, seq): (&str, &str),
    org: &OrganizationId,
    id: &str,
) -> Result<Option<(i64, i64)>> {
    conn.prepare_cached(&format!(
        "SELECT {time}, {seq} FROM {table} WHERE id = ?1 AND organization_id = ?2"
    ))
    .sql()?
    .query_row(params![id, org.as_str()], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
    .optional()
    .sql()
}

#[async_trait]
impl Store for SqliteStore {
    async fn health(&self) -> Result<()> {
        // Migrations ran at open and nothing else changes the schema; a read proves the file
        // is still there and readable.
        self.read(|conn| {
            conn.query_row("SELECT count(*) FROM organizations", [], |_| Ok(()))
                .sql()
        })
        .await
    }

    async fn certificate_expiry_counts(&self, now: i64) -> Result<ExpiryCounts> {
        self.read(move |conn| certificates::expiry_counts(conn, now))
            .await
    }

    fn change_token(&self) -> Option<u64> {
        self.changes.token()
    }

    async fn fresh_change_token(&self) -> Option<u64> {
        if let Some(token) = self.changes.token() {
            return Some(token);
        }
        // No check vouches for a token right now (the checker thread is late or was asleep):
        // one on a reader thread costs far less than the request's reads uncached.
        let changes = Arc::clone(&self.changes);
        self.readers
            .run(move |_| Ok(changes.checked_token()))
            .await
            .ok()
            .flatten()
    }

    fn pool_status(&self) -> Option<PoolStatus> {
        // The reader connections; the single writer connection is not counted.
        Some(self.readers.status())
    }

    async fn create_organization(&self, org: &Organization, first_key: &AdminKey) -> Result<()> {
        let (org, key) = (org.clone(), first_key.clone());
        self.write(move |tx| keys::create_organization(tx, &org, &key))
            .await
    }

    async fn create_first_organization(
        &self,
        org: &Organization,
        first_key: &AdminKey,
    ) -> Result<bool> {
        let (org, key) = (org.clone(), first_key.clone());
        self.write(move |tx| keys::create_first_organization(tx, &org, &key))
            .await
    }

    async fn list_organizations(&self) -> Result<Vec<Organization>> {
        self.read(keys::list_organizations).await
    }

    async fn has_organizations(&self) -> Result<bool> {
        self.read(keys::has_organizations).await
    }

    async fn insert_admin_key(&self, key: &AdminKey, actor: &Actor) -> Result<()> {
        let (key, actor) = (key.clone(), actor.clone());
        self.write(move |tx| keys::insert_admin_key(tx, &key, &actor))
            .await
    }

    async fn organization(&self, org: &OrganizationId) -> Result<Option<Organization>> {
        let org = org.clone();
        self.read(move |tx| keys::organization(tx, &org)).await
    }

    async fn admin_key(&self, org: &OrganizationId, id: &AdminKeyId) -> Result<Option<AdminKey>> {
        let (org, id) = (org.clone(), id.clone());
        self.read(move |tx| keys::admin_key(tx, &org, &id)).await
    }

    async fn list_live_admin_keys(
        &self,
        org: &OrganizationId,
        page: &PageRequest,
    ) -> Result<Page<AdminKey>> {
        let (org, page) = (org.clone(), page.clone());
        self.read(move |tx| keys::list_live_admin_keys(tx, &org, &page))
            .await
    }

    async fn record_admin_key_use(&self, uses: &[(AdminKeyId, i64)]) -> Result<()> {
        // Nothing cached depends on `last_used_at`: written so that the token stays as it is.
        let uses = uses.to_vec();
        let changes = Arc::clone(&self.changes);
        tokio::task::spawn_blocking(move || changes.write_quietly(|tx| keys::record_use(tx, &uses)))
            .await
            .map_err(storage)?
    }

    async fn admin_key_by_hash(&self, hash: &KeyHash) -> Result<Option<AdminKey>> {
        let hash = *hash;
        self.read(move |tx| keys::admin_key_by_hash(tx, &hash))
            .await
    }

    async fn list_admin_keys(&self, org: &OrganizationId) -> Result<Vec<AdminKey>> {
        let org = org.clone();
        self.read(move |tx| keys::list_admin_keys(tx, &org)).await
    }

    async fn revoke_admin_key(
        &self,
        org: &OrganizationId,
        id: &AdminKeyId,
        actor: &Actor,
    ) -> Result<AdminKey> {
        let (org, id, actor) = (org.clone(), id.clone(), actor.clone());
        self.write(move |tx| keys::revoke_admin_key(tx, &org, &id, &actor))
            .await
    }

    async fn insert_certificate(
        &self,
        cert: &NewCertificate,
        max: u32,
        actor: &Actor,
    ) -> Result<CertificateRecord> {
        let (cert, actor) = (cert.clone(), actor.clone());
        self.write(move |tx| certificates::insert(tx, &cert, max, &actor))
            .await
    }

    async fn certificate(
        &self,
        org: &OrganizationId,
        id: &CertificateId,
        with_der: bool,
    ) -> Result<Option<CertificateRecord>> {
        let (org, id) = (org.clone(), id.clone());
        self.read(move |tx| certificates::get(tx, &org, &id, with_der))
            .await
    }

    async fn update_certificate(
        &self,
        org: &OrganizationId,
        id: &CertificateId,
        update: &CertificateUpdate,
        actor: &Actor,
    ) -> Result<CertificateRecord> {
        let (org, id, update) = (org.clone(), id.clone(), update.clone());
        let actor = actor.clone();
        self.write(move |tx| certificates::update(tx, &org, &id, &update, &actor))
            .await
    }

    async fn delete_certificate(
        &self,
        org: &OrganizationId,
        id: &CertificateId,
        actor: &Actor,
    ) -> Result<()> {
        let (org, id, actor) = (org.clone(), id.clone(), actor.clone());
        self.write(move |tx| certificates::delete(tx, &org, &id, &actor))
            .await
    }

    async fn list_certificates(
        &self,
        org: &OrganizationId,
        scope: &Scope,
        page: &PageRequest,
    ) -> Result<Page<ScopedCertificate>> {
        let (org, scope, page) = (org.clone(), scope.clone(), page.clone());
        self.read(move |tx| certificates::list(tx, &org, &scope, &page))
            .await
    }

    async fn set_certificates_active(
        &self,
        org: &OrganizationId,
        scope: &Scope,
        ids: &[CertificateId],
        active: bool,
        actor: &Actor,
    ) -> Result<Vec<ScopedCertificate>> {
        let (org, scope, ids) = (org.clone(), scope.clone(), ids.to_vec());
        let actor = actor.clone();
        self.write(move |tx| certificates::set_active(tx, &org, &scope, &ids, active, &actor))
            .await
    }

    async fn insert_project(
        &self,
        org: &OrganizationId,
        project: &ProjectRecord,
        actor: &Actor,
    ) -> Result<()> {
        let (org, project, actor) = (org.clone(), project.clone(), actor.clone());
        self.write(move |tx| projects::insert(tx, &org, &project, &actor))
            .await
    }

    async fn project(&self, org: &OrganizationId, id: &ProjectId) -> Result<Option<ProjectRecord>> {
        let (org, id) = (org.clone(), id.clone());
        self.read(move |tx| projects::get(tx, &org, &id)).await
    }

    async fn list_projects(
        &self,
        org: &OrganizationId,
        page: &PageRequest,
        include_archived: bool,
    ) -> Result<Page<ProjectRecord>> {
        let (org, page) = (org.clone(), page.clone());
        self.read(move |tx| projects::list(tx, &org, &page, include_archived))
            .await
    }

    async fn update_project(
        &self,
        org: &OrganizationId,
        id: &ProjectId,
        update: &ProjectUpdate,
        actor: &Actor,
    ) -> Result<ProjectRecord> {
        let (org, id, update) = (org.clone(), id.clone(), update.clone());
        let actor = actor.clone();
        self.write(move |tx| projects::update(tx, &org, &id, &update, &actor))
            .await
    }

    async fn archive_project(
        &self,
        org: &OrganizationId,
        id: &ProjectId,
        actor: &Actor,
    ) -> Result<ProjectRecord> {
        let (org, id, actor) = (org.clone(), id.clone(), actor.clone());
        self.write(move |tx| projects::archive(tx, &org, &id, &actor))
            .await
    }

    async fn list_audit_logs(
        &self,
        org: &OrganizationId,
        query: &AuditQuery,
    ) -> Result<Page<AuditEntry>> {
        let (org, query) = (org.clone(), query.clone());
        self.read(move |tx| audit::list(tx, &org, &query)).await
    }

    async fn active_anchors(&self) -> Result<Vec<ActiveAnchor>> {
        self.read(certificates::active_anchors).await
    }

    async fn trust_version(&self) -> Result<u64> {
        // The change token ([`changes`]), checked against `data_version` on a reader thread
        // unless a check began within the other-process delay: another process's commit shows
        // within that delay. Not `change_token` first: asking it keeps the checker thread
        // checking for a while, where one check per poll is enough. The token only grows.
        let changes = Arc::clone(&self.changes);
        self.readers
            .run(move |_| {
                changes.checked_token().ok_or_else(|| {
                    // The check failed, or a quiet write held the watching connection
                    // throughout (waiting for the write lock, or committing).
                    storage("no change check could be made on the SQLite database")
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use orgcerts_core::page::Order;
    use rusqlite::params;

    use super::certificates::{Slice, list_sql};
    use super::*;

    #[tokio::test]
    async fn bulk_loading_skips_flushes_on_its_own_connection_only() {
        async fn synchronous(store: &SqliteStore) -> i64 {
            store
                .write(|conn| {
                    conn.pragma_query_value(None, "synchronous", |row| row.get(0))
                        .sql()
                })
                .await
                .unwrap()
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bulk.db");
        let bulk = SqliteStore::open_for_bulk_load(&path).unwrap();
        assert_eq!(synchronous(&bulk).await, 0, "OFF while loading");
        drop(bulk);
        let served = SqliteStore::open(&path).unwrap();
        assert_eq!(synchronous(&served).await, 2, "FULL again for serving");
    }

    /// A list statement is compiled once per connection, not again each time its values are
    /// bound (SQLite recompiles statements whose plan depended on a bound `LIMIT`, unless the
    /// connection has the query planner stability guarantee).
    #[tokio::test]
    async fn list_statements_are_not_recompiled_when_bound() {
        let store = SqliteStore::open_temporary().unwrap();
        let recompiled = store
            .readers
            .run(|conn| {
                let org = OrganizationId::generate();
                for limit in [20, 20, 7, 1000] {
                    let page = PageRequest {
                        limit,
                        after: None,
                        order: Order::Desc,
                    };
                    certificates::list(conn, &org, &Scope::Organization, &page)?;
                }
                let (cmp, dir, _) = keyset(Order::Desc);
                let statement = conn
                    .prepare_cached(&list_sql(cmp, dir, &Scope::Organization, Slice::Start))
                    .sql()?;
                Ok(statement.get_status(rusqlite::StatementStatus::RePrepare))
            })
            .await
            .unwrap();
        assert_eq!(recompiled, 0);
    }

    /// Every statement of a list page is one index range scan in either order, with no sort
    /// step, and each seeks as far as its bounds allow, so the cost of a page does not grow
    /// with its depth, nor with how many certificates share the cursor's second.
    #[tokio::test]
    async fn list_statements_are_index_range_scans() {
        let store = SqliteStore::open_temporary().unwrap();
        store
            .read(|conn| {
                for order in [Order::Asc, Order::Desc] {
                    for scope in [Scope::Organization, Scope::Project(ProjectId::generate())] {
                        let (cmp, dir, _) = keyset(order);
                        for (slice, seek) in [
                            (Slice::Start, "(organization_id=?)".to_owned()),
                            (
                                Slice::RestOfSecond,
                                format!("(organization_id=? AND created_at=? AND seq{cmp}?)"),
                            ),
                            (
                                Slice::LaterSeconds,
                                format!("(organization_id=? AND created_at{cmp}?)"),
                            ),
                        ] {
                            let sql =
                                format!("EXPLAIN QUERY PLAN {}", list_sql(cmp, dir, &scope, slice));
                            let mut statement = conn.prepare(&sql).unwrap();
                            let plan: Vec<String> = statement
                                .query_map(
                                    params!["o", 1, 2, 3, "p"]
                                        .get(..statement.parameter_count())
                                        .unwrap(),
                                    |row| row.get(3),
                                )
                                .unwrap()
                                .collect::<rusqlite::Result<_>>()
                                .unwrap();
                            assert!(
                                plan[0].contains(&format!(
                                    "USING INDEX certificates_live_by_creation {seek}"
                                )),
                                "{slice:?}: {plan:?}"
                            );
                            assert!(
                                !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                                "{slice:?}: {plan:?}"
                            );
                        }
                    }
                }
                Ok(())
            })
            .await
            .unwrap();
    }
}
