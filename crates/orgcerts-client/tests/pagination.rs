//! Cursor pages and the auto-paging stream, as the official SDKs page.

mod common;

use common::{Fault, client, proxy, server, upload_many};
use futures_util::{StreamExt, TryStreamExt};
use orgcerts_client::types::ProjectCreateRequest;
use orgcerts_client::{Error, ListParams, ListProjectsParams, Order};

#[tokio::test]
async fn the_stream_walks_every_page_in_both_orders() {
    let server = server();
    let client = client(&server);
    let ids = upload_many(&client, 23).await;
    let certificates = client.admin().organization().certificates();

    for (order, expected) in [
        (Order::Asc, ids.clone()),
        (Order::Desc, ids.iter().rev().cloned().collect::<Vec<_>>()),
    ] {
        let params = ListParams::new().limit(5).order(order);
        let first = certificates.list(&params).await.unwrap();
        assert_eq!(first.data.len(), 5);
        assert!(first.has_more && first.has_next_page());
        let pages: Vec<_> = first.into_pages().try_collect().await.unwrap();
        assert_eq!(
            pages.iter().map(|page| page.data.len()).collect::<Vec<_>>(),
            [5, 5, 5, 5, 3]
        );
        assert!(!pages[4].has_more && !pages[4].has_next_page());
        let streamed: Vec<String> = certificates
            .list(&params)
            .await
            .unwrap()
            .into_stream()
            .map_ok(|certificate| certificate.id)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(streamed, expected, "{order}");
    }
}

#[tokio::test]
async fn each_next_page_asks_after_the_last_id_with_the_same_limit_and_order() {
    let server = proxy(server());
    let client = client(&server);
    upload_many(&client, 7).await;
    server.clear_requests();
    let params = ListParams::new().limit(3).order(Order::Asc);
    let pages: Vec<_> = client
        .admin()
        .organization()
        .certificates()
        .list(&params)
        .await
        .unwrap()
        .into_pages()
        .try_collect()
        .await
        .unwrap();
    let queries: Vec<String> = server
        .requests()
        .into_iter()
        .map(|r| r.query.unwrap_or_default())
        .collect();
    assert_eq!(
        queries,
        [
            "limit=3&order=asc".to_owned(),
            format!(
                "limit=3&order=asc&after={}",
                pages[0].last_id.as_deref().unwrap()
            ),
            format!(
                "limit=3&order=asc&after={}",
                pages[1].last_id.as_deref().unwrap()
            ),
        ]
    );
}

#[tokio::test]
async fn a_full_last_page_ends_the_walk_without_an_empty_request() {
    let server = proxy(server());
    let client = client(&server);
    upload_many(&client, 6).await;
    server.clear_requests();
    let certificates = client.admin().organization().certificates();
    let first = certificates
        .list(&ListParams::new().limit(3))
        .await
        .unwrap();
    let second = first.next_page().await.unwrap().expect("a second page");
    assert!(!second.has_more);
    assert!(second.next_page().await.unwrap().is_none());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn has_more_without_a_last_id_or_without_data_ends_the_walk() {
    let server = proxy(server());
    let client = client(&server);
    upload_many(&client, 1).await;
    let certificates = client.admin().organization().certificates();
    let real = certificates.list(&ListParams::new()).await.unwrap();
    // Page shapes the server never sends, made from one it did: the SDKs stop on them.
    for (last_id, data_len) in [(serde_json::json!(""), 1), (real.last_id.clone().into(), 0)] {
        let mut odd: serde_json::Value = serde_json::from_str(real.raw_body()).unwrap();
        odd["has_more"] = true.into();
        odd["last_id"] = last_id;
        odd["data"].as_array_mut().unwrap().truncate(data_len);
        server.fail_next([Fault::Body {
            status: 200,
            body: odd.to_string(),
        }]);
        server.clear_requests();
        let page = certificates.list(&ListParams::new()).await.unwrap();
        assert!(page.has_more && !page.has_next_page());
        assert!(page.next_page().await.unwrap().is_none());
        assert_eq!(page.into_stream().count().await, data_len);
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn an_empty_list_has_no_next_page() {
    let server = server();
    let client = client(&server);
    let page = client
        .admin()
        .organization()
        .certificates()
        .list(&ListParams::new())
        .await
        .unwrap();
    assert!(page.data.is_empty() && page.first_id.is_none() && page.last_id.is_none());
    assert!(!page.has_next_page());
    assert_eq!(page.into_stream().count().await, 0);
}

#[tokio::test]
async fn an_error_mid_walk_is_yielded_once_and_ends_the_stream() {
    let server = proxy(server());
    let client = client(&server);
    upload_many(&client, 4).await;
    let first = client
        .admin()
        .organization()
        .certificates()
        .list(&ListParams::new().limit(2))
        .await
        .unwrap();
    server.fail_next([Fault::status(400)]);
    let items: Vec<_> = first.into_stream().collect().await;
    assert_eq!(items.len(), 3);
    assert!(items[..2].iter().all(Result::is_ok));
    assert!(matches!(&items[2], Err(Error::Api(error)) if error.status == 400));
}

#[tokio::test]
async fn projects_page_with_include_archived() {
    let server = server();
    let client = client(&server);
    let projects = client.admin().organization().projects();
    let mut ids = Vec::new();
    for index in 0..5 {
        let request = ProjectCreateRequest {
            name: format!("project {index}"),
            residency: None,
            external_key_id: None,
        };
        ids.push(projects.create(&request).await.unwrap().into_inner().id);
    }
    projects.archive(&ids[1]).await.unwrap();

    let client = &client;
    let listed = |params: ListProjectsParams| async move {
        let page = client
            .admin()
            .organization()
            .projects()
            .list(&params)
            .await
            .unwrap();
        page.into_stream()
            .map_ok(|project| project.id)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
    };
    let active = listed(ListProjectsParams::new().limit(2)).await;
    let every = listed(ListProjectsParams::new().limit(2).include_archived(true)).await;
    assert_eq!(every.len(), 5);
    assert_eq!(active.len(), 4);
    assert!(!active.contains(&ids[1]) && every.contains(&ids[1]));
}
