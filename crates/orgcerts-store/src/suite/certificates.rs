//! Certificates: round trip, the per-organization maximum, duplicates, delete.

use orgcerts_core::Error;
use orgcerts_core::ids::{CertificateId, OrganizationId};
use orgcerts_core::model::Actor;
use orgcerts_core::model::{CertificateRecord, Scope};
use orgcerts_core::page::Order;

use super::{
    NO_LIMIT, SharedStore, T0, fake_anchor, insert_cert, insert_project, list_all, new_cert,
    new_org, real_anchor, renamed,
};

/// Insert, get with and without the DER, rename, and unknown ids.
pub async fn certificate_round_trip(store: SharedStore) {
    let org = new_org(&*store).await;
    let anchor = real_anchor("Round trip CA");
    let new = new_cert(&org, Some("prod CA"), T0, anchor.clone());
    let inserted = store
        .insert_certificate(&new, NO_LIMIT, &Actor::operator(T0))
        .await
        .unwrap();
    assert_eq!(inserted.id, new.id);
    assert_eq!(inserted.name.as_deref(), Some("prod CA"));
    assert_eq!(inserted.created_at, T0);
    assert_eq!(
        (inserted.valid_at, inserted.expires_at),
        (anchor.valid_at, anchor.expires_at)
    );

    let plain = store
        .certificate(&org, &new.id, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plain.der, None, "DER only when asked for");
    assert_eq!(plain, inserted);
    let full = store
        .certificate(&org, &new.id, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(full.der.as_deref(), Some(anchor.der.as_slice()));
    assert_eq!(CertificateRecord { der: None, ..full }, plain);

    let changed = store
        .update_certificate(&org, &new.id, &renamed("renamed"), &Actor::operator(T0))
        .await
        .unwrap();
    assert_eq!(changed.name.as_deref(), Some("renamed"));
    assert_eq!(changed.der, None);
    let empty = store
        .update_certificate(&org, &new.id, &renamed(""), &Actor::operator(T0))
        .await
        .unwrap();
    assert_eq!(empty.name.as_deref(), Some(""), "an empty name is a name");
    let read_back = store
        .certificate(&org, &new.id, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read_back, empty);
    assert_eq!(read_back.created_at, T0, "rename keeps the other fields");

    let unknown = CertificateId::generate();
    assert_eq!(store.certificate(&org, &unknown, true).await.unwrap(), None);
    let res = store
        .update_certificate(&org, &unknown, &renamed("x"), &Actor::operator(T0))
        .await;
    assert!(
        matches!(&res, Err(Error::CertificateNotFound { id }) if id == unknown.as_str()),
        "{res:?}"
    );
}

/// Up to the maximum inserts work, one more is refused, and a delete makes room again.
pub async fn certificate_maximum_is_enforced(store: SharedStore) {
    let org = new_org(&*store).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let cert = new_cert(&org, None, T0 + i, fake_anchor());
        ids.push(
            store
                .insert_certificate(&cert, 3, &Actor::operator(T0))
                .await
                .unwrap()
                .id,
        );
    }
    let over = new_cert(&org, None, T0 + 9, fake_anchor());
    let res = store
        .insert_certificate(&over, 3, &Actor::operator(T0))
        .await;
    assert!(
        matches!(res, Err(Error::CertificateLimitExceeded { max: 3 })),
        "{res:?}"
    );
    assert_eq!(
        store.certificate(&org, &over.id, false).await.unwrap(),
        None
    );
    assert_eq!(
        list_all(&*store, &org, &Scope::Organization, Order::Asc)
            .await
            .len(),
        3
    );

    store
        .delete_certificate(&org, &ids[1], &Actor::operator(T0 + 10))
        .await
        .unwrap();
    store
        .insert_certificate(&over, 3, &Actor::operator(T0))
        .await
        .unwrap();
    let again = new_cert(&org, None, T0 + 11, fake_anchor());
    let res = store
        .insert_certificate(&again, 3, &Actor::operator(T0))
        .await;
    assert!(
        matches!(res, Err(Error::CertificateLimitExceeded { max: 3 })),
        "{res:?}"
    );
    // A higher maximum (the operator changed the setting) applies at once.
    store
        .insert_certificate(&again, 4, &Actor::operator(T0))
        .await
        .unwrap();
}

