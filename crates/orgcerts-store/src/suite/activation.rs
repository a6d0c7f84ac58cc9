//! Activation and deactivation at organization and project level.

use orgcerts_core::Error;
use orgcerts_core::ids::{CertificateId, ProjectId};
use orgcerts_core::model::Actor;
use orgcerts_core::model::{Scope, ScopedCertificate};
use orgcerts_core::page::Order;

use super::{SharedStore, T0, insert_cert, insert_project, list_all, new_org};

fn summary(items: &[ScopedCertificate]) -> Vec<(String, bool)> {
    items
        .iter()
        .map(|c| (c.certificate.id.as_str().to_owned(), c.active))
        .collect()
}

fn pair(id: &CertificateId, active: bool) -> (String, bool) {
    (id.as_str().to_owned(), active)
}

/// One unknown id (never existed, deleted, or another organization's) and nothing changes, at
/// either scope.
pub async fn activation_is_all_or_nothing(store: SharedStore) {
    let org = new_org(&*store).await;
    let a = insert_cert(&*store, &org, T0).await;
    let b = insert_cert(&*store, &org, T0 + 1).await;
    let deleted = insert_cert(&*store, &org, T0 + 2).await;
    store
        .delete_certificate(&org, &deleted.id, &Actor::operator(T0 + 3))
        .await
        .unwrap();
    let other = new_org(&*store).await;
    let theirs = insert_cert(&*store, &other, T0).await;
    let pid = insert_project(&*store, &org, T0).await;

    for scope in [Scope::Organization, Scope::Project(pid)] {
        for bad in [
            CertificateId::generate(),
            deleted.id.clone(),
            theirs.id.clone(),
        ] {
            let ids = [a.id.clone(), bad.clone(), b.id.clone()];
            let res = store
                .set_certificates_active(&org, &scope, &ids, true, &Actor::operator(T0))
                .await;
            assert!(
                matches!(&res, Err(Error::UnknownCertificateInSet { id }) if id == bad.as_str()),
                "{res:?}"
            );
            assert_eq!(
                list_all(&*store, &org, &scope, Order::Asc).await,
                vec![pair(&a.id, false), pair(&b.id, false)],
                "nothing changed"
            );
        }
    }
    // The other organization's certificate was not touched either.
    assert_eq!(
        list_all(&*store, &other, &Scope::Organization, Order::Asc).await,
        vec![pair(&theirs.id, false)]
    );
}

/// The answer lists the certificates in the order asked, with their new state; doing it twice
/// changes nothing more.
pub async fn activation_is_idempotent_and_ordered(store: SharedStore) {
    let org = new_org(&*store).await;
    let a = insert_cert(&*store, &org, T0).await;
    let b = insert_cert(&*store, &org, T0 + 1).await;
    let c = insert_cert(&*store, &org, T0 + 2).await;
    let pid = insert_project(&*store, &org, T0).await;

    for scope in [Scope::Organization, Scope::Project(pid)] {
        let ids = [c.id.clone(), a.id.clone()];
        for _ in 0..2 {
            let got = store
                .set_certificates_active(&org, &scope, &ids, true, &Actor::operator(T0 + 10))
                .await
                .unwrap();
            assert_eq!(summary(&got), vec![pair(&c.id, true), pair(&a.id, true)]);
            assert_eq!(got[0].certificate.created_at, T0 + 2);
            assert_eq!(got[0].certificate.der, None);
        }
        assert_eq!(
            list_all(&*store, &org, &scope, Order::Asc).await,
            vec![pair(&a.id, true), pair(&b.id, false), pair(&c.id, true)]
        );

        // Deactivating a mix of active and inactive certificates, twice.
        let ids = [b.id.clone(), a.id.clone()];
        for _ in 0..2 {
            let got = store
                .set_certificates_active(&org, &scope, &ids, false, &Actor::operator(T0 + 20))
                .await
                .unwrap();
            assert_eq!(summary(&got), vec![pair(&b.id, false), pair(&a.id, false)]);
        }
        assert_eq!(
            list_all(&*store, &org, &scope, Order::Desc).await,
            vec![pair(&c.id, true), pair(&b.id, false), pair(&a.id, false)]
        );
    }
}

