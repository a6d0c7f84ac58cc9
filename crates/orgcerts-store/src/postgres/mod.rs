//! The PostgreSQL adapter, for several stateless instances on one database.
//!
//! Every write is one transaction at PostgreSQL's default isolation (READ COMMITTED); the rules
//! that must hold across instances are enforced by row locks, a conditional counter update and
//! a partial unique index (see `certificates`), never by locks in this process. A transaction
//! that the database rolls back for a serialization failure or a deadlock runs again, a few
//! times, from the start. An operation that cannot get a connection within the pool's acquire
//! timeout, or does not finish within its deadline, fails with `StorageUnavailable` (503):
//! never a hang.

use std::future::Future;
use std::ops::ControlFlow;
use std::time::Duration;

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
use orgcerts_core::{Error, Result, StorageError, Store};
use sqlx::{PgConnection, PgPool};

use crate::keyset::{keyset, overfetch};
use crate::{OpenError, OpenOptions};

mod audit;
mod certificates;
mod error;
mod keys;
mod open;
mod projects;

use error::{Attempt, Failure};

use open::describe;

/// The PostgreSQL implementation of [`Store`].
pub struct PostgresStore {
    db: Db,
    /// Requests' admin-key lookups, batched under load.
    key_lookups: KeyLookups,
    /// `user@host:port/database`, for messages.
    target: String,
}

/// What an operation runs on: the pool, and how long it may take.
#[derive(Clone)]
struct Db {
    pool: PgPool,
    /// Longest time one operation may take, retries included.
    deadline: Duration,
}

impl Db {
    /// `fut`, failing with `StorageUnavailable` once the operation deadline has passed.
    async fn bounded<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(self.deadline, fut)
            .await
            .unwrap_or_else(|_| Err(error::timed_out(self.deadline)))
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// Whether an operation runs in a transaction (writes) or on a plain connection (reads, whose
/// statements each see committed data; positions read for paging never change).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Read,
    Write,
}

impl PostgresStore {
    /// Connects to the database a `postgres://` or `postgresql://` URL names, waiting up to
    /// `settings.connect_timeout` for it to accept connections, and brings its schema up to
    /// date (safe while other instances start too).
    pub async fn connect(url: &str, settings: &OpenOptions) -> Result<Self, OpenError> {
        let (pool, options) = open::open(url, settings).await?;
        let db = Db {
            pool,
            deadline: settings.operation_deadline(),
        };
        Ok(Self {
            key_lookups: KeyLookups::start(db.clone()),
            db,
            target: describe(&options),
        })
    }

    /// Closes every connection; operations afterwards fail with `StorageUnavailable`.
    pub async fn close(&self) {
        self.db.pool.close().await;
    }
}

/// The connection one attempt runs on: a transaction for writes, a plain pooled connection for
/// reads.
enum Session {
    Write(sqlx::Transaction<'static, sqlx::Postgres>),
    Read(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl Session {
    async fn start(pool: &PgPool, mode: Mode) -> Result<Self, sqlx::Error> {
        Ok(match mode {
            Mode::Write => Self::Write(pool.begin().await?),
            Mode::Read => Self::Read(pool.acquire().await?),
        })
    }

    fn conn(&mut self) -> &mut PgConnection {
        match self {
            Self::Write(tx) => tx,
            Self::Read(conn) => conn,
        }
    }

    /// Commits a write. (A session dropped without this is rolled back by sqlx.)
    async fn finish(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Write(tx) => tx.commit().await,
            Self::Read(_) => Ok(()),
        }
    }
}

/// After attempt number `attempt`: the final result, or the pause before the next attempt.
fn after_attempt<T>(outcome: Attempt<T>, attempt: u32) -> ControlFlow<Result<T>, Duration> {
    match outcome {
        Err(Failure::Sql(err)) if attempt < error::MAX_ATTEMPTS && error::is_retryable(&err) => {
            ControlFlow::Continue(error::backoff(attempt))
        }
        other => ControlFlow::Break(other.map_err(Failure::into_error)),
    }
}

/// Runs `$body` (an `Attempt` future using the connection `$conn`) in a fresh session until it
/// succeeds, fails for good, or has failed retryably [`error::MAX_ATTEMPTS`] times; all within
/// the operation deadline. A macro rather than a function taking an async closure: such a
/// closure's future borrowing the connection cannot be proven `Send` for every lifetime.
macro_rules! run {
    ($db:expr, $mode:expr, |$conn:ident| $body:expr) => {{
        let db: &Db = $db;
        db.bounded(async {
            let mut attempt = 1;
            loop {
                let outcome: Attempt<_> = async {
                    let mut session = Session::start(&db.pool, $mode).await?;
                    let $conn = session.conn();
                    let out = $body.await?;
                    session.finish().await?;
                    Ok(out)
                }
                .await;
                match after_attempt(outcome, attempt) {
                    ControlFlow::Break(result) => break result,
                    ControlFlow::Continue(pause) => {
                        tokio::time::sleep(pause).await;
                        attempt += 1;
                    }
                }
            }
        })
        .await
    }};
}

// After `run!`, which they use.
mod lookups;
mod service_accounts;

use lookups::KeyLookups;

/// A storage failure found by the adapter itself (data that cannot be what it wrote).
fn storage(message: &'static str) -> Failure {
    Failure::Domain(Error::Storage(StorageError::new(message)))
}

/// Where row `id` of `org` sits in `table`'s keyset order: its `(time, seq)` columns, whatever
/// the row's state (a deleted, revoked or archived row keeps its place for a cursor naming it).
async fn keyset_position(
    conn: &mut PgConnection,
    table: &str,
    time: &str,
    org: &OrganizationId,
    id: &str,
) -> Attempt<Option<(i64, i64)>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {time}, seq FROM {table} WHERE id = $1 AND organization_id = $2"
    )))
    .bind(id)
    .bind(org.as_str())
    .fetch_optional(conn)
    .await?)
}

