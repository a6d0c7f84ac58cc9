//! Organizations are isolated: another organization's ids name nothing.

use orgcerts_core::Error;
use orgcerts_core::model::Actor;
use orgcerts_core::model::{ProjectUpdate, Scope};
use orgcerts_core::page::Order;

use super::{
    SharedStore, T0, admin_key, insert_cert, insert_project, list_all, new_org, page, renamed,
};

/// Every operation of one organization treats another's certificates, projects and keys as
/// unknown, and changes nothing of theirs.
pub async fn other_organization_ids_are_not_found(store: SharedStore) {
    let op = Actor::operator(T0);
    let mine = new_org(&*store).await;
    let theirs = new_org(&*store).await;
    let cert = insert_cert(&*store, &theirs, T0).await;
    let pid = insert_project(&*store, &theirs, T0).await;
    let (key, _) = admin_key(&theirs, "theirs", T0);
    store.insert_admin_key(&key, &op).await.unwrap();

    assert_eq!(
        store.certificate(&mine, &cert.id, true).await.unwrap(),
        None
    );
    let res = store
        .update_certificate(&mine, &cert.id, &renamed("mine"), &op)
        .await;
    assert!(
        matches!(res, Err(Error::CertificateNotFound { .. })),
        "{res:?}"
    );
    let res = store.delete_certificate(&mine, &cert.id, &op).await;
    assert!(
        matches!(res, Err(Error::CertificateNotFound { .. })),
        "{res:?}"
    );
    let res = store
        .set_certificates_active(
            &mine,
            &Scope::Organization,
            std::slice::from_ref(&cert.id),
            true,
            &op,
        )
        .await;
    assert!(
        matches!(res, Err(Error::UnknownCertificateInSet { .. })),
        "{res:?}"
    );
    let res = store
        .list_certificates(
            &mine,
            &Scope::Organization,
            &page(10, Order::Asc, Some(cert.id.as_str())),
        )
        .await;
    assert!(matches!(res, Err(Error::UnknownCursor { .. })), "{res:?}");
    assert!(
        list_all(&*store, &mine, &Scope::Organization, Order::Asc)
            .await
            .is_empty()
    );

    assert_eq!(store.project(&mine, &pid).await.unwrap(), None);
    let update = ProjectUpdate {
        name: Some("mine".to_owned()),
        external_key_id: None,
    };
    let res = store.update_project(&mine, &pid, &update, &op).await;
    assert!(matches!(res, Err(Error::ProjectNotFound { .. })), "{res:?}");
    let res = store.archive_project(&mine, &pid, &op).await;
    assert!(matches!(res, Err(Error::ProjectNotFound { .. })), "{res:?}");
    let res = store
        .list_projects(&mine, &page(10, Order::Asc, Some(pid.as_str())), true)
        .await;
    assert!(matches!(res, Err(Error::UnknownCursor { .. })), "{res:?}");
    let listed = store
        .list_projects(&mine, &page(100, Order::Asc, None), true)
        .await
        .unwrap();
    assert!(listed.items.is_empty());

    let res = store.revoke_admin_key(&mine, &key.id, &op).await;
    assert!(
        matches!(res, Err(Error::AdminKeyNotFound { .. })),
        "{res:?}"
    );
    assert!(
        store
            .list_admin_keys(&mine)
            .await
            .unwrap()
            .iter()
            .all(|k| k.organization_id == mine)
    );

    // Theirs is untouched.
    let still = store
        .certificate(&theirs, &cert.id, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still, cert);
    assert_eq!(
        list_all(&*store, &theirs, &Scope::Organization, Order::Asc).await,
        vec![(cert.id.as_str().to_owned(), false)]
    );
    let project = store.project(&theirs, &pid).await.unwrap().unwrap();
    assert_eq!(
        (project.name.as_str(), project.archived_at),
        ("Project", None)
    );
    let key_now = store.admin_key_by_hash(&key.hash).await.unwrap().unwrap();
    assert_eq!(key_now.revoked_at, None);
}
