//! Activation and deactivation at organization and project level (docs/contract.md, "Activation").

mod common;

use common::TestServer;
use serde_json::{Value, json};

fn actives(page: &Value) -> Vec<(String, bool)> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["active"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn organization_activation_is_idempotent_ordered_and_folds_duplicates() {
    let server = TestServer::start().await;
    let a = server.upload_id("a").await;
    let b = server.upload_id("b").await;
    let reply = server
        .post(
            "/organization/certificates/activate",
            json!({"certificate_ids": [b, a, b]}),
        )
        .await;
    let body = reply.ok();
    assert_eq!(body["object"], "organization.certificate.activation");
    assert_eq!(body["has_more"], false);
    assert_eq!(actives(body), vec![(b.clone(), true), (a.clone(), true)]);
    for item in body["data"].as_array().unwrap() {
        assert_eq!(item["object"], "organization.certificate");
    }
    // Again: still fine, still active.
    let again = server
        .post(
            "/organization/certificates/activate",
            json!({"certificate_ids": [a]}),
        )
        .await;
    assert_eq!(actives(again.ok()), vec![(a.clone(), true)]);

    let list = server.get("/organization/certificates?order=asc").await;
    assert_eq!(
        actives(list.ok()),
        vec![(a.clone(), true), (b.clone(), true)]
    );

    let off = server
        .post(
            "/organization/certificates/deactivate",
            json!({"certificate_ids": [a]}),
        )
        .await;
    assert_eq!(off.ok()["object"], "organization.certificate.deactivation");
    assert_eq!(actives(&off.body), vec![(a.clone(), false)]);
    let list = server.get("/organization/certificates?order=asc").await;
    assert_eq!(actives(list.ok()), vec![(a, false), (b, true)]);
}

#[tokio::test]
async fn one_unknown_id_changes_nothing() {
    let server = TestServer::start().await;
    let a = server.upload_id("a").await;
    let unknown = "cert_aaaaaaaaaaaaaaaaaaaaaaaa";
    for path in [
        "/organization/certificates/activate",
        "/organization/certificates/deactivate",
    ] {
        let message = server
            .post(path, json!({"certificate_ids": [a, unknown]}))
            .await
            .assert_error(404, Some("certificate_ids"), None);
        assert!(message.contains(unknown), "{message}");
    }
    let list = server.get("/organization/certificates").await;
    assert_eq!(actives(list.ok()), vec![(a, false)]);
}

#[tokio::test]
async fn certificate_ids_must_name_one_to_ten_certificates() {
    let server = TestServer::start().await;
    let mut ids = Vec::new();
    for i in 0..11 {
        ids.push(server.upload_id(&format!("c{i}")).await);
    }
    let path = "/organization/certificates/activate";
    server
        .post(path, json!({"certificate_ids": []}))
        .await
        .assert_error(400, Some("certificate_ids"), None);
    server
        .post(path, json!({"certificate_ids": ids}))
        .await
        .assert_error(400, Some("certificate_ids"), None);
    server
        .post(path, json!({}))
        .await
        .assert_error(400, Some("certificate_ids"), None);
    server
        .post(path, json!({"certificate_ids": "cert_x"}))
        .await
        .assert_error(400, Some("certificate_ids"), None);
    server
        .post(path, json!({"certificate_ids": [1, 2]}))
        .await
        .assert_error(400, Some("certificate_ids"), None);
    // Ten distinct, one of them twice: eleven entries, ten certificates — accepted.
    let mut ten = ids[..10].to_vec();
    ten.push(ids[0].clone());
    assert_eq!(
        server
            .post(path, json!({"certificate_ids": ten}))
            .await
            .ok()["data"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
}

#[tokio::test]
async fn project_scope_is_independent_of_organization_scope() {
    let server = TestServer::start().await;
    let a = server.upload_id("a").await;
    let b = server.upload_id("b").await;
    let p1 = server.create_project("one").await;
    let p2 = server.create_project("two").await;

    let reply = server
        .post(
            &format!("/organization/projects/{p1}/certificates/activate"),
            json!({"certificate_ids": [a]}),
        )
        .await;
    assert_eq!(
        reply.ok()["object"],
        "organization.project.certificate.activation"
    );
    assert_eq!(
        reply.body["data"][0]["object"],
        "organization.project.certificate"
    );
    assert_eq!(actives(&reply.body), vec![(a.clone(), true)]);

    let p1_list = server
        .get(&format!(
            "/organization/projects/{p1}/certificates?order=asc"
        ))
        .await;
    for item in p1_list.ok()["data"].as_array().unwrap() {
        assert_eq!(item["object"], "organization.project.certificate");
    }
    assert_eq!(
        actives(&p1_list.body),
        vec![(a.clone(), true), (b.clone(), false)]
    );
    let p2_list = server
        .get(&format!(
            "/organization/projects/{p2}/certificates?order=asc"
        ))
        .await;
    assert_eq!(
        actives(p2_list.ok()),
        vec![(a.clone(), false), (b.clone(), false)]
    );
    // Organization-level state is not folded into project lists, nor the reverse.
    let org_list = server.get("/organization/certificates?order=asc").await;
    assert_eq!(
        actives(org_list.ok()),
        vec![(a.clone(), false), (b.clone(), false)]
    );

    let off = server
        .post(
            &format!("/organization/projects/{p1}/certificates/deactivate"),
            json!({"certificate_ids": [a]}),
        )
        .await;
    assert_eq!(
        off.ok()["object"],
        "organization.project.certificate.deactivation"
    );
    assert_eq!(actives(&off.body), vec![(a, false)]);
}

#[tokio::test]
async fn archived_projects_refuse_activation_but_allow_deactivation() {
    let server = TestServer::start().await;
    let a = server.upload_id("a").await;
    let b = server.upload_id("b").await;
    let p = server.create_project("soon archived").await;
    server
        .post(
            &format!("/organization/projects/{p}/certificates/activate"),
            json!({"certificate_ids": [a]}),
        )
        .await
        .ok();
    server
        .post(&format!("/organization/projects/{p}/archive"), json!({}))
        .await
        .ok();
    server
        .post(
            &format!("/organization/projects/{p}/certificates/activate"),
            json!({"certificate_ids": [b]}),
        )
        .await
        .assert_error(400, Some("project_id"), None);
    // Listing still works, and shows nothing changed.
    let list = server
        .get(&format!(
            "/organization/projects/{p}/certificates?order=asc"
        ))
        .await;
    assert_eq!(actives(list.ok()), vec![(a.clone(), true), (b, false)]);
    server
        .post(
            &format!("/organization/projects/{p}/certificates/deactivate"),
            json!({"certificate_ids": [a]}),
        )
        .await
        .ok();
}

#[tokio::test]
async fn unknown_projects_are_404_on_every_project_certificate_route() {
    let server = TestServer::start().await;
    let a = server.upload_id("a").await;
    for project in ["proj_aaaaaaaaaaaaaaaaaaaaaaaa", "nonsense"] {
        server
            .get(&format!("/organization/projects/{project}/certificates"))
            .await
            .assert_error(404, Some("project_id"), None);
        for action in ["activate", "deactivate"] {
            server
                .post(
                    &format!("/organization/projects/{project}/certificates/{action}"),
                    json!({"certificate_ids": [a]}),
                )
                .await
                .assert_error(404, Some("project_id"), None);
        }
    }
}
