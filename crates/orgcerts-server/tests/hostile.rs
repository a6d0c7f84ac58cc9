//! Hostile input on every route: each gets the contract's 4xx envelope, nothing reaches a 5xx,
//! and nothing changes.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{Value, json};

/// The ids every route names: a certificate, a project, an admin key, a service account and a
/// project API key.
struct Ids<'a> {
    cert: &'a str,
    project: &'a str,
    key: &'a str,
    account: &'a str,
    api_key: &'a str,
}

impl<'a> Ids<'a> {
    /// The same (hostile) text as every id.
    fn all(id: &'a str) -> Self {
        Self {
            cert: id,
            project: id,
            key: id,
            account: id,
            api_key: id,
        }
    }
}

/// Every operation, with a body that would be valid for it.
fn routes(ids: &Ids<'_>) -> Vec<(Method, String, Option<Value>)> {
    let mut all = certificate_and_key_routes(ids.cert, ids.project, ids.key);
    let (project, account, api_key) = (ids.project, ids.account, ids.api_key);
    let accounts = format!("/organization/projects/{project}/service_accounts");
    let keys = format!("/organization/projects/{project}/api_keys");
    all.extend([
        (Method::GET, accounts.clone(), None),
        (Method::POST, accounts.clone(), Some(json!({"name": "s"}))),
        (Method::GET, format!("{accounts}/{account}"), None),
        (
            Method::POST,
            format!("{accounts}/{account}"),
            Some(json!({"name": "s"})),
        ),
        (Method::DELETE, format!("{accounts}/{account}"), None),
        (
            Method::POST,
            format!("{accounts}/{account}/api_keys"),
            Some(json!({"name": "k"})),
        ),
        (Method::GET, keys.clone(), None),
        (Method::GET, format!("{keys}/{api_key}"), None),
        (Method::DELETE, format!("{keys}/{api_key}"), None),
    ]);
    all
}

/// The operations of the certificates, projects, admin keys and audit logs extracts.
fn certificate_and_key_routes(
    cert: &str,
    project: &str,
    key: &str,
) -> Vec<(Method, String, Option<Value>)> {
    let ids = json!({"certificate_ids": [cert]});
    vec![
        (Method::GET, "/organization/certificates".into(), None),
        (
            Method::POST,
            "/organization/certificates".into(),
            Some(json!({"certificate": common::ca_pem("hostile")})),
        ),
        (
            Method::POST,
            "/organization/certificates/activate".into(),
            Some(ids.clone()),
        ),
        (
            Method::POST,
            "/organization/certificates/deactivate".into(),
            Some(ids.clone()),
        ),
        (
            Method::GET,
            format!("/organization/certificates/{cert}"),
            None,
        ),
        (
            Method::POST,
            format!("/organization/certificates/{cert}"),
            Some(json!({"name": "n"})),
        ),
        (
            Method::DELETE,
            format!("/organization/certificates/{cert}"),
            None,
        ),
        (Method::GET, "/organization/projects".into(), None),
        (
            Method::POST,
            "/organization/projects".into(),
            Some(json!({"name": "p"})),
        ),
        (
            Method::GET,
            format!("/organization/projects/{project}"),
            None,
        ),
        (
            Method::POST,
            format!("/organization/projects/{project}"),
            Some(json!({"name": "p"})),
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
        (
            Method::POST,
            format!("/organization/projects/{project}/certificates/activate"),
            Some(ids.clone()),
        ),
        (
            Method::POST,
            format!("/organization/projects/{project}/certificates/deactivate"),
            Some(ids),
        ),
        (Method::GET, "/organization/admin_api_keys".into(), None),
        (
            Method::POST,
            "/organization/admin_api_keys".into(),
            Some(json!({"name": "k"})),
        ),
        (
            Method::GET,
            format!("/organization/admin_api_keys/{key}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/organization/admin_api_keys/{key}"),
            None,
        ),
        (Method::GET, "/organization/audit_logs".into(), None),
    ]
}

/// Everything a user could observe of the organization (of its admin keys, all but
/// `last_used_at`, which using a key changes; a new audit entry would show any change).
async fn snapshot(server: &TestServer, project: &str) -> Value {
    let keys = server
        .get("/organization/admin_api_keys?limit=100")
        .await
        .ok()
        .clone();
    let keys: Vec<Value> = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| json!([k["id"], k["name"], k["redacted_value"], k["created_at"]]))
        .collect();
    json!({
        "certs": server.get("/organization/certificates?limit=100").await.ok(),
        "projects": server.get("/organization/projects?include_archived=true&limit=100").await.ok(),
        "project_certs": server.get(&format!("/organization/projects/{project}/certificates?limit=100")).await.ok(),
        "keys": keys,
        "audit_logs": server.get("/organization/audit_logs?limit=100").await.ok(),
        "service_accounts": server.get(&format!("/organization/projects/{project}/service_accounts?limit=100")).await.ok(),
        "project_api_keys": server.get(&format!("/organization/projects/{project}/api_keys?limit=100")).await.ok(),
    })
}

