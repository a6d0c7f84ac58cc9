//! Defences against hostile clients beyond malformed input: unbounded metric labels, texts no
//! engine may store, duplicate credentials, and key guessing. Each runs on both engines.

mod common;

use common::{Options, TestServer};
use orgcerts_server::HttpSettings;
use reqwest::Method;
use serde_json::{Value, json};

/// Everything a user could observe of the organization's projects and audit log.
async fn snapshot(server: &TestServer) -> Value {
    json!({
        "projects": server.get("/organization/projects?include_archived=true&limit=100").await.ok(),
        "audit_logs": server.get("/organization/audit_logs?limit=100").await.ok(),
    })
}

#[tokio::test]
async fn methods_outside_the_known_set_count_as_other_in_metrics() {
    let server = TestServer::start_with(Options {
        http: HttpSettings {
            metrics_on_api_listener: true,
            ..HttpSettings::default()
        },
        ..Options::default()
    })
    .await;
    let http = reqwest::Client::new();
    for n in 0..20 {
        let method = Method::from_bytes(format!("HOSTILE{n}").as_bytes()).unwrap();
        let response = http
            .request(method, format!("{}/organization/certificates", server.base))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    let root = server.base.trim_end_matches("/v1");
    let text = reqwest::get(format!("{root}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("HOSTILE"), "no client-chosen label:\n{text}");
    let other: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("orgcerts_http_requests_total") && l.contains("method=\"other\""))
        .collect();
    assert_eq!(
        other.len(),
        1,
        "one series for every unknown method:\n{text}"
    );
    assert!(other[0].ends_with(" 20"), "{}", other[0]);
}

#[tokio::test]
async fn two_authorization_headers_are_refused_whichever_comes_first() {
    let server = TestServer::start().await;
    let before = snapshot(&server).await;
    let wrong = format!("Bearer sk-admin-{}", "W".repeat(48));
    let right = format!("Bearer {}", server.key);
    for pair in [[&right, &wrong], [&wrong, &right], [&right, &right]] {
        let request = server
            .raw(Method::POST, "/organization/projects")
            .header("authorization", pair[0].as_str())
            .header("authorization", pair[1].as_str())
            .json(&json!({"name": "duplicate credentials"}));
        let reply = server.send(request).await;
        let message = reply.assert_error(400, None, None);
        assert!(message.contains("Authorization"), "{message}");
    }
    assert_eq!(snapshot(&server).await, before);
}

#[tokio::test]
async fn failed_authentications_are_limited_per_address_but_valid_keys_are_not() {
    let server = TestServer::start_with(Options {
        http: HttpSettings {
            failed_auth_per_minute: 5,
            ..HttpSettings::default()
        },
        ..Options::default()
    })
    .await;
    let wrong = format!("sk-admin-{}", "W".repeat(48));
    for _ in 0..5 {
        server
            .call_as(&wrong, Method::GET, "/organization/certificates", None)
            .await
            .assert_error(401, None, Some("invalid_api_key"));
    }
    for key in [wrong.as_str(), "", "sk-admin-short"] {
        let reply = server
            .call_as(key, Method::GET, "/organization/certificates", None)
            .await;
        reply.assert_error(429, None, Some("rate_limit_exceeded"));
        assert_eq!(reply.body["error"]["type"], "requests");
        let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=12).contains(&retry), "Retry-After {retry}");
    }
    let missing = server
        .send(server.raw(Method::GET, "/organization/certificates"))
        .await;
    missing.assert_error(429, None, Some("rate_limit_exceeded"));
    // The address's valid key is served all along, and its answers carry no trace of it.
    for _ in 0..10 {
        let reply = server.get("/organization/certificates").await;
        reply.ok();
        assert!(reply.header("retry-after").is_none());
    }
}

#[tokio::test]
async fn control_characters_in_query_texts_are_a_400_naming_the_parameter() {
    let server = TestServer::start().await;
    let project = server.create_project("target").await;
    let before = snapshot(&server).await;
    let lists = [
        "/organization/certificates".to_owned(),
        format!("/organization/projects/{project}/certificates"),
        "/organization/projects".to_owned(),
        "/organization/admin_api_keys".to_owned(),
        "/organization/audit_logs".to_owned(),
    ];
    for value in ["%00", "cert_%00", "proj_x%1B%5B31m", "%7F"] {
        for list in &lists {
            let reply = server.get(&format!("{list}?after={value}")).await;
            reply.assert_error(400, Some("after"), None);
        }
        for (query, param) in [
            (format!("before={value}"), "before"),
            (format!("after=x&before={value}"), "before"),
            (format!("project_ids[]={value}"), "project_ids"),
            (
                format!("resource_ids[]=ok&resource_ids[]={value}"),
                "resource_ids",
            ),
            (format!("actor_ids[]={value}"), "actor_ids"),
            (format!("actor_ids={value}"), "actor_ids"),
        ] {
            let reply = server
                .get(&format!("/organization/audit_logs?{query}"))
                .await;
            reply.assert_error(400, Some(param), None);
        }
    }
    assert_eq!(snapshot(&server).await, before);
}

#[tokio::test]
async fn external_key_id_follows_the_rules_of_names() {
    let server = TestServer::start().await;
    let project = server.create_project("target").await;
    let before = snapshot(&server).await;
    let path = format!("/organization/projects/{project}");
    for bad in [
        "key\u{0}id".to_owned(),
        "\u{1b}[2J\u{1b}[31mred".to_owned(),
        "line\nbreak".to_owned(),
        "k".repeat(60_000),
        "k".repeat(257),
    ] {
        let create = server
            .post(
                "/organization/projects",
                json!({"name": "p", "external_key_id": bad}),
            )
            .await;
        create.assert_error(400, Some("external_key_id"), None);
        let modify = server.post(&path, json!({"external_key_id": bad})).await;
        modify.assert_error(400, Some("external_key_id"), None);
    }
    assert_eq!(snapshot(&server).await, before);
    // Within the rules it is stored and echoed as given.
    let fine = format!("kms/{}-é", "k".repeat(200));
    let modified = server.post(&path, json!({"external_key_id": fine})).await;
    assert_eq!(modified.ok()["external_key_id"], json!(fine));
    let created = server
        .post(
            "/organization/projects",
            json!({"name": "p2", "external_key_id": "k".repeat(256)}),
        )
        .await;
    assert_eq!(created.ok()["external_key_id"], json!("k".repeat(256)));
}