#[async_trait]
impl Store for PostgresStore {
    async fn health(&self) -> Result<()> {
        let applied = run!(&self.db, Mode::Read, |conn| open::applied_version(conn))?;
        if applied < open::LATEST_VERSION {
            return Err(Error::Storage(StorageError::new(format!(
                "the database schema is at version {applied}; this orgcerts needs {}",
                open::LATEST_VERSION
            ))));
        }
        Ok(())
    }

    async fn certificate_expiry_counts(&self, now: i64) -> Result<ExpiryCounts> {
        run!(&self.db, Mode::Read, |conn| certificates::expiry_counts(
            conn, now
        ))
    }

    fn pool_status(&self) -> Option<PoolStatus> {
        let size = self.db.pool.size();
        let idle = u32::try_from(self.db.pool.num_idle()).unwrap_or(u32::MAX);
        Some(PoolStatus {
            in_use: size.saturating_sub(idle),
            idle,
        })
    }

    async fn create_organization(&self, org: &Organization, first_key: &AdminKey) -> Result<()> {
        run!(&self.db, Mode::Write, |conn| keys::create_organization(
            conn, org, first_key
        ))
    }

    async fn create_first_organization(
        &self,
        org: &Organization,
        first_key: &AdminKey,
    ) -> Result<bool> {
        run!(&self.db, Mode::Write, |conn| {
            keys::create_first_organization(conn, org, first_key)
        })
    }

    async fn list_organizations(&self) -> Result<Vec<Organization>> {
        run!(&self.db, Mode::Read, |conn| keys::list_organizations(conn))
    }

    async fn has_organizations(&self) -> Result<bool> {
        run!(&self.db, Mode::Read, |conn| keys::has_organizations(conn))
    }

    async fn insert_admin_key(&self, key: &AdminKey, actor: &Actor) -> Result<()> {
        run!(&self.db, Mode::Write, |conn| keys::insert_admin_key(
            conn, key, actor
        ))
    }

    async fn organization(&self, org: &OrganizationId) -> Result<Option<Organization>> {
        run!(&self.db, Mode::Read, |conn| keys::organization(conn, org))
    }

    async fn admin_key(&self, org: &OrganizationId, id: &AdminKeyId) -> Result<Option<AdminKey>> {
        run!(&self.db, Mode::Read, |conn| keys::admin_key(conn, org, id))
    }

    async fn list_live_admin_keys(
        &self,
        org: &OrganizationId,
        page: &PageRequest,
    ) -> Result<Page<AdminKey>> {
        run!(&self.db, Mode::Read, |conn| keys::list_live_admin_keys(
            conn, org, page
        ))
    }

    async fn record_admin_key_use(&self, uses: &[(AdminKeyId, i64)]) -> Result<()> {
        run!(&self.db, Mode::Write, |conn| keys::record_use(conn, uses))
    }

    async fn admin_key_by_hash(&self, hash: &KeyHash) -> Result<Option<AdminKey>> {
        let found = self.key_lookups.find(&self.db, hash).await?;
        Ok(found.map(|(key, _)| key))
    }

