//! Service accounts and project API keys (`openai-project-service-accounts.openapi.yaml`),
//! over HTTP on the real server.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{Value, json};

const KEY_PREFIX: &str = "sk-svcacct-";

fn accounts(project: &str) -> String {
    format!("/organization/projects/{project}/service_accounts")
}

fn keys(project: &str) -> String {
    format!("/organization/projects/{project}/api_keys")
}

/// Creates a service account in `project`; returns the whole answer.
async fn create_account(server: &TestServer, project: &str, body: Value) -> Value {
    server.post(&accounts(project), body).await.ok().clone()
}

/// The types of the organization's audit log, newest first.
async fn audit_types(server: &TestServer) -> Vec<String> {
    let page = server.get("/organization/audit_logs?limit=100").await;
    page.ok()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn create_retrieve_update_and_delete_with_keys() {
    let server = TestServer::start().await;
    let project = server.create_project("Apps").await;
    let created = create_account(&server, &project, json!({"name": "Deployer"})).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("svc_acct_") && id.len() == 9 + 24, "{id}");
    assert_eq!(created["object"], "organization.project.service_account");
    assert_eq!(
        (&created["name"], &created["role"]),
        (&json!("Deployer"), &json!("member"))
    );
    let first = &created["api_key"];
    let value = first["value"].as_str().unwrap().to_owned();
    assert!(value.starts_with(KEY_PREFIX) && value.len() == KEY_PREFIX.len() + 64);
    assert_eq!(
        first["object"],
        "organization.project.service_account.api_key"
    );
    assert_eq!(first["name"], "Secret Key");
    let first_id = first["id"].as_str().unwrap().to_owned();
    assert!(first_id.starts_with("key_"));

    let account_path = format!("{}/{id}", accounts(&project));
    let got = server.get(&account_path).await;
    assert_eq!(got.ok()["name"], "Deployer");
    assert_eq!(got.ok().get("api_key"), None, "the key is shown once");
    let listed = server.get(&accounts(&project)).await;
    assert_eq!(TestServer::ids(listed.ok()), std::slice::from_ref(&id));

    let updated = server
        .post(
            &account_path,
            json!({"name": "Release bot", "role": "owner"}),
        )
        .await;
    assert_eq!(
        (&updated.ok()["name"], &updated.ok()["role"]),
        (&json!("Release bot"), &json!("owner"))
    );
    let second = server
        .post(&format!("{account_path}/api_keys"), json!({"name": "ci"}))
        .await;
    let second = second.ok().clone();
    assert_eq!(second["name"], "ci");
    let second_value = second["value"].as_str().unwrap();
    assert_ne!(second_value, value);

    let key_list = server.get(&keys(&project)).await;
    let key_list = key_list.ok().clone();
    assert_eq!(
        TestServer::ids(&key_list),
        [first_id.clone(), second["id"].as_str().unwrap().to_owned()]
    );
    let listed_first = &key_list["data"][0];
    assert_eq!(listed_first["owner_project_access"], "active");
    assert_eq!(listed_first["owner"]["type"], "service_account");
    assert_eq!(listed_first["owner"]["service_account"]["id"], id.as_str());
    assert_eq!(listed_first["owner"]["service_account"]["role"], "owner");
    let redacted = listed_first["redacted_value"].as_str().unwrap();
    assert!(redacted.starts_with(&value[..KEY_PREFIX.len() + 2]));
    assert!(redacted.ends_with(&value[value.len() - 4..]));
    assert!(!redacted.contains(&value[KEY_PREFIX.len() + 2..value.len() - 4]));
    assert!(!key_list.to_string().contains(&value), "never the secret");

    let key_path = format!("{}/{first_id}", keys(&project));
    assert_eq!(server.get(&key_path).await.ok()["id"], first_id.as_str());
    assert_eq!(
        server.delete(&key_path).await.ok(),
        &json!({"object": "organization.project.api_key.deleted", "id": first_id, "deleted": true})
    );
    server
        .get(&key_path)
        .await
        .assert_error(404, Some("api_key_id"), None);
    server
        .delete(&key_path)
        .await
        .assert_error(404, Some("api_key_id"), None);

    assert_eq!(
        server.delete(&account_path).await.ok(),
        &json!({"object": "organization.project.service_account.deleted", "id": id, "deleted": true})
    );
    server
        .get(&account_path)
        .await
        .assert_error(404, Some("service_account_id"), None);
    assert!(
        TestServer::ids(server.get(&keys(&project)).await.ok()).is_empty(),
        "its keys went with it"
    );
    assert_eq!(
        audit_types(&server).await[..6],
        [
            "service_account.deleted",
            "api_key.deleted",
            "api_key.created",
            "service_account.updated",
            "api_key.created",
            "service_account.created",
        ]
    );
}

