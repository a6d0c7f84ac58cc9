//! What the mTLS gateway reads: every active anchor of every organization, and the trust
//! version it polls to know when to read them again.

use std::time::Duration;

use orgcerts_core::ids::{CertificateId, OrganizationId, ProjectId};
use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::{
    ActiveAnchor, Actor, Organization, ProjectUpdate, Scope, ServiceAccountUpdate,
};
use orgcerts_core::page::Order;

use super::service_accounts::{service_account, service_account_key};
use super::{
    NO_LIMIT, SharedStore, T0, admin_key, fake_anchor, filtered, insert_project, new_cert, new_org,
    page, project, renamed,
};

/// Creates organizations with fresh ids, created in descending id order, so that an answer
/// ordered by creation instead of by id shows; returns their ids in ascending order.
async fn orgs_created_against_id_order(store: &SharedStore, count: usize) -> Vec<OrganizationId> {
    let mut ids: Vec<OrganizationId> = (0..count).map(|_| OrganizationId::generate()).collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    for id in &ids {
        let org = Organization {
            id: id.clone(),
            name: "Acme".to_owned(),
            created_at: T0,
        };
        let (key, _) = admin_key(id, "Initial admin key", T0);
        store.create_organization(&org, &key).await.unwrap();
    }
    ids.reverse();
    ids
}

/// Projects of `org` created in descending id order; their ids in ascending order.
async fn projects_created_against_id_order(
    store: &SharedStore,
    org: &OrganizationId,
    count: usize,
) -> Vec<ProjectId> {
    let mut records: Vec<_> = (0..count).map(|_| project("Project", T0)).collect();
    records.sort_unstable_by(|a, b| b.id.cmp(&a.id));
    for record in &records {
        store
            .insert_project(org, record, &Actor::operator(T0))
            .await
            .unwrap();
    }
    let mut ids: Vec<ProjectId> = records.into_iter().map(|p| p.id).collect();
    ids.reverse();
    ids
}

/// An uploaded certificate: its id, DER and notAfter.
struct Uploaded {
    id: CertificateId,
    der: Vec<u8>,
    expires_at: i64,
}

impl Uploaded {
    /// The anchor record of this certificate of `org` active at `scope`.
    fn at(&self, org: &OrganizationId, scope: Scope) -> ActiveAnchor {
        ActiveAnchor {
            certificate_id: self.id.clone(),
            organization_id: org.clone(),
            scope,
            der: self.der.clone(),
            expires_at: self.expires_at,
            attribute_filter: None,
        }
    }
}

/// Uploads `count` certificates to `org` in descending id order (later uploads have smaller
/// ids), each with its own notAfter; returns them in ascending id order.
async fn upload_against_id_order(
    store: &SharedStore,
    org: &OrganizationId,
    count: usize,
) -> Vec<Uploaded> {
    let mut certs: Vec<_> = (0..count)
        .map(|_| new_cert(org, None, T0, fake_anchor()))
        .collect();
    certs.sort_unstable_by(|a, b| b.id.cmp(&a.id));
    let mut out = Vec::new();
    for (i, mut cert) in certs.into_iter().enumerate() {
        cert.anchor.expires_at += i64::try_from(i).unwrap() * 86_400;
        store
            .insert_certificate(&cert, NO_LIMIT, &Actor::operator(T0))
            .await
            .unwrap();
        out.push(Uploaded {
            id: cert.id,
            der: cert.anchor.der,
            expires_at: cert.anchor.expires_at,
        });
    }
    out.reverse();
    out
}

/// Where each anchor is active, as (organization, certificate, project) text: what an order or
/// membership failure shows, without the DER.
fn placements(anchors: &[ActiveAnchor]) -> Vec<(String, String, Option<String>)> {
    anchors
        .iter()
        .map(|anchor| {
            let project = match &anchor.scope {
                Scope::Organization => None,
                Scope::Project(id) => Some(id.as_str().to_owned()),
            };
            (
                anchor.organization_id.as_str().to_owned(),
                anchor.certificate_id.as_str().to_owned(),
                project,
            )
        })
        .collect()
}

async fn set_active(
    store: &SharedStore,
    org: &OrganizationId,
    scope: &Scope,
    ids: &[&CertificateId],
    active: bool,
) {
    let ids: Vec<CertificateId> = ids.iter().map(|&id| id.clone()).collect();
    store
        .set_certificates_active(org, scope, &ids, active, &Actor::operator(T0 + 1))
        .await
        .unwrap();
}

