//! The `attribute_filter` extension of certificates (docs/contract.md, "Certificates"): set on
//! upload and modify, cleared by `null` or `""`, shown only by a get that asks for it, compiled
//! when saved, recorded as a certificate update.

mod common;

use common::{Reply, TestServer, ca_pem};
use serde_json::{Value, json};

const FILTER: &str = r#"subject.common_name == "svc""#;
const SAN_FILTER: &str =
    r#"subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))"#;

fn path(id: &str) -> String {
    format!("/organization/certificates/{id}")
}

/// The certificate as a get with `include[]=attribute_filter` shows it.
async fn with_filter(server: &TestServer, id: &str) -> Value {
    server
        .get(&format!("{}?include[]=attribute_filter", path(id)))
        .await
        .ok()
        .clone()
}

/// Uploads a fresh anchor with this filter; the certificate object.
async fn upload_filtered(server: &TestServer, name: &str, filter: Value) -> Reply {
    server
        .post(
            "/organization/certificates",
            json!({"certificate": ca_pem(name), "name": name, "attribute_filter": filter}),
        )
        .await
}

#[track_caller]
fn assert_no_filter_key(object: &Value) {
    assert!(
        object.get("attribute_filter").is_none(),
        "no attribute_filter unless asked for: {object}"
    );
}

#[tokio::test]
async fn a_filter_set_on_upload_is_shown_only_when_asked_for() {
    let server = TestServer::start().await;
    let uploaded = upload_filtered(&server, "edge", json!(FILTER)).await;
    let id = uploaded.ok()["id"].as_str().unwrap().to_owned();
    assert_no_filter_key(&uploaded.body);

    let shown = with_filter(&server, &id).await;
    assert_eq!(shown["attribute_filter"], FILTER);
    assert_eq!(shown["name"], "edge");
    assert!(shown["certificate_details"].get("content").is_none());

    let plain = server.get(&path(&id)).await;
    assert_no_filter_key(plain.ok());
    let content = server
        .get(&format!("{}?include[]=content", path(&id)))
        .await;
    assert_no_filter_key(content.ok());

    for query in [
        "include[]=content&include[]=attribute_filter",
        "include%5B%5D=attribute_filter&include%5B%5D=content",
        "include=attribute_filter&include=content",
    ] {
        let both = server.get(&format!("{}?{query}", path(&id))).await;
        let both = both.ok();
        assert_eq!(both["attribute_filter"], FILTER, "{query}");
        let pem = both["certificate_details"]["content"].as_str().unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{query}");
    }

    let listed = server.get("/organization/certificates").await;
    assert_no_filter_key(&listed.ok()["data"][0]);
    let activated = server
        .post(
            "/organization/certificates/activate",
            json!({"certificate_ids": [id]}),
        )
        .await;
    assert_no_filter_key(&activated.ok()["data"][0]);
    let project = server.create_project("p").await;
    let listed = server
        .get(&format!("/organization/projects/{project}/certificates"))
        .await;
    assert_no_filter_key(&listed.ok()["data"][0]);

    server
        .get(&format!("{}?include[]=attribute_filters", path(&id)))
        .await
        .assert_error(400, Some("include"), None);
}

#[tokio::test]
async fn no_filter_is_null_when_asked_for() {
    let server = TestServer::start().await;
    for (name, filter) in [
        ("absent", None),
        ("null", Some(json!(null))),
        ("empty", Some(json!(""))),
    ] {
        let mut body = json!({"certificate": ca_pem(name)});
        if let Some(filter) = filter {
            body["attribute_filter"] = filter;
        }
        let uploaded = server.post("/organization/certificates", body).await;
        let id = uploaded.ok()["id"].as_str().unwrap().to_owned();
        let shown = with_filter(&server, &id).await;
        assert_eq!(shown.get("attribute_filter"), Some(&Value::Null), "{name}");
    }
}

#[tokio::test]
async fn modify_sets_replaces_and_clears_the_filter_and_absent_keeps_it() {
    let server = TestServer::start().await;
    let id = server.upload_id("edge").await;

    let set = server
        .post(&path(&id), json!({"attribute_filter": FILTER}))
        .await;
    assert_eq!(set.ok()["name"], "edge", "a filter change keeps the name");
    assert_no_filter_key(&set.body);
    assert_eq!(with_filter(&server, &id).await["attribute_filter"], FILTER);

    let renamed = server.post(&path(&id), json!({"name": "renamed"})).await;
    assert_eq!(renamed.ok()["name"], "renamed");
    let empty = server.post(&path(&id), json!({})).await;
    assert_eq!(empty.ok()["name"], "renamed");
    assert_eq!(
        with_filter(&server, &id).await["attribute_filter"],
        FILTER,
        "absent keeps the filter"
    );

    let replaced = server
        .post(
            &path(&id),
            json!({"name": "both", "attribute_filter": SAN_FILTER}),
        )
        .await;
    assert_eq!(replaced.ok()["name"], "both");
    assert_eq!(
        with_filter(&server, &id).await["attribute_filter"],
        SAN_FILTER
    );

    server
        .post(&path(&id), json!({"attribute_filter": null}))
        .await
        .ok();
    let cleared = with_filter(&server, &id).await;
    assert_eq!(cleared["attribute_filter"], Value::Null, "null clears");
    assert_eq!(cleared["name"], "both");

    server
        .post(&path(&id), json!({"attribute_filter": FILTER}))
        .await
        .ok();
    server
        .post(&path(&id), json!({"attribute_filter": ""}))
        .await
        .ok();
    assert_eq!(
        with_filter(&server, &id).await["attribute_filter"],
        Value::Null,
        "an empty string clears"
    );
}