#[tokio::test]
async fn accounts_created_alone_have_no_role_no_key_and_no_access() {
    let server = TestServer::start().await;
    let project = server.create_project("Apps").await;
    let alone = create_account(
        &server,
        &project,
        json!({"name": "Later", "create_service_account_only": true}),
    )
    .await;
    assert_eq!(
        (&alone["role"], &alone["api_key"]),
        (&json!("none"), &Value::Null)
    );
    let with_key = create_account(&server, &project, json!({"name": "Now"})).await;
    let alone_path = format!("{}/{}", accounts(&project), alone["id"].as_str().unwrap());
    let added = server
        .post(&format!("{alone_path}/api_keys"), json!({}))
        .await;
    let added_id = added.ok()["id"].as_str().unwrap().to_owned();
    let filtered = |access: &'static str| {
        let path = format!("{}?owner_project_access={access}", keys(&project));
        let server = &server;
        async move { TestServer::ids(server.get(&path).await.ok()) }
    };
    assert_eq!(filtered("inactive").await, [added_id]);
    assert_eq!(
        filtered("active").await,
        [with_key["api_key"]["id"].as_str().unwrap().to_owned()]
    );
    assert_eq!(filtered("any").await.len(), 2);
    // Given a role, the account's key has access.
    server
        .post(&alone_path, json!({"role": "member"}))
        .await
        .ok();
    assert_eq!(filtered("active").await.len(), 2);
}

#[tokio::test]
async fn archived_projects_refuse_new_accounts_but_allow_cleaning_up() {
    let server = TestServer::start().await;
    let project = server.create_project("Old").await;
    let created = create_account(&server, &project, json!({"name": "Bot"})).await;
    let account_path = format!("{}/{}", accounts(&project), created["id"].as_str().unwrap());
    server
        .post(
            &format!("/organization/projects/{project}/archive"),
            json!({}),
        )
        .await
        .ok();
    let entries = audit_types(&server).await.len();

    server
        .get(&accounts(&project))
        .await
        .assert_error(400, Some("project_id"), None);
    server
        .post(&accounts(&project), json!({"name": "Late"}))
        .await
        .assert_error(400, Some("project_id"), None);
    server
        .post(&account_path, json!({"name": "Renamed"}))
        .await
        .assert_error(400, Some("project_id"), None);
    server
        .post(&format!("{account_path}/api_keys"), json!({}))
        .await
        .assert_error(400, Some("project_id"), None);
    assert_eq!(
        audit_types(&server).await.len(),
        entries,
        "refusals record nothing"
    );

    assert_eq!(server.get(&account_path).await.ok()["name"], "Bot");
    let listed = server.get(&keys(&project)).await;
    assert_eq!(listed.ok()["data"][0]["owner_project_access"], "inactive");
    let key_id = created["api_key"]["id"].as_str().unwrap();
    server
        .delete(&format!("{}/{key_id}", keys(&project)))
        .await
        .ok();
    server.delete(&account_path).await.ok();
    server
        .get(&account_path)
        .await
        .assert_error(404, Some("service_account_id"), None);
}