/// Activation for the organization, for one project and for another project are three
/// separate states.
pub async fn project_and_organization_scopes_are_independent(store: SharedStore) {
    let org = new_org(&*store).await;
    let a = insert_cert(&*store, &org, T0).await;
    let b = insert_cert(&*store, &org, T0 + 1).await;
    let p = Scope::Project(insert_project(&*store, &org, T0).await);
    let q = Scope::Project(insert_project(&*store, &org, T0 + 1).await);

    store
        .set_certificates_active(
            &org,
            &p,
            std::slice::from_ref(&a.id),
            true,
            &Actor::operator(T0),
        )
        .await
        .unwrap();
    store
        .set_certificates_active(
            &org,
            &Scope::Organization,
            std::slice::from_ref(&b.id),
            true,
            &Actor::operator(T0),
        )
        .await
        .unwrap();

    let expect = |a_active, b_active| vec![pair(&a.id, a_active), pair(&b.id, b_active)];
    assert_eq!(
        list_all(&*store, &org, &Scope::Organization, Order::Asc).await,
        expect(false, true)
    );
    assert_eq!(
        list_all(&*store, &org, &p, Order::Asc).await,
        expect(true, false)
    );
    assert_eq!(
        list_all(&*store, &org, &q, Order::Asc).await,
        expect(false, false)
    );

    store
        .set_certificates_active(
            &org,
            &Scope::Organization,
            std::slice::from_ref(&a.id),
            false,
            &Actor::operator(T0),
        )
        .await
        .unwrap();
    assert_eq!(
        list_all(&*store, &org, &p, Order::Asc).await,
        expect(true, false),
        "organization-level deactivation leaves the project's activation alone"
    );
}

/// An archived project refuses activation but allows deactivation; an unknown or foreign
/// project is not found.
pub async fn archived_project_refuses_activation_only(store: SharedStore) {
    let org = new_org(&*store).await;
    let a = insert_cert(&*store, &org, T0).await;
    let b = insert_cert(&*store, &org, T0 + 1).await;
    let pid = insert_project(&*store, &org, T0).await;
    let scope = Scope::Project(pid.clone());
    store
        .set_certificates_active(
            &org,
            &scope,
            std::slice::from_ref(&a.id),
            true,
            &Actor::operator(T0),
        )
        .await
        .unwrap();
    store
        .archive_project(&org, &pid, &Actor::operator(T0 + 1))
        .await
        .unwrap();

    let res = store
        .set_certificates_active(
            &org,
            &scope,
            std::slice::from_ref(&b.id),
            true,
            &Actor::operator(T0 + 2),
        )
        .await;
    assert!(
        matches!(&res, Err(Error::ProjectArchived { id }) if id == pid.as_str()),
        "{res:?}"
    );
    // Even re-activating an already active certificate is refused: the project is frozen.
    let res = store
        .set_certificates_active(
            &org,
            &scope,
            std::slice::from_ref(&a.id),
            true,
            &Actor::operator(T0 + 2),
        )
        .await;
    assert!(matches!(res, Err(Error::ProjectArchived { .. })), "{res:?}");
    assert_eq!(
        list_all(&*store, &org, &scope, Order::Asc).await,
        vec![pair(&a.id, true), pair(&b.id, false)]
    );

    let got = store
        .set_certificates_active(
            &org,
            &scope,
            &[a.id.clone(), b.id.clone()],
            false,
            &Actor::operator(T0 + 3),
        )
        .await
        .unwrap();
    assert_eq!(summary(&got), vec![pair(&a.id, false), pair(&b.id, false)]);

    let other = new_org(&*store).await;
    let theirs = insert_project(&*store, &other, T0).await;
    for missing in [ProjectId::generate(), theirs] {
        for active in [true, false] {
            let res = store
                .set_certificates_active(
                    &org,
                    &Scope::Project(missing.clone()),
                    std::slice::from_ref(&a.id),
                    active,
                    &Actor::operator(T0),
                )
                .await;
            assert!(
                matches!(&res, Err(Error::ProjectNotFound { id }) if id == missing.as_str()),
                "{res:?}"
            );
        }
    }
}
