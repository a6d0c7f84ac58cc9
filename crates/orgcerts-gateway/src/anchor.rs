//! One trust anchor: an active certificate at the organization or one of its projects.

use orgcerts_core::ids::{CertificateId, OrganizationId};
use orgcerts_core::model::{ActiveAnchor, Scope};
use rustls_pki_types::{CertificateDer, TrustAnchor};

/// A trust anchor ready for path validation.
///
/// Per-anchor policy checked after a path has verified (the attribute filter of the contract)
/// belongs on this type, compiled once when the snapshot is built.
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
}

impl Anchor {
    /// Parses the record's DER into an owned webpki trust anchor.
    pub fn new(record: ActiveAnchor) -> Self {
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
        }
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
