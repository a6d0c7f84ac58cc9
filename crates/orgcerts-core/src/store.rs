//! The storage contract. One adapter per engine implements it; the shared store test suite
//! (`orgcerts-store`'s `suite`) is what proves each adapter right.
//!
//! Every rule that must hold under concurrency is the store's to enforce inside one
//! transaction: the per-organization maximum, duplicate detection, atomic activation of a set,
//! refusing to delete a certificate in use. The service validates everything else beforehand.
//!
//! Every mutating method takes the [`Actor`] and writes the change's audit log entry
//! ([`crate::audit`]) in the same transaction as the change: a refused or failed change leaves
//! no entry, and no entry exists without its change.

use async_trait::async_trait;

use crate::Result;
use crate::audit::{AuditEntry, AuditQuery};
use crate::ids::{
    AdminKeyId, CertificateId, OrganizationId, ProjectApiKeyId, ProjectId, ServiceAccountId,
};
use crate::keys::KeyHash;
use crate::model::{
    ActiveAnchor, Actor, AdminKey, CertificateRecord, CertificateUpdate, ExpiryCounts,
    NewCertificate, Organization, OwnerAccess, PoolStatus, ProjectApiKeyRecord, ProjectRecord,
    ProjectUpdate, Scope, ScopedCertificate, ServiceAccountKey, ServiceAccountKeyGrant,
    ServiceAccountRecord, ServiceAccountUpdate,
};
use crate::page::{Page, PageRequest};

