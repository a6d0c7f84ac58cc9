//! Records as the service and the stores exchange them.

use crate::anchor::Anchor;
use crate::ids::{
    AdminKeyId, CertificateId, OrganizationId, ProjectApiKeyId, ProjectId, ServiceAccountId,
};
use crate::keys::KeyHash;

/// An organization: the unit of isolation. Every other record belongs to exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub created_at: i64,
}

/// An admin key as stored: its hash, never its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminKey {
    pub id: AdminKeyId,
    pub organization_id: OrganizationId,
    pub name: String,
    pub hash: KeyHash,
    pub redacted_value: String,
    pub created_at: i64,
    /// Deleted (over the API) or revoked (by the operator): refused, not listed.
    pub revoked_at: Option<i64>,
    /// Refused from this time on; `None` never expires.
    pub expires_at: Option<i64>,
    /// The latest authentication with this key, as last flushed to storage.
    pub last_used_at: Option<i64>,
}

impl AdminKey {
    /// Whether the key authenticates at `now`: neither revoked nor expired.
    pub fn is_usable(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// Who makes a change, and when: recorded with the change in its audit log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The admin key of the request; `None` for the operator's command line, which acts on
    /// the database directly and is recorded with a `null` actor.
    pub key_id: Option<AdminKeyId>,
    /// The change's time (Unix seconds): the entry's `effective_at`.
    pub at: i64,
}

impl Actor {
    /// A request authenticated with `key_id`, now.
    pub fn api_key(key_id: AdminKeyId, at: i64) -> Self {
        Self {
            key_id: Some(key_id),
            at,
        }
    }

    /// The operator's command line, now.
    pub fn operator(at: i64) -> Self {
        Self { key_id: None, at }
    }
}

/// Who a request acts for, established from its admin key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub organization_id: OrganizationId,
    pub key_id: AdminKeyId,
    /// The store's change token (SQLite), or the organization's change count read with the key
    /// (PostgreSQL), as of authentication; `None` without a read cache. Read after the request
    /// began, so reads made for this request may trust cache entries stamped with it
    /// ([`crate::cache`]): one token read per request instead of one per read.
    pub change_token: Option<u64>,
}

/// A certificate to insert.
#[derive(Debug, Clone)]
pub struct NewCertificate {
    pub id: CertificateId,
    pub organization_id: OrganizationId,
    pub name: Option<String>,
    pub created_at: i64,
    pub anchor: Anchor,
    /// The attribute filter's source text, compiled before it gets here; `None` for none.
    pub attribute_filter: Option<String>,
}

/// A stored certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    pub id: CertificateId,
    pub name: Option<String>,
    pub created_at: i64,
    pub valid_at: i64,
    pub expires_at: i64,
    /// The anchor's DER; read only when asked for (`include[]=content`).
    pub der: Option<Vec<u8>>,
    /// The attribute filter's source text as saved; `None` when none is set.
    pub attribute_filter: Option<String>,
}

/// A change to a certificate's mutable fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateUpdate {
    /// The new name.
    pub name: Option<String>,
    /// The new attribute filter: `Some(None)` clears it, `Some(Some(source))` sets it (source
    /// text the service has compiled).
    pub attribute_filter: Option<Option<String>>,
}

impl CertificateUpdate {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.attribute_filter.is_none()
    }
}

/// A certificate with its `active` flag at the scope it was listed or toggled at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedCertificate {
    pub certificate: CertificateRecord,
    pub active: bool,
}

/// Where certificates are activated: the whole organization, or one of its projects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Organization,
    Project(ProjectId),
}

/// A certificate active somewhere: one trust anchor of the mTLS gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAnchor {
    pub certificate_id: CertificateId,
    pub organization_id: OrganizationId,
    /// Where it is active: the whole organization, or one project of it.
    pub scope: Scope,
    /// The certificate's DER, as uploaded.
    pub der: Vec<u8>,
    /// The certificate's notAfter, Unix seconds.
    pub expires_at: i64,
    /// The certificate's attribute filter as saved (compiled when it was saved); `None` when
    /// none is set.
    pub attribute_filter: Option<String>,
}