/// Exactly the (certificate, scope) pairs where a live certificate is active, across
/// organizations, at organization and project level (archived projects included), with each
/// certificate's DER and notAfter; ordered by organization id, certificate id, then the
/// organization scope before the projects by id. Certificates never activated, deactivated
/// everywhere, or deleted are not listed.
pub async fn active_anchors_list_every_activation_in_order(store: SharedStore) {
    assert_eq!(store.active_anchors().await.unwrap(), vec![], "none yet");

    let orgs = orgs_created_against_id_order(&store, 2).await;
    let (a, b) = (&orgs[0], &orgs[1]);
    let a_projects = projects_created_against_id_order(&store, a, 3).await;
    let (p1, p2, p3) = (&a_projects[0], &a_projects[1], &a_projects[2]);
    let b_projects = projects_created_against_id_order(&store, b, 1).await;
    let q = &b_projects[0];
    let a_certs = upload_against_id_order(&store, a, 6).await;
    let b_certs = upload_against_id_order(&store, b, 3).await;
    let org = Scope::Organization;
    let at = |p: &ProjectId| Scope::Project(p.clone());

    // A: c0 at the organization and two projects (one archived below); c1 at one project only;
    // c2 at the organization only; c3 never; c4 active once, deactivated everywhere; c5 active
    // once, deactivated, then deleted.
    let [c0, c1, c2, c3, c4, c5] = &a_certs[..] else {
        unreachable!()
    };
    // Activated in the order opposite to the one expected, to show the answer is sorted.
    set_active(&store, a, &at(p3), &[&c0.id], true).await;
    set_active(&store, a, &at(p1), &[&c1.id, &c0.id], true).await;
    set_active(&store, a, &org, &[&c2.id, &c0.id], true).await;
    set_active(&store, a, &org, &[&c4.id, &c5.id], true).await;
    set_active(&store, a, &at(p2), &[&c4.id, &c5.id], true).await;
    set_active(&store, a, &org, &[&c4.id, &c5.id], false).await;
    set_active(&store, a, &at(p2), &[&c4.id, &c5.id], false).await;
    store
        .delete_certificate(a, &c5.id, &Actor::operator(T0 + 2))
        .await
        .unwrap();
    store
        .archive_project(a, p3, &Actor::operator(T0 + 2))
        .await
        .unwrap();
    // B: d0 at its project only, d1 at the organization and the project, d2 never.
    let [d0, d1, _d2] = &b_certs[..] else {
        unreachable!()
    };
    set_active(&store, b, &at(q), &[&d1.id, &d0.id], true).await;
    set_active(&store, b, &org, &[&d1.id], true).await;

    let expected = vec![
        c0.at(a, Scope::Organization),
        c0.at(a, at(p1)),
        c0.at(a, at(p3)),
        c1.at(a, at(p1)),
        c2.at(a, Scope::Organization),
        d0.at(b, at(q)),
        d1.at(b, Scope::Organization),
        d1.at(b, at(q)),
    ];
    let got = store.active_anchors().await.unwrap();
    assert_eq!(placements(&got), placements(&expected));
    assert_eq!(got, expected, "DER and notAfter too");
    assert!(
        !got.iter()
            .any(|anchor| [&c3.id, &c4.id, &c5.id].contains(&&anchor.certificate_id)),
        "never active, deactivated, deleted"
    );
    // Each certificate's own DER and notAfter (all differ).
    assert_eq!(got[4].der, c2.der);
    assert_ne!(c0.expires_at, c2.expires_at);

    // Deactivation at one scope takes that record away and leaves the others.
    set_active(&store, a, &org, &[&c0.id], false).await;
    let got = store.active_anchors().await.unwrap();
    assert_eq!(placements(&got), placements(&expected[1..]));
    assert_eq!(got, expected[1..].to_vec());
}

/// Waits until the trust version stays the same over two reads 20 ms apart (an engine may
/// move it once more after a write, as it notices the write a second way) and returns it.
pub(super) async fn settled(store: &SharedStore) -> u64 {
    let mut last = store.trust_version().await.unwrap();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = store.trust_version().await.unwrap();
        assert!(now >= last, "the trust version went back: {last} -> {now}");
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("the trust version keeps moving without writes");
}

/// The trust version after a change: it must have grown.
async fn grown(store: &SharedStore, before: u64, change: &str) -> u64 {
    let after = store.trust_version().await.unwrap();
    assert!(after > before, "{change}: {before} -> {after}");
    after
}

