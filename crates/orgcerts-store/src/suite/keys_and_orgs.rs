//! Organizations and admin keys.

use orgcerts_core::Error;
use orgcerts_core::ids::{AdminKeyId, OrganizationId};
use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::{Actor, AdminKey, Organization};

use super::{SharedStore, T0, admin_key, new_org};

/// Organizations list oldest first; keys are found by hash and listed oldest first per
/// organization; an unknown organization is refused.
pub async fn organizations_and_admin_keys(store: SharedStore) {
    let newer = Organization {
        id: OrganizationId::generate(),
        name: "Newer".to_owned(),
        created_at: T0 + 10,
    };
    let older = Organization {
        id: OrganizationId::generate(),
        name: "Older".to_owned(),
        created_at: T0,
    };
    let (first, secret) = admin_key(&newer.id, "Initial admin key", T0 + 10);
    store.create_organization(&newer, &first).await.unwrap();
    let (older_key, _) = admin_key(&older.id, "Initial admin key", T0);
    store.create_organization(&older, &older_key).await.unwrap();
    assert_eq!(
        store.list_organizations().await.unwrap(),
        vec![older.clone(), newer.clone()]
    );

    let found = store
        .admin_key_by_hash(&KeyHash::of(&secret))
        .await
        .unwrap();
    assert_eq!(found, Some(first.clone()));
    let nobody = orgcerts_core::keys::generate_admin_key();
    assert_eq!(
        store
            .admin_key_by_hash(&KeyHash::of(&nobody))
            .await
            .unwrap(),
        None
    );

    let (second, second_secret) = admin_key(&newer.id, "CI", T0 + 20);
    store
        .insert_admin_key(&second, &Actor::operator(T0))
        .await
        .unwrap();
    assert_eq!(
        store.list_admin_keys(&newer.id).await.unwrap(),
        vec![first, second.clone()]
    );
    assert_eq!(
        store.list_admin_keys(&older.id).await.unwrap(),
        vec![older_key]
    );
    let by_hash = store
        .admin_key_by_hash(&KeyHash::of(&second_secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (by_hash.organization_id, by_hash.name.as_str()),
        (newer.id, "CI")
    );
    assert_eq!(by_hash.redacted_value, second.redacted_value);

    let ghost = OrganizationId::generate();
    let res = store.list_admin_keys(&ghost).await;
    assert!(
        matches!(&res, Err(Error::OrganizationNotFound { id }) if id == ghost.as_str()),
        "{res:?}"
    );
    let (stray, _) = admin_key(&ghost, "stray", T0);
    let res = store.insert_admin_key(&stray, &Actor::operator(T0)).await;
    assert!(
        matches!(res, Err(Error::OrganizationNotFound { .. })),
        "{res:?}"
    );
    assert_eq!(store.admin_key_by_hash(&stray.hash).await.unwrap(), None);
}

/// Revoking keeps the first time; a revoked key is still found by hash (the service refuses
/// it); unknown keys are refused.
pub async fn admin_key_revocation(store: SharedStore) {
    let org = Organization {
        id: OrganizationId::generate(),
        name: "Acme".to_owned(),
        created_at: T0,
    };
    let (first, _) = admin_key(&org.id, "Initial admin key", T0);
    store.create_organization(&org, &first).await.unwrap();
    let (key, secret) = admin_key(&org.id, "CI", T0 + 1);
    store
        .insert_admin_key(&key, &Actor::operator(T0))
        .await
        .unwrap();

    let revoked = store
        .revoke_admin_key(&org.id, &key.id, &Actor::operator(T0 + 5))
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(T0 + 5));
    assert_eq!(revoked.id, key.id);
    let again = store
        .revoke_admin_key(&org.id, &key.id, &Actor::operator(T0 + 9))
        .await
        .unwrap();
    assert_eq!(
        again.revoked_at,
        Some(T0 + 5),
        "the first revocation time stays"
    );

    let found = store
        .admin_key_by_hash(&KeyHash::of(&secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.revoked_at, Some(T0 + 5));
    let listed = store.list_admin_keys(&org.id).await.unwrap();
    assert_eq!(
        listed.iter().map(|k| k.revoked_at).collect::<Vec<_>>(),
        vec![None, Some(T0 + 5)]
    );

    let unknown = AdminKeyId::generate();
    let res = store
        .revoke_admin_key(&org.id, &unknown, &Actor::operator(T0))
        .await;
    assert!(
        matches!(&res, Err(Error::AdminKeyNotFound { id }) if id == unknown.as_str()),
        "{res:?}"
    );
}

/// A new organization named `name` with its first key, not yet stored.
pub fn unsaved_org(name: &str) -> (Organization, orgcerts_core::model::AdminKey) {
    let org = Organization {
        id: OrganizationId::generate(),
        name: name.to_owned(),
        created_at: T0,
    };
    let (key, _) = admin_key(&org.id, "Initial admin key", T0);
    (org, key)
}

/// Of many attempts at once to create the first organization, exactly one does; later ones,
/// and any on a database that has an organization, create nothing.
pub async fn first_organization_is_created_once(store: SharedStore) {
    assert!(
        !store.has_organizations().await.unwrap(),
        "a fresh database"
    );
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..8 {
        let store = store.clone();
        attempts.spawn(async move {
            let (org, key) = unsaved_org(&format!("first {i}"));
            store
                .create_first_organization(&org, &key)
                .await
                .unwrap()
                .then_some(org)
        });
    }
    let created: Vec<Organization> = attempts.join_all().await.into_iter().flatten().collect();
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(store.list_organizations().await.unwrap(), created);
    assert!(store.has_organizations().await.unwrap());
    // The winner's key works; nothing of the others was stored.
    let (org, key) = unsaved_org("late");
    assert!(!store.create_first_organization(&org, &key).await.unwrap());
    assert_eq!(store.admin_key_by_hash(&key.hash).await.unwrap(), None);
    assert_eq!(store.list_organizations().await.unwrap().len(), 1);
}

/// Many requests authenticating at once, with keys of several organizations and unknown ones,
/// each find their own key (or none) and its organization; a key revoked between two such
/// bursts is seen revoked by every lookup of the second.
pub async fn concurrent_key_lookups_each_find_their_own(store: SharedStore) {
    let mut keys = Vec::new();
    for _ in 0..6 {
        let org = new_org(store.as_ref()).await;
        for n in 0..4 {
            let (key, secret) = admin_key(&org, &format!("key {n}"), T0 + n);
            store
                .insert_admin_key(&key, &Actor::operator(T0))
                .await
                .unwrap();
            keys.push((key, secret));
        }
    }
    let unknown: Vec<String> = (0..8)
        .map(|_| orgcerts_core::keys::generate_admin_key())
        .collect();

    let burst = |keys: Vec<(AdminKey, String)>| {
        let store = store.clone();
        let unknown = unknown.clone();
        async move {
            let mut lookups = tokio::task::JoinSet::new();
            for round in 0..10 {
                let known = keys
                    .iter()
                    .map(|(key, secret)| (Some(key.clone()), secret.clone()));
                let stranger = (None, unknown[round % unknown.len()].clone());
                for (expected, secret) in known.chain([stranger]) {
                    let store = store.clone();
                    lookups.spawn(async move {
                        let found = store.admin_key_for_request(&KeyHash::of(&secret)).await;
                        (expected, found.unwrap().map(|(found, _)| found))
                    });
                }
            }
            let mut answered = 0;
            while let Some(joined) = lookups.join_next().await {
                let (expected, found) = joined.unwrap();
                assert_eq!(found, expected);
                answered += 1;
            }
            assert_eq!(answered, 10 * (keys.len() + 1));
        }
    };
    burst(keys.clone()).await;

    let revoked = store
        .revoke_admin_key(
            &keys[5].0.organization_id,
            &keys[5].0.id,
            &Actor::operator(T0 + 50),
        )
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(T0 + 50));
    keys[5].0 = revoked;
    burst(keys).await;
}