#[tokio::test]
async fn other_organizations_and_projects_see_nothing() {
    let server = TestServer::start().await;
    let project = server.create_project("Mine").await;
    let other_project = server.create_project("Other").await;
    let created = create_account(&server, &project, json!({"name": "Bot"})).await;
    let (id, key_id) = (
        created["id"].as_str().unwrap(),
        created["api_key"]["id"].as_str().unwrap(),
    );
    let (_, their_key) = server.second_org().await;
    let as_them = |method: Method, path: String, body: Option<Value>| {
        let (server, key) = (&server, their_key.clone());
        async move { server.call_as(&key, method, &path, body).await }
    };
    as_them(Method::GET, accounts(&project), None)
        .await
        .assert_error(404, Some("project_id"), None);
    as_them(Method::POST, accounts(&project), Some(json!({"name": "x"})))
        .await
        .assert_error(404, Some("project_id"), None);
    as_them(Method::GET, keys(&project), None)
        .await
        .assert_error(404, Some("project_id"), None);
    for method in [Method::GET, Method::DELETE] {
        as_them(method.clone(), format!("{}/{id}", accounts(&project)), None)
            .await
            .assert_error(404, Some("service_account_id"), None);
        as_them(method.clone(), format!("{}/{key_id}", keys(&project)), None)
            .await
            .assert_error(404, Some("api_key_id"), None);
        // Another project of the same organization does not hold them either.
        server
            .call(
                method.clone(),
                &format!("{}/{id}", accounts(&other_project)),
                None,
            )
            .await
            .assert_error(404, Some("service_account_id"), None);
        server
            .call(method, &format!("{}/{key_id}", keys(&other_project)), None)
            .await
            .assert_error(404, Some("api_key_id"), None);
    }
    // Still there, untouched.
    assert_eq!(
        server
            .get(&format!("{}/{id}", accounts(&project)))
            .await
            .ok()["name"],
        "Bot"
    );
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let project = server.create_project("Apps").await;
    let created = create_account(&server, &project, json!({"name": "Bot"})).await;
    let account_path = format!("{}/{}", accounts(&project), created["id"].as_str().unwrap());
    let entries = audit_types(&server).await.len();
    let long = "x".repeat(257);
    for (path, body, param) in [
        (accounts(&project), json!({}), "name"),
        (accounts(&project), json!({"name": ""}), "name"),
        (accounts(&project), json!({"name": long}), "name"),
        (accounts(&project), json!({"name": 5}), "name"),
        (
            accounts(&project),
            json!({"name": "a", "create_service_account_only": "yes"}),
            "create_service_account_only",
        ),
        (account_path.clone(), json!({"role": "none"}), "role"),
        (account_path.clone(), json!({"name": null}), "name"),
        (
            format!("{account_path}/api_keys"),
            json!({"name": null}),
            "name",
        ),
        (account_path.clone(), json!({"name": "  "}), "name"),
        (
            format!("{account_path}/api_keys"),
            json!({"scopes": ["api.model.request"]}),
            "scopes",
        ),
        (
            format!("{account_path}/api_keys"),
            json!({"name": "\u{7}"}),
            "name",
        ),
    ] {
        server
            .post(&path, body.clone())
            .await
            .assert_error(400, Some(param), None);
    }
    for (query, param) in [
        ("owner_project_access=all", "owner_project_access"),
        ("limit=0", "limit"),
        ("after=key_unknownunknownunknown1", "after"),
    ] {
        server
            .get(&format!("{}?{query}", keys(&project)))
            .await
            .assert_error(400, Some(param), None);
    }
    server
        .get(&format!("{}?limit=101", accounts(&project)))
        .await
        .assert_error(400, Some("limit"), None);
    for path in [
        format!("{}/svc_acct_nope", accounts(&project)),
        format!("{}/key_nope", keys(&project)),
        accounts("proj_nope"),
    ] {
        assert_eq!(server.get(&path).await.status, 404, "{path}");
    }
    assert_eq!(audit_types(&server).await.len(), entries);
    assert_eq!(server.get(&account_path).await.ok()["name"], "Bot");
}

#[tokio::test]
async fn service_account_keys_do_not_open_the_admin_api() {
    let server = TestServer::start().await;
    let project = server.create_project("Apps").await;
    let created = create_account(&server, &project, json!({"name": "Bot"})).await;
    let value = created["api_key"]["value"].as_str().unwrap();
    server
        .call_as(value, Method::GET, &accounts(&project), None)
        .await
        .assert_error(401, None, Some("invalid_api_key"));
    let grant = server
        .service
        .service_account_key_grant(value)
        .await
        .unwrap();
    assert_eq!(grant.project_id.as_str(), project);
    assert!(
        server
            .service
            .service_account_key_grant(&server.key)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn lists_page_in_creation_order() {
    let server = TestServer::start().await;
    let project = server.create_project("Apps").await;
    let mut made = Vec::new();
    for i in 0..5 {
        let created = create_account(&server, &project, json!({"name": format!("bot {i}")})).await;
        made.push(created["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut query = "limit=2".to_owned();
    loop {
        let page = server.get(&format!("{}?{query}", accounts(&project))).await;
        let page = page.ok().clone();
        seen.extend(TestServer::ids(&page));
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        query = format!("limit=2&after={}", page["last_id"].as_str().unwrap());
    }
    assert_eq!(seen, made);
    let keys_page = server.get(&format!("{}?limit=3", keys(&project))).await;
    assert_eq!(TestServer::ids(keys_page.ok()).len(), 3);
    assert_eq!(keys_page.ok()["has_more"], true);
}
