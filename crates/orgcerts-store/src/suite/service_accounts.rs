//! Service accounts of projects and their keys: the lifecycle, archived projects, isolation,
//! pagination, and the gateway's lookup by hash.

use orgcerts_core::Error;
use orgcerts_core::audit::AuditQuery;
use orgcerts_core::ids::{OrganizationId, ProjectApiKeyId, ProjectId, ServiceAccountId};
use orgcerts_core::keys::{self, KeyHash};
use orgcerts_core::model::{
    Actor, OwnerAccess, ServiceAccountKey, ServiceAccountRecord, ServiceAccountRole,
    ServiceAccountUpdate,
};
use orgcerts_core::page::Order;

use super::{SharedStore, T0, insert_project, new_org, page};

/// A service account record of `project`.
pub fn service_account(
    org: &OrganizationId,
    project: &ProjectId,
    name: &str,
    created_at: i64,
) -> ServiceAccountRecord {
    ServiceAccountRecord {
        id: ServiceAccountId::generate(),
        organization_id: org.clone(),
        project_id: project.clone(),
        name: name.to_owned(),
        role: ServiceAccountRole::Member,
        created_at,
    }
}

/// A fresh key of `account` and its secret text.
pub fn service_account_key(
    account: &ServiceAccountRecord,
    created_at: i64,
) -> (ServiceAccountKey, String) {
    let secret = keys::generate_service_account_key();
    let key = ServiceAccountKey {
        id: ProjectApiKeyId::generate(),
        organization_id: account.organization_id.clone(),
        project_id: account.project_id.clone(),
        service_account_id: account.id.clone(),
        name: "Secret Key".to_owned(),
        hash: KeyHash::of(&secret),
        redacted_value: keys::redact_service_account_key(&secret),
        created_at,
        last_used_at: None,
    };
    (key, secret)
}

/// The types of the organization's entries, newest first.
pub(super) async fn types(store: &SharedStore, org: &OrganizationId) -> Vec<String> {
    let query = AuditQuery {
        limit: 100,
        ..AuditQuery::default()
    };
    let page = store.list_audit_logs(org, &query).await.unwrap();
    page.items.into_iter().map(|e| e.event_type).collect()
}

/// Create with a first key, read, update, add a key, delete a key, delete the account with
/// its keys; each change audited, and the hash lookup following every step.
pub async fn service_account_lifecycle(store: SharedStore) {
    let org = new_org(&*store).await;
    let pid = insert_project(&*store, &org, T0).await;
    let actor = Actor::operator(T0 + 1);
    let account = service_account(&org, &pid, "Bot", T0);
    let (first, first_secret) = service_account_key(&account, T0);
    store
        .insert_service_account(&account, Some(&first), &actor)
        .await
        .unwrap();
    assert_eq!(
        store
            .service_account(&org, &pid, &account.id)
            .await
            .unwrap(),
        Some(account.clone())
    );
    let grant = store
        .service_account_key_by_hash(&KeyHash::of(&first_secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (&grant.organization_id, &grant.project_id, &grant.key_id),
        (&org, &pid, &first.id)
    );
    assert_eq!(grant.service_account_id, account.id);
    assert!(grant.hash.matches(&first.hash) && !grant.project_archived);

    let updated = rename_and_change_role(&store, &account).await;

    let (second, second_secret) = service_account_key(&account, T0 + 2);
    store
        .insert_service_account_key(&second, &actor)
        .await
        .unwrap();
    let listed = store
        .list_project_api_keys(&org, &pid, &page(10, Order::Asc, None), OwnerAccess::Any)
        .await
        .unwrap();
    let ids: Vec<_> = listed.items.iter().map(|k| k.key.id.clone()).collect();
    assert_eq!(ids, [first.id.clone(), second.id.clone()]);
    assert!(
        listed
            .items
            .iter()
            .all(|k| k.owner == updated && k.owner_has_access)
    );
    let got = store
        .project_api_key(&org, &pid, &second.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.key, second);

    store
        .delete_project_api_key(&org, &pid, &first.id, &actor)
        .await
        .unwrap();
    assert_eq!(
        store.project_api_key(&org, &pid, &first.id).await.unwrap(),
        None
    );
    let again = store
        .delete_project_api_key(&org, &pid, &first.id, &actor)
        .await;
    assert!(
        matches!(again, Err(Error::ProjectApiKeyNotFound { .. })),
        "{again:?}"
    );
    assert_eq!(
        store
            .service_account_key_by_hash(&KeyHash::of(&first_secret))
            .await
            .unwrap(),
        None,
        "a deleted key grants nothing at once"
    );

    delete_account_with_its_keys(&store, &account, &second, &second_secret).await;

    assert_eq!(
        types(&store, &org).await[..7],
        [
            "service_account.deleted",
            "api_key.deleted",
            "api_key.created",
            "service_account.updated",
            "service_account.updated",
            "api_key.created",
            "service_account.created",
        ]
    );
}

/// Updates both fields, then the role alone (the name stays); returns the account after.
async fn rename_and_change_role(
    store: &SharedStore,
    account: &ServiceAccountRecord,
) -> ServiceAccountRecord {
    let (org, pid) = (&account.organization_id, &account.project_id);
    let actor = Actor::operator(T0 + 1);
    let update = ServiceAccountUpdate {
        name: Some("Robot".to_owned()),
        role: Some(ServiceAccountRole::Owner),
    };
    let updated = store
        .update_service_account(org, pid, &account.id, &update, &actor)
        .await
        .unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.role),
        ("Robot", ServiceAccountRole::Owner)
    );
    let role_only = ServiceAccountUpdate {
        name: None,
        role: Some(ServiceAccountRole::Member),
    };
    let updated = store
        .update_service_account(org, pid, &account.id, &role_only, &actor)
        .await
        .unwrap();
    assert_eq!(updated.name, "Robot", "a field left out stays as it was");
    updated
}