    async fn admin_key_for_request(
        &self,
        hash: &KeyHash,
    ) -> Result<Option<(AdminKey, Option<u64>)>> {
        let found = self.key_lookups.find(&self.db, hash).await?;
        Ok(found.map(|(key, count)| (key, Some(count))))
    }

    async fn list_admin_keys(&self, org: &OrganizationId) -> Result<Vec<AdminKey>> {
        run!(&self.db, Mode::Read, |conn| keys::list_admin_keys(
            conn, org
        ))
    }

    async fn revoke_admin_key(
        &self,
        org: &OrganizationId,
        id: &AdminKeyId,
        actor: &Actor,
    ) -> Result<AdminKey> {
        run!(&self.db, Mode::Write, |conn| keys::revoke_admin_key(
            conn, org, id, actor
        ))
    }

    async fn insert_certificate(
        &self,
        cert: &NewCertificate,
        max: u32,
        actor: &Actor,
    ) -> Result<CertificateRecord> {
        run!(&self.db, Mode::Write, |conn| certificates::insert(
            conn, cert, max, actor
        ))
    }

    async fn certificate(
        &self,
        org: &OrganizationId,
        id: &CertificateId,
        with_der: bool,
    ) -> Result<Option<CertificateRecord>> {
        run!(&self.db, Mode::Read, |conn| certificates::get(
            conn, org, id, with_der
        ))
    }

    async fn update_certificate(
        &self,
        org: &OrganizationId,
        id: &CertificateId,
        update: &CertificateUpdate,
        actor: &Actor,
    ) -> Result<CertificateRecord> {
        run!(&self.db, Mode::Write, |conn| certificates::update(
            conn, org, id, update, actor
        ))
    }

    async fn delete_certificate(
        &self,
        org: &OrganizationId,
        id: &CertificateId,
        actor: &Actor,
    ) -> Result<()> {
        run!(&self.db, Mode::Write, |conn| certificates::delete(
            conn, org, id, actor
        ))
    }

    async fn list_certificates(
        &self,
        org: &OrganizationId,
        scope: &Scope,
        page: &PageRequest,
    ) -> Result<Page<ScopedCertificate>> {
        run!(&self.db, Mode::Read, |conn| certificates::list(
            conn, org, scope, page
        ))
    }

    async fn set_certificates_active(
        &self,
        org: &OrganizationId,
        scope: &Scope,
        ids: &[CertificateId],
        active: bool,
        actor: &Actor,
    ) -> Result<Vec<ScopedCertificate>> {
        run!(&self.db, Mode::Write, |conn| certificates::set_active(
            conn, org, scope, ids, active, actor
        ))
    }

    async fn insert_project(
        &self,
        org: &OrganizationId,
        project: &ProjectRecord,
        actor: &Actor,
    ) -> Result<()> {
        run!(&self.db, Mode::Write, |conn| projects::insert(
            conn, org, project, actor
        ))
    }

    async fn project(&self, org: &OrganizationId, id: &ProjectId) -> Result<Option<ProjectRecord>> {
        run!(&self.db, Mode::Read, |conn| projects::get(conn, org, id))
    }

    async fn list_projects(
        &self,
        org: &OrganizationId,
        page: &PageRequest,
        include_archived: bool,
    ) -> Result<Page<ProjectRecord>> {
        run!(&self.db, Mode::Read, |conn| projects::list(
            conn,
            org,
            page,
            include_archived
        ))
    }

    async fn update_project(
        &self,
        org: &OrganizationId,
        id: &ProjectId,
        update: &ProjectUpdate,
        actor: &Actor,
    ) -> Result<ProjectRecord> {
        run!(&self.db, Mode::Write, |conn| projects::update(
            conn, org, id, update, actor
        ))
    }

    async fn archive_project(
        &self,
        org: &OrganizationId,
        id: &ProjectId,
        actor: &Actor,
    ) -> Result<ProjectRecord> {
        run!(&self.db, Mode::Write, |conn| projects::archive(
            conn, org, id, actor
        ))
    }

    async fn list_audit_logs(
        &self,
        org: &OrganizationId,
        query: &AuditQuery,
    ) -> Result<Page<AuditEntry>> {
        run!(&self.db, Mode::Read, |conn| audit::list(conn, org, query))
    }

    async fn active_anchors(&self) -> Result<Vec<ActiveAnchor>> {
        run!(&self.db, Mode::Read, |conn| certificates::active_anchors(
            conn
        ))
    }

    async fn trust_version(&self) -> Result<u64> {
        run!(&self.db, Mode::Read, |conn| keys::trust_version(conn))
    }
}
