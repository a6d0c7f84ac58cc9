//! Admin API keys (`openai-admin-api-keys.openapi.yaml`) through the client, end to end.

mod common;

use common::{builder, client, proxy, server};
use futures_util::TryStreamExt;
use orgcerts_client::types::{AdminApiKeyDeletedObject, AdminApiKeyObject};
use orgcerts_client::{Client, Error, ListParams, Order};

/// Creates admin keys named `key-0`, `key-1`, ... and returns their ids in creation order.
async fn create_many(client: &Client, count: usize) -> Vec<String> {
    let keys = client.admin().organization().admin_api_keys();
    let mut ids = Vec::with_capacity(count);
    for index in 0..count {
        let created = keys.create(format!("key-{index}"), None).await.unwrap();
        ids.push(created.into_inner().key.id);
    }
    ids
}

/// Every key id of `params`' walk, following pages.
async fn walk(client: &Client, params: &ListParams) -> Vec<String> {
    client
        .admin()
        .organization()
        .admin_api_keys()
        .list(params)
        .await
        .unwrap()
        .into_stream()
        .map_ok(|key| key.id)
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn create_retrieve_list_delete() {
    let server = server();
    let client = client(&server);
    let keys = client.admin().organization().admin_api_keys();

    let created = keys.create("deploy bot", None).await.unwrap();
    assert_eq!(created.key.object, AdminApiKeyObject::Value);
    assert!(created.key.id.starts_with("key_"), "{}", created.key.id);
    assert_eq!(created.key.name.as_deref(), Some("deploy bot"));
    assert_eq!(created.key.expires_at, None);
    assert!(created.value.starts_with("sk-admin-"));
    // The redacted value shows the secret's tail, never the secret.
    let tail = &created.value[created.value.len() - 4..];
    assert!(created.key.redacted_value.ends_with(tail));
    assert!(!created.key.redacted_value.contains(&created.value));
    let created = created.into_inner();
    let id = created.key.id.clone();

    // The one-time value is a working key.
    let as_new_key = builder(&server).api_key(&created.value).build().unwrap();
    let seen_by_new_key = walk(&as_new_key, &ListParams::new()).await;
    assert!(seen_by_new_key.contains(&id));

    let fetched = keys.retrieve(&id).await.unwrap();
    assert_eq!(fetched.id, id);
    assert_eq!(fetched.name.as_deref(), Some("deploy bot"));
    assert_eq!(fetched.created_at, created.key.created_at);
    assert_eq!(fetched.redacted_value, created.key.redacted_value);
    let raw: serde_json::Value = serde_json::from_str(fetched.raw_body()).unwrap();
    assert!(raw.get("value").is_none(), "{raw}");

    let listed = walk(&client, &ListParams::new()).await;
    assert_eq!(listed.len(), 2, "the server's own key and the new one");
    assert!(listed.contains(&id));

    let deleted = keys.delete(&id).await.unwrap();
    assert_eq!(deleted.id, id);
    assert_eq!(deleted.object, AdminApiKeyDeletedObject::Value);
    assert!(deleted.deleted);

    let gone = keys.retrieve(&id).await.unwrap_err();
    let api = gone.as_api().expect("an API error");
    assert_eq!(api.status.as_u16(), 404);
    assert_eq!(api.param.as_deref(), Some("key_id"));
    assert!(!walk(&client, &ListParams::new()).await.contains(&id));
    let refused = as_new_key
        .admin()
        .organization()
        .admin_api_keys()
        .list(&ListParams::new())
        .await
        .unwrap_err();
    assert_eq!(
        refused
            .as_api()
            .map(|api| (api.status.as_u16(), api.code.clone())),
        Some((401, Some("invalid_api_key".to_owned())))
    );
}

#[tokio::test]
async fn expires_in_seconds_sets_expires_at() {
    let server = proxy(server());
    let client = client(&server);
    let keys = client.admin().organization().admin_api_keys();

    let created = keys.create("short-lived", Some(3600)).await.unwrap();
    assert_eq!(created.key.expires_at, Some(created.key.created_at + 3600));
    let fetched = keys.retrieve(&created.key.id).await.unwrap();
    assert_eq!(fetched.expires_at, created.key.expires_at);

    // Out of the spec's 1..=31536000: the server names the field.
    let refused = keys.create("never", Some(0)).await.unwrap_err();
    let api = refused.as_api().expect("an API error");
    assert_eq!(
        (api.status.as_u16(), api.param.as_deref()),
        (400, Some("expires_in_seconds"))
    );
    // Beyond what the wire type holds: refused before sending.
    server.clear_requests();
    assert!(matches!(
        keys.create("huge", Some(u64::MAX)).await,
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        keys.retrieve(" ").await,
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(keys.delete("").await, Err(Error::InvalidInput(_))));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn list_pages_in_both_orders_and_defaults_to_oldest_first() {
    let server = proxy(server());
    let client = client(&server);
    let created = create_many(&client, 6).await;
    let keys = client.admin().organization().admin_api_keys();

    // Seven keys: the server's own, then the six, oldest first.
    let default_order = walk(&client, &ListParams::new()).await;
    assert_eq!(default_order.len(), 7);
    assert_eq!(default_order[1..], created[..]);
    let ascending = walk(&client, &ListParams::new().order(Order::Asc).limit(3)).await;
    assert_eq!(ascending, default_order);
    let descending = walk(&client, &ListParams::new().order(Order::Desc).limit(3)).await;
    let mut reversed = default_order.clone();
    reversed.reverse();
    assert_eq!(descending, reversed);

    // Pages of 3 over 7 keys: 3, 3, 1, each asked after the previous page's last id.
    server.clear_requests();
    let params = ListParams::new().limit(3).order(Order::Desc);
    let pages: Vec<_> = keys
        .list(&params)
        .await
        .unwrap()
        .into_pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|page| page.data.len()).collect::<Vec<_>>(),
        [3, 3, 1]
    );
    assert!(pages[0].has_more && pages[1].has_more && !pages[2].has_more);
    let queries: Vec<String> = server
        .requests()
        .into_iter()
        .map(|request| request.query.unwrap_or_default())
        .collect();
    assert_eq!(
        queries,
        [
            "limit=3&order=desc".to_owned(),
            format!("limit=3&order=desc&after={}", reversed[2]),
            format!("limit=3&order=desc&after={}", reversed[5]),
        ]
    );

    // A page that ends exactly at the last key has no next page, and asks for none.
    server.clear_requests();
    let first = keys
        .list(&ListParams::new().after(&created[0]).limit(5))
        .await
        .unwrap();
    assert_eq!(
        first.data.iter().map(|key| &key.id).collect::<Vec<_>>(),
        created[1..].iter().collect::<Vec<_>>()
    );
    assert!(!first.has_more && !first.has_next_page());
    assert!(first.next_page().await.unwrap().is_none());
    let one_short = keys
        .list(&ListParams::new().after(&created[0]).limit(4))
        .await
        .unwrap();
    assert!(one_short.has_more && one_short.has_next_page());
    let last = one_short.next_page().await.unwrap().expect("a last page");
    assert_eq!(last.data.len(), 1);
    assert_eq!(last.data[0].id, created[5]);
    assert_eq!(server.requests().len(), 3);
}
