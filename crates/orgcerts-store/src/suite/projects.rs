//! Projects: create, retrieve, modify, archive, list.

use orgcerts_core::Error;
use orgcerts_core::ids::{OrganizationId, ProjectId};
use orgcerts_core::model::Actor;
use orgcerts_core::model::{ProjectRecord, ProjectUpdate};
use orgcerts_core::page::Order;

use super::{SharedStore, T0, new_org, page, project};

fn rename(name: &str) -> ProjectUpdate {
    ProjectUpdate {
        name: Some(name.to_owned()),
        external_key_id: None,
    }
}

/// Create, retrieve and modify; unknown projects and organizations are refused.
pub async fn project_round_trip(store: SharedStore) {
    let org = new_org(&*store).await;
    let mut created = project("Alpha", T0);
    created.external_key_id = Some("ekm_1".to_owned());
    created.residency = Some("eu".to_owned());
    store
        .insert_project(&org, &created, &Actor::operator(T0))
        .await
        .unwrap();
    assert_eq!(
        store.project(&org, &created.id).await.unwrap(),
        Some(created.clone())
    );

    let renamed = store
        .update_project(&org, &created.id, &rename("Beta"), &Actor::operator(T0))
        .await
        .unwrap();
    assert_eq!(
        renamed,
        ProjectRecord {
            name: "Beta".to_owned(),
            ..created.clone()
        },
        "fields left out stay as they were"
    );
    let rekeyed = store
        .update_project(
            &org,
            &created.id,
            &ProjectUpdate {
                name: None,
                external_key_id: Some("ekm_2".to_owned()),
            },
            &Actor::operator(T0),
        )
        .await
        .unwrap();
    assert_eq!(
        (rekeyed.name.as_str(), rekeyed.external_key_id.as_deref()),
        ("Beta", Some("ekm_2"))
    );
    let unchanged = store
        .update_project(
            &org,
            &created.id,
            &ProjectUpdate::default(),
            &Actor::operator(T0),
        )
        .await
        .unwrap();
    assert_eq!(unchanged, rekeyed);
    assert_eq!(
        store.project(&org, &created.id).await.unwrap(),
        Some(rekeyed)
    );

    let unknown = ProjectId::generate();
    assert_eq!(store.project(&org, &unknown).await.unwrap(), None);
    let res = store
        .update_project(&org, &unknown, &rename("x"), &Actor::operator(T0))
        .await;
    assert!(
        matches!(&res, Err(Error::ProjectNotFound { id }) if id == unknown.as_str()),
        "{res:?}"
    );
    let res = store
        .archive_project(&org, &unknown, &Actor::operator(T0))
        .await;
    assert!(matches!(res, Err(Error::ProjectNotFound { .. })), "{res:?}");

    let ghost = OrganizationId::generate();
    let res = store
        .insert_project(&ghost, &project("Ghost", T0), &Actor::operator(T0))
        .await;
    assert!(
        matches!(res, Err(Error::OrganizationNotFound { .. })),
        "{res:?}"
    );
}

/// Archiving twice keeps the first time; an archived project can no longer be modified.
pub async fn project_archive_is_idempotent_and_final(store: SharedStore) {
    let org = new_org(&*store).await;
    let created = project("Alpha", T0);
    store
        .insert_project(&org, &created, &Actor::operator(T0))
        .await
        .unwrap();

    let archived = store
        .archive_project(&org, &created.id, &Actor::operator(T0 + 5))
        .await
        .unwrap();
    assert_eq!(archived.archived_at, Some(T0 + 5));
    assert_eq!(archived.name, "Alpha");
    let again = store
        .archive_project(&org, &created.id, &Actor::operator(T0 + 9))
        .await
        .unwrap();
    assert_eq!(again, archived);

    let res = store
        .update_project(&org, &created.id, &rename("Beta"), &Actor::operator(T0))
        .await;
    assert!(
        matches!(&res, Err(Error::ProjectArchived { id }) if id == created.id.as_str()),
        "{res:?}"
    );
    assert_eq!(
        store.project(&org, &created.id).await.unwrap(),
        Some(archived)
    );
}

async fn list_ids(
    store: &SharedStore,
    org: &OrganizationId,
    limit: u32,
    order: Order,
    after: Option<&ProjectId>,
    archived: bool,
) -> (Vec<ProjectId>, bool) {
    let got = store
        .list_projects(
            org,
            &page(limit, order, after.map(ProjectId::as_str)),
            archived,
        )
        .await
        .unwrap();
    (got.items.into_iter().map(|p| p.id).collect(), got.has_more)
}

/// Projects list by creation (sequence breaking ties), archived ones only when asked for; a
/// cursor may name an archived project even when they are not listed.
pub async fn project_list_order_and_archived(store: SharedStore) {
    let org = new_org(&*store).await;
    let mut ids = Vec::new();
    for created_at in [T0, T0, T0 - 10, T0, T0] {
        let p = project("P", created_at);
        store
            .insert_project(&org, &p, &Actor::operator(T0))
            .await
            .unwrap();
        ids.push(p.id);
    }
    // Creation order: the one created earlier first, then the others in insertion order.
    let by_creation = vec![
        ids[2].clone(),
        ids[0].clone(),
        ids[1].clone(),
        ids[3].clone(),
        ids[4].clone(),
    ];
    store
        .archive_project(&org, &ids[1], &Actor::operator(T0 + 1))
        .await
        .unwrap();

    let (all, more) = list_ids(&store, &org, 100, Order::Asc, None, true).await;
    assert_eq!((all, more), (by_creation.clone(), false));
    let live: Vec<ProjectId> = by_creation
        .iter()
        .filter(|id| **id != ids[1])
        .cloned()
        .collect();
    let (got, _) = list_ids(&store, &org, 100, Order::Asc, None, false).await;
    assert_eq!(got, live);
    let (got, _) = list_ids(&store, &org, 100, Order::Desc, None, false).await;
    assert_eq!(got, live.iter().rev().cloned().collect::<Vec<_>>());

    let (first, more) = list_ids(&store, &org, 2, Order::Asc, None, false).await;
    assert_eq!((first.as_slice(), more), (&live[..2], true));
    let (second, more) = list_ids(&store, &org, 2, Order::Asc, first.last(), false).await;
    assert_eq!((second.as_slice(), more), (&live[2..], false));

    // After the archived project, which is not listed itself.
    let (got, more) = list_ids(&store, &org, 10, Order::Asc, Some(&ids[1]), false).await;
    assert_eq!((got, more), (vec![ids[3].clone(), ids[4].clone()], false));
    let (got, more) = list_ids(&store, &org, 1, Order::Desc, Some(&ids[1]), true).await;
    assert_eq!((got, more), (vec![ids[0].clone()], true));

    let unknown = ProjectId::generate();
    let res = store
        .list_projects(&org, &page(10, Order::Asc, Some(unknown.as_str())), true)
        .await;
    assert!(
        matches!(&res, Err(Error::UnknownCursor { value }) if value == unknown.as_str()),
        "{res:?}"
    );
}
