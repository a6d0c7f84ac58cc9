//! `certs --out DIR`: the benchmark's certificates, ECDSA P-256 throughout, as PEM files.
//!
//! - `server-ca.pem`: the CA the load generator trusts for the server certificate;
//!   `server.pem` / `server.key`: the server certificate (127.0.0.1 and localhost) it signed.
//! - `ca.pem`: the client CA (the anchor nginx and the gateway trust);
//!   `client.pem` / `client.key`: a client certificate it signed (clientAuth, with an
//!   Authority Key Identifier), the chain the load generator presents.
//! - `ca2.pem`, `client2.pem` / `client2.key`: a second client CA and its client certificate,
//!   for the activation rows (a CA the server does not trust yet).

use std::path::Path;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

fn ca(name: &str) -> anyhow::Result<(String, Issuer<'static, KeyPair>)> {
    let key = KeyPair::generate().context("key generation")?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(365);
    let pem = params.self_signed(&key).context("self-signing")?.pem();
    Ok((pem, Issuer::new(params, key)))
}

fn leaf(
    issuer: &Issuer<'_, KeyPair>,
    name: &str,
    alt_names: Vec<String>,
    usage: ExtendedKeyUsagePurpose,
) -> anyhow::Result<(String, String)> {
    let key = KeyPair::generate().context("key generation")?;
    let mut params = CertificateParams::new(alt_names)?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(90);
    let cert = params.signed_by(&key, issuer).context("signing")?;
    Ok((cert.pem(), key.serialize_pem()))
}

pub fn write(out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let write = |name: &str, text: &str| {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    let (server_ca, server_issuer) = ca("orgcerts bench server CA")?;
    let (server, server_key) = leaf(
        &server_issuer,
        "orgcerts bench server",
        vec!["127.0.0.1".into(), "localhost".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    write("server-ca.pem", &server_ca)?;
    write("server.pem", &server)?;
    write("server.key", &server_key)?;
    for suffix in ["", "2"] {
        let (ca_pem, issuer) = ca(&format!("orgcerts bench client CA{suffix}"))?;
        let (client, client_key) = leaf(
            &issuer,
            &format!("orgcerts bench client{suffix}"),
            Vec::new(),
            ExtendedKeyUsagePurpose::ClientAuth,
        )?;
        write(&format!("ca{suffix}.pem"), &ca_pem)?;
        write(&format!("client{suffix}.pem"), &client)?;
        write(&format!("client{suffix}.key"), &client_key)?;
    }
    Ok(())
}
