//! The ten Certificates operations.

use std::sync::Arc;

use super::{MAX_TOGGLE_IDS, Service, actor, check_name, parse_certificate_id, parse_project_id};
use crate::anchor;
use crate::attribute_filter::AttributeFilter;
use crate::cache::{CachedList, CertificatePage, ListEncoding, MAX_CACHED_LIST, page_of};
use crate::ids::{AdminKeyId, CertificateId, OrganizationId};
use crate::model::{
    CertificateRecord, CertificateUpdate, NewCertificate, Principal, Scope, ScopedCertificate,
};
use crate::page::{Order, PageRequest};
use crate::{Error, Result, echo, unix_now};

impl Service {
    /// `uploadCertificate`. `attribute_filter` is compiled before anything is stored; `None`
    /// or an empty string sets none.
    pub async fn upload_certificate(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        pem: &str,
        name: Option<String>,
        attribute_filter: Option<String>,
    ) -> Result<CertificateRecord> {
        if let Some(name) = &name {
            check_name("name", name, true)?;
        }
        let now = unix_now();
        let anchor = anchor::validate(pem, now)?;
        let attribute_filter = checked_filter(attribute_filter)?;
        let cert = NewCertificate {
            id: CertificateId::generate(),
            organization_id: org.clone(),
            name,
            created_at: now,
            anchor,
            attribute_filter,
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

    /// `modifyCertificate`: the name and the attribute filter (`Some(None)` or an empty
    /// string clears it). Everything is checked, the filter compiled, before anything is
    /// written; an update that names neither leaves the certificate as it is.
    pub async fn modify_certificate(
        &self,
        org: &OrganizationId,
        by: Option<&AdminKeyId>,
        id: &str,
        update: CertificateUpdate,
    ) -> Result<CertificateRecord> {
        let cert_id = parse_certificate_id(id)?;
        if update.is_empty() {
            return self.get_certificate(org, id, false).await;
        }
        if let Some(name) = &update.name {
            check_name("name", name, true)?;
        }
        let update = CertificateUpdate {
            attribute_filter: update.attribute_filter.map(checked_filter).transpose()?,
            ..update
        };
        self.store
            .update_certificate(org, &cert_id, &update, &actor(by, unix_now()))
            .await
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
    /// A list read into the cache is encoded as `E` (the server's JSON): pages served from it
    /// are then its encodings. One scope is meant to be listed with one encoding; a caller
    /// with another is served from the store.
    pub async fn list_certificates<E: ListEncoding>(
        &self,
        principal: &Principal,
        scope: &Scope,
        page: &PageRequest,
    ) -> Result<CertificatePage<E>> {
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
                let list = if fetched.has_more {
                    None
                } else {
                    CachedList::new::<E>(fetched.items).map(Arc::new)
                };
                cache.remember_list(org, scope, token, list.clone());
                list
            };
            if let Some(page) = list.and_then(|list| page_of::<E>(list, page)) {
                return Ok(page);
            }
        }
        let page = self.store.list_certificates(org, scope, page).await?;
        Ok(CertificatePage::Records(page))
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
}

/// An attribute filter as saved: `None` for none (an empty string included), otherwise the
/// source text once it compiles (`InvalidAttributeFilter` otherwise).
fn checked_filter(source: Option<String>) -> Result<Option<String>> {
    match source {
        Some(source) if !source.is_empty() => {
            AttributeFilter::compile(&source)?;
            Ok(Some(source))
        }
        _ => Ok(None),
    }
}
