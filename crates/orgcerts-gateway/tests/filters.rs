//! Attribute filters: after a path verified, the filter of the anchor it ended in decides.

mod common;

use std::time::{Duration, Instant};

use common::{Ca, NOW, Tenant};
use orgcerts_core::model::Scope;
use orgcerts_gateway::{
    ActiveAnchor, Decision, DecisionCache, Refusal, Trust, TrustSnapshot, Verifier, verify,
};
use rustls_pki_types::CertificateDer;

const ATTRIBUTES_FAILED: Decision =
    Decision::Refused(Refusal::CertificateAttributeVerificationFailed);

fn verified(record: &ActiveAnchor) -> Decision {
    Decision::Verified {
        certificate_id: record.certificate_id.clone(),
    }
}

/// The decision for a request of `tenant`'s project presenting `chain`, at [`NOW`].
fn judge(snapshot: &TrustSnapshot, tenant: &Tenant, chain: &[CertificateDer<'_>]) -> Decision {
    verify(snapshot, &tenant.organization, &tenant.project, chain, NOW)
}

const EXAMPLE_DOMAIN: &str =
    r#"subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))"#;

#[test]
fn the_anchors_filter_accepts_or_refuses_a_verified_leaf() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let record = tenant.filtered_org_anchor(&ca, EXAMPLE_DOMAIN);
    let snapshot = TrustSnapshot::build(1, [record.clone()]);

    assert_eq!(
        judge(
            &snapshot,
            &tenant,
            &[ca.leaf_for("svc", &["api.example.com"])]
        ),
        verified(&record)
    );
    assert_eq!(
        judge(
            &snapshot,
            &tenant,
            &[ca.leaf_for("svc", &["api.example.org"])]
        ),
        ATTRIBUTES_FAILED
    );
    assert_eq!(judge(&snapshot, &tenant, &[ca.leaf()]), ATTRIBUTES_FAILED);
    // A leaf of another CA has no path: the filter never runs.
    let stranger = Ca::root("Stranger");
    assert_eq!(
        judge(
            &snapshot,
            &tenant,
            &[stranger.leaf_for("svc", &["api.example.com"])]
        ),
        Decision::Refused(Refusal::CertificateVerificationFailed)
    );
}

#[test]
fn the_refusal_is_a_403_in_the_contracts_envelope() {
    let wire = Refusal::CertificateAttributeVerificationFailed.wire();
    assert_eq!(wire.status, 403);
    assert_eq!(wire.code, "certificate_attribute_verification_failed");
    assert_eq!(wire.error_type, "invalid_request_error");
}

#[test]
fn the_same_ca_active_twice_passes_when_either_filter_accepts() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let for_org = tenant.filtered_org_anchor(&ca, "subject.common_name == 'billing'");
    let for_project = ActiveAnchor {
        attribute_filter: Some("subject.common_name == 'search'".to_owned()),
        ..tenant.project_anchor(&ca, &tenant.project)
    };
    let snapshot = TrustSnapshot::build(1, [for_org.clone(), for_project.clone()]);

    assert_eq!(
        judge(&snapshot, &tenant, &[ca.leaf_for("billing", &[])]),
        verified(&for_org)
    );
    assert_eq!(
        judge(&snapshot, &tenant, &[ca.leaf_for("search", &[])]),
        verified(&for_project)
    );
    assert_eq!(
        judge(&snapshot, &tenant, &[ca.leaf_for("other", &[])]),
        ATTRIBUTES_FAILED
    );
    // The other project has only the organization's anchor.
    assert_eq!(
        verify(
            &snapshot,
            &tenant.organization,
            &tenant.other_project,
            &[ca.leaf_for("search", &[])],
            NOW
        ),
        ATTRIBUTES_FAILED
    );
}

