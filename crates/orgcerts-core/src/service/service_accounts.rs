//! The service accounts of projects and their API keys
//! (`openai-project-service-accounts.openapi.yaml`).

use super::{Service, actor, check_name, parse_project_id};
use crate::ids::{AdminKeyId, OrganizationId, ProjectApiKeyId, ServiceAccountId};
use crate::keys::{self, KeyHash};
use crate::model::{
    OwnerAccess, ProjectApiKeyRecord, ProjectRecord, ServiceAccountKey, ServiceAccountKeyGrant,
    ServiceAccountRecord, ServiceAccountRole, ServiceAccountUpdate,
};
use crate::page::{Page, PageRequest};
use crate::{Error, Result, echo, unix_now};

/// The name of a key created without one (the first key of an account, or a key whose request
/// names none), as OpenAI names them.
pub const DEFAULT_KEY_NAME: &str = "Secret Key";

/// A freshly created service account key: the record, and its secret text, shown once.
#[derive(Debug, Clone)]
pub struct IssuedServiceAccountKey {
    pub key: ServiceAccountKey,
    pub secret: String,
}

/// A freshly created service account, with its first key unless it was created alone.
#[derive(Debug, Clone)]
pub struct CreatedServiceAccount {
    pub account: ServiceAccountRecord,
    pub key: Option<IssuedServiceAccountKey>,
}

fn parse_service_account_id(id: &str) -> Result<ServiceAccountId> {
    ServiceAccountId::parse(id).ok_or_else(|| Error::ServiceAccountNotFound { id: echo(id) })
}

fn parse_key_id(id: &str) -> Result<ProjectApiKeyId> {
    ProjectApiKeyId::parse(id).ok_or_else(|| Error::ProjectApiKeyNotFound { id: echo(id) })
}

fn issue_key(account: &ServiceAccountRecord, name: &str, now: i64) -> IssuedServiceAccountKey {
    let secret = keys::generate_service_account_key();
    let key = ServiceAccountKey {
        id: ProjectApiKeyId::generate(),
        organization_id: account.organization_id.clone(),
        project_id: account.project_id.clone(),
        service_account_id: account.id.clone(),
        name: name.to_owned(),
        hash: KeyHash::of(&secret),
        redacted_value: keys::redact_service_account_key(&secret),
        created_at: now,
        last_used_at: None,
    };
    IssuedServiceAccountKey { key, secret }
}

impl Service {
    /// The project, which must exist in the organization and be live (`ProjectArchived`).
    async fn live_project(&self, org: &OrganizationId, id: &str) -> Result<ProjectRecord> {
        let project = self.retrieve_project(org, id).await?;
        if project.archived_at.is_some() {
            return Err(Error::ProjectArchived {
                id: echo(project.id.as_str()),
            });
        }
        Ok(project)
    }

