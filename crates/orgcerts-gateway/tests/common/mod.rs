//! A small PKI minted with rcgen for the verification tests, at a fixed instant.

#![allow(dead_code)]

use orgcerts_core::ids::{CertificateId, OrganizationId, ProjectId};
use orgcerts_core::model::Scope;
use orgcerts_gateway::ActiveAnchor;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

/// The instant every test judges at (2027-01-15), Unix seconds.
pub const NOW: i64 = 1_800_000_000;
pub const DAY: i64 = 24 * 60 * 60;

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("a representable instant")
}

fn params(common_name: &str, not_before: i64, not_after: i64) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    params.not_before = at(not_before);
    params.not_after = at(not_after);
    params.use_authority_key_identifier_extension = true;
    params
}

/// A certificate authority: a root (self-signed) or an intermediate.
pub struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pub der: CertificateDer<'static>,
}

impl Ca {
    /// A self-signed root valid a year around [`NOW`].
    pub fn root(common_name: &str) -> Self {
        let key = KeyPair::generate().expect("key");
        let params = ca_params(common_name);
        let der = params.self_signed(&key).expect("root").der().clone();
        Self { params, key, der }
    }

    /// An intermediate CA signed by `self`.
    pub fn intermediate(&self, common_name: &str) -> Self {
        let key = KeyPair::generate().expect("key");
        let params = ca_params(common_name);
        let der = params
            .signed_by(&key, &self.issuer())
            .expect("intermediate")
            .der()
            .clone();
        Self { params, key, der }
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    /// A client certificate for TLS client authentication, valid a year around [`NOW`].
    pub fn leaf(&self) -> CertificateDer<'static> {
        self.mint(Leaf::default())
    }

    /// A leaf with the given variations.
    pub fn mint(&self, leaf: Leaf) -> CertificateDer<'static> {
        let key = KeyPair::generate().expect("key");
        let mut params = params("client", leaf.not_before, leaf.not_after);
        params.use_authority_key_identifier_extension = leaf.aki;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = leaf.eku;
        params
            .signed_by(&key, &self.issuer())
            .expect("leaf")
            .der()
            .clone()
    }
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = params(common_name, NOW - 365 * DAY, NOW + 365 * DAY);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// Variations of a client certificate.
pub struct Leaf {
    pub aki: bool,
    pub eku: Vec<ExtendedKeyUsagePurpose>,
    pub not_before: i64,
    pub not_after: i64,
}

impl Default for Leaf {
    fn default() -> Self {
        Self {
            aki: true,
            eku: vec![ExtendedKeyUsagePurpose::ClientAuth],
            not_before: NOW - 30 * DAY,
            not_after: NOW + 30 * DAY,
        }
    }
}

/// One organization with a project, and another project of it.
pub struct Tenant {
    pub organization: OrganizationId,
    pub project: ProjectId,
    pub other_project: ProjectId,
}

impl Tenant {
    pub fn new() -> Self {
        Self {
            organization: OrganizationId::generate(),
            project: ProjectId::generate(),
            other_project: ProjectId::generate(),
        }
    }

    /// `ca` active for the whole organization.
    pub fn org_anchor(&self, ca: &Ca) -> ActiveAnchor {
        self.anchor(ca, Scope::Organization, NOW + 365 * DAY)
    }

    /// `ca` active for `project` only.
    pub fn project_anchor(&self, ca: &Ca, project: &ProjectId) -> ActiveAnchor {
        self.anchor(ca, Scope::Project(project.clone()), NOW + 365 * DAY)
    }

    pub fn anchor(&self, ca: &Ca, scope: Scope, expires_at: i64) -> ActiveAnchor {
        ActiveAnchor {
            certificate_id: CertificateId::generate(),
            organization_id: self.organization.clone(),
            scope,
            der: ca.der.to_vec(),
            expires_at,
            attribute_filter: None,
        }
    }
}