/// The id of the key the test server's requests are made with.
async fn own_key_id(server: &TestServer) -> String {
    let keys = server
        .get("/organization/admin_api_keys")
        .await
        .ok()
        .clone();
    assert_eq!(keys["data"].as_array().unwrap().len(), 1, "{keys}");
    keys["data"][0]["id"].as_str().unwrap().to_owned()
}

/// The server and what the routes name: a certificate active for a project, the admin key, and
/// a service account of the project with its key; then the snapshot of it all.
struct Setup {
    server: TestServer,
    cert: String,
    project: String,
    key: String,
    account: String,
    api_key: String,
    before: Value,
}

impl Setup {
    fn ids(&self) -> Ids<'_> {
        Ids {
            cert: &self.cert,
            project: &self.project,
            key: &self.key,
            account: &self.account,
            api_key: &self.api_key,
        }
    }
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let key = own_key_id(&server).await;
    let cert = server.upload_id("target").await;
    let project = server.create_project("target").await;
    server
        .post(
            &format!("/organization/projects/{project}/certificates/activate"),
            json!({"certificate_ids": [cert]}),
        )
        .await
        .ok();
    let created = server
        .post(
            &format!("/organization/projects/{project}/service_accounts"),
            json!({"name": "target"}),
        )
        .await;
    let account = created.ok()["id"].as_str().unwrap().to_owned();
    let api_key = created.ok()["api_key"]["id"].as_str().unwrap().to_owned();
    let before = snapshot(&server, &project).await;
    Setup {
        server,
        cert,
        project,
        key,
        account,
        api_key,
        before,
    }
}

#[track_caller]
fn assert_client_error(reply: &common::Reply, what: &str) {
    assert!(
        reply.status.is_client_error(),
        "{what}: expected a 4xx, got {} {}",
        reply.status,
        reply.body
    );
    let error = &reply.body["error"];
    assert!(
        error["message"].is_string() && error["type"].is_string(),
        "{what}: {error}"
    );
    assert!(
        error.get("param").is_some() && error.get("code").is_some(),
        "{what}: {error}"
    );
}