    /// `list-project-service-accounts`: 400 for an archived project, as the spec says.
    pub async fn list_project_service_accounts(
        &self,
        org: &OrganizationId,
        project_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ServiceAccountRecord>> {
        let project = self.live_project(org, project_id).await?;
        self.store
            .list_service_accounts(org, &project.id, page)
            .await
    }

    /// `create-project-service-account`: the account with role `member` and its first key,
    /// or, with `create_service_account_only`, role `none` and no key.
    pub async fn create_project_service_account(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        project_id: &str,
        name: &str,
        account_only: bool,
    ) -> Result<CreatedServiceAccount> {
        let project_id = parse_project_id(project_id)?;
        check_name("name", name, false)?;
        let now = unix_now();
        let account = ServiceAccountRecord {
            id: ServiceAccountId::generate(),
            organization_id: org.clone(),
            project_id,
            name: name.to_owned(),
            role: if account_only {
                ServiceAccountRole::None
            } else {
                ServiceAccountRole::Member
            },
            created_at: now,
        };
        let key = (!account_only).then(|| issue_key(&account, DEFAULT_KEY_NAME, now));
        self.store
            .insert_service_account(&account, key.as_ref().map(|k| &k.key), &actor(by, now))
            .await?;
        Ok(CreatedServiceAccount { account, key })
    }

    /// `retrieve-project-service-account`: also in an archived project.
    pub async fn retrieve_project_service_account(
        &self,
        org: &OrganizationId,
        project_id: &str,
        id: &str,
    ) -> Result<ServiceAccountRecord> {
        let project_id = parse_project_id(project_id)?;
        let account_id = parse_service_account_id(id)?;
        self.store
            .service_account(org, &project_id, &account_id)
            .await?
            .ok_or_else(|| Error::ServiceAccountNotFound { id: echo(id) })
    }

    /// `update-project-service-account`: name and role; refused in an archived project.
    pub async fn update_project_service_account(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        project_id: &str,
        id: &str,
        update: ServiceAccountUpdate,
    ) -> Result<ServiceAccountRecord> {
        if let Some(name) = &update.name {
            check_name("name", name, false)?;
        }
        if update.name.is_none() && update.role.is_none() {
            // Nothing requested: no write and no audit entry, but the answers a change gets.
            let account = self
                .retrieve_project_service_account(org, project_id, id)
                .await?;
            self.live_project(org, project_id).await?;
            return Ok(account);
        }
        let project_id = parse_project_id(project_id)?;
        let account_id = parse_service_account_id(id)?;
        self.store
            .update_service_account(
                org,
                &project_id,
                &account_id,
                &update,
                &actor(by, unix_now()),
            )
            .await
    }

    /// `delete-project-service-account`: the account and its keys; also in an archived
    /// project, so that it can be cleaned up.
    pub async fn delete_project_service_account(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        project_id: &str,
        id: &str,
    ) -> Result<ServiceAccountRecord> {
        let project_id = parse_project_id(project_id)?;
        let account_id = parse_service_account_id(id)?;
        self.store
            .delete_service_account(org, &project_id, &account_id, &actor(by, unix_now()))
            .await
    }

    /// `CreateanAPIkeyforaserviceaccount`: another key for a live account of a live project.
    /// Keys carry no scopes: a non-empty `scopes` is refused rather than ignored.
    pub async fn create_service_account_api_key(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        project_id: &str,
        id: &str,
        name: Option<&str>,
        scopes: &[String],
    ) -> Result<IssuedServiceAccountKey> {
        if let Some(name) = name {
            check_name("name", name, false)?;
        }
        if !scopes.is_empty() {
            return Err(Error::InvalidParameter {
                param: "scopes",
                message: "orgcerts keys carry no scopes; a service account key may make every request of its project. Leave scopes out or send an empty list.".to_owned(),
            });
        }
        let account = self
            .retrieve_project_service_account(org, project_id, id)
            .await?;
        let now = unix_now();
        let issued = issue_key(&account, name.unwrap_or(DEFAULT_KEY_NAME), now);
        self.store
            .insert_service_account_key(&issued.key, &actor(by, now))
            .await?;
        Ok(issued)
    }

    /// `list-project-api-keys`: also in an archived project (its keys are then `inactive`).
    pub async fn list_project_api_keys(
        &self,
        org: &OrganizationId,
        project_id: &str,
        page: &PageRequest,
        access: OwnerAccess,
    ) -> Result<Page<ProjectApiKeyRecord>> {
        let project = self.retrieve_project(org, project_id).await?;
        let page = self
            .store
            .list_project_api_keys(org, &project.id, page, access)
            .await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|k| self.with_pending_key_use(k))
                .collect(),
            has_more: page.has_more,
        })
    }

    /// `retrieve-project-api-key`.
    pub async fn retrieve_project_api_key(
        &self,
        org: &OrganizationId,
        project_id: &str,
        id: &str,
    ) -> Result<ProjectApiKeyRecord> {
        let project_id = parse_project_id(project_id)?;
        let key_id = parse_key_id(id)?;
        self.store
            .project_api_key(org, &project_id, &key_id)
            .await?
            .map(|k| self.with_pending_key_use(k))
            .ok_or_else(|| Error::ProjectApiKeyNotFound { id: echo(id) })
    }

    /// `delete-project-api-key`: the key stops authenticating at once.
    pub async fn delete_project_api_key(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        project_id: &str,
        id: &str,
    ) -> Result<ProjectApiKeyId> {
        let project_id = parse_project_id(project_id)?;
        let key_id = parse_key_id(id)?;
        self.store
            .delete_project_api_key(org, &project_id, &key_id, &actor(by, unix_now()))
            .await?;
        Ok(key_id)
    }

    /// What a service account key grants, for the gateway. Unknown, deleted and malformed keys
    /// are all `InvalidApiKey`, as are admin keys; the hash is compared in constant time. The
    /// grant of an archived project's key is returned with `project_archived` set: the caller
    /// refuses it.
    pub async fn service_account_key_grant(&self, key: &str) -> Result<ServiceAccountKeyGrant> {
        if !keys::is_well_formed_service_account_key(key) {
            return Err(Error::InvalidApiKey);
        }
        let hash = KeyHash::of(key);
        match self.store.service_account_key_by_hash(&hash).await? {
            Some(grant) if grant.hash.matches(&hash) => Ok(grant),
            _ => Err(Error::InvalidApiKey),
        }
    }

    /// Remembers that the gateway let a request through with service account key `key` at
    /// `at`, for its `last_used_at`: only in memory (of several uses, the latest wins) until
    /// [`Service::flush_service_account_key_use`] writes them, so that requests never each
    /// write.
    pub fn note_service_account_key_use(&self, key: &ProjectApiKeyId, at: i64) {
        self.project_key_use.note(key, at);
    }

    /// Writes the remembered service account key uses to storage in one batch (called every
    /// few seconds and at shutdown); nothing when none was noted. On failure they are kept for
    /// the next flush.
    pub async fn flush_service_account_key_use(&self) -> Result<()> {
        let batch = self.project_key_use.take();
        if batch.is_empty() {
            return Ok(());
        }
        let result = self.store.record_service_account_key_use(&batch).await;
        if result.is_err() {
            self.project_key_use.keep(batch);
        }
        result
    }

    /// `record` with the uses this instance has not flushed yet folded into `last_used_at`.
    fn with_pending_key_use(&self, mut record: ProjectApiKeyRecord) -> ProjectApiKeyRecord {
        let key = &mut record.key;
        key.last_used_at = self.project_key_use.latest(&key.id, key.last_used_at);
        record
    }
}
