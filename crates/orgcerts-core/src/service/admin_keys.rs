//! Authentication, organizations and admin keys.

use super::{IssuedAdminKey, MAX_KEY_LIFETIME_SECS, Service, actor, check_name};
use crate::ids::{AdminKeyId, OrganizationId};
use crate::keys::{self, KeyHash};
use crate::model::{AdminKey, Organization, Principal};
use crate::page::{Page, PageRequest};
use crate::{Error, Result, echo, unix_now};

impl Service {
    /// Establishes who an admin key acts for. Unknown, revoked, expired and malformed keys are
    /// all `InvalidApiKey`, indistinguishably. The use is remembered for `last_used_at`.
    pub async fn authenticate(&self, key: &str) -> Result<Principal> {
        if !keys::is_well_formed_admin_key(key) {
            return Err(Error::InvalidApiKey);
        }
        let now = unix_now();
        let hash = KeyHash::of(key);
        let cached = self.cache_token().await;
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
            None => match self.store.admin_key_for_request(&hash).await? {
                Some((stored, change_count))
                    if stored.is_usable(now) && stored.hash.matches(&hash) =>
                {
                    // The store's token where it has one; otherwise the organization's change
                    // count read with the key (PostgreSQL), when there is a cache to use it.
                    let change_token = match cached {
                        Some((_, token)) => Some(token),
                        None => change_count.filter(|_| self.cache.is_some()),
                    };
                    let principal = Principal {
                        organization_id: stored.organization_id,
                        key_id: stored.id,
                        change_token,
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
        self.admin_key_use.note(key, at);
    }

    /// Writes the remembered authentications to storage in one batch (called every few
    /// seconds and at shutdown). On failure they are kept for the next flush.
    pub async fn flush_key_use(&self) -> Result<()> {
        let batch = self.admin_key_use.take();
        if batch.is_empty() {
            return Ok(());
        }
        let result = self.store.record_admin_key_use(&batch).await;
        if result.is_err() {
            self.admin_key_use.keep(batch);
        }
        result
    }

    /// `key` with the uses this instance has not flushed yet folded into `last_used_at`.
    fn with_pending_use(&self, mut key: AdminKey) -> AdminKey {
        key.last_used_at = self.admin_key_use.latest(&key.id, key.last_used_at);
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

    pub async fn has_organizations(&self) -> Result<bool> {
        self.store.has_organizations().await
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
}
