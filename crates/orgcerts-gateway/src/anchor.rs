//! One trust anchor: an active certificate at the organization or one of its projects.

use orgcerts_core::attribute_filter::AttributeFilter;
use orgcerts_core::ids::{CertificateId, OrganizationId};
use orgcerts_core::model::{ActiveAnchor, Scope};
use rustls_pki_types::{CertificateDer, TrustAnchor};

/// An anchor's attribute filter, compiled when the snapshot is built.
#[derive(Debug, Clone)]
pub enum AnchorFilter {
    Compiled(AttributeFilter),
    /// Saved, but it does not compile here (the API compiled it when it was saved, so only a
    /// change of the rules between versions gets here): it refuses every certificate.
    Uncompilable,
}

/// A trust anchor ready for path validation, with the attribute filter a verified path must
/// then pass.
#[derive(Debug, Clone)]
pub struct Anchor {
    certificate_id: CertificateId,
    organization_id: OrganizationId,
    scope: Scope,
    der: CertificateDer<'static>,
    /// `None` when rustls-webpki cannot take the certificate as an anchor: it then still
    /// enforces (a certificate is required) but matches nothing, as an expired anchor does.
    trusted: Option<TrustAnchor<'static>>,
    expires_at: i64,
    filter: Option<AnchorFilter>,
}

impl Anchor {
    /// Parses the record's DER into an owned webpki trust anchor; `filter` is its attribute
    /// filter compiled (see [`crate::snapshot`], which reuses compiled filters across builds).
    pub fn new(record: ActiveAnchor, filter: Option<AnchorFilter>) -> Self {
        let der = CertificateDer::from(record.der);
        let trusted = webpki::anchor_from_trusted_cert(&der)
            .ok()
            .map(|anchor| anchor.to_owned());
        Self {
            certificate_id: record.certificate_id,
            organization_id: record.organization_id,
            scope: record.scope,
            der,
            trusted,
            expires_at: record.expires_at,
            filter,
        }
    }

    /// The attribute filter a verified path must pass, if one is set.
    pub fn filter(&self) -> Option<&AnchorFilter> {
        self.filter.as_ref()
    }

    /// The certificate's id.
    pub fn certificate_id(&self) -> &CertificateId {
        &self.certificate_id
    }

    /// The organization that owns the certificate.
    pub fn organization_id(&self) -> &OrganizationId {
        &self.organization_id
    }

    /// Where the certificate is active.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The anchor certificate's DER.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// The certificate's notAfter, Unix seconds.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// Whether rustls-webpki accepted the certificate as a trust anchor.
    pub fn is_usable(&self) -> bool {
        self.trusted.is_some()
    }

    /// The webpki anchor when it can match at `now` (Unix seconds): usable and not past its
    /// notAfter. Borrowed, so building the per-request anchor list copies no bytes.
    pub(crate) fn matchable_at(&self, now: i64) -> Option<TrustAnchor<'_>> {
        if now > self.expires_at {
            return None;
        }
        self.trusted.as_ref().map(|anchor| TrustAnchor {
            subject: anchor.subject.as_ref().into(),
            subject_public_key_info: anchor.subject_public_key_info.as_ref().into(),
            name_constraints: anchor
                .name_constraints
                .as_ref()
                .map(|nc| nc.as_ref().into()),
        })
    }

    /// Whether webpki's verified path ended in this anchor (same subject and public key).
    pub(crate) fn is(&self, anchor: &TrustAnchor<'_>) -> bool {
        self.trusted.as_ref().is_some_and(|own| {
            own.subject.as_ref() == anchor.subject.as_ref()
                && own.subject_public_key_info.as_ref() == anchor.subject_public_key_info.as_ref()
        })
    }
}
