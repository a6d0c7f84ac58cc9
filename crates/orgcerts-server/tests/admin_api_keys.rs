//! The Admin API keys API (`openai-admin-api-keys.openapi.yaml`).

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn create_list_retrieve_delete() {
    let server = TestServer::start().await;
    let created = server
        .post(
            "/organization/admin_api_keys",
            json!({"name": "ci", "expires_in_seconds": 3600}),
        )
        .await;
    let created = created.ok().clone();
    let id = created["id"].as_str().unwrap().to_owned();
    let value = created["value"].as_str().unwrap().to_owned();
    assert!(id.starts_with("key_"));
    assert!(value.starts_with("sk-admin-") && value.len() == 57);
    assert_eq!(created["object"], "organization.admin_api_key");
    assert_eq!(created["name"], "ci");
    let redacted = created["redacted_value"].as_str().unwrap();
    assert!(redacted.ends_with(&value[value.len() - 4..]));
    assert!(!redacted.contains(&value[9..40]));
    let created_at = created["created_at"].as_i64().unwrap();
    assert_eq!(created["expires_at"].as_i64().unwrap(), created_at + 3600);
    assert_eq!(created["owner"]["type"], "user");
    assert_eq!(created["owner"]["role"], "owner");
    assert_eq!(created["owner"]["id"], server.org_id.as_str());

    // The new key works; the secret is never shown again.
    let got = server
        .call_as(
            &value,
            Method::GET,
            &format!("/organization/admin_api_keys/{id}"),
            None,
        )
        .await;
    let got = got.ok().clone();
    assert_eq!(got.get("value"), None);
    assert_eq!(got["redacted_value"], created["redacted_value"]);
    // Used just now, by this instance (not yet flushed: merged from memory).
    assert!(got["last_used_at"].as_i64().unwrap() >= created_at);

    let list = server.get("/organization/admin_api_keys").await;
    let ids = TestServer::ids(list.ok());
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[1], id, "oldest first by default");
    assert!(list.ok()["data"][0].get("value").is_none());

    let deleted = server
        .delete(&format!("/organization/admin_api_keys/{id}"))
        .await;
    assert_eq!(
        deleted.ok(),
        &json!({"id": id, "object": "organization.admin_api_key.deleted", "deleted": true})
    );
    server
        .get(&format!("/organization/admin_api_keys/{id}"))
        .await
        .assert_error(404, Some("key_id"), None);
    server
        .delete(&format!("/organization/admin_api_keys/{id}"))
        .await
        .assert_error(404, Some("key_id"), None);
    server
        .call_as(&value, Method::GET, "/organization/admin_api_keys", None)
        .await
        .assert_error(401, None, Some("invalid_api_key"));
    assert_eq!(
        TestServer::ids(server.get("/organization/admin_api_keys").await.ok()).len(),
        1
    );
}

#[tokio::test]
async fn deleting_the_requests_own_key_takes_effect_at_once() {
    let server = TestServer::start().await;
    let me = server.get("/organization/admin_api_keys").await.ok()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .delete(&format!("/organization/admin_api_keys/{me}"))
        .await
        .ok();
    server
        .get("/organization/admin_api_keys")
        .await
        .assert_error(401, None, Some("invalid_api_key"));
}

#[tokio::test]
async fn create_validates_its_body() {
    let server = TestServer::start().await;
    for (body, param) in [
        (
            json!({"name": "x", "expires_in_seconds": 0}),
            "expires_in_seconds",
        ),
        (
            json!({"name": "x", "expires_in_seconds": 31_536_001}),
            "expires_in_seconds",
        ),
        (
            json!({"name": "x", "expires_in_seconds": "soon"}),
            "expires_in_seconds",
        ),
        // null is not "no expiry": the spec's integer is not nullable (leaving the field out
        // is how a key is made not to expire).
        (
            json!({"name": "x", "expires_in_seconds": null}),
            "expires_in_seconds",
        ),
        (
            json!({"name": "x", "expires_in_seconds": 3600.5}),
            "expires_in_seconds",
        ),
        (
            json!({"name": "x", "expires_in_seconds": 31_536_001.0}),
            "expires_in_seconds",
        ),
        (
            json!({"name": "x", "expires_in_seconds": u64::MAX}),
            "expires_in_seconds",
        ),
        (json!({}), "name"),
        (json!({"name": "x".repeat(257)}), "name"),
    ] {
        server
            .post("/organization/admin_api_keys", body.clone())
            .await
            .assert_error(400, Some(param), None);
    }
    server
        .post(
            "/organization/admin_api_keys",
            json!({"name": "x", "expires_in_seconds": 31_536_000}),
        )
        .await
        .ok();
    // JSON Schema's integer includes numbers written with a zero fraction, which a client
    // computing in floats sends.
    let created = server
        .post(
            "/organization/admin_api_keys",
            json!({"name": "x", "expires_in_seconds": 3600.0}),
        )
        .await;
    let created = created.ok();
    assert_eq!(
        created["expires_at"].as_i64().unwrap(),
        created["created_at"].as_i64().unwrap() + 3600
    );
}

