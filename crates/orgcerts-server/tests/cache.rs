//! The read cache's guarantee: an answer reflects every change committed before the request
//! began, whoever committed it (this server, another process on the same database file).

mod common;

use std::sync::Arc;

use common::TestServer;
use orgcerts_core::ids::OrganizationId;
use orgcerts_core::{Service, Settings};
use serde_json::json;

#[tokio::test]
async fn every_acknowledged_write_shows_in_the_next_list() {
    let server = TestServer::start().await;
    let project = server.create_project("p").await;
    // Warm the cache, then interleave writes and reads.
    server.get("/organization/certificates").await.ok();
    for i in 0..20 {
        let id = server.upload_id(&format!("c{i}")).await;
        let page = server.get("/organization/certificates?limit=1").await;
        assert_eq!(TestServer::ids(page.ok()), vec![id.clone()], "upload {i}");

        server
            .post(
                &format!("/organization/certificates/{id}"),
                json!({"name": format!("r{i}")}),
            )
            .await
            .ok();
        let page = server.get("/organization/certificates?limit=1").await;
        assert_eq!(page.ok()["data"][0]["name"], format!("r{i}"));

        server
            .post(
                "/organization/certificates/activate",
                json!({"certificate_ids": [id]}),
            )
            .await
            .ok();
        let page = server.get("/organization/certificates?limit=1").await;
        assert_eq!(page.ok()["data"][0]["active"], true);

        server
            .post(
                &format!("/organization/projects/{project}/certificates/activate"),
                json!({"certificate_ids": [id]}),
            )
            .await
            .ok();
        let page = server
            .get(&format!(
                "/organization/projects/{project}/certificates?limit=1"
            ))
            .await;
        assert_eq!(page.ok()["data"][0]["active"], true);
    }
}

#[tokio::test]
async fn concurrent_writers_never_leave_a_stale_list_behind() {
    let server = Arc::new(TestServer::start().await);
    let mut tasks = Vec::new();
    for w in 0..4 {
        let server = Arc::clone(&server);
        tasks.push(tokio::spawn(async move {
            for i in 0..8 {
                let id = server.upload_id(&format!("w{w}-{i}")).await;
                // Whatever else happened meanwhile, this upload was acknowledged before the
                // list began, so the list holds it.
                let all = server.get("/organization/certificates?limit=100").await;
                assert!(TestServer::ids(all.ok()).contains(&id), "w{w} upload {i}");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let all = server.get("/organization/certificates?limit=100").await;
    assert_eq!(TestServer::ids(all.ok()).len(), 32);
}

#[tokio::test]
async fn changes_made_by_another_process_on_the_same_file_are_seen_at_once() {
    let server = TestServer::start().await;
    server.get("/organization/certificates").await.ok();
    // Another process on the same database, as the operator's command line is.
    let other = Service::new(
        orgcerts_store::open(&server.db_url).await.unwrap(),
        Settings::default(),
    );
    let org = OrganizationId::parse(&server.org_id).unwrap();
    let cert = other
        .upload_certificate(
            &org,
            None,
            &common::ca_pem("from elsewhere"),
            Some("elsewhere".into()),
        )
        .await
        .unwrap();
    let page = server.get("/organization/certificates").await;
    assert_eq!(TestServer::ids(page.ok()), vec![cert.id.to_string()]);

    // A key cached as valid is refused as soon as another process revokes it.
    let issued = other
        .create_admin_key(&org, None, "second", None)
        .await
        .unwrap();
    let path = "/organization/certificates";
    server
        .call_as(&issued.secret, reqwest::Method::GET, path, None)
        .await
        .ok();
    other
        .delete_admin_key(&org, None, issued.key.id.as_str())
        .await
        .unwrap();
    server
        .call_as(&issued.secret, reqwest::Method::GET, path, None)
        .await
        .assert_error(401, None, Some("invalid_api_key"));
}
