//! Validation of uploaded trust anchors (docs/contract.md, "Certificates").
//!
//! The first `CERTIFICATE` block of the upload is the anchor; later `CERTIFICATE` blocks are
//! carried along unparsed. Any other block is refused, and a private key of any flavour is
//! refused by name so that it is never stored or echoed.

use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate, X509Version};

use crate::Error;

/// The largest `certificate` field accepted, in bytes (OpenAI's mTLS beta limit).
pub const MAX_PEM_BYTES: usize = 16 * 1024;
/// An anchor must stay valid at least this long after upload.
pub const MIN_REMAINING_VALIDITY_SECS: i64 = 24 * 60 * 60;

/// A validated trust anchor, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The anchor's DER, exactly as uploaded.
    pub der: Vec<u8>,
    /// SHA-256 of `der`: what makes two uploads "the same certificate".
    pub fingerprint: [u8; 32],
    /// notBefore in Unix seconds, clamped at 0.
    pub valid_at: i64,
    /// notAfter in Unix seconds.
    pub expires_at: i64,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidCertificate(reason.into())
}

/// Checks an uploaded PEM against every rule of the contract, as of `now` (Unix seconds).
pub fn validate(pem_text: &str, now: i64) -> Result<Anchor, Error> {
    if pem_text.len() > MAX_PEM_BYTES {
        return Err(invalid(format!(
            "the certificate field is {} bytes; at most {MAX_PEM_BYTES} bytes are accepted.",
            pem_text.len()
        )));
    }
    let der = first_certificate_block(pem_text)?;
    let (rest, cert) = X509Certificate::from_der(&der)
        .map_err(|_| invalid("the CERTIFICATE block is not a well-formed X.509 certificate."))?;
    if !rest.is_empty() {
        return Err(invalid(
            "the CERTIFICATE block carries data after the X.509 certificate.",
        ));
    }
    check_ca(&cert)?;

    let validity = cert.validity();
    let expires_at = validity.not_after.timestamp();
    if expires_at <= now.saturating_add(MIN_REMAINING_VALIDITY_SECS) {
        return Err(Error::ExpiredCertificate { expires_at });
    }
    let valid_at = validity.not_before.timestamp().max(0);

    let fingerprint = Sha256::digest(&der).into();
    Ok(Anchor {
        der,
        fingerprint,
        valid_at,
        expires_at,
    })
}

/// Reads every PEM block, refuses any that is not a certificate, and returns the first one's DER.
fn first_certificate_block(text: &str) -> Result<Vec<u8>, Error> {
    // Look at the BEGIN lines ourselves first: a private key must be refused even when its block
    // is malformed (no END line, bad base64) and a PEM parser would skip or choke on it.
    let begin_labels: Vec<&str> = text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("-----BEGIN "))
        .map(|rest| rest.trim_end_matches('-').trim())
        .collect();
    if begin_labels
        .iter()
        .any(|label| label.contains("PRIVATE KEY"))
    {
        return Err(invalid(
            "the upload contains a private key; upload only the CA certificate, never its key.",
        ));
    }
    let blocks = pem::parse_many(text)
        .map_err(|err| invalid(format!("the PEM could not be read ({err}).")))?;
    if blocks.len() != begin_labels.len() {
        return Err(invalid("the PEM has a block without a matching END line."));
    }
    if let Some(other) = blocks.iter().find(|b| b.tag() != "CERTIFICATE") {
        return Err(invalid(format!(
            "only CERTIFICATE blocks are accepted, found a '{}' block.",
            crate::echo(other.tag())
        )));
    }
    blocks
        .into_iter()
        .next()
        .map(pem::Pem::into_contents)
        .ok_or_else(|| invalid("no PEM CERTIFICATE block found."))
}

fn check_ca(cert: &X509Certificate<'_>) -> Result<(), Error> {
    if cert.version() != X509Version::V3 {
        return Err(invalid(
            "the certificate is not X.509 version 3, so it cannot be a CA.",
        ));
    }
    let basic = cert
        .basic_constraints()
        .map_err(|_| invalid("the certificate's basicConstraints extension is malformed."))?;
    if !basic.is_some_and(|ext| ext.value.ca) {
        return Err(invalid(
            "the certificate is not a CA (basicConstraints CA:TRUE is required to sign client certificates).",
        ));
    }
    let key_usage = cert
        .key_usage()
        .map_err(|_| invalid("the certificate's keyUsage extension is malformed."))?;
    if key_usage.is_some_and(|ext| !ext.value.key_cert_sign()) {
        return Err(invalid(
            "the certificate's keyUsage does not include keyCertSign, so it cannot sign client certificates.",
        ));
    }
    Ok(())
}

/// The anchor as canonical PEM: 64-column base64 lines, LF line endings, a trailing newline.
pub fn canonical_pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

#[cfg(test)]
mod tests;