#[async_trait]
pub trait Store: ServiceAccountStore + Send + Sync + 'static {
    /// Succeeds when the database is reachable and its schema is current (for `/readyz`).
    async fn health(&self) -> Result<()>;
    /// Live certificates of all organizations by time left before expiry, as of `now`
    /// (for `/metrics`).
    async fn certificate_expiry_counts(&self, now: i64) -> Result<ExpiryCounts>;
    /// A cheap value that changes whenever a change is committed to the database: at once for
    /// a change this store acknowledged, within a short delay the engine states for another
    /// process's (another instance, the operator's command line). Writes nothing cached depends
    /// on (`last_used_at` of admin keys and of service account keys) may leave it as it is.
    /// `None` where the engine cannot tell cheaply; then the service caches no admin keys, and
    /// lists only where [`Store::admin_key_for_request`] gives a change count.
    ///
    /// The service reads it *before* reading data it caches and keeps the data only while the
    /// token is unchanged (see [`crate::cache`] for the guarantee that gives).
    fn change_token(&self) -> Option<u64> {
        None
    }

    /// [`Store::change_token`] for a request that found none: the engine may do the work that
    /// vouches for a token (off the async workers) instead of leaving the request uncached.
    async fn fresh_change_token(&self) -> Option<u64> {
        self.change_token()
    }

    /// The connection pool's use, where the engine has a pool.
    fn pool_status(&self) -> Option<PoolStatus> {
        None
    }

    // Organizations and admin keys.

    /// Creates an organization together with its first admin key, atomically (the key's
    /// `api_key.created` entry is recorded with the operator as actor, at `org.created_at`).
    async fn create_organization(&self, org: &Organization, first_key: &AdminKey) -> Result<()>;
    /// [`Store::create_organization`], but only on a database without organizations, decided
    /// in the same transaction: of instances racing to bootstrap one empty database, exactly
    /// one creates it. Whether it did.
    async fn create_first_organization(
        &self,
        org: &Organization,
        first_key: &AdminKey,
    ) -> Result<bool>;
    /// All organizations, oldest first.
    async fn list_organizations(&self) -> Result<Vec<Organization>>;
    /// Whether any organization exists (at start-up: without reading them all).
    async fn has_organizations(&self) -> Result<bool>;
    /// Adds a key to an existing organization (`OrganizationNotFound` otherwise).
    async fn insert_admin_key(&self, key: &AdminKey, actor: &Actor) -> Result<()>;
    /// One organization.
    async fn organization(&self, org: &OrganizationId) -> Result<Option<Organization>>;
    /// A key of this organization, revoked or not.
    async fn admin_key(&self, org: &OrganizationId, id: &AdminKeyId) -> Result<Option<AdminKey>>;
    /// A page of the organization's live (unrevoked) keys by (created_at, creation sequence);
    /// `after` may name a revoked key (its position is kept), `UnknownCursor` otherwise.
    async fn list_live_admin_keys(
        &self,
        org: &OrganizationId,
        page: &PageRequest,
    ) -> Result<Page<AdminKey>>;
    /// Records authentications: each key's `last_used_at` becomes the later of the stored value
    /// and the given one. One write for the whole batch; not audited.
    async fn record_admin_key_use(&self, uses: &[(AdminKeyId, i64)]) -> Result<()>;
    /// The key with this hash, revoked or not.
    async fn admin_key_by_hash(&self, hash: &KeyHash) -> Result<Option<AdminKey>>;
    /// [`Store::admin_key_by_hash`] for authenticating a request, with the organization's
    /// change count read in the same statement where the engine keeps one (PostgreSQL): a value
    /// that changes in the transaction of every change to the organization's certificates,
    /// their activation and its projects, so that a request authenticated after a change was
    /// acknowledged, by any instance, reads the count that change left. The service trusts
    /// cached lists stamped with it ([`crate::cache`]). `None` where the engine keeps no count;
    /// engines with a [`Store::change_token`] need none.
    async fn admin_key_for_request(
        &self,
        hash: &KeyHash,
    ) -> Result<Option<(AdminKey, Option<u64>)>> {
        Ok(self.admin_key_by_hash(hash).await?.map(|key| (key, None)))
    }
    /// An organization's keys, oldest first (`OrganizationNotFound` for an unknown organization).
    async fn list_admin_keys(&self, org: &OrganizationId) -> Result<Vec<AdminKey>>;
    /// Marks a key revoked at `actor.at`; revoking twice keeps the first time (and records
    /// `api_key.deleted` once, for the revocation that changed it).
    async fn revoke_admin_key(
        &self,
        org: &OrganizationId,
        id: &AdminKeyId,
        actor: &Actor,
    ) -> Result<AdminKey>;

    // Certificates.

    /// Inserts a certificate unless the organization already holds `max` certificates
    /// (`CertificateLimitExceeded`) or one with the same fingerprint (`CertificateAlreadyExists`).
    async fn insert_certificate(
        &self,
        cert: &NewCertificate,
        max: u32,
        actor: &Actor,
    ) -> Result<CertificateRecord>;
    /// A live certificate of this organization; its DER only when `with_der`.
    async fn certificate(
        &self,
        org: &OrganizationId,
        id: &CertificateId,
        with_der: bool,
    ) -> Result<Option<CertificateRecord>>;
    /// Changes a live certificate's name and attribute filter, each only when the update names
    /// it (`CertificateNotFound` otherwise), recording one `certificate.updated`; the record as
    /// it now is, without its DER.
    async fn update_certificate(
        &self,
        org: &OrganizationId,
        id: &CertificateId,
        update: &CertificateUpdate,
        actor: &Actor,
    ) -> Result<CertificateRecord>;
    /// Deletes a certificate that is active nowhere (`CertificateInUse` otherwise). The record
    /// keeps its list position, so that `after=<deleted id>` still pages on.
    async fn delete_certificate(
        &self,
        org: &OrganizationId,
        id: &CertificateId,
        actor: &Actor,
    ) -> Result<()>;
    /// A page of live certificates with `active` at `scope`, by (created_at, creation sequence).
    /// `ProjectNotFound` for an unknown project, `UnknownCursor` for an `after` this organization
    /// never had.
    async fn list_certificates(
        &self,
        org: &OrganizationId,
        scope: &Scope,
        page: &PageRequest,
    ) -> Result<Page<ScopedCertificate>>;
    /// Sets `active` for every id at `scope`, all or nothing: one unknown id
    /// (`UnknownCertificateInSet`) and nothing changes. Activation for an archived project is
    /// `ProjectArchived`; deactivation is allowed. Returns the certificates in the order given.
    async fn set_certificates_active(
        &self,
        org: &OrganizationId,
        scope: &Scope,
        ids: &[CertificateId],
        active: bool,
        actor: &Actor,
    ) -> Result<Vec<ScopedCertificate>>;

    // Projects.

    async fn insert_project(
        &self,
        org: &OrganizationId,
        project: &ProjectRecord,
        actor: &Actor,
    ) -> Result<()>;
    async fn project(&self, org: &OrganizationId, id: &ProjectId) -> Result<Option<ProjectRecord>>;
    /// A page of projects by creation, archived ones only when asked for.
    async fn list_projects(
        &self,
        org: &OrganizationId,
        page: &PageRequest,
        include_archived: bool,
    ) -> Result<Page<ProjectRecord>>;
    /// Changes a live project (`ProjectArchived` for an archived one).
    async fn update_project(
        &self,
        org: &OrganizationId,
        id: &ProjectId,
        update: &ProjectUpdate,
        actor: &Actor,
    ) -> Result<ProjectRecord>;
    /// Archives a project; archiving an archived project returns it unchanged.
    async fn archive_project(
        &self,
        org: &OrganizationId,
        id: &ProjectId,
        actor: &Actor,
    ) -> Result<ProjectRecord>;

    // The audit log.

    /// A page of the organization's audit log, newest first by (effective_at, sequence).
    /// A cursor naming no entry of this organization is `InvalidParameter` (`after`/`before`).
    async fn list_audit_logs(
        &self,
        org: &OrganizationId,
        query: &AuditQuery,
    ) -> Result<Page<AuditEntry>>;

    // The mTLS gateway.

    /// Every activation of a live certificate, in all organizations: one record per (certificate,
    /// scope) where it is active, ordered by organization id, then certificate id, organization
    /// scope before project scopes, those by project id (ids compared bytewise, the same order
    /// on every engine), for the gateway's trust snapshot. Activations at archived projects are
    /// included (their keys authenticate nothing anyway).
    async fn active_anchors(&self) -> Result<Vec<ActiveAnchor>>;
    /// A value that changes whenever a change that could alter a gateway's decision has committed,
    /// by this process or any other sharing the database: certificates and their activation,
    /// projects (archive), service accounts and their keys. The gateway polls it (a few times a
    /// second) and rebuilds its trust snapshot and forgets cached keys when it moved. It may also
    /// move for other writes (then the gateway merely rebuilds for nothing). One store's values
    /// never decrease; values of stores on the same database need not be comparable.
    async fn trust_version(&self) -> Result<u64>;
}

