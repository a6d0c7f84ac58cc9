//! The Projects operations.

use super::{Service, actor, check_name, parse_project_id};
use crate::ids::{AdminKeyId, OrganizationId, ProjectId};
use crate::model::{ProjectRecord, ProjectUpdate};
use crate::page::{Page, PageRequest};
use crate::{Error, Result, echo, unix_now};

impl Service {
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
        if let Some(external_key_id) = &external_key_id {
            check_name("external_key_id", external_key_id, true)?;
        }
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
        if let Some(external_key_id) = &update.external_key_id {
            check_name("external_key_id", external_key_id, true)?;
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
}
