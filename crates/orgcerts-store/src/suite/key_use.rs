//! `last_used_at` of service account keys: recorded in batches, the later time winning, deleted
//! keys left alone, and neither audited nor a change for the gateway; and the service's noted
//! uses reaching the store in one flush.

use std::time::Duration;

use orgcerts_core::ids::{OrganizationId, ProjectApiKeyId, ProjectId};
use orgcerts_core::model::{Actor, OwnerAccess, ServiceAccountKey};
use orgcerts_core::page::Order;
use orgcerts_core::{Service, Settings, Store};

use super::gateway::settled;
use super::service_accounts::{service_account, service_account_key, types};
use super::{SharedStore, T0, insert_project, new_org, page};

/// A project with one service account holding `count` keys (created a second apart).
async fn keys_of_one_account(
    store: &SharedStore,
    count: i64,
) -> (OrganizationId, ProjectId, Vec<ServiceAccountKey>) {
    let org = new_org(&**store).await;
    let pid = insert_project(&**store, &org, T0).await;
    let account = service_account(&org, &pid, "Bot", T0);
    store
        .insert_service_account(&account, None, &Actor::operator(T0))
        .await
        .unwrap();
    let mut keys = Vec::new();
    for i in 0..count {
        let (key, _) = service_account_key(&account, T0 + i);
        store
            .insert_service_account_key(&key, &Actor::operator(T0))
            .await
            .unwrap();
        keys.push(key);
    }
    (org, pid, keys)
}

/// `last_used_at` of each key as the project's key list shows it, and as its retrieval does
/// (asserted to agree).
async fn last_used(
    store: &dyn Store,
    org: &OrganizationId,
    pid: &ProjectId,
    keys: &[&ProjectApiKeyId],
) -> Vec<Option<i64>> {
    let listed = store
        .list_project_api_keys(org, pid, &page(100, Order::Asc, None), OwnerAccess::Any)
        .await
        .unwrap();
    let mut out = Vec::new();
    for id in keys {
        let in_list = listed
            .items
            .iter()
            .find(|k| k.key.id == **id)
            .unwrap_or_else(|| panic!("{id} is not listed"))
            .key
            .last_used_at;
        let retrieved = store
            .project_api_key(org, pid, id)
            .await
            .unwrap()
            .unwrap()
            .key
            .last_used_at;
        assert_eq!(in_list, retrieved, "{id}: list and retrieval differ");
        out.push(in_list);
    }
    out
}

/// A recorded use shows in the key's retrieval and in the project's key list; an earlier time
/// never replaces a later one; deleted and unknown keys in a batch are left alone without
/// failing it; an empty batch succeeds; nothing is audited, and the trust version stays.
pub async fn service_account_key_use_is_recorded(store: SharedStore) {
    let (org, pid, keys) = keys_of_one_account(&store, 3).await;
    let (a, b, gone) = (&keys[0].id, &keys[1].id, &keys[2].id);
    store
        .delete_project_api_key(&org, &pid, gone, &Actor::operator(T0 + 1))
        .await
        .unwrap();
    let audited = types(&store, &org).await;
    let version = settled(&store).await;
    assert_eq!(last_used(&*store, &org, &pid, &[a, b]).await, [None, None]);

    store
        .record_service_account_key_use(&[(a.clone(), T0 + 50)])
        .await
        .unwrap();
    assert_eq!(
        last_used(&*store, &org, &pid, &[a, b]).await,
        [Some(T0 + 50), None],
        "recorded for the key named only"
    );

    store
        .record_service_account_key_use(&[(a.clone(), T0 + 30), (b.clone(), T0 + 40)])
        .await
        .unwrap();
    assert_eq!(
        last_used(&*store, &org, &pid, &[a, b]).await,
        [Some(T0 + 50), Some(T0 + 40)],
        "an earlier time leaves the later one"
    );

    store
        .record_service_account_key_use(&[
            (gone.clone(), T0 + 60),
            (ProjectApiKeyId::generate(), T0 + 60),
            (a.clone(), T0 + 60),
        ])
        .await
        .unwrap();
    assert_eq!(
        last_used(&*store, &org, &pid, &[a, b]).await,
        [Some(T0 + 60), Some(T0 + 40)],
        "deleted and unknown keys do not fail the batch"
    );
    assert_eq!(store.project_api_key(&org, &pid, gone).await.unwrap(), None);

    store.record_service_account_key_use(&[]).await.unwrap();
    assert_eq!(
        last_used(&*store, &org, &pid, &[a, b]).await,
        [Some(T0 + 60), Some(T0 + 40)],
    );

    assert_eq!(types(&store, &org).await, audited, "key use is not audited");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        store.trust_version().await.unwrap(),
        version,
        "key use changes nothing a gateway decides by"
    );
}

/// The service keeps the latest of several noted uses of a key and writes them with one flush;
/// until then, its own reads of the key already show them. A flush with nothing noted writes
/// nothing and succeeds.
pub async fn service_flushes_the_latest_service_account_key_use(store: SharedStore) {
    let (org, pid, keys) = keys_of_one_account(&store, 2).await;
    let (a, b) = (&keys[0].id, &keys[1].id);
    let service = Service::new(store.clone(), Settings::default());
    for at in [T0 + 20, T0 + 70, T0 + 50] {
        service.note_service_account_key_use(a, at);
    }
    service.note_service_account_key_use(b, T0 + 10);

    assert_eq!(
        last_used(&*store, &org, &pid, &[a, b]).await,
        [None, None],
        "noting writes nothing"
    );
    let retrieved = service
        .retrieve_project_api_key(&org, pid.as_str(), a.as_str())
        .await
        .unwrap();
    assert_eq!(retrieved.key.last_used_at, Some(T0 + 70), "shown unflushed");

    service.flush_service_account_key_use().await.unwrap();
    assert_eq!(
        last_used(&*store, &org, &pid, &[a, b]).await,
        [Some(T0 + 70), Some(T0 + 10)],
        "the latest use of each key, in one flush"
    );

    service.flush_service_account_key_use().await.unwrap();
    service.note_service_account_key_use(a, T0 + 60);
    service.flush_service_account_key_use().await.unwrap();
    let listed = service
        .list_project_api_keys(
            &org,
            pid.as_str(),
            &page(100, Order::Asc, None),
            OwnerAccess::Any,
        )
        .await
        .unwrap();
    let times: Vec<_> = listed.items.iter().map(|k| k.key.last_used_at).collect();
    assert_eq!(
        times,
        [Some(T0 + 70), Some(T0 + 10)],
        "a later flush of an earlier use changes nothing"
    );
}
