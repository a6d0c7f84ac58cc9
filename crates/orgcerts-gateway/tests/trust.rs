//! Trust snapshots swapped on rebuild, and the decision cache in front of path validation.

mod common;

use common::{Ca, DAY, Leaf, NOW, Tenant};
use orgcerts_core::model::Scope;
use orgcerts_gateway::{
    ActiveAnchor, Decision, DecisionCache, Refusal, Trust, TrustSnapshot, Verifier,
};

const FAILED: Decision = Decision::Refused(Refusal::CertificateVerificationFailed);

fn verified(record: &ActiveAnchor) -> Decision {
    Decision::Verified {
        certificate_id: record.certificate_id.clone(),
    }
}

#[test]
fn a_rebuild_swaps_in_a_new_generation_and_a_failed_one_keeps_the_last() {
    let tenant = Tenant::new();
    let (first, second) = (Ca::root("First"), Ca::root("Second"));
    let (first_record, second_record) = (tenant.org_anchor(&first), tenant.org_anchor(&second));
    let trust = Trust::load(|| Ok::<_, String>(vec![first_record.clone()])).expect("first load");
    let verifier = Verifier::new(trust, 64);
    let judge = |ca: &Ca| verifier.verify(&tenant.organization, &tenant.project, &[ca.leaf()], NOW);
    assert_eq!(verifier.trust().snapshot().generation(), 1);
    assert_eq!(judge(&first), verified(&first_record));

    let failed = verifier
        .trust()
        .rebuild(|| Err::<Vec<ActiveAnchor>, _>("database unreachable"));
    assert_eq!(failed, Err("database unreachable"));
    assert_eq!(verifier.trust().snapshot().generation(), 1);
    assert_eq!(judge(&first), verified(&first_record));
    assert_eq!(judge(&second), FAILED);

    // Deactivating `first` and activating `second` applies to the next request.
    let generation = verifier
        .trust()
        .rebuild(|| Ok::<_, String>(vec![second_record.clone()]));
    assert_eq!(generation, Ok(2));
    assert_eq!(judge(&first), FAILED);
    assert_eq!(judge(&second), verified(&second_record));

    // Everything deactivated: no check at all.
    assert_eq!(
        verifier.trust().rebuild(|| Ok::<_, String>(Vec::new())),
        Ok(3)
    );
    assert_eq!(
        verifier.verify(&tenant.organization, &tenant.project, &[], NOW),
        Decision::Pass
    );
}

#[test]
fn a_failed_first_load_gives_no_trust() {
    let loaded = Trust::load(|| Err::<Vec<ActiveAnchor>, _>("database unreachable"));
    assert!(loaded.is_err());
}

#[tokio::test]
async fn an_asynchronous_rebuild_keeps_the_last_snapshot_when_it_fails() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let record = tenant.org_anchor(&ca);
    let trust = Trust::new(TrustSnapshot::build(5, [record.clone()]));

    let failed = trust
        .rebuild_async(async { Err::<Vec<ActiveAnchor>, _>("timed out") })
        .await;
    assert_eq!(failed, Err("timed out"));
    let snapshot = trust.snapshot();
    assert_eq!(snapshot.generation(), 5);
    let chain = [ca.leaf()];
    let decision = orgcerts_gateway::verify(
        &snapshot,
        &tenant.organization,
        &tenant.project,
        &chain,
        NOW,
    );
    assert_eq!(decision, verified(&record));

    let rebuilt = trust
        .rebuild_async(async { Ok::<_, String>(Vec::new()) })
        .await;
    assert_eq!(rebuilt, Ok(6));
    let snapshot = trust.snapshot();
    let decision = orgcerts_gateway::verify(
        &snapshot,
        &tenant.organization,
        &tenant.project,
        &chain,
        NOW,
    );
    assert_eq!(decision, Decision::Pass);
}