#[tokio::test]
async fn an_expired_key_is_refused_like_an_unknown_one() {
    let server = TestServer::start().await;
    let created = server
        .post(
            "/organization/admin_api_keys",
            // Expiry is kept in whole seconds: give the first use a few seconds of margin.
            json!({"name": "brief", "expires_in_seconds": 4}),
        )
        .await;
    let value = created.ok()["value"].as_str().unwrap().to_owned();
    // Fills the read cache with the key while it is valid.
    server
        .call_as(&value, Method::GET, "/organization/admin_api_keys", None)
        .await
        .ok();
    tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
    server
        .call_as(&value, Method::GET, "/organization/admin_api_keys", None)
        .await
        .assert_error(401, None, Some("invalid_api_key"));
}

#[tokio::test]
async fn list_pages_and_validates() {
    let server = TestServer::start().await;
    for i in 0..4 {
        server
            .post(
                "/organization/admin_api_keys",
                json!({"name": format!("k{i}")}),
            )
            .await
            .ok();
    }
    let all = TestServer::ids(
        server
            .get("/organization/admin_api_keys?limit=100")
            .await
            .ok(),
    );
    assert_eq!(all.len(), 5);
    let first = server.get("/organization/admin_api_keys?limit=2").await;
    assert_eq!(TestServer::ids(first.ok()), all[..2]);
    assert_eq!(first.ok()["has_more"], true);
    let next = server
        .get(&format!(
            "/organization/admin_api_keys?limit=3&after={}",
            all[1]
        ))
        .await;
    assert_eq!(TestServer::ids(next.ok()), all[2..]);
    assert_eq!(next.ok()["has_more"], false);
    let desc = server.get("/organization/admin_api_keys?order=desc").await;
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(TestServer::ids(desc.ok()), reversed);
    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("order=up", "order"),
        ("after=key_nope", "after"),
    ] {
        server
            .get(&format!("/organization/admin_api_keys?{query}"))
            .await
            .assert_error(400, Some(param), None);
    }
}

#[tokio::test]
async fn other_organizations_keys_answer_404() {
    let server = TestServer::start().await;
    let (_, other_key) = server.second_org().await;
    let other_keys = TestServer::ids(
        server
            .call_as(
                &other_key,
                Method::GET,
                "/organization/admin_api_keys",
                None,
            )
            .await
            .ok(),
    );
    let own_keys = TestServer::ids(server.get("/organization/admin_api_keys").await.ok());
    assert_eq!(other_keys.len(), 1, "only its own key: {other_keys:?}");
    assert_eq!(own_keys.len(), 1, "only its own key: {own_keys:?}");
    assert_ne!(other_keys, own_keys);
    let other_id = other_keys[0].clone();
    for method in [Method::GET, Method::DELETE] {
        server
            .call(
                method,
                &format!("/organization/admin_api_keys/{other_id}"),
                None,
            )
            .await
            .assert_error(404, Some("key_id"), None);
    }
    server
        .get("/organization/admin_api_keys/not-a-key")
        .await
        .assert_error(404, Some("key_id"), None);
    // Still usable by its organization.
    server
        .call_as(
            &other_key,
            Method::GET,
            "/organization/admin_api_keys",
            None,
        )
        .await
        .ok();
}
