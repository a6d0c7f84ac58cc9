//! A small PKI minted at run time for tests that talk TLS to the gateway: roots, intermediates
//! and client certificates (ECDSA P-256), valid around the present instant.
//!
//! - [`Ca::root`] is a root fit to upload as an anchor; [`Ca::expired_root`] one whose validity
//!   ended a day ago (the API refuses to upload it).
//! - [`Ca::intermediate`] is a CA signed by another; it remembers the intermediates between
//!   itself and its root, so that its clients' chains can be presented whole.
//! - [`Ca::client`] is a certificate for TLS client authentication; [`Ca::mint`] takes
//!   [`LeafSpec`] variations (no clientAuth EKU, no Authority Key Identifier, other validity,
//!   more subject attributes, subject alternative names).
//! - [`Client::identity_pem`] is the private key and the chain (leaf, then intermediates) in one
//!   PEM, as `reqwest::Identity::from_pem` takes it.

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
/// What [`LeafSpec::with_subject`] and [`LeafSpec::with_subject_alt_name`] take.
pub use rcgen::{DnType, OtherNameValue, SanType, string::Ia5String};
use time::{Duration, OffsetDateTime};

/// A certificate authority: a self-signed root or an intermediate, with its key.
pub struct Ca {
    params: CertificateParams,
    key: KeyPair,
    /// The CA's certificate in PEM.
    pub cert_pem: String,
    /// The CA's certificate in DER.
    pub cert_der: Vec<u8>,
    /// The intermediates from this CA up to its root, root excluded, in PEM: empty for a root,
    /// this CA first for an intermediate.
    pub intermediates_pem: Vec<String>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}

fn ca_params(
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("no SANs to parse");
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = true;
    params.not_before = not_before;
    params.not_after = not_after;
    params
}

impl Ca {
    /// A root valid from a day ago for a year.
    pub fn root(common_name: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        Self::self_signed(ca_params(
            common_name,
            now - Duration::days(1),
            now + Duration::days(365),
        ))
    }

    /// A root valid for a year that ended a day ago.
    pub fn expired_root(common_name: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        Self::self_signed(ca_params(
            common_name,
            now - Duration::days(366),
            now - Duration::days(1),
        ))
    }

    fn self_signed(params: CertificateParams) -> Self {
        let key = KeyPair::generate().expect("key generation");
        let cert = params.self_signed(&key).expect("self-signing");
        Self {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            params,
            key,
            intermediates_pem: Vec::new(),
        }
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    /// An intermediate CA signed by this one, valid from a day ago for half a year.
    #[must_use]
    pub fn intermediate(&self, common_name: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        let params = ca_params(
            common_name,
            now - Duration::days(1),
            now + Duration::days(180),
        );
        let key = KeyPair::generate().expect("key generation");
        let cert = params
            .signed_by(&key, &self.issuer())
            .expect("signing the intermediate");
        let mut intermediates_pem = vec![cert.pem()];
        intermediates_pem.extend(self.intermediates_pem.iter().cloned());
        Self {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            params,
            key,
            intermediates_pem,
        }
    }

    /// A client certificate signed by this CA, as [`LeafSpec::client`] describes it.
    pub fn client(&self, common_name: &str) -> Client {
        self.mint(&LeafSpec::client(common_name))
    }

    /// A leaf signed by this CA.
    pub fn mint(&self, spec: &LeafSpec) -> Client {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no SANs to parse");
        params
            .distinguished_name
            .push(DnType::CommonName, spec.common_name.clone());
        for (kind, value) in &spec.subject {
            params.distinguished_name.push(kind.clone(), value.clone());
        }
        params.subject_alt_names.clone_from(&spec.subject_alt_names);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = if spec.client_auth {
            vec![ExtendedKeyUsagePurpose::ClientAuth]
        } else {
            vec![ExtendedKeyUsagePurpose::ServerAuth]
        };
        params.use_authority_key_identifier_extension = spec.authority_key_identifier;
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        let key = KeyPair::generate().expect("key generation");
        let cert = params
            .signed_by(&key, &self.issuer())
            .expect("signing the leaf");
        Client {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
            intermediates_pem: self.intermediates_pem.clone(),
        }
    }
}

/// What a client certificate looks like.
#[derive(Debug, Clone)]
pub struct LeafSpec {
    pub common_name: String,
    /// An Extended Key Usage of clientAuth; otherwise serverAuth only.
    pub client_auth: bool,
    /// An Authority Key Identifier naming the issuer's key.
    pub authority_key_identifier: bool,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// Subject attributes after the common name.
    pub subject: Vec<(DnType, String)>,
    pub subject_alt_names: Vec<SanType>,
}

impl LeafSpec {
    /// A client certificate for TLS client authentication, valid from a day ago for 30 days,
    /// with an Authority Key Identifier.
    pub fn client(common_name: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            common_name: common_name.to_owned(),
            client_auth: true,
            authority_key_identifier: true,
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(30),
            subject: Vec::new(),
            subject_alt_names: Vec::new(),
        }
    }

    /// Adds a subject attribute, e.g. `DnType::OrganizationName`.
    #[must_use]
    pub fn with_subject(mut self, kind: DnType, value: &str) -> Self {
        self.subject.push((kind, value.to_owned()));
        self
    }

    /// Adds a subject alternative name.
    #[must_use]
    pub fn with_subject_alt_name(mut self, name: SanType) -> Self {
        self.subject_alt_names.push(name);
        self
    }

    #[must_use]
    pub fn without_client_auth(mut self) -> Self {
        self.client_auth = false;
        self
    }

    #[must_use]
    pub fn without_authority_key_identifier(mut self) -> Self {
        self.authority_key_identifier = false;
        self
    }

    #[must_use]
    pub fn valid(mut self, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }
}

/// A client certificate, its key, and the intermediates between it and its root.
#[derive(Debug, Clone)]
pub struct Client {
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    /// PKCS#8, PEM.
    pub key_pem: String,
    /// PKCS#8, DER.
    pub key_der: Vec<u8>,
    /// The issuer first, up to the root (excluded); empty when a root signed the leaf.
    pub intermediates_pem: Vec<String>,
}

impl Client {
    /// The key, the leaf and its intermediates in one PEM.
    pub fn identity_pem(&self) -> String {
        let mut pem = self.leaf_only_identity_pem();
        for intermediate in &self.intermediates_pem {
            pem.push_str(intermediate);
        }
        pem
    }

    /// The key and the leaf alone, without the intermediates.
    pub fn leaf_only_identity_pem(&self) -> String {
        format!("{}{}", self.key_pem, self.cert_pem)
    }

    /// The leaf and its intermediates in PEM.
    pub fn chain_pem(&self) -> String {
        let mut pem = self.cert_pem.clone();
        for intermediate in &self.intermediates_pem {
            pem.push_str(intermediate);
        }
        pem
    }
}
