//! Path validation of client certificates: what a request is judged to be.

mod common;

use std::time::{Duration, Instant};

use common::{Ca, DAY, Leaf, NOW, Tenant};
use orgcerts_core::model::Scope;
use orgcerts_gateway::{
    Decision, MAX_CHAIN_BYTES, MAX_CHAIN_CERTIFICATES, Refusal, TrustSnapshot, verify,
};
use rcgen::ExtendedKeyUsagePurpose;
use rustls_pki_types::CertificateDer;

const REQUIRED: Decision = Decision::Refused(Refusal::CertificateRequired);
const INVALID: Decision = Decision::Refused(Refusal::InvalidCertificate);
const FAILED: Decision = Decision::Refused(Refusal::CertificateVerificationFailed);

fn verified(record: &orgcerts_gateway::ActiveAnchor) -> Decision {
    Decision::Verified {
        certificate_id: record.certificate_id.clone(),
    }
}

#[test]
fn a_leaf_signed_directly_by_an_org_anchor_verifies_to_that_anchor() {
    let tenant = Tenant::new();
    let (ca, other) = (Ca::root("Acme Root"), Ca::root("Acme Other"));
    let (record, other_record) = (tenant.org_anchor(&ca), tenant.org_anchor(&other));
    let snapshot = TrustSnapshot::build(1, [other_record.clone(), record.clone()]);
    let judge = |chain: &[CertificateDer<'_>]| {
        verify(&snapshot, &tenant.organization, &tenant.project, chain, NOW)
    };

    assert_eq!(judge(&[ca.leaf()]), verified(&record));
    assert_eq!(judge(&[other.leaf()]), verified(&other_record));
}

#[test]
fn a_leaf_verifies_through_an_intermediate_the_client_presents() {
    let tenant = Tenant::new();
    let root = Ca::root("Acme Root");
    let issuing = root.intermediate("Acme Issuing");
    let record = tenant.org_anchor(&root);
    let snapshot = TrustSnapshot::build(1, [record.clone()]);
    let leaf = issuing.leaf();

    let judge = |chain: &[CertificateDer<'_>]| {
        verify(&snapshot, &tenant.organization, &tenant.project, chain, NOW)
    };
    assert_eq!(
        judge(&[leaf.clone(), issuing.der.clone()]),
        verified(&record)
    );
    // Without the intermediate there is no path: nothing is fetched.
    assert_eq!(judge(&[leaf]), FAILED);
}

#[test]
fn an_intermediate_can_itself_be_the_anchor() {
    let tenant = Tenant::new();
    let issuing = Ca::root("Acme Root").intermediate("Acme Issuing");
    let record = tenant.org_anchor(&issuing);
    let snapshot = TrustSnapshot::build(1, [record.clone()]);

    let decision = verify(
        &snapshot,
        &tenant.organization,
        &tenant.project,
        &[issuing.leaf()],
        NOW,
    );
    assert_eq!(decision, verified(&record));
}

#[test]
fn a_project_anchor_serves_its_project_only_and_an_org_anchor_serves_all() {
    let tenant = Tenant::new();
    let (org_ca, project_ca) = (Ca::root("Acme Org"), Ca::root("Acme Project"));
    let org_record = tenant.org_anchor(&org_ca);
    let project_record = tenant.project_anchor(&project_ca, &tenant.project);
    let snapshot = TrustSnapshot::build(1, [org_record.clone(), project_record.clone()]);
    let judge = |project, chain: &[CertificateDer<'_>]| {
        verify(&snapshot, &tenant.organization, project, chain, NOW)
    };

    assert_eq!(
        judge(&tenant.project, &[project_ca.leaf()]),
        verified(&project_record)
    );
    assert_eq!(
        judge(&tenant.project, &[org_ca.leaf()]),
        verified(&org_record)
    );
    assert_eq!(
        judge(&tenant.other_project, &[org_ca.leaf()]),
        verified(&org_record)
    );
    assert_eq!(judge(&tenant.other_project, &[project_ca.leaf()]), FAILED);
}