#[tokio::test]
async fn bad_credentials_on_every_route() {
    let setup = setup().await;
    let (server, project, before) = (&setup.server, &setup.project, &setup.before);
    let other_key = server.second_org().await.1;
    let other_keys = server
        .call_as(
            &other_key,
            Method::GET,
            "/organization/admin_api_keys",
            None,
        )
        .await;
    let mut other = OtherOrganization {
        certificates: Vec::new(),
        projects: Vec::new(),
        keys: TestServer::ids(other_keys.ok()),
    };
    assert_eq!(other.keys.len(), 1, "{}", other_keys.body);
    assert_ne!(other.keys[0], setup.key);
    let wrong = format!("sk-admin-{}", "W".repeat(48));
    let credentials = [
        (Some("bearer".to_owned()), None),
        (Some("Bearer".to_owned()), None),
        (
            Some(format!("Bearer  {}", server.key)),
            Some("invalid_api_key"),
        ),
        (Some(format!("Bearer {wrong}")), Some("invalid_api_key")),
        (Some(format!("Token {}", server.key)), None),
        (
            Some(format!("Bearer {}'--", server.key)),
            Some("invalid_api_key"),
        ),
        (None, None),
    ];
    for (method, path, body) in routes(&setup.ids()) {
        for (header, code) in &credentials {
            let mut req = server.raw(method.clone(), &path);
            if let Some(h) = header {
                req = req.header("authorization", h);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            let reply = server.send(req).await;
            reply.assert_error(401, None, *code);
        }
        // Another organization's key: this organization's ids are unknown there (404); its
        // lists hold only its own objects; creations create its own.
        let reply = server
            .call_as(&other_key, method.clone(), &path, body.clone())
            .await;
        other.check(
            &method,
            &path,
            &reply,
            &[
                &setup.cert,
                project,
                &setup.key,
                &setup.account,
                &setup.api_key,
            ],
        );
    }
    assert_eq!(&snapshot(server, project).await, before);
}

/// What another organization has, to check what its key sees on each route.
struct OtherOrganization {
    certificates: Vec<String>,
    projects: Vec<String>,
    keys: Vec<String>,
}

impl OtherOrganization {
    #[track_caller]
    fn check(&mut self, method: &Method, path: &str, reply: &common::Reply, foreign: &[&str]) {
        let what = format!("{method} {path} as another organization");
        let listed = |reply: &common::Reply| TestServer::ids(reply.ok());
        match (method.as_str(), path) {
            ("GET", "/organization/certificates") => {
                assert_eq!(listed(reply), self.certificates, "{what}");
            }
            ("GET", "/organization/projects") => {
                assert_eq!(listed(reply), self.projects, "{what}");
            }
            ("GET", "/organization/admin_api_keys") => {
                assert_eq!(listed(reply), self.keys, "{what}");
            }
            ("GET", "/organization/audit_logs") => {
                let text = reply.ok().to_string();
                for id in foreign {
                    assert!(!text.contains(id), "{what} shows {id}: {text}");
                }
            }
            ("POST", "/organization/certificates") => {
                self.certificates.insert(0, created(reply, &what));
            }
            ("POST", "/organization/projects") => self.projects.push(created(reply, &what)),
            ("POST", "/organization/admin_api_keys") => self.keys.push(created(reply, &what)),
            _ => {
                assert_eq!(reply.status.as_u16(), 404, "{what}: {}", reply.body);
                assert_eq!(
                    reply.body["error"]["type"], "invalid_request_error",
                    "{what}: {}",
                    reply.body
                );
            }
        }
    }
}

#[track_caller]
fn created(reply: &common::Reply, what: &str) -> String {
    let id = reply.ok()["id"].as_str().expect("id").to_owned();
    assert!(!id.is_empty(), "{what}");
    id
}

#[tokio::test]
async fn malformed_bodies_on_every_route_with_a_body() {
    let setup = setup().await;
    let (server, project, before) = (&setup.server, &setup.project, &setup.before);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("not json", b"certificate=x".to_vec()),
        (
            "invalid utf-8",
            vec![b'{', b'"', b'n', b'"', b':', b'"', 0xc3, 0x28, b'"', b'}'],
        ),
        (
            "lone surrogate in an unknown field",
            br#"{"n": "\ud83e\u3d80"}"#.to_vec(),
        ),
        ("deeply nested", deep.into_bytes()),
        ("array", b"[]".to_vec()),
        ("string", b"\"x\"".to_vec()),
        (
            "null fields",
            br#"{"certificate": null, "name": null, "certificate_ids": null}"#.to_vec(),
        ),
        (
            "wrong types",
            br#"{"certificate": 1, "name": {}, "certificate_ids": {"a": 1}}"#.to_vec(),
        ),
        (
            "nul in name",
            b"{\"name\": \"a\\u0000b\", \"certificate_ids\": [\"\\u0000\"]}".to_vec(),
        ),
        (
            "10k name",
            format!(
                "{{\"name\": \"{}\", \"certificate_ids\": []}}",
                "n".repeat(10_000)
            )
            .into_bytes(),
        ),
    ];
    for (method, path, body) in routes(&setup.ids()) {
        if body.is_none() || path.ends_with("/archive") {
            continue;
        }
        for (what, raw) in &bodies {
            let request = server
                .raw(method.clone(), &path)
                .bearer_auth(&server.key)
                .header("content-type", "application/json")
                .body(raw.clone());
            let reply = server.send(request).await;
            // A body that happens to be valid for a route (a rename to an allowed name) may
            // succeed; anything else is a 4xx envelope.
            if !reply.status.is_success() {
                assert_client_error(&reply, &format!("{what} → {method} {path}"));
            }
        }
    }
    assert_eq!(&snapshot(server, project).await, before);
}

#[tokio::test]
async fn hostile_ids_and_query_strings() {
    let setup = setup().await;
    let (server, project, before) = (&setup.server, &setup.project, &setup.before);
    let hostile_ids = [
        "cert_x' OR '1'='1",
        "cert_%00",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        // (`%2e%2e` is not here: the client's URL parser resolves it as `..` before sending.)
        "cert_%FF%FE",
        "proj_aaaaaaaaaaaaaaaaaaaaaaaa; DROP TABLE certificates",
        &"a".repeat(10_000),
    ];
    for id in hostile_ids {
        for (method, path, body) in routes(&Ids::all(id)) {
            if !path.contains(id) {
                continue;
            }
            let reply = server.call(method.clone(), &path, body).await;
            assert_eq!(
                reply.status.as_u16(),
                404,
                "{method} {path}: {}",
                reply.body
            );
            assert_client_error(&reply, &path);
        }
    }
    for list in [
        "/organization/certificates".to_owned(),
        format!("/organization/projects/{project}/certificates"),
        "/organization/projects".to_owned(),
        format!("/organization/projects/{project}/service_accounts"),
        format!("/organization/projects/{project}/api_keys"),
    ] {
        for query in [
            "limit=-1",
            "limit=0",
            "limit=101",
            "limit=1e9",
            "limit=abc",
            "limit=1&limit=2",
            "after=a&after=b",
            "after=cert_x%27%20OR%201%3D1",
            "limit=%00",
            "order=asc&order=desc",
            "order=%FF",
        ] {
            let ordered = list.ends_with("/certificates");
            if !ordered && query.starts_with("order") {
                continue; // only certificate lists have an order parameter; it is ignored elsewhere
            }
            let reply = server.get(&format!("{list}?{query}")).await;
            assert_eq!(reply.status.as_u16(), 400, "{list}?{query}: {}", reply.body);
            assert_client_error(&reply, query);
        }
    }
    assert_eq!(&snapshot(server, project).await, before);
}
