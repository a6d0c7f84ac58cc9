//! Certificate lists: total order, keyset pages, cursors.

use orgcerts_core::Error;
use orgcerts_core::ids::{CertificateId, ProjectId};
use orgcerts_core::model::Actor;
use orgcerts_core::model::{CertificateRecord, Scope};
use orgcerts_core::page::Order;

use super::{SharedStore, T0, ids_of, insert_cert, insert_project, list_all, new_org, page};

/// Walks the organization list page by page with `limit`, checking `has_more` on each page.
async fn walk(
    store: &SharedStore,
    org: &orgcerts_core::ids::OrganizationId,
    limit: u32,
    order: Order,
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    // 25 certificates at most: a list that goes on is a bug.
    for _ in 0..=30 {
        let got = store
            .list_certificates(
                org,
                &Scope::Organization,
                &page(limit, order, after.as_deref()),
            )
            .await
            .unwrap();
        assert!(got.items.len() <= limit as usize);
        assert!(
            !(got.has_more && got.items.is_empty()),
            "has_more with empty data"
        );
        let records: Vec<CertificateRecord> =
            got.items.into_iter().map(|c| c.certificate).collect();
        seen.extend(ids_of(&records));
        if !got.has_more {
            return seen;
        }
        after = seen.last().cloned();
    }
    panic!("the list never ends: {seen:?}");
}

/// 25 certificates created within the same second still come in one total order (creation
/// sequence), in both directions and at every page size, with an exact `has_more`.
pub async fn list_pages_in_both_orders_with_equal_timestamps(store: SharedStore) {
    let org = new_org(&*store).await;
    let mut created = Vec::new();
    for _ in 0..25 {
        created.push(insert_cert(&*store, &org, T0).await);
    }
    let asc = ids_of(&created);
    let desc: Vec<String> = asc.iter().rev().cloned().collect();

    for limit in [1, 2, 7, 24, 25, 100] {
        assert_eq!(
            walk(&store, &org, limit, Order::Asc).await,
            asc,
            "asc, limit {limit}"
        );
        assert_eq!(
            walk(&store, &org, limit, Order::Desc).await,
            desc,
            "desc, limit {limit}"
        );
    }

    let exact = store
        .list_certificates(&org, &Scope::Organization, &page(25, Order::Asc, None))
        .await
        .unwrap();
    assert_eq!((exact.items.len(), exact.has_more), (25, false));
    let one_short = store
        .list_certificates(&org, &Scope::Organization, &page(24, Order::Desc, None))
        .await
        .unwrap();
    assert_eq!((one_short.items.len(), one_short.has_more), (24, true));
    let last = store
        .list_certificates(
            &org,
            &Scope::Organization,
            &page(1, Order::Asc, Some(&asc[24])),
        )
        .await
        .unwrap();
    assert_eq!((last.items.len(), last.has_more), (0, false));
    let middle = store
        .list_certificates(
            &org,
            &Scope::Organization,
            &page(3, Order::Desc, Some(&asc[10])),
        )
        .await
        .unwrap();
    let middle: Vec<CertificateRecord> = middle.items.into_iter().map(|c| c.certificate).collect();
    assert_eq!(
        ids_of(&middle),
        vec![asc[9].clone(), asc[8].clone(), asc[7].clone()]
    );
}

/// `created_at` orders first; the creation sequence only breaks ties.
pub async fn list_orders_by_created_at_first(store: SharedStore) {
    let org = new_org(&*store).await;
    let late = insert_cert(&*store, &org, T0 + 300).await;
    let early = insert_cert(&*store, &org, T0 + 100).await;
    let middle = insert_cert(&*store, &org, T0 + 200).await;
    let also_early = insert_cert(&*store, &org, T0 + 100).await;
    let expected = ids_of(&[early, also_early, middle, late]);
    assert_eq!(walk(&store, &org, 2, Order::Asc).await, expected);
    let reversed: Vec<String> = expected.into_iter().rev().collect();
    assert_eq!(walk(&store, &org, 3, Order::Desc).await, reversed);
}

