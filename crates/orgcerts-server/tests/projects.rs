//! The Projects API (`openai-projects.openapi.yaml`).

mod common;

use common::TestServer;
use serde_json::json;

#[tokio::test]
async fn create_retrieve_modify_archive() {
    let server = TestServer::start().await;
    let created = server
        .post("/organization/projects", json!({"name": "Project ABC"}))
        .await;
    let project = created.ok().clone();
    let id = project["id"].as_str().unwrap();
    assert!(id.starts_with("proj_") && id.len() == 29);
    assert_eq!(project["object"], "organization.project");
    assert_eq!(project["name"], "Project ABC");
    assert_eq!(project["status"], "active");
    assert_eq!(project["archived_at"], json!(null));
    assert!(project["created_at"].as_i64().unwrap() > 1_700_000_000);

    assert_eq!(
        server
            .get(&format!("/organization/projects/{id}"))
            .await
            .ok(),
        &project
    );

    let renamed = server
        .post(
            &format!("/organization/projects/{id}"),
            json!({"name": "Project DEF"}),
        )
        .await;
    assert_eq!(renamed.ok()["name"], "Project DEF");

    let archived = server
        .post(&format!("/organization/projects/{id}/archive"), json!({}))
        .await;
    let archived = archived.ok().clone();
    assert_eq!(archived["status"], "archived");
    let at = archived["archived_at"].as_i64().unwrap();
    assert!(at >= project["created_at"].as_i64().unwrap());
    // Archiving again returns the project unchanged.
    let again = server
        .send(
            server
                .raw(
                    reqwest::Method::POST,
                    &format!("/organization/projects/{id}/archive"),
                )
                .bearer_auth(&server.key),
        )
        .await;
    assert_eq!(again.ok(), &archived);
    // Archived projects cannot be updated.
    server
        .post(
            &format!("/organization/projects/{id}"),
            json!({"name": "no"}),
        )
        .await
        .assert_error(400, Some("project_id"), None);
}

#[tokio::test]
async fn list_pages_and_hides_archived_unless_asked() {
    let server = TestServer::start().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(server.create_project(&format!("p{i}")).await);
    }
    server
        .post(
            &format!("/organization/projects/{}/archive", ids[1]),
            json!({}),
        )
        .await
        .ok();
    let page = server.get("/organization/projects?limit=2").await;
    let first = TestServer::ids(page.ok());
    assert_eq!(first, vec![ids[0].clone(), ids[2].clone()]);
    assert_eq!(page.body["has_more"], true);
    assert_eq!(page.body["object"], "list");
    let next = server
        .get(&format!("/organization/projects?limit=2&after={}", ids[2]))
        .await;
    assert_eq!(
        TestServer::ids(next.ok()),
        vec![ids[3].clone(), ids[4].clone()]
    );
    assert_eq!(next.body["has_more"], false);

    let all = server
        .get("/organization/projects?include_archived=true&limit=100")
        .await;
    assert_eq!(TestServer::ids(all.ok()), ids);
    // An archived project still works as a cursor.
    let after_archived = server
        .get(&format!("/organization/projects?after={}", ids[1]))
        .await;
    assert_eq!(TestServer::ids(after_archived.ok()), ids[2..].to_vec());

    server
        .get("/organization/projects?include_archived=maybe")
        .await
        .assert_error(400, Some("include_archived"), None);
    server
        .get("/organization/projects?limit=0")
        .await
        .assert_error(400, Some("limit"), None);
    server
        .get("/organization/projects?after=proj_aaaaaaaaaaaaaaaaaaaaaaaa")
        .await
        .assert_error(400, Some("after"), None);
}

#[tokio::test]
async fn bad_project_input_is_400_and_unknown_projects_404() {
    let server = TestServer::start().await;
    server
        .post("/organization/projects", json!({}))
        .await
        .assert_error(400, Some("name"), None);
    server
        .post("/organization/projects", json!({"name": 5}))
        .await
        .assert_error(400, Some("name"), None);
    server
        .post("/organization/projects", json!({"name": ""}))
        .await
        .assert_error(400, Some("name"), None);
    server
        .post("/organization/projects", json!({"name": "x".repeat(257)}))
        .await
        .assert_error(400, Some("name"), None);
    server
        .post(
            "/organization/projects",
            json!({"name": "r", "residency": "MOON"}),
        )
        .await
        .assert_error(400, Some("residency"), None);
    let with_residency = server
        .post(
            "/organization/projects",
            json!({"name": "eu", "residency": "EU_STORAGE_PROCESSING", "external_key_id": "ek_1"}),
        )
        .await;
    assert_eq!(with_residency.ok()["residency"], "EU_STORAGE_PROCESSING");
    assert_eq!(with_residency.body["external_key_id"], "ek_1");
    assert_eq!(
        TestServer::ids(server.get("/organization/projects").await.ok()).len(),
        1
    );

    for id in ["proj_aaaaaaaaaaaaaaaaaaaaaaaa", "nope"] {
        server
            .get(&format!("/organization/projects/{id}"))
            .await
            .assert_error(404, Some("project_id"), None);
        server
            .post(
                &format!("/organization/projects/{id}"),
                json!({"name": "x"}),
            )
            .await
            .assert_error(404, Some("project_id"), None);
        server
            .post(&format!("/organization/projects/{id}/archive"), json!({}))
            .await
            .assert_error(404, Some("project_id"), None);
    }
}
