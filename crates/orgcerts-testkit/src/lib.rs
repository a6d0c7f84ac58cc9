//! Test support for orgcerts.
//!
//! - Certificates minted at run time so that no checked-in file can expire: start from
//!   [`CertSpec::ca`] (a valid CA anchor) and change one property to get the certificate a test
//!   needs.
//! - [`database`]: a fresh database per test, SQLite or a PostgreSQL schema.
//! - [`TestServer`]: the view of a running server that behavioural tests talk to.
//! - [`pki`]: roots, intermediates and client certificates for TLS client authentication.

pub mod database;
pub mod pki;

mod server;

pub use server::{Running, TestServer, closed_port};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// What to mint.
#[derive(Debug, Clone)]
pub struct CertSpec {
    pub common_name: String,
    pub is_ca: bool,
    pub key_usages: Vec<KeyUsagePurpose>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// A minted certificate with its private key.
#[derive(Debug, Clone)]
pub struct Minted {
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    pub key_pem: String,
}

impl CertSpec {
    /// A CA anchor valid from a day ago for a year, with keyCertSign.
    pub fn ca(common_name: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            common_name: common_name.to_owned(),
            is_ca: true,
            key_usages: vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(365),
        }
    }

    /// A leaf (non-CA) certificate.
    pub fn leaf(common_name: &str) -> Self {
        Self {
            is_ca: false,
            key_usages: vec![KeyUsagePurpose::DigitalSignature],
            ..Self::ca(common_name)
        }
    }

    #[must_use]
    pub fn valid(mut self, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    #[must_use]
    pub fn key_usages(mut self, usages: Vec<KeyUsagePurpose>) -> Self {
        self.key_usages = usages;
        self
    }

    /// Mints the certificate, self-signed with a fresh ECDSA P-256 key.
    pub fn mint(&self) -> Minted {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no SANs to parse");
        params
            .distinguished_name
            .push(DnType::CommonName, self.common_name.clone());
        params.is_ca = if self.is_ca {
            IsCa::Ca(BasicConstraints::Unconstrained)
        } else {
            IsCa::ExplicitNoCa
        };
        params.key_usages.clone_from(&self.key_usages);
        params.not_before = self.not_before;
        params.not_after = self.not_after;
        let key = KeyPair::generate().expect("key generation");
        let cert = params.self_signed(&key).expect("self-signing");
        Minted {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A TLS server identity: a CA, and a leaf it signed for the given DNS names / IP addresses.
#[derive(Debug, Clone)]
pub struct TlsServer {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

/// Mints a CA and a server certificate for `names` (e.g. `["localhost", "127.0.0.1"]`).
pub fn tls_server(names: &[&str]) -> TlsServer {
    let ca_key = KeyPair::generate().expect("key generation");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("no SANs to parse");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "orgcerts test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca = ca_params.self_signed(&ca_key).expect("self-signing");

    let leaf_key = KeyPair::generate().expect("key generation");
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut leaf_params = CertificateParams::new(names).expect("valid names");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("signing the leaf");
    TlsServer {
        ca_pem: ca.pem(),
        cert_pem: leaf.pem(),
        key_pem: leaf_key.serialize_pem(),
    }
}

/// A fresh, valid CA anchor in PEM.
pub fn ca_pem(common_name: &str) -> String {
    CertSpec::ca(common_name).mint().cert_pem
}

pub use rcgen::KeyUsagePurpose as KeyUsage;
pub use time;