#[test]
fn a_project_anchor_alone_leaves_other_projects_unchecked() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Project");
    let snapshot = TrustSnapshot::build(1, [tenant.project_anchor(&ca, &tenant.project)]);

    assert_eq!(
        verify(&snapshot, &tenant.organization, &tenant.project, &[], NOW),
        REQUIRED
    );
    assert_eq!(
        verify(
            &snapshot,
            &tenant.organization,
            &tenant.other_project,
            &[],
            NOW
        ),
        Decision::Pass
    );
}

#[test]
fn another_organizations_ca_is_refused() {
    let (acme, globex) = (Tenant::new(), Tenant::new());
    let acme_ca = Ca::root("Shared Name");
    // Same subject as Acme's CA, another key: only the signature tells them apart.
    let globex_ca = Ca::root("Shared Name");
    let snapshot = TrustSnapshot::build(
        1,
        [acme.org_anchor(&acme_ca), globex.org_anchor(&globex_ca)],
    );

    let decision = verify(
        &snapshot,
        &acme.organization,
        &acme.project,
        &[globex_ca.leaf()],
        NOW,
    );
    assert_eq!(decision, FAILED);
    let decision = verify(
        &snapshot,
        &globex.organization,
        &globex.project,
        &[acme_ca.leaf()],
        NOW,
    );
    assert_eq!(decision, FAILED);
}

#[test]
fn a_leaf_without_client_auth_usage_is_refused() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let snapshot = TrustSnapshot::build(1, [tenant.org_anchor(&ca)]);
    let server_only = ca.mint(Leaf {
        eku: vec![ExtendedKeyUsagePurpose::ServerAuth],
        ..Leaf::default()
    });

    let decision = verify(
        &snapshot,
        &tenant.organization,
        &tenant.project,
        &[server_only],
        NOW,
    );
    assert_eq!(decision, FAILED);
}

#[test]
fn a_leaf_without_authority_key_identifier_is_invalid() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let snapshot = TrustSnapshot::build(1, [tenant.org_anchor(&ca)]);
    let no_aki = ca.mint(Leaf {
        aki: false,
        ..Leaf::default()
    });

    let decision = verify(
        &snapshot,
        &tenant.organization,
        &tenant.project,
        &[no_aki],
        NOW,
    );
    assert_eq!(decision, INVALID);
}

#[test]
fn an_anchor_past_its_expires_at_matches_nothing_but_still_enforces() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let record = tenant.anchor(&ca, Scope::Organization, NOW + DAY);
    let snapshot = TrustSnapshot::build(1, [record.clone()]);
    let leaf = ca.leaf();
    let judge = |chain: &[CertificateDer<'_>], now| {
        verify(&snapshot, &tenant.organization, &tenant.project, chain, now)
    };

    assert_eq!(
        judge(std::slice::from_ref(&leaf), NOW + DAY),
        verified(&record)
    );
    assert_eq!(judge(&[leaf], NOW + DAY + 1), FAILED);
    assert_eq!(judge(&[], NOW + DAY + 1), REQUIRED);
}

#[test]
fn an_expired_or_not_yet_valid_leaf_is_refused() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let snapshot = TrustSnapshot::build(1, [tenant.org_anchor(&ca)]);
    let expired = ca.mint(Leaf {
        not_before: NOW - 2 * DAY,
        not_after: NOW - DAY,
        ..Leaf::default()
    });
    let future = ca.mint(Leaf {
        not_before: NOW + DAY,
        ..Leaf::default()
    });

    for leaf in [expired, future] {
        let decision = verify(
            &snapshot,
            &tenant.organization,
            &tenant.project,
            &[leaf],
            NOW,
        );
        assert_eq!(decision, FAILED);
    }
}

#[test]
fn garbage_der_is_invalid() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let snapshot = TrustSnapshot::build(1, [tenant.org_anchor(&ca)]);
    let mut truncated = ca.leaf().to_vec();
    truncated.truncate(truncated.len() / 2);
    let mut trailing = ca.leaf().to_vec();
    trailing.push(0);

    for garbage in [
        vec![],
        vec![0x30, 0x03, 0x02, 0x01],
        b"not a certificate".to_vec(),
        truncated,
        trailing,
    ] {
        let chain = [CertificateDer::from(garbage)];
        let decision = verify(
            &snapshot,
            &tenant.organization,
            &tenant.project,
            &chain,
            NOW,
        );
        assert_eq!(decision, INVALID);
    }
}