/// Concurrent uploads never push an organization past its maximum.
pub async fn certificate_maximum_holds_under_concurrency(store: SharedStore) {
    let org = new_org(&*store).await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            let cert = new_cert(&org, None, T0 + i, fake_anchor());
            tokio::spawn(async move {
                store
                    .insert_certificate(&cert, 5, &Actor::operator(T0))
                    .await
            })
        })
        .collect();
    let mut inserted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => inserted += 1,
            Err(Error::CertificateLimitExceeded { max: 5 }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(inserted, 5);
    assert_eq!(
        list_all(&*store, &org, &Scope::Organization, Order::Desc)
            .await
            .len(),
        5
    );
}

/// The same certificate twice is refused naming the first; once deleted, it may come back
/// under a new id.
pub async fn duplicate_fingerprint_is_refused_until_deleted(store: SharedStore) {
    let org = new_org(&*store).await;
    let anchor = real_anchor("Duplicate CA");
    let first = store
        .insert_certificate(
            &new_cert(&org, Some("a"), T0, anchor.clone()),
            NO_LIMIT,
            &Actor::operator(T0),
        )
        .await
        .unwrap();
    let second = new_cert(&org, Some("b"), T0 + 1, anchor.clone());
    let res = store
        .insert_certificate(&second, NO_LIMIT, &Actor::operator(T0))
        .await;
    assert!(
        matches!(&res, Err(Error::CertificateAlreadyExists { existing_id }) if existing_id == first.id.as_str()),
        "{res:?}"
    );
    assert_eq!(
        store.certificate(&org, &second.id, false).await.unwrap(),
        None
    );

    store
        .delete_certificate(&org, &first.id, &Actor::operator(T0 + 2))
        .await
        .unwrap();
    let third = new_cert(&org, Some("c"), T0 + 3, anchor);
    let again = store
        .insert_certificate(&third, NO_LIMIT, &Actor::operator(T0))
        .await
        .unwrap();
    assert_ne!(again.id, first.id);
    assert_eq!(
        store.certificate(&org, &first.id, false).await.unwrap(),
        None
    );
    let listed = list_all(&*store, &org, &Scope::Organization, Order::Asc).await;
    assert_eq!(listed, vec![(again.id.as_str().to_owned(), false)]);
}

/// Re-uploading a certificate the organization holds says so, even when it is full.
pub async fn duplicate_is_reported_even_when_full(store: SharedStore) {
    let org = new_org(&*store).await;
    let anchor = fake_anchor();
    let first = store
        .insert_certificate(
            &new_cert(&org, None, T0, anchor.clone()),
            1,
            &Actor::operator(T0),
        )
        .await
        .unwrap();
    let res = store
        .insert_certificate(
            &new_cert(&org, None, T0 + 1, anchor),
            1,
            &Actor::operator(T0),
        )
        .await;
    assert!(
        matches!(&res, Err(Error::CertificateAlreadyExists { existing_id }) if existing_id == first.id.as_str()),
        "{res:?}"
    );
}

/// Duplicates are judged within an organization only.
pub async fn same_certificate_in_two_organizations(store: SharedStore) {
    let (a, b) = (new_org(&*store).await, new_org(&*store).await);
    let anchor = real_anchor("Shared CA");
    let in_a = store
        .insert_certificate(
            &new_cert(&a, None, T0, anchor.clone()),
            NO_LIMIT,
            &Actor::operator(T0),
        )
        .await
        .unwrap();
    let in_b = store
        .insert_certificate(
            &new_cert(&b, None, T0, anchor),
            NO_LIMIT,
            &Actor::operator(T0),
        )
        .await
        .unwrap();
    assert_ne!(in_a.id, in_b.id);
    // Each organization's maximum counts its own certificates only.
    store
        .insert_certificate(
            &new_cert(&b, None, T0, fake_anchor()),
            2,
            &Actor::operator(T0),
        )
        .await
        .unwrap();
    store
        .insert_certificate(
            &new_cert(&a, None, T0, fake_anchor()),
            2,
            &Actor::operator(T0),
        )
        .await
        .unwrap();
}