#[test]
fn a_refused_path_gives_way_to_another_path_to_another_anchor() {
    let tenant = Tenant::new();
    let root = Ca::root("Acme Root");
    let intermediate = root.intermediate("Acme Issuing");
    // The intermediate is an anchor too, with a filter that refuses the leaf; the root's
    // accepts it. The direct path (to the intermediate) is tried first.
    let strict = tenant.filtered_org_anchor(&intermediate, "subject.common_name == 'nobody'");
    let open = tenant.filtered_org_anchor(&root, "subject.common_name == 'svc'");
    let snapshot = TrustSnapshot::build(1, [strict.clone(), open.clone()]);
    let leaf = intermediate.leaf_for("svc", &[]);

    assert_eq!(
        judge(
            &snapshot,
            &tenant,
            &[leaf.clone(), intermediate.der.clone()]
        ),
        verified(&open)
    );
    // Without the intermediate in the chain, only the refused path exists.
    assert_eq!(judge(&snapshot, &tenant, &[leaf]), ATTRIBUTES_FAILED);
}

#[test]
fn an_anchor_without_a_filter_accepts_every_verified_leaf() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let record = tenant.org_anchor(&ca);
    let snapshot = TrustSnapshot::build(1, [record.clone()]);
    assert_eq!(
        judge(
            &snapshot,
            &tenant,
            &[ca.leaf_for("anyone", &["x.example.net"])]
        ),
        verified(&record)
    );
}

#[test]
fn a_filter_that_no_longer_compiles_refuses_every_leaf_and_is_reported() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let record = tenant.filtered_org_anchor(&ca, "subject.nickname == 'x'");
    let snapshot = TrustSnapshot::build(1, [record.clone()]);
    assert_eq!(judge(&snapshot, &tenant, &[ca.leaf()]), ATTRIBUTES_FAILED);
    let reported: Vec<_> = snapshot
        .uncompilable_filters()
        .map(|anchor| anchor.certificate_id().clone())
        .collect();
    assert_eq!(reported, [record.certificate_id]);
}

#[test]
fn a_runaway_filter_is_undecided_at_its_deadline_and_judged_again_later() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let list = (0..100)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let runaway = format!(
        "[{list}].all(a, [{list}].all(b, [{list}].all(c, [{list}].all(d, a + b + c + d >= 0))))"
    );
    let record = tenant.filtered_org_anchor(&ca, &runaway);
    let cache = DecisionCache::new(64).with_filter_deadline(Duration::from_millis(20));
    let snapshot = TrustSnapshot::build(1, [record]);
    let chain = [ca.leaf()];
    let judge = |now| {
        cache.verify(
            &snapshot,
            &tenant.organization,
            &tenant.project,
            &chain,
            now,
        )
    };

    let started = Instant::now();
    assert_eq!(judge(NOW), Decision::Undecided);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Within the same second the undecided answer is reused; two seconds on it is judged again.
    let started = Instant::now();
    assert_eq!(judge(NOW), Decision::Undecided);
    assert!(
        started.elapsed() < Duration::from_millis(15),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    assert_eq!(judge(NOW + 2), Decision::Undecided);
    assert!(
        started.elapsed() >= Duration::from_millis(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_changed_filter_takes_effect_with_the_next_snapshot() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let strict = tenant.filtered_org_anchor(&ca, "subject.common_name == 'billing'");
    let verifier = Verifier::new(Trust::new(TrustSnapshot::build(1, [strict.clone()])), 64);
    let leaf = [ca.leaf_for("search", &[])];
    let judge = || verifier.verify(&tenant.organization, &tenant.project, &leaf, NOW);
    assert_eq!(judge(), ATTRIBUTES_FAILED);

    let relaxed = ActiveAnchor {
        attribute_filter: Some("subject.common_name in ['billing', 'search']".to_owned()),
        ..strict.clone()
    };
    verifier
        .trust()
        .rebuild(|| Ok::<_, ()>([relaxed.clone()]))
        .unwrap();
    assert_eq!(judge(), verified(&relaxed));

    let cleared = ActiveAnchor {
        attribute_filter: None,
        scope: Scope::Organization,
        ..relaxed
    };
    verifier.trust().rebuild(|| Ok::<_, ()>([cleared])).unwrap();
    assert_eq!(judge(), verified(&strict));
}
