//! The operations of the API. Each method validates its input, then lets the store apply the
//! change atomically. Nothing here knows about HTTP or SQL.
//!
//! One `impl Service` per part of the API: `admin_keys` (authentication, organizations and
//! admin keys), `certificates`, `projects`, `service_accounts`; the audit log's one read is here.

mod admin_keys;
mod certificates;
mod key_use;
mod projects;
mod service_accounts;

pub use service_accounts::{CreatedServiceAccount, DEFAULT_KEY_NAME, IssuedServiceAccountKey};

use std::sync::Arc;

use crate::audit::{AuditEntry, AuditQuery};
use crate::cache::ReadCache;
use crate::ids::{AdminKeyId, CertificateId, OrganizationId, ProjectApiKeyId, ProjectId};
use crate::model::{Actor, AdminKey};
use crate::page::Page;
use crate::{Error, Result, Store, echo};
use key_use::UseLog;

/// The longest certificate or project name, in Unicode scalar values.
pub const MAX_NAME_CHARS: usize = 256;
/// The most certificate ids one activation or deactivation may name.
pub const MAX_TOGGLE_IDS: usize = 10;
/// The default per-organization maximum of certificates (OpenAI's).
pub const DEFAULT_MAX_CERTIFICATES_PER_ORG: u32 = 50;

/// The longest lifetime of an admin key created over the API (`expires_in_seconds`).
pub const MAX_KEY_LIFETIME_SECS: i64 = 31_536_000;

/// The default size of the read cache, in certificates (about 250 bytes each when the server
/// encodes them, [`crate::cache::ListEncoding`]).
pub const DEFAULT_READ_CACHE_ITEMS: u64 = 2_000_000;

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
    /// Admin key authentications not yet written to storage: each key's latest use. Flushed
    /// in one write by [`Service::flush_key_use`], so that requests do not each write.
    admin_key_use: Arc<UseLog<AdminKeyId>>,
    /// The same for service account keys, noted by the gateway
    /// ([`Service::note_service_account_key_use`]) and flushed by
    /// [`Service::flush_service_account_key_use`].
    project_key_use: Arc<UseLog<ProjectApiKeyId>>,
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
            admin_key_use: Arc::default(),
            project_key_use: Arc::default(),
        }
    }

    /// The cache and the store's current change token, when both exist.
    async fn cache_token(&self) -> Option<(&ReadCache, u64)> {
        let cache = self.cache.as_deref()?;
        let token = match self.store.change_token() {
            Some(token) => token,
            None => self.store.fresh_change_token().await?,
        };
        Some((cache, token))
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The store, for operator endpoints (readiness, metrics).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
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
