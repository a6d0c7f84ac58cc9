//! The operations of the API. Each method validates its input, then lets the store apply the
//! change atomically. Nothing here knows about HTTP or SQL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::anchor;
use crate::audit::{AuditEntry, AuditQuery};
use crate::cache::{MAX_CACHED_LIST, ReadCache, page_of};
use crate::ids::{AdminKeyId, CertificateId, OrganizationId, ProjectId};
use crate::keys::{self, KeyHash};
use crate::model::{
    Actor, AdminKey, CertificateRecord, NewCertificate, Organization, Principal, ProjectRecord,
    ProjectUpdate, Scope, ScopedCertificate,
};
use crate::page::{Order, Page, PageRequest};
use crate::{Error, Result, Store, echo, unix_now};

/// The longest certificate or project name, in Unicode scalar values.
pub const MAX_NAME_CHARS: usize = 256;
/// The most certificate ids one activation or deactivation may name.
pub const MAX_TOGGLE_IDS: usize = 10;
/// The default per-organization maximum of certificates (OpenAI's).
pub const DEFAULT_MAX_CERTIFICATES_PER_ORG: u32 = 50;

/// The longest lifetime of an admin key created over the API (`expires_in_seconds`).
pub const MAX_KEY_LIFETIME_SECS: i64 = 31_536_000;

/// The default size of the read cache, in certificates.
pub const DEFAULT_READ_CACHE_ITEMS: u64 = 1_000_000;

/// Operator settings the rules depend on.
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_certificates_per_org: u32,
    /// How many certificates the read cache may hold ([`crate::cache`]); 0 turns it off.
    pub read_cache_items: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_certificates_per_org: DEFAULT_MAX_CERTIFICATES_PER_ORG,
            read_cache_items: DEFAULT_READ_CACHE_ITEMS,
        }
    }
}

/// The orgcerts service over one store.
#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    settings: Settings,
    cache: Option<Arc<ReadCache>>,
    /// Authentications not yet written to storage: each key's latest use. Flushed in one
    /// write by [`Service::flush_key_use`], so that requests do not each write.
    pending_use: Arc<Mutex<HashMap<AdminKeyId, i64>>>,
}

/// A freshly created admin key: the record, and its secret text, shown once.
#[derive(Debug, Clone)]
pub struct IssuedAdminKey {
    pub key: AdminKey,
    pub secret: String,
}

fn check_name(field: &'static str, name: &str, allow_empty: bool) -> Result<()> {
    let len = name.chars().count();
    if len > MAX_NAME_CHARS {
        return Err(Error::NameTooLong {
            field,
            max: MAX_NAME_CHARS,
            len,
        });
    }
    if !allow_empty && name.trim().is_empty() {
        return Err(Error::InvalidName {
            field,
            reason: "must not be empty",
        });
    }
    if name.chars().any(char::is_control) {
        return Err(Error::InvalidName {
            field,
            reason: "must not contain control characters",
        });
    }
    Ok(())
}

/// The actor of a change made with admin key `by` (or by the operator, `None`) at `at`.
fn actor(by: Option<&AdminKeyId>, at: i64) -> Actor {
    Actor {
        key_id: by.cloned(),
        at,
    }
}

fn parse_certificate_id(id: &str) -> Result<CertificateId> {
    CertificateId::parse(id).ok_or_else(|| Error::CertificateNotFound { id: echo(id) })
}

fn parse_project_id(id: &str) -> Result<ProjectId> {
    ProjectId::parse(id).ok_or_else(|| Error::ProjectNotFound { id: echo(id) })
}