/// Every change that may alter a gateway's decision moves the trust version, at once and
/// upwards: uploads, activation and deactivation at either scope, renames and deletes of
/// certificates, project creation, update and archive, service accounts and their keys.
pub async fn trust_version_moves_with_every_gateway_change(store: SharedStore) {
    let mut version = store.trust_version().await.unwrap();
    let org = new_org(&*store).await;
    version = grown(&store, version, "organization created").await;
    let pid = insert_project(&*store, &org, T0).await;
    version = grown(&store, version, "project created").await;
    let certs = upload_against_id_order(&store, &org, 1).await;
    let cert = &certs[0].id;
    version = grown(&store, version, "certificate uploaded").await;
    let actor = Actor::operator(T0 + 1);

    let org_scope = Scope::Organization;
    let project_scope = Scope::Project(pid.clone());
    set_active(&store, &org, &org_scope, &[cert], true).await;
    version = grown(&store, version, "activated at the organization").await;
    set_active(&store, &org, &project_scope, &[cert], true).await;
    version = grown(&store, version, "activated at the project").await;
    set_active(&store, &org, &org_scope, &[cert], false).await;
    version = grown(&store, version, "deactivated at the organization").await;
    set_active(&store, &org, &project_scope, &[cert], false).await;
    version = grown(&store, version, "deactivated at the project").await;
    store
        .update_certificate(&org, cert, &renamed("renamed"), &actor)
        .await
        .unwrap();
    version = grown(&store, version, "certificate renamed").await;
    store
        .update_certificate(&org, cert, &filtered(Some("true")), &actor)
        .await
        .unwrap();
    version = grown(&store, version, "attribute filter set").await;
    store
        .update_certificate(&org, cert, &filtered(None), &actor)
        .await
        .unwrap();
    version = grown(&store, version, "attribute filter cleared").await;

    let account = service_account(&org, &pid, "Bot", T0);
    let (first, _) = service_account_key(&account, T0);
    store
        .insert_service_account(&account, Some(&first), &actor)
        .await
        .unwrap();
    version = grown(&store, version, "service account created").await;
    let (second, _) = service_account_key(&account, T0 + 1);
    store
        .insert_service_account_key(&second, &actor)
        .await
        .unwrap();
    version = grown(&store, version, "service account key created").await;
    let update = ServiceAccountUpdate {
        name: Some("Renamed bot".to_owned()),
        role: None,
    };
    store
        .update_service_account(&org, &pid, &account.id, &update, &actor)
        .await
        .unwrap();
    version = grown(&store, version, "service account updated").await;
    store
        .delete_project_api_key(&org, &pid, &first.id, &actor)
        .await
        .unwrap();
    version = grown(&store, version, "service account key deleted").await;
    store
        .delete_service_account(&org, &pid, &account.id, &actor)
        .await
        .unwrap();
    version = grown(&store, version, "service account deleted").await;

    let update = ProjectUpdate {
        name: Some("Renamed".to_owned()),
        external_key_id: None,
    };
    store
        .update_project(&org, &pid, &update, &actor)
        .await
        .unwrap();
    version = grown(&store, version, "project updated").await;
    store.archive_project(&org, &pid, &actor).await.unwrap();
    version = grown(&store, version, "project archived").await;
    store.delete_certificate(&org, cert, &actor).await.unwrap();
    grown(&store, version, "certificate deleted").await;
}

/// Without writes the trust version stays where it is, whatever is read meanwhile, so the
/// gateway does not rebuild its snapshot for nothing; the next write moves it again.
pub async fn trust_version_stays_put_without_writes(store: SharedStore) {
    let org = new_org(&*store).await;
    let pid = insert_project(&*store, &org, T0).await;
    let certs = upload_against_id_order(&store, &org, 2).await;
    set_active(&store, &org, &Scope::Organization, &[&certs[0].id], true).await;
    let account = service_account(&org, &pid, "Bot", T0);
    let (key, secret) = service_account_key(&account, T0);
    store
        .insert_service_account(&account, Some(&key), &Actor::operator(T0))
        .await
        .unwrap();

    let version = settled(&store).await;
    for _ in 0..5 {
        store.active_anchors().await.unwrap();
        store
            .service_account_key_by_hash(&KeyHash::of(&secret))
            .await
            .unwrap()
            .unwrap();
        store
            .list_certificates(&org, &Scope::Organization, &page(10, Order::Asc, None))
            .await
            .unwrap();
        store.list_organizations().await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(store.trust_version().await.unwrap(), version, "reads only");
    }

    set_active(&store, &org, &Scope::Organization, &[&certs[1].id], true).await;
    grown(&store, version, "activated after the reads").await;
}