/// Pages whose cursor sits inside a second shared by several certificates, and that run on
/// into the following seconds, in both orders and at every page size.
pub async fn list_pages_across_shared_seconds(store: SharedStore) {
    let org = new_org(&*store).await;
    let mut created = Vec::new();
    for second in 0..3 {
        for _ in 0..4 {
            created.push(insert_cert(&*store, &org, T0 + second).await);
        }
    }
    let asc = ids_of(&created);
    let desc: Vec<String> = asc.iter().rev().cloned().collect();
    for limit in 1..=6 {
        assert_eq!(
            walk(&store, &org, limit, Order::Asc).await,
            asc,
            "asc, limit {limit}"
        );
        assert_eq!(
            walk(&store, &org, limit, Order::Desc).await,
            desc,
            "desc, limit {limit}"
        );
    }
}

/// `after` naming a certificate deleted since keeps its position, in both orders.
pub async fn list_after_deleted_certificate(store: SharedStore) {
    let org = new_org(&*store).await;
    let mut certs = Vec::new();
    for _ in 0..5 {
        certs.push(insert_cert(&*store, &org, T0).await);
    }
    let ids = ids_of(&certs);
    store
        .delete_certificate(&org, &certs[2].id, &Actor::operator(T0 + 1))
        .await
        .unwrap();

    let asc = store
        .list_certificates(
            &org,
            &Scope::Organization,
            &page(10, Order::Asc, Some(&ids[2])),
        )
        .await
        .unwrap();
    let asc: Vec<CertificateRecord> = asc.items.into_iter().map(|c| c.certificate).collect();
    assert_eq!(ids_of(&asc), vec![ids[3].clone(), ids[4].clone()]);

    let desc = store
        .list_certificates(
            &org,
            &Scope::Organization,
            &page(1, Order::Desc, Some(&ids[2])),
        )
        .await
        .unwrap();
    assert!(desc.has_more);
    assert_eq!(desc.items[0].certificate.id, certs[1].id);

    let all: Vec<String> = list_all(&*store, &org, &Scope::Organization, Order::Asc)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        all,
        vec![
            ids[0].clone(),
            ids[1].clone(),
            ids[3].clone(),
            ids[4].clone()
        ]
    );
}

/// An `after` this organization never had is refused, echoing it safely.
pub async fn list_refuses_unknown_cursor(store: SharedStore) {
    let org = new_org(&*store).await;
    insert_cert(&*store, &org, T0).await;
    let other = new_org(&*store).await;
    let theirs = insert_cert(&*store, &other, T0).await;
    let project = Scope::Project(insert_project(&*store, &org, T0).await);

    let unknown = CertificateId::generate();
    let long = "x".repeat(500);
    for (after, scope) in [
        (unknown.as_str(), &Scope::Organization),
        (theirs.id.as_str(), &Scope::Organization),
        (theirs.id.as_str(), &project),
        ("not-an-id' OR 1=1 --", &Scope::Organization),
        (long.as_str(), &Scope::Organization),
    ] {
        let res = store
            .list_certificates(&org, scope, &page(10, Order::Desc, Some(after)))
            .await;
        assert!(
            matches!(&res, Err(Error::UnknownCursor { value }) if *value == orgcerts_core::echo(after)),
            "{after:?}: {res:?}"
        );
    }
}

/// The project list needs a project of this organization; archived ones can still be listed.
pub async fn list_project_scope_checks_project(store: SharedStore) {
    let org = new_org(&*store).await;
    let cert = insert_cert(&*store, &org, T0).await;
    let other = new_org(&*store).await;
    let theirs = insert_project(&*store, &other, T0).await;
    for missing in [ProjectId::generate(), theirs] {
        let res = store
            .list_certificates(
                &org,
                &Scope::Project(missing.clone()),
                &page(10, Order::Desc, None),
            )
            .await;
        assert!(
            matches!(&res, Err(Error::ProjectNotFound { id }) if id == missing.as_str()),
            "{res:?}"
        );
    }
    let pid = insert_project(&*store, &org, T0).await;
    store
        .archive_project(&org, &pid, &Actor::operator(T0 + 1))
        .await
        .unwrap();
    let listed = list_all(&*store, &org, &Scope::Project(pid), Order::Asc).await;
    assert_eq!(listed, vec![(cert.id.as_str().to_owned(), false)]);
}

/// An organization without certificates lists nothing and no more.
pub async fn list_empty_organization(store: SharedStore) {
    let org = new_org(&*store).await;
    let pid = insert_project(&*store, &org, T0).await;
    for scope in [Scope::Organization, Scope::Project(pid)] {
        for order in [Order::Asc, Order::Desc] {
            let got = store
                .list_certificates(&org, &scope, &page(1, order, None))
                .await
                .unwrap();
            assert!(got.items.is_empty());
            assert!(!got.has_more);
        }
    }
}