impl Service {
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        let cache = ReadCache::new(settings.read_cache_items).map(Arc::new);
        Self {
            store,
            settings,
            cache,
            pending_use: Arc::default(),
        }
    }

    /// The cache and the store's current change token, when both exist.
    fn cache_token(&self) -> Option<(&ReadCache, u64)> {
        let cache = self.cache.as_deref()?;
        Some((cache, self.store.change_token()?))
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The store, for operator endpoints (readiness, metrics).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    // Organizations and admin keys.

    /// Establishes who an admin key acts for. Unknown, revoked, expired and malformed keys are
    /// all `InvalidApiKey`, indistinguishably. The use is remembered for `last_used_at`.
    pub async fn authenticate(&self, key: &str) -> Result<Principal> {
        if !keys::is_well_formed_admin_key(key) {
            return Err(Error::InvalidApiKey);
        }
        let now = unix_now();
        let hash = KeyHash::of(key);
        let cached = self.cache_token();
        let mut found = None;
        if let Some((cache, token)) = cached {
            // Expiry is checked on hits too: a cached key must not outlive its `expires_at`.
            if let Some((principal, expires_at)) = cache.principal(&hash.0, token) {
                if expires_at.is_some_and(|at| at <= now) {
                    return Err(Error::InvalidApiKey);
                }
                found = Some(Principal {
                    change_token: Some(token),
                    ..principal
                });
            }
        }
        let principal = match found {
            Some(principal) => principal,
            None => match self.store.admin_key_by_hash(&hash).await? {
                Some(stored) if stored.is_usable(now) && stored.hash.matches(&hash) => {
                    let principal = Principal {
                        organization_id: stored.organization_id,
                        key_id: stored.id,
                        change_token: cached.map(|(_, token)| token),
                    };
                    if let Some((cache, token)) = cached {
                        cache.remember_principal(
                            hash.0,
                            token,
                            principal.clone(),
                            stored.expires_at,
                        );
                    }
                    principal
                }
                _ => return Err(Error::InvalidApiKey),
            },
        };
        self.note_key_use(&principal.key_id, now);
        Ok(principal)
    }

    fn note_key_use(&self, key: &AdminKeyId, at: i64) {
        if let Ok(mut pending) = self.pending_use.lock() {
            let latest = pending.entry(key.clone()).or_insert(at);
            *latest = (*latest).max(at);
        }
    }

    /// Writes the remembered authentications to storage in one batch (called every few
    /// seconds and at shutdown). On failure they are kept for the next flush.
    pub async fn flush_key_use(&self) -> Result<()> {
        let batch: Vec<(AdminKeyId, i64)> = match self.pending_use.lock() {
            Ok(mut pending) => pending.drain().collect(),
            Err(_) => return Ok(()),
        };
        if batch.is_empty() {
            return Ok(());
        }
        let result = self.store.record_admin_key_use(&batch).await;
        if result.is_err() {
            for (key, at) in batch {
                self.note_key_use(&key, at);
            }
        }
        result
    }

    /// `key` with the uses this instance has not flushed yet folded into `last_used_at`.
    fn with_pending_use(&self, mut key: AdminKey) -> AdminKey {
        if let Ok(pending) = self.pending_use.lock()
            && let Some(&at) = pending.get(&key.id)
        {
            key.last_used_at = Some(key.last_used_at.map_or(at, |stored| stored.max(at)));
        }
        key
    }

    /// Creates an organization with its first admin key. `secret` is that key's text when the
    /// operator chose it (it must be well formed); otherwise one is generated.
    pub async fn create_organization(
        &self,
        name: &str,
        secret: Option<String>,
    ) -> Result<(Organization, IssuedAdminKey)> {
        let (org, issued) = Self::new_organization(name, secret)?;
        self.store.create_organization(&org, &issued.key).await?;
        Ok((org, issued))
    }

    /// A new organization named `name` and its first key (`secret`, or a generated one).
    fn new_organization(
        name: &str,
        secret: Option<String>,
    ) -> Result<(Organization, IssuedAdminKey)> {
        check_name("name", name, false)?;
        let now = unix_now();
        let org = Organization {
            id: OrganizationId::generate(),
            name: name.to_owned(),
            created_at: now,
        };
        let issued = Self::issue_key(&org.id, "Initial admin key", secret, now)?;
        Ok((org, issued))
    }

    /// The organization a new deployment starts with, and its first admin key: created only
    /// if the database has no organization yet, atomically (`None`: it had one, perhaps made
    /// a moment ago by another instance starting on the same database).
    pub async fn create_first_organization(
        &self,
        name: &str,
        secret: Option<String>,
    ) -> Result<Option<(Organization, IssuedAdminKey)>> {
        let (org, issued) = Self::new_organization(name, secret)?;
        let created = self
            .store
            .create_first_organization(&org, &issued.key)
            .await?;
        Ok(created.then_some((org, issued)))
    }

    pub async fn list_organizations(&self) -> Result<Vec<Organization>> {
        self.store.list_organizations().await
    }

    /// One organization (the `owner` of its admin keys).
    pub async fn organization(&self, org: &OrganizationId) -> Result<Organization> {
        self.store
            .organization(org)
            .await?
            .ok_or_else(|| Error::OrganizationNotFound {
                id: echo(org.as_str()),
            })
    }

    /// `admin-api-keys-create`, and the operator's `admin-key create` (`by` = `None`).
    /// `expires_in_seconds`, when given, is 1..=31536000.
    pub async fn create_admin_key(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        name: &str,
        expires_in_seconds: Option<i64>,
    ) -> Result<IssuedAdminKey> {
        check_name("name", name, false)?;
        if let Some(secs) = expires_in_seconds
            && !(1..=MAX_KEY_LIFETIME_SECS).contains(&secs)
        {
            return Err(Error::InvalidParameter {
                param: "expires_in_seconds",
                message: format!("{secs} is not an integer between 1 and {MAX_KEY_LIFETIME_SECS}."),
            });
        }
        let now = unix_now();
        let mut issued = Self::issue_key(org, name, None, now)?;
        issued.key.expires_at = expires_in_seconds.map(|secs| now + secs);
        self.store
            .insert_admin_key(&issued.key, &actor(by, now))
            .await?;
        Ok(issued)
    }

    /// `admin-api-keys-list`, and the operator's `admin-key list`: live keys only.
    pub async fn list_admin_keys(
        &self,
        org: &OrganizationId,
        page: &PageRequest,
    ) -> Result<Page<AdminKey>> {
        let page = self.store.list_live_admin_keys(org, page).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|k| self.with_pending_use(k))
                .collect(),
            has_more: page.has_more,
        })
    }

    /// `admin-api-keys-get`: a live key of this organization.
    pub async fn get_admin_key(&self, org: &OrganizationId, id: &str) -> Result<AdminKey> {
        let not_found = || Error::AdminKeyNotFound { id: echo(id) };
        let key_id = AdminKeyId::parse(id).ok_or_else(not_found)?;
        match self.store.admin_key(org, &key_id).await? {
            Some(key) if key.revoked_at.is_none() => Ok(self.with_pending_use(key)),
            _ => Err(not_found()),
        }
    }

    /// `admin-api-keys-delete`, and the operator's `admin-key revoke`. A deleted key is refused
    /// from the next request on, also when it is the key of this very request.
    pub async fn delete_admin_key(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        id: &str,
    ) -> Result<AdminKey> {
        let key = self.get_admin_key(org, id).await?;
        self.store
            .revoke_admin_key(org, &key.id, &actor(by, unix_now()))
            .await
    }

    fn issue_key(
        org: &OrganizationId,
        name: &str,
        secret: Option<String>,
        now: i64,
    ) -> Result<IssuedAdminKey> {
        let secret = match secret {
            Some(s) if keys::is_well_formed_admin_key(&s) => s,
            Some(_) => return Err(Error::InvalidApiKey),
            None => keys::generate_admin_key(),
        };
        let key = AdminKey {
            id: AdminKeyId::generate(),
            organization_id: org.clone(),
            name: name.to_owned(),
            hash: KeyHash::of(&secret),
            redacted_value: keys::redact(&secret),
            created_at: now,
            revoked_at: None,
            expires_at: None,
            last_used_at: None,
        };
        Ok(IssuedAdminKey { key, secret })
    }

    // Certificates.

    /// `uploadCertificate`.
    pub async fn upload_certificate(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        pem: &str,
        name: Option<String>,
    ) -> Result<CertificateRecord> {
        if let Some(name) = &name {
            check_name("name", name, true)?;
        }
        let now = unix_now();
        let anchor = anchor::validate(pem, now)?;
        let cert = NewCertificate {
            id: CertificateId::generate(),
            organization_id: org.clone(),
            name,
            created_at: now,
            anchor,
        };
        self.store
            .insert_certificate(
                &cert,
                self.settings.max_certificates_per_org,
                &actor(by, now),
            )
            .await
    }

    /// `getCertificate`; the DER is read only when `include_content`.
    pub async fn get_certificate(
        &self,
        org: &OrganizationId,
        id: &str,
        include_content: bool,
    ) -> Result<CertificateRecord> {
        let cert_id = parse_certificate_id(id)?;
        self.store
            .certificate(org, &cert_id, include_content)
            .await?
            .ok_or_else(|| Error::CertificateNotFound { id: echo(id) })
    }

    /// `modifyCertificate`: only the name can change; no name leaves the certificate as it is.
    pub async fn modify_certificate(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        id: &str,
        name: Option<String>,
    ) -> Result<CertificateRecord> {
        let cert_id = parse_certificate_id(id)?;
        match name {
            Some(name) => {
                check_name("name", &name, true)?;
                self.store
                    .rename_certificate(org, &cert_id, Some(&name), &actor(by, unix_now()))
                    .await
            }
            None => self.get_certificate(org, id, false).await,
        }
    }

    /// `deleteCertificate`.
    pub async fn delete_certificate(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        id: &str,
    ) -> Result<CertificateId> {
        let cert_id = parse_certificate_id(id)?;
        self.store
            .delete_certificate(org, &cert_id, &actor(by, unix_now()))
            .await?;
        Ok(cert_id)
    }

    /// `listOrganizationCertificates` and `listProjectCertificates`, for `principal`'s
    /// organization, trusting the cache as of the change token read when it was authenticated.
    pub async fn list_certificates(
        &self,
        principal: &Principal,
        scope: &Scope,
        page: &PageRequest,
    ) -> Result<Page<ScopedCertificate>> {
        let org = &principal.organization_id;
        let cached = match (self.cache.as_deref(), principal.change_token) {
            (Some(cache), Some(token)) => Some((cache, token)),
            _ => None,
        };
        if let Some((cache, token)) = cached {
            let list = if let Some(list) = cache.list(org, scope, token) {
                list
            } else {
                let whole = PageRequest {
                    limit: MAX_CACHED_LIST,
                    after: None,
                    order: Order::Asc,
                };
                let fetched = self.store.list_certificates(org, scope, &whole).await?;
                let list = (!fetched.has_more).then(|| Arc::new(fetched.items));
                cache.remember_list(org, scope, token, list.clone());
                list
            };
            if let Some(page) = list.and_then(|list| page_of(&list, page)) {
                return Ok(page);
            }
        }
        self.store.list_certificates(org, scope, page).await
    }

    /// The four activation / deactivation operations.
    pub async fn set_certificates_active(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        scope: &Scope,
        ids: &[String],
        active: bool,
    ) -> Result<Vec<ScopedCertificate>> {
        if ids.is_empty() {
            return Err(Error::NoCertificateIds);
        }
        // Duplicates are folded before counting: naming one certificate twice is one change.
        let mut unique: Vec<&str> = Vec::with_capacity(ids.len());
        for id in ids {
            if !unique.contains(&id.as_str()) {
                unique.push(id);
            }
        }
        if unique.len() > MAX_TOGGLE_IDS {
            return Err(Error::TooManyCertificateIds {
                count: unique.len(),
                max: MAX_TOGGLE_IDS,
            });
        }
        let parsed = unique
            .iter()
            .map(|id| {
                CertificateId::parse(id)
                    .ok_or_else(|| Error::UnknownCertificateInSet { id: echo(id) })
            })
            .collect::<Result<Vec<_>>>()?;
        self.store
            .set_certificates_active(org, scope, &parsed, active, &actor(by, unix_now()))
            .await
    }

    /// Resolves a project id from a path into a scope, without reading storage: the store
    /// refuses unknown projects inside the operation itself.
    pub fn project_scope(id: &str) -> Result<Scope> {
        parse_project_id(id).map(Scope::Project)
    }

    // Projects.

    /// `create-project`.
    pub async fn create_project(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        name: &str,
        external_key_id: Option<String>,
        residency: Option<String>,
    ) -> Result<ProjectRecord> {
        check_name("name", name, false)?;
        let project = ProjectRecord {
            id: ProjectId::generate(),
            name: name.to_owned(),
            created_at: unix_now(),
            archived_at: None,
            external_key_id,
            residency,
        };
        self.store
            .insert_project(org, &project, &actor(by, project.created_at))
            .await?;
        Ok(project)
    }

    /// `retrieve-project`.
    pub async fn retrieve_project(&self, org: &OrganizationId, id: &str) -> Result<ProjectRecord> {
        let project_id = parse_project_id(id)?;
        self.store
            .project(org, &project_id)
            .await?
            .ok_or_else(|| Error::ProjectNotFound { id: echo(id) })
    }

    /// `list-projects`.
    pub async fn list_projects(
        &self,
        org: &OrganizationId,
        page: &PageRequest,
        include_archived: bool,
    ) -> Result<Page<ProjectRecord>> {
        self.store.list_projects(org, page, include_archived).await
    }

    /// `modify-project`.
    pub async fn modify_project(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        id: &str,
        update: ProjectUpdate,
    ) -> Result<ProjectRecord> {
        let project_id = parse_project_id(id)?;
        if let Some(name) = &update.name {
            check_name("name", name, false)?;
        }
        if update.name.is_none() && update.external_key_id.is_none() {
            // Nothing requested: no write and no audit entry (no record without a change),
            // but the same answers a change would get.
            let project = self.retrieve_project(org, id).await?;
            if project.archived_at.is_some() {
                return Err(Error::ProjectArchived {
                    id: project_id.to_string(),
                });
            }
            return Ok(project);
        }
        self.store
            .update_project(org, &project_id, &update, &actor(by, unix_now()))
            .await
    }

    /// `archive-project`.
    pub async fn archive_project(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        id: &str,
    ) -> Result<ProjectRecord> {
        let project_id = parse_project_id(id)?;
        self.store
            .archive_project(org, &project_id, &actor(by, unix_now()))
            .await
    }

    // The audit log.

    /// `list-audit-logs`.
    pub async fn list_audit_logs(
        &self,
        org: &OrganizationId,
        query: &AuditQuery,
    ) -> Result<Page<AuditEntry>> {
        self.store.list_audit_logs(org, query).await
    }
}
