//! The audit log (`openai-audit-logs.openapi.yaml`): one entry per change, none for a refused
//! change, filters and both cursors.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{Value, json};

/// Every entry of this organization, newest first.
async fn all(server: &TestServer) -> Vec<Value> {
    let page = server.get("/organization/audit_logs?limit=100").await;
    page.ok()["data"].as_array().unwrap().clone()
}

/// Asserts that exactly one entry was added since `before` entries, of `kind`, and returns it.
async fn one_new(server: &TestServer, before: usize, kind: &str) -> Value {
    let entries = all(server).await;
    assert_eq!(entries.len(), before + 1, "{kind}: {entries:#?}");
    let entry = entries[0].clone();
    assert_eq!(entry["type"], kind, "{entry:#}");
    assert!(entry["id"].as_str().unwrap().starts_with("audit_log-"));
    assert!(entry["effective_at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(entry["actor"]["type"], "api_key");
    assert!(
        entry["actor"]["api_key"]["id"]
            .as_str()
            .unwrap()
            .starts_with("key_")
    );
    entry
}

#[tokio::test]
// One walk through every change, in order: splitting it would hide the sequence.
#[allow(clippy::too_many_lines)]
async fn every_change_records_exactly_one_entry() {
    let server = TestServer::start().await;
    // The first key's creation, by the operator (null actor).
    let initial = all(&server).await;
    assert_eq!(initial.len(), 1);
    assert_eq!(initial[0]["type"], "api_key.created");
    assert_eq!(initial[0]["actor"], Value::Null);
    let mut n = 1;

    let cert = server.upload("Audited").await;
    let id = cert["id"].as_str().unwrap().to_owned();
    let e = one_new(&server, n, "certificate.created").await;
    assert_eq!(
        e["certificate.created"],
        json!({"id": id, "name": "Audited"})
    );
    n += 1;

    server
        .post(
            &format!("/organization/certificates/{id}"),
            json!({"name": "Renamed"}),
        )
        .await
        .ok();
    let e = one_new(&server, n, "certificate.updated").await;
    assert_eq!(
        e["certificate.updated"],
        json!({"id": id, "name": "Renamed"})
    );
    n += 1;

    for (path, kind) in [
        ("activate", "certificates.activated"),
        ("deactivate", "certificates.deactivated"),
    ] {
        server
            .post(
                &format!("/organization/certificates/{path}"),
                json!({"certificate_ids": [id]}),
            )
            .await
            .ok();
        let e = one_new(&server, n, kind).await;
        assert_eq!(
            e[kind],
            json!({"certificates": [{"id": id, "name": "Renamed"}]})
        );
        assert!(e.get("project").is_none());
        n += 1;
    }

    let project = server.create_project("Audit project").await;
    let e = one_new(&server, n, "project.created").await;
    assert_eq!(
        e["project.created"],
        json!({"id": project, "data": {"name": "Audit project", "title": "Audit project"}})
    );
    n += 1;

    for (path, kind) in [
        ("activate", "certificates.activated"),
        ("deactivate", "certificates.deactivated"),
    ] {
        server
            .post(
                &format!("/organization/projects/{project}/certificates/{path}"),
                json!({"certificate_ids": [id]}),
            )
            .await
            .ok();
        let e = one_new(&server, n, kind).await;
        assert_eq!(
            e["project"],
            json!({"id": project, "name": "Audit project"})
        );
        n += 1;
    }

    server
        .post(
            &format!("/organization/projects/{project}"),
            json!({"name": "P2"}),
        )
        .await
        .ok();
    let e = one_new(&server, n, "project.updated").await;
    assert_eq!(
        e["project.updated"],
        json!({"id": project, "changes_requested": {"title": "P2"}})
    );
    n += 1;

    server
        .post(
            &format!("/organization/projects/{project}/archive"),
            json!({}),
        )
        .await
        .ok();
    let e = one_new(&server, n, "project.archived").await;
    assert_eq!(e["project.archived"], json!({"id": project}));
    n += 1;

    server
        .delete(&format!("/organization/certificates/{id}"))
        .await
        .ok();
    let e = one_new(&server, n, "certificate.deleted").await;
    let deleted = &e["certificate.deleted"];
    assert_eq!(deleted["id"], id.as_str());
    assert_eq!(deleted["name"], "Renamed");
    assert!(
        deleted["certificate"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----\n")
    );
    n += 1;

    let key = server
        .post("/organization/admin_api_keys", json!({"name": "k"}))
        .await;
    let key_id = key.ok()["id"].as_str().unwrap().to_owned();
    let e = one_new(&server, n, "api_key.created").await;
    assert_eq!(e["api_key.created"], json!({"id": key_id}));
    n += 1;
    server
        .delete(&format!("/organization/admin_api_keys/{key_id}"))
        .await
        .ok();
    let e = one_new(&server, n, "api_key.deleted").await;
    assert_eq!(e["api_key.deleted"], json!({"id": key_id}));
}

#[tokio::test]
async fn refused_changes_record_nothing() {
    let server = TestServer::start().await;
    let id = server.upload_id("In use").await;
    server
        .post(
            "/organization/certificates/activate",
            json!({"certificate_ids": [id]}),
        )
        .await
        .ok();
    let project = server.create_project("P").await;
    server
        .post(
            &format!("/organization/projects/{project}/archive"),
            json!({}),
        )
        .await
        .ok();
    let before = all(&server).await;

    server
        .post(
            "/organization/certificates",
            json!({"certificate": common::ca_pem("x"), "name": "y".repeat(300)}),
        )
        .await
        .assert_error(400, Some("name"), None);
    server
        .delete(&format!("/organization/certificates/{id}"))
        .await
        .assert_error(409, Some("certificate_id"), Some("certificate_in_use"));
    server
        .post(
            "/organization/certificates/activate",
            json!({"certificate_ids": [id, "cert_aaaaaaaaaaaaaaaaaaaaaaaa"]}),
        )
        .await
        .assert_error(404, Some("certificate_ids"), None);
    server
        .post(
            &format!("/organization/projects/{project}/certificates/activate"),
            json!({"certificate_ids": [id]}),
        )
        .await
        .assert_error(400, Some("project_id"), None);
    server
        .post(
            &format!("/organization/projects/{project}"),
            json!({"name": "Q"}),
        )
        .await
        .assert_error(400, Some("project_id"), None);
    server
        .post(
            "/organization/admin_api_keys",
            json!({"name": "k", "expires_in_seconds": 0}),
        )
        .await
        .assert_error(400, Some("expires_in_seconds"), None);
    // An empty modification of an archived project is refused like any other.
    server
        .post(&format!("/organization/projects/{project}"), json!({}))
        .await
        .assert_error(400, Some("project_id"), None);

    assert_eq!(all(&server).await, before);
}

#[tokio::test]
async fn modifications_that_request_nothing_record_nothing() {
    let server = TestServer::start().await;
    let cert = server.upload_id("Kept").await;
    let project = server.create_project("Kept").await;
    let before = all(&server).await;
    let reply = server
        .post(&format!("/organization/certificates/{cert}"), json!({}))
        .await;
    assert_eq!(reply.ok()["name"], "Kept");
    // The projects extract allows null for both fields: null requests nothing either.
    for body in [
        json!({}),
        json!({"name": null}),
        json!({"name": null, "external_key_id": null}),
    ] {
        let reply = server
            .post(&format!("/organization/projects/{project}"), body)
            .await;
        assert_eq!(reply.ok()["name"], "Kept");
    }
    assert_eq!(all(&server).await, before);
}

#[tokio::test]
// One data set of five entries for every filter and cursor: each boundary is one of them.
#[allow(clippy::too_many_lines)]
async fn filters_and_cursors() {
    let server = TestServer::start().await;
    let a = server.upload_id("A").await;
    let b = server.upload_id("B").await;
    let project = server.create_project("P").await;
    server
        .post(
            &format!("/organization/projects/{project}/certificates/activate"),
            json!({"certificate_ids": [a, b]}),
        )
        .await
        .ok();
    let entries = all(&server).await;
    let ids: Vec<String> = entries
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 5);

    let get = |query: String| {
        let server = &server;
        async move {
            server
                .get(&format!("/organization/audit_logs?{query}"))
                .await
        }
    };
    // Types (raw and encoded brackets), projects, resources (an activation names both).
    let page = get("event_types[]=certificate.created".into()).await;
    assert_eq!(
        TestServer::ids(page.ok()),
        vec![ids[2].clone(), ids[3].clone()]
    );
    let page =
        get("event_types%5B%5D=project.created&event_types%5B%5D=certificates.activated".into())
            .await;
    assert_eq!(TestServer::ids(page.ok()), ids[..2]);
    let page = get(format!("project_ids[]={project}")).await;
    assert_eq!(TestServer::ids(page.ok()), ids[..2]);
    let page = get(format!("resource_ids[]={b}")).await;
    assert_eq!(
        TestServer::ids(page.ok()),
        vec![ids[0].clone(), ids[2].clone()]
    );
    let me = entries[0]["actor"]["api_key"]["id"].as_str().unwrap();
    let page = get(format!("actor_ids[]={me}")).await;
    assert_eq!(TestServer::ids(page.ok()), ids[..4]);
    let page = get("actor_ids[]=key_nobody".into()).await;
    assert_eq!(TestServer::ids(page.ok()), Vec::<String>::new());

    // Time bounds, inclusive and exclusive, and the bare form (that second exactly).
    let newest = entries[0]["effective_at"].as_i64().unwrap();
    let oldest = entries[4]["effective_at"].as_i64().unwrap();
    let page = get(format!(
        "effective_at[gte]={oldest}&effective_at[lte]={newest}"
    ))
    .await;
    assert_eq!(TestServer::ids(page.ok()).len(), 5);
    let page = get(format!("effective_at[gt]={newest}")).await;
    assert_eq!(TestServer::ids(page.ok()).len(), 0);
    let page = get(format!("effective_at[lt]={oldest}")).await;
    assert_eq!(TestServer::ids(page.ok()).len(), 0);
    let page = get(format!("effective_at={newest}")).await;
    assert!(TestServer::ids(page.ok()).contains(&ids[0]));

    // Cursors: after walks older, before walks newer; has_more at the boundaries.
    let page = get("limit=2".into()).await;
    assert_eq!(TestServer::ids(page.ok()), ids[..2]);
    assert_eq!(page.ok()["has_more"], true);
    let page = get(format!("limit=2&after={}", ids[1])).await;
    assert_eq!(TestServer::ids(page.ok()), ids[2..4]);
    assert_eq!(page.ok()["has_more"], true);
    let page = get(format!("limit=2&after={}", ids[3])).await;
    assert_eq!(TestServer::ids(page.ok()), ids[4..]);
    assert_eq!(page.ok()["has_more"], false);
    let page = get(format!("after={}", ids[4])).await;
    assert_eq!(
        (TestServer::ids(page.ok()).len(), &page.ok()["has_more"]),
        (0, &json!(false))
    );
    let page = get(format!("limit=2&before={}", ids[4])).await;
    assert_eq!(TestServer::ids(page.ok()), ids[2..4]);
    assert_eq!(page.ok()["has_more"], true);
    let page = get(format!("limit=2&before={}", ids[2])).await;
    assert_eq!(TestServer::ids(page.ok()), ids[..2]);
    assert_eq!(page.ok()["has_more"], false);
    let page = get(format!("before={}", ids[0])).await;
    assert_eq!(TestServer::ids(page.ok()).len(), 0);
    // Both: the entries between them, newest first (what the official SDKs ask for when they
    // page on from a list that began with `before`).
    let page = get(format!("after={}&before={}", ids[0], ids[4])).await;
    assert_eq!(TestServer::ids(page.ok()), ids[1..4]);
    assert_eq!(page.ok()["has_more"], false);
    let page = get(format!("limit=2&after={}&before={}", ids[0], ids[4])).await;
    assert_eq!(TestServer::ids(page.ok()), ids[1..3]);
    assert_eq!(page.ok()["has_more"], true);
    let page = get(format!("after={}&before={}", ids[3], ids[1])).await;
    assert_eq!(TestServer::ids(page.ok()).len(), 0);

    // Contract errors.
    for (query, param) in [
        ("limit=0".to_owned(), "limit"),
        ("limit=101".to_owned(), "limit"),
        (
            "event_types[]=certificate.exploded".to_owned(),
            "event_types",
        ),
        ("effective_at[gt]=yesterday".to_owned(), "effective_at"),
        // Found by schemathesis: with actor_emails[] given, tenant_only went unread.
        (
            "actor_emails[]=a@example.com&tenant_only=perhaps".to_owned(),
            "tenant_only",
        ),
        ("after=audit_log-nope".to_owned(), "after"),
        ("before=audit_log-nope".to_owned(), "before"),
        (format!("after={}&before=audit_log-nope", ids[0]), "before"),
        (format!("after=audit_log-nope&before={}", ids[1]), "after"),
    ] {
        get(query).await.assert_error(400, Some(param), None);
    }
}

#[tokio::test]
async fn confined_to_the_organization() {
    let server = TestServer::start().await;
    server.upload_id("Mine").await;
    let mine = all(&server).await;
    let (_, other_key) = server.second_org().await;
    let theirs = server
        .call_as(&other_key, Method::GET, "/organization/audit_logs", None)
        .await;
    let theirs = TestServer::ids(theirs.ok());
    assert_eq!(theirs.len(), 1, "only their own first key");
    assert!(!mine.iter().any(|e| e["id"] == theirs[0].as_str()));
    // Another organization's entry is no cursor here.
    server
        .get(&format!("/organization/audit_logs?after={}", theirs[0]))
        .await
        .assert_error(400, Some("after"), None);
}