#[test]
fn the_cache_answers_a_chain_seen_under_the_same_generation_and_a_new_generation_misses() {
    let tenant = Tenant::new();
    let (ca, unrelated) = (Ca::root("Acme Root"), Ca::root("Unrelated"));
    let record = tenant.org_anchor(&ca);
    let cache = DecisionCache::new(64);
    let chain = [ca.leaf()];
    let judge = |snapshot: &TrustSnapshot| {
        cache.verify(snapshot, &tenant.organization, &tenant.project, &chain, NOW)
    };

    let first = TrustSnapshot::build(7, [record.clone()]);
    assert_eq!(judge(&first), verified(&record));
    assert_eq!(judge(&first), verified(&record));
    assert_eq!(cache.len(), 1);

    // Same generation, other anchors: only a cached answer can still say "verified".
    let same_generation = TrustSnapshot::build(7, [tenant.org_anchor(&unrelated)]);
    assert_eq!(judge(&same_generation), verified(&record));

    let next_generation = TrustSnapshot::build(8, [tenant.org_anchor(&unrelated)]);
    assert_eq!(judge(&next_generation), FAILED);
    assert_eq!(cache.len(), 2);
}

#[test]
fn the_cache_keys_on_organization_and_project() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Project");
    let record = tenant.project_anchor(&ca, &tenant.project);
    let other_ca = Ca::root("Acme Other Project");
    let other_record = tenant.project_anchor(&other_ca, &tenant.other_project);
    let snapshot = TrustSnapshot::build(1, [record.clone(), other_record]);
    let cache = DecisionCache::new(64);
    let chain = [ca.leaf()];

    let ours = cache.verify(
        &snapshot,
        &tenant.organization,
        &tenant.project,
        &chain,
        NOW,
    );
    assert_eq!(ours, verified(&record));
    let theirs = cache.verify(
        &snapshot,
        &tenant.organization,
        &tenant.other_project,
        &chain,
        NOW,
    );
    assert_eq!(theirs, FAILED);
}

#[test]
fn a_cached_path_is_not_used_past_the_leafs_not_after_or_the_anchors_expiry() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let record = tenant.anchor(&ca, Scope::Organization, NOW + 10 * DAY);
    let snapshot = TrustSnapshot::build(1, [record.clone()]);
    let cache = DecisionCache::new(64);
    let short_lived = [ca.mint(Leaf {
        not_after: NOW + 100,
        ..Leaf::default()
    })];
    let long_lived = [ca.leaf()];
    let judge =
        |chain, now| cache.verify(&snapshot, &tenant.organization, &tenant.project, chain, now);

    assert_eq!(judge(&short_lived, NOW), verified(&record));
    assert_eq!(judge(&short_lived, NOW + 100), verified(&record));
    assert_eq!(judge(&short_lived, NOW + 101), FAILED);

    assert_eq!(judge(&long_lived, NOW), verified(&record));
    assert_eq!(judge(&long_lived, NOW + 10 * DAY + 1), FAILED);
}

#[test]
fn a_cached_refusal_is_not_used_once_a_not_yet_valid_leaf_becomes_valid() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let record = tenant.org_anchor(&ca);
    let snapshot = TrustSnapshot::build(1, [record.clone()]);
    let cache = DecisionCache::new(64);
    let early = [ca.mint(Leaf {
        not_before: NOW + 60,
        ..Leaf::default()
    })];
    let judge = |now| {
        cache.verify(
            &snapshot,
            &tenant.organization,
            &tenant.project,
            &early,
            now,
        )
    };

    assert_eq!(judge(NOW), FAILED);
    assert_eq!(judge(NOW + 59), FAILED);
    assert_eq!(judge(NOW + 60), verified(&record));
}

#[test]
fn the_cache_stays_bounded() {
    let tenant = Tenant::new();
    let ca = Ca::root("Acme Root");
    let snapshot = TrustSnapshot::build(1, [tenant.org_anchor(&ca)]);
    let cache = DecisionCache::new(8);
    for _ in 0..40 {
        cache.verify(
            &snapshot,
            &tenant.organization,
            &tenant.project,
            &[ca.leaf()],
            NOW,
        );
    }
    assert!(cache.len() <= 8, "{} entries", cache.len());
}