/// The service accounts of projects and their API keys: the part of [`Store`] the identities
/// of `openai-project-service-accounts.openapi.yaml` need (each adapter implements it in a file
/// of its own). Deleted accounts and keys keep their list position, so that `after=<deleted
/// id>` still pages on; nothing else reads them.
#[async_trait]
pub trait ServiceAccountStore: Send + Sync + 'static {
    /// Inserts a service account, and its first key when there is one, into a live project of
    /// the organization (`ProjectNotFound`, `ProjectArchived`), recording
    /// `service_account.created` (and `api_key.created`).
    async fn insert_service_account(
        &self,
        account: &ServiceAccountRecord,
        first_key: Option<&ServiceAccountKey>,
        actor: &Actor,
    ) -> Result<()>;
    /// A live service account of this project of this organization.
    async fn service_account(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ServiceAccountId,
    ) -> Result<Option<ServiceAccountRecord>>;
    /// A page of the project's live service accounts by (created_at, creation sequence);
    /// `after` may name a deleted account of the project, `UnknownCursor` otherwise.
    async fn list_service_accounts(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ServiceAccountRecord>>;
    /// Changes a live account of a live project (`ServiceAccountNotFound`, `ProjectArchived`).
    async fn update_service_account(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ServiceAccountId,
        update: &ServiceAccountUpdate,
        actor: &Actor,
    ) -> Result<ServiceAccountRecord>;
    /// Deletes a live account and all its keys, archived project or not
    /// (`ServiceAccountNotFound`).
    async fn delete_service_account(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ServiceAccountId,
        actor: &Actor,
    ) -> Result<ServiceAccountRecord>;
    /// Adds a key to a live account of a live project (`ServiceAccountNotFound`,
    /// `ProjectArchived`), recording `api_key.created`.
    async fn insert_service_account_key(
        &self,
        key: &ServiceAccountKey,
        actor: &Actor,
    ) -> Result<()>;
    /// A live key of this project, with its owner.
    async fn project_api_key(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ProjectApiKeyId,
    ) -> Result<Option<ProjectApiKeyRecord>>;
    /// A page of the project's live keys by (created_at, creation sequence), those whose owner
    /// has the given access; `after` may name a deleted key of the project.
    async fn list_project_api_keys(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        page: &PageRequest,
        access: OwnerAccess,
    ) -> Result<Page<ProjectApiKeyRecord>>;
    /// Deletes a live key (`ProjectApiKeyNotFound`), recording `api_key.deleted`.
    async fn delete_project_api_key(
        &self,
        org: &OrganizationId,
        project: &ProjectId,
        id: &ProjectApiKeyId,
        actor: &Actor,
    ) -> Result<()>;
    /// The live service account key with this hash, with what it grants (for the gateway).
    async fn service_account_key_by_hash(
        &self,
        hash: &KeyHash,
    ) -> Result<Option<ServiceAccountKeyGrant>>;
    /// Records the gateway's authentications: each key's `last_used_at` becomes the later of
    /// the stored value and the given one. One write for the whole batch; not audited.
    /// Deleted and unknown keys are left alone, without an error. Nothing cached or trusted
    /// shows `last_used_at`, so this store's [`Store::change_token`] and
    /// [`Store::trust_version`] need not move for it (a store that cannot tell this write from
    /// others, such as SQLite watching another process, may still see it as a change).
    async fn record_service_account_key_use(&self, uses: &[(ProjectApiKeyId, i64)]) -> Result<()>;
}