#[test]
fn chains_over_the_bounds_are_invalid_without_validation() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let issuing = ca.intermediate("Acme Issuing");
    let record = tenant.org_anchor(&ca);
    let snapshot = TrustSnapshot::build(1, [record.clone()]);
    let leaf = ca.leaf();
    let judge = |chain: &[CertificateDer<'_>]| {
        verify(&snapshot, &tenant.organization, &tenant.project, chain, NOW)
    };

    // At the bound a chain is judged; its leaf verifies directly.
    let mut chain = vec![leaf.clone()];
    chain.resize(MAX_CHAIN_CERTIFICATES, issuing.der.clone());
    assert_eq!(judge(&chain), verified(&record));

    // 50 certificates: refused before any path validation, though the leaf would verify.
    chain.resize(50, issuing.der.clone());
    let started = Instant::now();
    assert_eq!(judge(&chain), INVALID);
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );

    // Two certificates, one of them huge.
    let huge = CertificateDer::from(vec![0x30; MAX_CHAIN_BYTES]);
    let started = Instant::now();
    assert_eq!(judge(&[leaf, huge]), INVALID);
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn without_anchors_a_request_passes_with_or_without_a_certificate() {
    let tenant = Tenant::new();
    let elsewhere = Tenant::new();
    let ca = Ca::root("Acme Root");
    let snapshot = TrustSnapshot::build(1, [elsewhere.org_anchor(&ca)]);
    let judge = |chain: &[CertificateDer<'_>]| {
        verify(&snapshot, &tenant.organization, &tenant.project, chain, NOW)
    };

    assert_eq!(judge(&[]), Decision::Pass);
    assert_eq!(
        judge(&[CertificateDer::from(b"garbage".to_vec())]),
        Decision::Pass
    );
}

#[test]
fn an_anchor_webpki_cannot_take_enforces_and_matches_nothing() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let mut record = tenant.org_anchor(&ca);
    record.der = b"not a certificate".to_vec();
    let snapshot = TrustSnapshot::build(1, [record.clone()]);

    assert_eq!(
        snapshot
            .unusable_anchors()
            .map(|a| a.certificate_id().clone())
            .collect::<Vec<_>>(),
        [record.certificate_id]
    );
    assert_eq!(
        verify(&snapshot, &tenant.organization, &tenant.project, &[], NOW),
        REQUIRED
    );
    let decision = verify(
        &snapshot,
        &tenant.organization,
        &tenant.project,
        &[ca.leaf()],
        NOW,
    );
    assert_eq!(decision, FAILED);
}

#[test]
fn each_refusal_reads_as_the_contract_says() {
    let cases = [
        (Refusal::CertificateRequired, "certificate_required"),
        (Refusal::InvalidCertificate, "invalid_certificate"),
        (
            Refusal::CertificateVerificationFailed,
            "certificate_verification_failed",
        ),
    ];
    for (refusal, code) in cases {
        let wire = refusal.wire();
        assert_eq!(
            (wire.status, wire.error_type, wire.code),
            (401, "invalid_request_error", code)
        );
        assert!(wire.message.ends_with('.'), "{}", wire.message);
    }
}

#[test]
fn the_same_ca_active_twice_names_an_anchor_that_can_still_match() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let short = tenant.anchor(&ca, Scope::Organization, NOW + DAY);
    let long = tenant.project_anchor(&ca, &tenant.project);
    let snapshot = TrustSnapshot::build(1, [long.clone(), short.clone()]);
    let judge = |now| {
        verify(
            &snapshot,
            &tenant.organization,
            &tenant.project,
            &[ca.leaf()],
            now,
        )
    };

    // The organization's anchor comes first while it can match.
    assert_eq!(judge(NOW), verified(&short));
    assert_eq!(judge(NOW + DAY + 1), verified(&long));
}
