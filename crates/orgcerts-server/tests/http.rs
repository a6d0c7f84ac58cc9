//! Authentication, headers, routes and request bodies (docs/contract.md, "Responses, always",
//! "Errors" and "Request quirks").

mod common;

use std::collections::HashSet;

use common::{Options, TestServer, ca_pem};
use orgcerts_server::HttpSettings;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn missing_or_non_bearer_credentials_are_401_without_code() {
    let server = TestServer::start().await;
    let path = "/organization/certificates";
    let none = server.send(server.raw(Method::GET, path)).await;
    none.assert_error(401, None, None);
    for header in [
        format!("Basic {}", server.key),
        server.key.clone(),
        "Bearer".into(),
    ] {
        let reply = server
            .send(
                server
                    .raw(Method::GET, path)
                    .header("authorization", header),
            )
            .await;
        reply.assert_error(401, None, None);
    }
    // The scheme is case-insensitive.
    let lower = server
        .send(
            server
                .raw(Method::GET, path)
                .header("authorization", format!("bearer {}", server.key)),
        )
        .await;
    lower.ok();
}

#[tokio::test]
async fn unknown_malformed_and_oddly_spaced_keys_are_invalid_api_key() {
    let server = TestServer::start().await;
    let unknown = format!("sk-admin-{}", "A".repeat(48));
    for key in [
        unknown.as_str(),
        "sk-admin-short",
        "sk-proj-abc",
        // Whitespace at the very end of a header value is not part of it (RFC 9110), but
        // whitespace inside the credential is.
        &format!(" {}", server.key),
        &format!("{} {}", &server.key[..20], &server.key[20..]),
        &format!("{}x", server.key),
    ] {
        let reply = server
            .send(
                server
                    .raw(Method::GET, "/organization/certificates")
                    .header("authorization", format!("Bearer {key}")),
            )
            .await;
        let message = reply.assert_error(401, None, Some("invalid_api_key"));
        assert!(!message.contains(key.trim()), "the key is never echoed");
    }
}

#[tokio::test]
async fn openai_organization_header_must_name_the_keys_organization() {
    let server = TestServer::start().await;
    let (other_org, _) = server.second_org().await;
    let path = "/organization/certificates";
    let mismatched = server
        .send(
            server
                .raw(Method::GET, path)
                .bearer_auth(&server.key)
                .header("OpenAI-Organization", &other_org),
        )
        .await;
    mismatched.assert_error(401, None, Some("mismatched_organization"));
    let matching = server
        .send(
            server
                .raw(Method::GET, path)
                .bearer_auth(&server.key)
                .header("OpenAI-Organization", &server.org_id)
                .header("OpenAI-Project", "proj_ignored"),
        )
        .await;
    matching.ok();
}