/// A deleted certificate is gone for get, rename, delete and lists.
pub async fn deleted_certificate_is_gone(store: SharedStore) {
    let org = new_org(&*store).await;
    let kept = insert_cert(&*store, &org, T0).await;
    let gone = insert_cert(&*store, &org, T0 + 1).await;
    store
        .delete_certificate(&org, &gone.id, &Actor::operator(T0 + 2))
        .await
        .unwrap();

    assert_eq!(store.certificate(&org, &gone.id, true).await.unwrap(), None);
    let res = store
        .update_certificate(&org, &gone.id, &renamed("x"), &Actor::operator(T0))
        .await;
    assert!(
        matches!(res, Err(Error::CertificateNotFound { .. })),
        "{res:?}"
    );
    let res = store
        .delete_certificate(&org, &gone.id, &Actor::operator(T0 + 3))
        .await;
    assert!(
        matches!(&res, Err(Error::CertificateNotFound { id }) if id == gone.id.as_str()),
        "{res:?}"
    );
    let res = store
        .delete_certificate(&org, &CertificateId::generate(), &Actor::operator(T0))
        .await;
    assert!(
        matches!(res, Err(Error::CertificateNotFound { .. })),
        "{res:?}"
    );
    assert_eq!(
        list_all(&*store, &org, &Scope::Organization, Order::Desc).await,
        vec![(kept.id.as_str().to_owned(), false)]
    );
}

/// Delete is refused while the certificate is active for the organization or any project,
/// archived ones included, and allowed once it is active nowhere.
pub async fn delete_refused_while_active(store: SharedStore) {
    let org = new_org(&*store).await;
    let cert = insert_cert(&*store, &org, T0).await;
    let ids = [cert.id.clone()];
    let in_use = |res: &Result<(), Error>| matches!(res, Err(Error::CertificateInUse { id }) if id == cert.id.as_str());

    store
        .set_certificates_active(&org, &Scope::Organization, &ids, true, &Actor::operator(T0))
        .await
        .unwrap();
    let res = store
        .delete_certificate(&org, &cert.id, &Actor::operator(T0))
        .await;
    assert!(in_use(&res), "{res:?}");
    store
        .set_certificates_active(
            &org,
            &Scope::Organization,
            &ids,
            false,
            &Actor::operator(T0),
        )
        .await
        .unwrap();

    let project = Scope::Project(insert_project(&*store, &org, T0).await);
    store
        .set_certificates_active(&org, &project, &ids, true, &Actor::operator(T0))
        .await
        .unwrap();
    let res = store
        .delete_certificate(&org, &cert.id, &Actor::operator(T0))
        .await;
    assert!(in_use(&res), "{res:?}");
    let Scope::Project(pid) = &project else {
        unreachable!()
    };
    store
        .archive_project(&org, pid, &Actor::operator(T0 + 1))
        .await
        .unwrap();
    let res = store
        .delete_certificate(&org, &cert.id, &Actor::operator(T0))
        .await;
    assert!(in_use(&res), "archived projects still count: {res:?}");
    assert!(
        store
            .certificate(&org, &cert.id, false)
            .await
            .unwrap()
            .is_some()
    );

    store
        .set_certificates_active(&org, &project, &ids, false, &Actor::operator(T0 + 2))
        .await
        .unwrap();
    store
        .delete_certificate(&org, &cert.id, &Actor::operator(T0 + 3))
        .await
        .unwrap();
    assert_eq!(
        store.certificate(&org, &cert.id, false).await.unwrap(),
        None
    );
}

/// An organization that does not exist cannot receive certificates.
pub async fn insert_into_unknown_organization(store: SharedStore) {
    let ghost = OrganizationId::generate();
    let res = store
        .insert_certificate(
            &new_cert(&ghost, None, T0, fake_anchor()),
            NO_LIMIT,
            &Actor::operator(T0),
        )
        .await;
    assert!(
        matches!(&res, Err(Error::OrganizationNotFound { id }) if id == ghost.as_str()),
        "{res:?}"
    );
}