/// The error of an invalid filter: a 400 naming the field, with the CEL code.
#[track_caller]
fn assert_invalid_filter(reply: &Reply) -> String {
    reply.assert_error(
        400,
        Some("attribute_filter"),
        Some("mtls_cel_policy_invalid"),
    )
}

#[tokio::test]
async fn an_invalid_filter_is_refused_with_where_and_nothing_changes() {
    let server = TestServer::start().await;
    let id = server.upload_id("kept").await;
    server
        .post(&path(&id), json!({"attribute_filter": FILTER}))
        .await
        .ok();

    for bad in [
        r#"subject.common_nam == "x""#,
        "subject.common_name",
        "foo == 1",
        r#"subject.common_name == "x" &&"#,
    ] {
        let message = assert_invalid_filter(
            &server
                .post(
                    &path(&id),
                    json!({"name": "changed", "attribute_filter": bad}),
                )
                .await,
        );
        assert!(
            message.contains("line 1") && message.contains("column "),
            "{bad}: {message}"
        );
        let upload = upload_filtered(&server, "refused", json!(bad)).await;
        let upload_message = assert_invalid_filter(&upload);
        assert!(
            upload_message.contains("column "),
            "{bad}: {upload_message}"
        );
    }
    let unchanged = with_filter(&server, &id).await;
    assert_eq!(
        unchanged["attribute_filter"], FILTER,
        "the old filter stays"
    );
    assert_eq!(unchanged["name"], "kept", "the name did not change either");

    let listed = server.get("/organization/certificates").await;
    assert_eq!(
        TestServer::ids(listed.ok()),
        [id.as_str()],
        "nothing was created"
    );

    let too_long = format!("{FILTER}{}", " ".repeat(4097 - FILTER.len()));
    assert_invalid_filter(
        &server
            .post(&path(&id), json!({"attribute_filter": too_long}))
            .await,
    );
    assert_invalid_filter(&upload_filtered(&server, "long", json!(too_long)).await);
    let at_the_bound = format!("{FILTER}{}", " ".repeat(4096 - FILTER.len()));
    server
        .post(&path(&id), json!({"attribute_filter": at_the_bound}))
        .await
        .ok();
    assert_eq!(
        with_filter(&server, &id).await["attribute_filter"],
        at_the_bound.as_str()
    );

    // Not JSON strings: a type error, as for any other field.
    for wrong in [
        json!(1),
        json!({"expression": FILTER}),
        json!(true),
        json!([FILTER]),
    ] {
        server
            .post(&path(&id), json!({"attribute_filter": wrong}))
            .await
            .assert_error(400, Some("attribute_filter"), None);
        upload_filtered(&server, "wrong type", wrong)
            .await
            .assert_error(400, Some("attribute_filter"), None);
    }
    let listed = server.get("/organization/certificates").await;
    assert_eq!(TestServer::ids(listed.ok()).len(), 1);
}

#[tokio::test]
async fn a_filter_change_is_recorded_as_a_certificate_update() {
    let server = TestServer::start().await;
    let id = server.upload_id("audited").await;
    let updates = |page: &Value| -> Vec<Value> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "certificate.updated")
            .cloned()
            .collect()
    };
    let log = "/organization/audit_logs?event_types[]=certificate.updated";

    server.post(&path(&id), json!({})).await.ok();
    assert!(
        updates(server.get(log).await.ok()).is_empty(),
        "no change, no entry"
    );

    server
        .post(&path(&id), json!({"attribute_filter": FILTER}))
        .await
        .ok();
    let entries = updates(server.get(log).await.ok());
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        entries[0]["certificate.updated"],
        json!({"id": id, "name": "audited"})
    );

    server
        .post(&path(&id), json!({"attribute_filter": null}))
        .await
        .ok();
    assert_eq!(
        updates(server.get(log).await.ok()).len(),
        2,
        "clearing is an update"
    );

    assert_invalid_filter(
        &server
            .post(&path(&id), json!({"attribute_filter": "foo == 1"}))
            .await,
    );
    assert_eq!(
        updates(server.get(log).await.ok()).len(),
        2,
        "a refused change records nothing"
    );
}
