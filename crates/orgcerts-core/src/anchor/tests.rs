use orgcerts_testkit::time::{Duration, OffsetDateTime};
use orgcerts_testkit::{CertSpec, KeyUsage};

use super::*;
use crate::unix_now;

fn assert_invalid(pem: &str, needle: &str) {
    match validate(pem, unix_now()) {
        Err(Error::InvalidCertificate(reason)) => {
            assert!(
                reason.contains(needle),
                "{reason:?} should mention {needle:?}"
            );
        }
        other => panic!("expected InvalidCertificate({needle}), got {other:?}"),
    }
}

#[test]
fn accepts_a_ca_and_reads_its_validity() {
    let not_before = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    let not_after = OffsetDateTime::from_unix_timestamp(4_000_000_000).unwrap();
    let minted = CertSpec::ca("anchor").valid(not_before, not_after).mint();
    let anchor = validate(&minted.cert_pem, unix_now()).unwrap();
    assert_eq!(anchor.valid_at, 1_700_000_000);
    // After 2049 the certificate carries a GeneralizedTime, read exactly.
    assert_eq!(anchor.expires_at, 4_000_000_000);
    assert_eq!(anchor.der, minted.cert_der);
    assert_eq!(
        anchor.fingerprint.to_vec(),
        Sha256::digest(&minted.cert_der).to_vec()
    );
}

#[test]
fn not_before_1970_reads_as_zero() {
    let minted = CertSpec::ca("old")
        .valid(
            OffsetDateTime::from_unix_timestamp(-86_400 * 365).unwrap(),
            OffsetDateTime::now_utc() + Duration::days(30),
        )
        .mint();
    assert_eq!(validate(&minted.cert_pem, unix_now()).unwrap().valid_at, 0);
}

#[test]
fn canonical_pem_round_trips_with_64_columns() {
    let minted = CertSpec::ca("pem").mint();
    let anchor = validate(&minted.cert_pem, unix_now()).unwrap();
    let pem = canonical_pem(&anchor.der);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
    assert!(pem.lines().all(|l| l.len() <= 64));
    assert!(!pem.contains('\r'));
    assert_eq!(validate(&pem, unix_now()).unwrap().der, anchor.der);
}

#[test]
fn first_certificate_is_the_anchor_and_later_ones_are_not_parsed() {
    let first = CertSpec::ca("first").mint();
    let leaf = CertSpec::leaf("second").mint();
    let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let bundle = format!("{}{}{garbage}", first.cert_pem, leaf.cert_pem);
    assert_eq!(validate(&bundle, unix_now()).unwrap().der, first.cert_der);
}

#[test]
fn refuses_private_keys_of_any_flavour() {
    let minted = CertSpec::ca("with key").mint();
    let with_key = format!("{}{}", minted.cert_pem, minted.key_pem);
    assert_invalid(&with_key, "private key");
    for label in [
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
    ] {
        let block = format!("-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n");
        assert_invalid(&format!("{}{block}", minted.cert_pem), "private key");
        assert_invalid(&format!("{block}{}", minted.cert_pem), "private key");
    }
    // An unterminated key block is refused too.
    assert_invalid(
        &format!("{}-----BEGIN PRIVATE KEY-----\nAAAA\n", minted.cert_pem),
        "private key",
    );
}

#[test]
fn refuses_what_is_not_a_ca_certificate() {
    assert_invalid("", "no PEM CERTIFICATE block");
    assert_invalid("hello", "no PEM CERTIFICATE block");
    assert_invalid(
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "not a well-formed X.509",
    );
    assert_invalid(
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        "could not be read",
    );
    assert_invalid(
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "found a 'PUBLIC KEY' block",
    );
    assert_invalid(&CertSpec::leaf("leaf").mint().cert_pem, "not a CA");
    let no_sign = CertSpec::ca("no keyCertSign")
        .key_usages(vec![KeyUsage::DigitalSignature])
        .mint();
    assert_invalid(&no_sign.cert_pem, "keyCertSign");
    // keyUsage absent altogether is fine.
    let no_ku = CertSpec::ca("no keyUsage").key_usages(vec![]).mint();
    assert!(validate(&no_ku.cert_pem, unix_now()).is_ok());
}

#[test]
fn refuses_oversized_uploads() {
    let minted = CertSpec::ca("big").mint();
    let padded = format!("{}{}", minted.cert_pem, " ".repeat(MAX_PEM_BYTES));
    assert_invalid(&padded, "at most 16384 bytes");
    let exact = format!(
        "{}{}",
        minted.cert_pem,
        "\n".repeat(MAX_PEM_BYTES - minted.cert_pem.len())
    );
    assert!(validate(&exact, unix_now()).is_ok());
}

#[test]
fn refuses_certificates_expired_or_expiring_within_a_day() {
    let now = OffsetDateTime::now_utc();
    for not_after in [now - Duration::days(1), now + Duration::hours(23)] {
        let minted = CertSpec::ca("short")
            .valid(now - Duration::days(2), not_after)
            .mint();
        assert!(matches!(
            validate(&minted.cert_pem, unix_now()),
            Err(Error::ExpiredCertificate { .. })
        ));
    }
    let minted = CertSpec::ca("enough")
        .valid(now - Duration::days(2), now + Duration::hours(25))
        .mint();
    assert!(validate(&minted.cert_pem, unix_now()).is_ok());
}
