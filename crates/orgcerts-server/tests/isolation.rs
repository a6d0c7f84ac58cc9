//! Strict isolation between organizations: another organization's ids answer 404, never 403,
//! and nothing of one organization shows in another's lists.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn another_organizations_key_sees_nothing_of_the_first() {
    let server = TestServer::start().await;
    let cert = server.upload_id("mine").await;
    let project = server.create_project("mine").await;
    server
        .post("/organization/certificates/activate", json!({"certificate_ids": [cert]}))
        .await
        .ok();
    let (_, other) = server.second_org().await;

    let as_other = |method: Method, path: String, body: Option<serde_json::Value>| {
        let other = other.clone();
        let server = &server;
        async move { server.call_as(&other, method, &path, body).await }
    };

    let list = as_other(Method::GET, "/organization/certificates".into(), None).await;
    assert!(TestServer::ids(list.ok()).is_empty());
    let projects = as_other(Method::GET, "/organization/projects".into(), None).await;
    assert!(TestServer::ids(projects.ok()).is_empty());

    let cert_path = format!("/organization/certificates/{cert}");
    for (method, body) in [
        (Method::GET, None),
        (Method::POST, Some(json!({"name": "stolen"}))),
        (Method::DELETE, None),
    ] {
        as_other(method, cert_path.clone(), body)
            .await
            .assert_error(404, Some("certificate_id"), None);
    }
    for action in ["activate", "deactivate"] {
        as_other(
            Method::POST,
            format!("/organization/certificates/{action}"),
            Some(json!({"certificate_ids": [cert]})),
        )
        .await
        .assert_error(404, Some("certificate_ids"), None);
    }
    as_other(
        Method::GET,
        format!("/organization/certificates?after={cert}"),
        None,
    )
    .await
    .assert_error(400, Some("after"), None);

    for (method, path, body) in [
        (Method::GET, format!("/organization/projects/{project}"), None),
        (
            Method::POST,
            format!("/organization/projects/{project}"),
            Some(json!({"name": "x"})),
        ),
        (
            Method::POST,
            format!("/organization/projects/{project}/archive"),
            None,
        ),
        (
            Method::GET,
            format!("/organization/projects/{project}/certificates"),
            None,
        ),
    ] {
        as_other(method, path, body)
            .await
            .assert_error(404, Some("project_id"), None);
    }

    // Nothing changed for the owner.
    assert_eq!(server.get(&cert_path).await.ok()["name"], "mine");
    let list = server.get("/organization/certificates").await;
    assert_eq!(list.ok()["data"][0]["active"], true);
    assert_eq!(
        server.get(&format!("/organization/projects/{project}")).await.ok()["status"],
        "active"
    );

    // The same certificate may be uploaded by both organizations independently.
    let pem = common::ca_pem("shared");
    server
        .post("/organization/certificates", json!({"certificate": pem}))
        .await
        .ok();
    as_other(
        Method::POST,
        "/organization/certificates".into(),
        Some(json!({"certificate": pem})),
    )
    .await
    .ok();
}
