//! Cursor pagination of certificate lists (docs/contract.md, "Lists and pagination").

mod common;

use common::TestServer;
use serde_json::{Value, json};

/// Uploads `n` certificates (well within one second, so `created_at` ties) and returns their
/// ids in upload order.
async fn upload_many(server: &TestServer, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(server.upload_id(&format!("cert {i}")).await);
    }
    ids
}

/// Follows `after=last_id` while `has_more`, as the official SDKs do.
async fn walk(server: &TestServer, query: &str) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/organization/certificates?{query}&after={a}"),
            None => format!("/organization/certificates?{query}"),
        };
        let page = server.get(&path).await.ok().clone();
        pages += 1;
        check_page_invariants(&page);
        ids.extend(TestServer::ids(&page));
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        after = Some(page["last_id"].as_str().unwrap().to_owned());
    }
    (ids, pages)
}

fn check_page_invariants(page: &Value) {
    assert_eq!(page["object"], "list");
    let ids = TestServer::ids(page);
    assert_eq!(page["first_id"], json!(ids.first()));
    assert_eq!(page["last_id"], json!(ids.last()));
    if ids.is_empty() {
        assert_eq!(page["has_more"], false, "never has_more with empty data");
    }
    for item in page["data"].as_array().unwrap() {
        assert_eq!(item["object"], "organization.certificate");
        assert!(item["active"].is_boolean());
        assert_eq!(item.as_object().unwrap().len(), 6, "{item}");
    }
}

#[tokio::test]
async fn pages_in_both_orders_are_total_even_within_one_second() {
    let server = TestServer::start().await;
    let ids = upload_many(&server, 23).await;

    let (asc, pages) = walk(&server, "limit=5&order=asc").await;
    assert_eq!(asc, ids);
    assert_eq!(pages, 5);

    let (desc, _) = walk(&server, "limit=5&order=desc").await;
    let mut reversed = ids.clone();
    reversed.reverse();
    assert_eq!(desc, reversed);

    // Default: desc, limit 20.
    let page = server.get("/organization/certificates").await.ok().clone();
    assert_eq!(TestServer::ids(&page), reversed[..20].to_vec());
    assert_eq!(page["has_more"], true);
}

#[tokio::test]
async fn limit_one_and_limit_hundred_and_exact_has_more() {
    let server = TestServer::start().await;
    let ids = upload_many(&server, 3).await;
    let (one_by_one, pages) = walk(&server, "limit=1&order=asc").await;
    assert_eq!(one_by_one, ids);
    assert_eq!(
        pages, 3,
        "has_more is false on the page holding the last item"
    );

    let page = server
        .get("/organization/certificates?limit=100&order=asc")
        .await;
    assert_eq!(TestServer::ids(page.ok()), ids);
    assert_eq!(page.body["has_more"], false);

    let exact = server.get("/organization/certificates?limit=3").await;
    assert_eq!(exact.ok()["has_more"], false);
    let after_last = server
        .get(&format!(
            "/organization/certificates?order=asc&after={}",
            ids[2]
        ))
        .await;
    assert_eq!(
        after_last.ok(),
        &json!({"object": "list", "data": [], "first_id": null, "last_id": null, "has_more": false})
    );
}

#[tokio::test]
async fn empty_list() {
    let server = TestServer::start().await;
    assert_eq!(
        server.get("/organization/certificates").await.ok(),
        &json!({"object": "list", "data": [], "first_id": null, "last_id": null, "has_more": false})
    );
}

#[tokio::test]
async fn after_a_deleted_certificate_keeps_its_position() {
    let server = TestServer::start().await;
    let ids = upload_many(&server, 5).await;
    server
        .delete(&format!("/organization/certificates/{}", ids[2]))
        .await
        .ok();
    let asc = server
        .get(&format!(
            "/organization/certificates?order=asc&after={}",
            ids[2]
        ))
        .await;
    assert_eq!(TestServer::ids(asc.ok()), ids[3..].to_vec());
    let desc = server
        .get(&format!("/organization/certificates?after={}", ids[2]))
        .await;
    assert_eq!(
        TestServer::ids(desc.ok()),
        vec![ids[1].clone(), ids[0].clone()]
    );
}

#[tokio::test]
async fn bad_list_parameters_are_400_with_their_param() {
    let server = TestServer::start().await;
    for limit in ["0", "101", "-1", "abc", "1e9", "1.5", ""] {
        server
            .get(&format!("/organization/certificates?limit={limit}"))
            .await
            .assert_error(400, Some("limit"), None);
    }
    for order in ["ASC", "up", ""] {
        server
            .get(&format!("/organization/certificates?order={order}"))
            .await
            .assert_error(400, Some("order"), None);
    }
    server
        .get("/organization/certificates?limit=1&limit=2")
        .await
        .assert_error(400, Some("limit"), None);
    for after in ["cert_aaaaaaaaaaaaaaaaaaaaaaaa", "nonsense", "proj_x"] {
        server
            .get(&format!("/organization/certificates?after={after}"))
            .await
            .assert_error(400, Some("after"), None);
    }
    // Unknown parameters are ignored, in any order.
    server
        .get("/organization/certificates?foo=bar&order=asc&limit=2&zzz")
        .await
        .ok();
}