/// Deletes `account` (holding `key`): the account and the key are gone, and so is the key's
/// grant; a second delete, or a new key for it, finds no account.
async fn delete_account_with_its_keys(
    store: &SharedStore,
    account: &ServiceAccountRecord,
    second: &ServiceAccountKey,
    second_secret: &str,
) {
    let (org, pid) = (&account.organization_id, &account.project_id);
    let actor = Actor::operator(T0 + 1);
    let deleted = store
        .delete_service_account(org, pid, &account.id, &actor)
        .await
        .unwrap();
    assert_eq!(deleted.id, account.id);
    assert_eq!(
        store.service_account(org, pid, &account.id).await.unwrap(),
        None
    );
    assert_eq!(
        store.project_api_key(org, pid, &second.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .service_account_key_by_hash(&KeyHash::of(second_secret))
            .await
            .unwrap(),
        None,
        "deleting the account deletes its keys"
    );
    let gone = store
        .delete_service_account(org, pid, &account.id, &actor)
        .await;
    assert!(
        matches!(gone, Err(Error::ServiceAccountNotFound { .. })),
        "{gone:?}"
    );
    let (late, _) = service_account_key(account, T0 + 3);
    let refused = store.insert_service_account_key(&late, &actor).await;
    assert!(
        matches!(refused, Err(Error::ServiceAccountNotFound { .. })),
        "{refused:?}"
    );
}

/// An archived project refuses new accounts, keys and updates; its accounts and keys can
/// still be read and deleted, and its keys grant nothing (the lookup says why).
pub async fn service_accounts_of_archived_projects(store: SharedStore) {
    let org = new_org(&*store).await;
    let pid = insert_project(&*store, &org, T0).await;
    let actor = Actor::operator(T0 + 1);
    let account = service_account(&org, &pid, "Bot", T0);
    let (key, secret) = service_account_key(&account, T0);
    store
        .insert_service_account(&account, Some(&key), &actor)
        .await
        .unwrap();
    store.archive_project(&org, &pid, &actor).await.unwrap();
    let before = types(&store, &org).await.len();

    let other = service_account(&org, &pid, "Late", T0 + 2);
    let refused = [
        store
            .insert_service_account(&other, None, &actor)
            .await
            .err(),
        store
            .insert_service_account_key(&service_account_key(&account, T0 + 2).0, &actor)
            .await
            .err(),
        store
            .update_service_account(
                &org,
                &pid,
                &account.id,
                &ServiceAccountUpdate {
                    name: Some("X".to_owned()),
                    role: None,
                },
                &actor,
            )
            .await
            .err(),
    ];
    for err in refused {
        assert!(
            matches!(err, Some(Error::ProjectArchived { .. })),
            "{err:?}"
        );
    }
    assert_eq!(
        types(&store, &org).await.len(),
        before,
        "refusals record nothing"
    );

    let grant = store
        .service_account_key_by_hash(&KeyHash::of(&secret))
        .await
        .unwrap()
        .unwrap();
    assert!(grant.project_archived);
    let keys_page = |access| {
        let store = store.clone();
        let (org, pid) = (org.clone(), pid.clone());
        async move {
            store
                .list_project_api_keys(&org, &pid, &page(10, Order::Asc, None), access)
                .await
                .unwrap()
                .items
                .len()
        }
    };
    assert_eq!(keys_page(OwnerAccess::Inactive).await, 1);
    assert_eq!(keys_page(OwnerAccess::Active).await, 0);
    store
        .delete_project_api_key(&org, &pid, &key.id, &actor)
        .await
        .unwrap();
    store
        .delete_service_account(&org, &pid, &account.id, &actor)
        .await
        .unwrap();
    assert_eq!(
        store
            .service_account(&org, &pid, &account.id)
            .await
            .unwrap(),
        None
    );
}

/// Another organization's project, or another project's account, is not found; an unknown
/// project refuses inserts.
pub async fn service_accounts_are_isolated(store: SharedStore) {
    let org = new_org(&*store).await;
    let other_org = new_org(&*store).await;
    let pid = insert_project(&*store, &org, T0).await;
    let other_pid = insert_project(&*store, &org, T0).await;
    let actor = Actor::operator(T0);
    let account = service_account(&org, &pid, "Bot", T0);
    let (key, _) = service_account_key(&account, T0);
    store
        .insert_service_account(&account, Some(&key), &actor)
        .await
        .unwrap();
    for (o, p) in [(&other_org, &pid), (&org, &other_pid)] {
        assert_eq!(
            store.service_account(o, p, &account.id).await.unwrap(),
            None
        );
        assert_eq!(store.project_api_key(o, p, &key.id).await.unwrap(), None);
        let listed = store
            .list_project_api_keys(o, p, &page(10, Order::Asc, None), OwnerAccess::Any)
            .await
            .unwrap();
        assert!(listed.items.is_empty());
    }
    let foreign = store
        .delete_service_account(&org, &other_pid, &account.id, &actor)
        .await;
    assert!(
        matches!(foreign, Err(Error::ServiceAccountNotFound { .. })),
        "{foreign:?}"
    );
    let foreign = store
        .delete_project_api_key(&org, &other_pid, &key.id, &actor)
        .await;
    assert!(
        matches!(foreign, Err(Error::ProjectApiKeyNotFound { .. })),
        "{foreign:?}"
    );
    let mut stray = service_account(&other_org, &pid, "Stray", T0);
    let refused = store.insert_service_account(&stray, None, &actor).await;
    assert!(
        matches!(refused, Err(Error::ProjectNotFound { .. })),
        "{refused:?}"
    );
    stray.organization_id = org.clone();
    stray.project_id = ProjectId::generate();
    let refused = store.insert_service_account(&stray, None, &actor).await;
    assert!(
        matches!(refused, Err(Error::ProjectNotFound { .. })),
        "{refused:?}"
    );
}

/// Accounts and keys page in creation order; a deleted one's id still pages on, an id of
/// another project is an unknown cursor; `owner_project_access` filters by the owner's role.
pub async fn service_accounts_and_keys_paginate(store: SharedStore) {
    let org = new_org(&*store).await;
    let pid = insert_project(&*store, &org, T0).await;
    let actor = Actor::operator(T0);
    let mut accounts = Vec::new();
    let mut key_ids = Vec::new();
    for i in 0..5 {
        let mut account = service_account(&org, &pid, "Bot", T0 + i / 2);
        if i == 4 {
            account.role = ServiceAccountRole::None;
        }
        let (key, _) = service_account_key(&account, T0 + i / 2);
        store
            .insert_service_account(&account, Some(&key), &actor)
            .await
            .unwrap();
        accounts.push(account.id);
        key_ids.push(key.id);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let got = store
            .list_service_accounts(&org, &pid, &page(2, Order::Asc, after.as_deref()))
            .await
            .unwrap();
        seen.extend(got.items.iter().map(|a| a.id.clone()));
        after = got.items.last().map(|a| a.id.to_string());
        if !got.has_more {
            break;
        }
    }
    assert_eq!(seen, accounts);
    store
        .delete_service_account(&org, &pid, &accounts[1], &actor)
        .await
        .unwrap();
    let rest = store
        .list_service_accounts(
            &org,
            &pid,
            &page(10, Order::Asc, Some(accounts[1].as_str())),
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 3, "a deleted account's id still pages on");
    let rest = store
        .list_project_api_keys(
            &org,
            &pid,
            &page(10, Order::Asc, Some(key_ids[1].as_str())),
            OwnerAccess::Any,
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 3, "a deleted key's id still pages on");
    let other = insert_project(&*store, &org, T0).await;
    let unknown = store
        .list_service_accounts(
            &org,
            &other,
            &page(10, Order::Asc, Some(accounts[0].as_str())),
        )
        .await;
    assert!(
        matches!(unknown, Err(Error::UnknownCursor { .. })),
        "{unknown:?}"
    );
    let inactive = store
        .list_project_api_keys(
            &org,
            &pid,
            &page(10, Order::Asc, None),
            OwnerAccess::Inactive,
        )
        .await
        .unwrap();
    let ids: Vec<_> = inactive.items.iter().map(|k| k.key.id.clone()).collect();
    assert_eq!(ids, [key_ids[4].clone()]);
    assert!(!inactive.items[0].owner_has_access);
    let active = store
        .list_project_api_keys(&org, &pid, &page(2, Order::Asc, None), OwnerAccess::Active)
        .await
        .unwrap();
    assert_eq!(active.items.len(), 2);
    assert!(active.has_more);
}
