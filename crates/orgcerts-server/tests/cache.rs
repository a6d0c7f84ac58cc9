//! The read cache's guarantee: an answer reflects every change this server acknowledged before
//! the request began, and every change another process committed before it: on the same
//! SQLite file, more than `OTHER_PROCESS_DELAY` (1 ms) before; on the same PostgreSQL database,
//! at any time before (the organization's change count is read with the request's key).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Options, TestServer};
use orgcerts_core::ids::OrganizationId;
use orgcerts_core::{Service, Settings};
use orgcerts_store::OTHER_PROCESS_DELAY;
use orgcerts_testkit::database::engine_is_postgres;
use reqwest::Method;
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
async fn changes_made_by_another_process_are_seen_within_the_engines_delay() {
    // What each engine promises for another process's commits.
    let delay = if engine_is_postgres() {
        Duration::ZERO
    } else {
        OTHER_PROCESS_DELAY
    };
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
            None,
        )
        .await
        .unwrap();
    tokio::time::sleep(delay).await;
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
    tokio::time::sleep(delay).await;
    server
        .call_as(&issued.secret, reqwest::Method::GET, path, None)
        .await
        .assert_error(401, None, Some("invalid_api_key"));
}

#[tokio::test]
async fn pages_served_from_the_cache_are_the_bytes_the_store_path_sends() {
    let cached = TestServer::start().await;
    let project = cached.create_project("p").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(cached.upload_id(&format!("c{i} \"quoted\" é")).await);
    }
    for (path, id) in [
        ("/organization/certificates/activate".to_owned(), &ids[1]),
        (
            format!("/organization/projects/{project}/certificates/activate"),
            &ids[4],
        ),
    ] {
        cached
            .post(&path, json!({"certificate_ids": [id]}))
            .await
            .ok();
    }
    // The same database without a cache: every page is read from the store and encoded.
    let mut uncached = TestServer::start_on(
        &cached.db_url,
        Options {
            read_cache_items: 0,
            ..Options::default()
        },
    )
    .await;
    uncached.key.clone_from(&cached.key);

    let org = "/organization/certificates";
    let proj = format!("/organization/projects/{project}/certificates");
    let mut paths = Vec::new();
    for base in [org, proj.as_str()] {
        for query in [
            String::new(),
            "?limit=3".to_owned(),
            "?limit=3&order=asc".to_owned(),
            format!("?limit=2&after={}", ids[4]),
            format!("?limit=2&order=asc&after={}", ids[4]),
            format!("?after={}", ids[0]),
        ] {
            paths.push(format!("{base}{query}"));
        }
    }
    for path in &paths {
        let body = |server: &TestServer| {
            server
                .raw(Method::GET, path)
                .bearer_auth(&server.key)
                .send()
        };
        // Twice from the cached server: the first reads the list into the cache (encoding its
        // items), the second is served from the encodings.
        let first = body(&cached).await.unwrap().bytes().await.unwrap();
        let again = body(&cached).await.unwrap().bytes().await.unwrap();
        let read = body(&uncached).await.unwrap().bytes().await.unwrap();
        assert_eq!(first, read, "{path}");
        assert_eq!(again, read, "{path}");
        assert!(read.starts_with(b"{\"object\":\"list\""), "{path}");
    }
}