/// A stored project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRecord {
    pub id: ProjectId,
    pub name: String,
    pub created_at: i64,
    pub archived_at: Option<i64>,
    pub external_key_id: Option<String>,
    /// One of `PublicProjectResidency`'s values, as text.
    pub residency: Option<String>,
}

/// A change to a project's mutable fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectUpdate {
    pub name: Option<String>,
    pub external_key_id: Option<String>,
}

/// A service account's role in its project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceAccountRole {
    Owner,
    Member,
    /// Created with `create_service_account_only`: no project role, hence no access.
    None,
}

impl ServiceAccountRole {
    /// The role as the wire and the stores write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Member => "member",
            Self::None => "none",
        }
    }

    /// The role written by [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Self::Owner),
            "member" => Some(Self::Member),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// A live service account of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountRecord {
    pub id: ServiceAccountId,
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    pub name: String,
    pub role: ServiceAccountRole,
    pub created_at: i64,
}

/// A change to a service account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceAccountUpdate {
    pub name: Option<String>,
    pub role: Option<ServiceAccountRole>,
}

/// A service account's API key as stored: its hash, never its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountKey {
    pub id: ProjectApiKeyId,
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    pub service_account_id: ServiceAccountId,
    pub name: String,
    pub hash: KeyHash,
    pub redacted_value: String,
    pub created_at: i64,
    /// The latest authentication with this key at the gateway.
    pub last_used_at: Option<i64>,
}

/// A project API key as listed: the key, its owner, and whether the owner has access to the
/// project now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectApiKeyRecord {
    pub key: ServiceAccountKey,
    pub owner: ServiceAccountRecord,
    /// The owner has a project role (not `none`) and the project is not archived.
    pub owner_has_access: bool,
}

/// `owner_project_access` of `list-project-api-keys`: which keys a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OwnerAccess {
    /// Keys whose owner has access to the project.
    Active,
    /// Keys whose owner has no access (role `none`, or the project archived).
    Inactive,
    /// Every live key.
    #[default]
    Any,
}

/// What a service account key grants, as the gateway needs it: found by the key's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountKeyGrant {
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    pub service_account_id: ServiceAccountId,
    pub key_id: ProjectApiKeyId,
    /// The stored hash, for the caller's constant-time comparison.
    pub hash: KeyHash,
    /// Keys of an archived project's accounts authenticate nothing.
    pub project_archived: bool,
}

/// Live certificates of all organizations by time left before their notAfter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpiryCounts {
    pub expired: u64,
    pub within_7_days: u64,
    pub within_30_days: u64,
    pub within_90_days: u64,
    pub later: u64,
}

impl ExpiryCounts {
    /// Bucket bounds in seconds from now: `[0, 7d)`, `[7d, 30d)`, `[30d, 90d)`.
    pub const WINDOWS: [i64; 3] = [7 * 86_400, 30 * 86_400, 90 * 86_400];

    /// Sets `later` to what `total` live certificates leave after the other windows.
    #[must_use]
    pub fn with_live_total(self, total: u64) -> Self {
        let counted = self.expired + self.within_7_days + self.within_30_days + self.within_90_days;
        Self {
            later: total.saturating_sub(counted),
            ..self
        }
    }

    /// Each window with its label.
    pub fn windows(&self) -> [(&'static str, u64); 5] {
        [
            ("expired", self.expired),
            ("lt_7d", self.within_7_days),
            ("lt_30d", self.within_30_days),
            ("lt_90d", self.within_90_days),
            ("ge_90d", self.later),
        ]
    }
}

/// Connections of a store's pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    pub in_use: u32,
    pub idle: u32,
}
