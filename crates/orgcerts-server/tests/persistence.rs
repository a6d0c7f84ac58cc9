//! Acknowledged writes survive a restart on the same database.

mod common;

use common::{Options, TestServer};
use serde_json::json;

#[tokio::test]
async fn everything_acknowledged_is_there_after_a_restart() {
    let mut first = TestServer::start().await;
    let a = first.upload_id("kept").await;
    let b = first.upload_id("deleted").await;
    let project = first.create_project("kept project").await;
    first
        .post(
            "/organization/certificates/activate",
            json!({"certificate_ids": [a]}),
        )
        .await
        .ok();
    first
        .post(
            &format!("/organization/projects/{project}/certificates/activate"),
            json!({"certificate_ids": [a]}),
        )
        .await
        .ok();
    first
        .post(
            &format!("/organization/certificates/{a}"),
            json!({"name": "renamed"}),
        )
        .await
        .ok();
    first
        .delete(&format!("/organization/certificates/{b}"))
        .await
        .ok();
    let before = first.get("/organization/certificates").await.ok().clone();
    first.stop().await;

    let mut second = TestServer::start_on(&first.db_url, Options::default()).await;
    second.key.clone_from(&first.key);
    assert_eq!(second.get("/organization/certificates").await.ok(), &before);
    assert_eq!(
        second
            .get(&format!("/organization/certificates/{a}"))
            .await
            .ok()["name"],
        "renamed"
    );
    let project_list = second
        .get(&format!("/organization/projects/{project}/certificates"))
        .await;
    assert_eq!(project_list.ok()["data"][0]["active"], true);
    // The deleted certificate still holds its place as a cursor.
    second
        .get(&format!("/organization/certificates?after={b}"))
        .await
        .ok();
    second.stop().await;
}