#[tokio::test]
async fn every_response_has_json_a_unique_request_id_and_processing_time() {
    let server = TestServer::start().await;
    let mut seen = HashSet::new();
    let requests = [
        (Method::GET, "/organization/certificates"),
        (Method::GET, "/organization/nothing"),
        (Method::PUT, "/organization/certificates"),
        (Method::GET, "/organization/certificates/cert_x"),
    ];
    for _ in 0..3 {
        for (method, path) in &requests {
            let response = server
                .send(server.raw(method.clone(), path).bearer_auth(&server.key))
                .await;
            assert_eq!(
                response.headers["content-type"], "application/json",
                "{method} {path}"
            );
            let id = response.headers["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(id.starts_with("req_") && id.len() == 36, "{id}");
            assert!(id[4..].bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(seen.insert(id), "request ids are unique");
            let ms: u64 = response.headers["openai-processing-ms"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(ms < 10_000);
        }
    }
}

#[tokio::test]
async fn client_errors_say_do_not_retry_and_successes_do_not() {
    let server = TestServer::start().await;
    let ok = server.get("/organization/certificates").await;
    assert_eq!(ok.header("x-should-retry"), None);
    let bad = server.get("/organization/certificates?limit=0").await;
    assert_eq!(bad.header("x-should-retry"), Some("false"));
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods() {
    let server = TestServer::start().await;
    let reply = server.get("/organization/unknown").await;
    let message = reply.assert_error(404, None, None);
    assert_eq!(message, "Invalid URL (GET /v1/organization/unknown)");
    // An empty id is not the list.
    server
        .get("/organization/certificates/")
        .await
        .assert_error(404, None, None);
    server
        .call(Method::PUT, "/organization/certificates", None)
        .await
        .assert_error(405, None, None);
    server
        .call(Method::DELETE, "/organization/projects/proj_x", None)
        .await
        .assert_error(405, None, None);
    server
        .call(Method::GET, "/organization/certificates/activate", None)
        .await
        .assert_error(405, None, None);
}

#[tokio::test]
async fn repeated_slashes_are_tolerated() {
    let server = TestServer::start().await;
    let id = server.upload_id("slashes").await;
    let path = format!("//organization//certificates/{id}");
    let response = server
        .send(server.raw(Method::GET, &path).bearer_auth(&server.key))
        .await;
    assert_eq!(response.ok()["id"], id.as_str());
}

#[tokio::test]
async fn malformed_bodies_are_400_with_the_field_when_known() {
    let server = TestServer::start().await;
    let path = "/organization/certificates";
    for raw in [
        "{",
        "not json",
        "{\"certificate\": \"x\"} trailing",
        "\u{0}",
    ] {
        let reply = server
            .send(
                server
                    .raw(Method::POST, path)
                    .bearer_auth(&server.key)
                    .header("content-type", "application/json")
                    .body(raw),
            )
            .await;
        reply.assert_error(400, None, None);
    }
    let invalid_utf8 = server
        .send(
            server
                .raw(Method::POST, path)
                .bearer_auth(&server.key)
                .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b'}']),
        )
        .await;
    invalid_utf8.assert_error(400, None, None);
    server
        .post(path, json!([1, 2]))
        .await
        .assert_error(400, None, None);
    server
        .post(path, json!({}))
        .await
        .assert_error(400, Some("certificate"), None);
    server
        .post(path, json!({"certificate": 42}))
        .await
        .assert_error(400, Some("certificate"), None);
    server
        .post(path, json!({"certificate": ca_pem("n"), "name": ["x"]}))
        .await
        .assert_error(400, Some("name"), None);
    server
        .post(
            path,
            json!({"certificate": ca_pem("n"), "name": "bad\u{0}name"}),
        )
        .await
        .assert_error(400, Some("name"), None);
    assert!(
        TestServer::ids(server.get(path).await.ok()).is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let server = TestServer::start_with(Options {
        http: HttpSettings {
            max_body_bytes: 4096,
            ..HttpSettings::default()
        },
        ..Options::default()
    })
    .await;
    let reply = server
        .post(
            "/organization/certificates",
            json!({"certificate": "A".repeat(10_000)}),
        )
        .await;
    reply.assert_error(413, None, None);
    assert_eq!(reply.header("x-should-retry"), Some("false"));
}

#[tokio::test]
async fn array_bodies_are_400_not_read_as_objects_by_field_order() {
    // Found by schemathesis: serde reads a struct from a JSON array too, so `[null, null]`
    // renamed nothing with a 200, and `[pem, name]` uploaded a certificate.
    let server = TestServer::start().await;
    let project = server.create_project("p").await;
    server
        .post(
            &format!("/organization/projects/{project}"),
            json!([null, null]),
        )
        .await
        .assert_error(400, None, None);
    server
        .post(
            "/organization/certificates",
            json!([ca_pem("array"), "name"]),
        )
        .await
        .assert_error(400, None, None);
    let id = server.upload_id("object").await;
    server
        .post("/organization/certificates/activate", json!([[id]]))
        .await
        .assert_error(400, None, None);
    server
        .post(
            &format!("/organization/certificates/{id}"),
            json!(["renamed"]),
        )
        .await
        .assert_error(400, None, None);
    let page = server.get("/organization/certificates").await;
    assert_eq!(TestServer::ids(page.ok()), [id], "only the object upload");
    assert_eq!(page.body["data"][0]["name"], "object");
    assert_eq!(page.body["data"][0]["active"], false);
}
