//! Every certificate operation, and every upload rule of docs/contract.md.

mod common;

use common::{CertSpec, KeyUsage, TestServer, ca_pem, time};
use reqwest::Method;
use serde_json::json;
use time::{Duration, OffsetDateTime};

#[tokio::test]
async fn upload_returns_the_certificate_object_with_its_validity() {
    let server = TestServer::start().await;
    let not_before = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    let not_after = OffsetDateTime::from_unix_timestamp(4_102_444_800).unwrap(); // 2100
    let pem = CertSpec::ca("anchor")
        .valid(not_before, not_after)
        .mint()
        .cert_pem;
    let before = OffsetDateTime::now_utc().unix_timestamp();
    let reply = server
        .post(
            "/organization/certificates",
            json!({"certificate": pem, "name": "My Example Certificate"}),
        )
        .await;
    let cert = reply.ok();
    let id = cert["id"].as_str().unwrap();
    assert!(id.starts_with("cert_") && id.len() == 29, "{id}");
    assert_eq!(cert["object"], "certificate");
    assert_eq!(cert["name"], "My Example Certificate");
    assert!(cert.get("active").is_none(), "upload has no active field");
    let created = cert["created_at"].as_i64().unwrap();
    assert!(created >= before && created <= before + 5);
    assert_eq!(
        cert["certificate_details"],
        json!({"valid_at": 1_700_000_000, "expires_at": 4_102_444_800_u64})
    );
    assert_eq!(
        cert.as_object().unwrap().len(),
        5,
        "no extra fields: {cert}"
    );
}

#[tokio::test]
async fn name_is_null_when_none_was_given_and_names_need_not_be_unique() {
    let server = TestServer::start().await;
    let cert = server
        .post(
            "/organization/certificates",
            json!({"certificate": ca_pem("a")}),
        )
        .await;
    assert_eq!(cert.ok()["name"], json!(null));
    let a = server.upload("same").await;
    let b = server.upload("same").await;
    assert_ne!(a["id"], b["id"]);
}

#[tokio::test]
async fn legacy_content_field_is_accepted_but_not_together_with_certificate() {
    let server = TestServer::start().await;
    let legacy = server
        .post(
            "/organization/certificates",
            json!({"content": ca_pem("legacy")}),
        )
        .await;
    assert_eq!(legacy.ok()["object"], "certificate");
    let both = server
        .post(
            "/organization/certificates",
            json!({"content": ca_pem("x"), "certificate": ca_pem("y")}),
        )
        .await;
    both.assert_error(400, Some("certificate"), None);
    assert_eq!(
        list_len(&server).await,
        1,
        "nothing stored by the refused upload"
    );
}

async fn list_len(server: &TestServer) -> usize {
    server
        .get("/organization/certificates?limit=100")
        .await
        .ok()["data"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn invalid_certificates_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let minted = CertSpec::ca("with key").mint();
    let cases = vec![
        ("not pem", "hello".to_owned()),
        ("empty", String::new()),
        (
            "bad der",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_owned(),
        ),
        (
            "private key",
            format!("{}{}", minted.cert_pem, minted.key_pem),
        ),
        ("key only", minted.key_pem.clone()),
        ("leaf", CertSpec::leaf("leaf").mint().cert_pem),
        (
            "no keyCertSign",
            CertSpec::ca("ku")
                .key_usages(vec![KeyUsage::DigitalSignature])
                .mint()
                .cert_pem,
        ),
        (
            "over 16 KiB",
            format!("{}{}", ca_pem("big"), "\n".repeat(16 * 1024)),
        ),
    ];
    for (what, pem) in cases {
        let reply = server
            .post("/organization/certificates", json!({"certificate": pem}))
            .await;
        let message =
            reply.assert_error(400, Some("certificate"), Some("mtls_certificate_invalid"));
        assert!(
            !message.contains("PRIVATE KEY-----") && !message.contains("MII"),
            "{what}: the message must not echo PEM content: {message}"
        );
    }
    assert_eq!(list_len(&server).await, 0);
}

#[tokio::test]
async fn expired_and_soon_expiring_certificates_are_refused() {
    let server = TestServer::start().await;
    let now = OffsetDateTime::now_utc();
    for not_after in [now - Duration::days(1), now + Duration::hours(23)] {
        let pem = CertSpec::ca("old")
            .valid(now - Duration::days(10), not_after)
            .mint()
            .cert_pem;
        server
            .post("/organization/certificates", json!({"certificate": pem}))
            .await
            .assert_error(400, Some("certificate"), Some("expired_certificate"));
    }
    assert_eq!(list_len(&server).await, 0);
}

#[tokio::test]
async fn names_are_limited_to_256_characters_not_bytes() {
    let server = TestServer::start().await;
    let accented = "é".repeat(256); // 512 bytes, 256 characters
    let reply = server
        .post(
            "/organization/certificates",
            json!({"certificate": ca_pem("a"), "name": accented}),
        )
        .await;
    assert_eq!(reply.ok()["name"], json!(accented));
    server
        .post(
            "/organization/certificates",
            json!({"certificate": ca_pem("b"), "name": "x".repeat(257)}),
        )
        .await
        .assert_error(400, Some("name"), None);
    let id = reply.body["id"].as_str().unwrap();
    server
        .post(
            &format!("/organization/certificates/{id}"),
            json!({"name": "y".repeat(10_000)}),
        )
        .await
        .assert_error(400, Some("name"), None);
    assert_eq!(list_len(&server).await, 1);
}

#[tokio::test]
async fn a_null_certificate_name_is_400_not_no_name() {
    // The spec types these names as strings, and docs/contract.md makes a field of the wrong
    // JSON type a 400: null is neither "no name" nor "no change".
    let server = TestServer::start().await;
    server
        .post(
            "/organization/certificates",
            json!({"certificate": ca_pem("null"), "name": null}),
        )
        .await
        .assert_error(400, Some("name"), None);
    assert_eq!(list_len(&server).await, 0, "nothing uploaded");
    let id = server.upload_id("kept").await;
    let path = format!("/organization/certificates/{id}");
    server
        .post(&path, json!({"name": null}))
        .await
        .assert_error(400, Some("name"), None);
    assert_eq!(server.get(&path).await.ok()["name"], "kept");
    // Leaving the name out is still fine.
    let unnamed = server
        .post(
            "/organization/certificates",
            json!({"certificate": ca_pem("u")}),
        )
        .await;
    assert_eq!(unnamed.ok()["name"], json!(null));
    assert_eq!(server.post(&path, json!({})).await.ok()["name"], "kept");
}

#[tokio::test]
async fn duplicate_uploads_conflict_naming_the_existing_id_until_it_is_deleted() {
    let server = TestServer::start().await;
    let pem = ca_pem("dup");
    let first = server
        .post("/organization/certificates", json!({"certificate": pem}))
        .await;
    let id = first.ok()["id"].as_str().unwrap().to_owned();
    // The same certificate re-encoded (other line breaks, a chain after it) is still the same.
    let again = server
        .post(
            "/organization/certificates",
            json!({"certificate": format!("{pem}{}", ca_pem("chain"))}),
        )
        .await;
    let message = again.assert_error(409, Some("certificate"), Some("certificate_already_exists"));
    assert!(message.contains(&id), "{message}");
    assert_eq!(again.header("x-should-retry"), Some("false"));

    server
        .delete(&format!("/organization/certificates/{id}"))
        .await
        .ok();
    let reuploaded = server
        .post("/organization/certificates", json!({"certificate": pem}))
        .await;
    assert_ne!(reuploaded.ok()["id"].as_str().unwrap(), id, "a new id");
}

#[tokio::test]
async fn the_maximum_is_enforced_and_frees_up_on_delete() {
    let server = TestServer::start_with(common::Options {
        max_certificates_per_org: 3,
        ..Default::default()
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(server.upload_id(&format!("c{i}")).await);
    }
    server
        .post(
            "/organization/certificates",
            json!({"certificate": ca_pem("over")}),
        )
        .await
        .assert_error(400, None, Some("certificate_limit_exceeded"));
    assert_eq!(list_len(&server).await, 3);
    server
        .delete(&format!("/organization/certificates/{}", ids[0]))
        .await
        .ok();
    server.upload_id("fits again").await;
}

#[tokio::test]
async fn get_includes_content_only_when_asked() {
    let server = TestServer::start().await;
    let minted = CertSpec::ca("content").mint();
    // Upload with CRLF line endings; the content comes back canonical.
    let crlf = minted.cert_pem.replace('\n', "\r\n");
    let id = server
        .post(
            "/organization/certificates",
            json!({"certificate": crlf, "name": "c"}),
        )
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = server
        .get(&format!("/organization/certificates/{id}"))
        .await;
    assert_eq!(plain.ok()["object"], "certificate");
    assert!(plain.body["certificate_details"].get("content").is_none());
    assert!(plain.body.get("active").is_none());

    for query in [
        "include[]=content",
        "include%5B%5D=content",
        "include=content",
    ] {
        let reply = server
            .get(&format!("/organization/certificates/{id}?{query}"))
            .await;
        let content = reply.ok()["certificate_details"]["content"]
            .as_str()
            .unwrap();
        assert!(
            content.starts_with("-----BEGIN CERTIFICATE-----\n"),
            "{query}"
        );
        assert!(content.ends_with("-----END CERTIFICATE-----\n"));
        assert!(content.lines().all(|l| l.len() <= 64));
        let der = pem::parse(content).unwrap().into_contents();
        assert_eq!(der, minted.cert_der, "{query}");
    }
    server
        .get(&format!(
            "/organization/certificates/{id}?include[]=private_key"
        ))
        .await
        .assert_error(400, Some("include"), None);
}

#[tokio::test]
async fn modify_renames_and_an_empty_body_changes_nothing() {
    let server = TestServer::start().await;
    let id = server.upload_id("before").await;
    let path = format!("/organization/certificates/{id}");
    let renamed = server
        .post(&path, json!({"name": "Renamed Certificate"}))
        .await;
    assert_eq!(renamed.ok()["name"], "Renamed Certificate");
    assert_eq!(renamed.body["object"], "certificate");
    assert!(renamed.body.get("active").is_none());

    // The Node SDK sends Content-Type: application/json with no body.
    let empty = server
        .send(
            server
                .raw(Method::POST, &path)
                .bearer_auth(&server.key)
                .header("content-type", "application/json"),
        )
        .await;
    assert_eq!(empty.ok()["name"], "Renamed Certificate");
    assert_eq!(server.get(&path).await.ok()["name"], "Renamed Certificate");
}

#[tokio::test]
async fn delete_answers_certificate_deleted_and_the_certificate_is_gone() {
    let server = TestServer::start().await;
    let id = server.upload_id("gone").await;
    let path = format!("/organization/certificates/{id}");
    // The Python SDK sends Content-Type: application/json with no body on DELETE.
    let reply = server
        .send(
            server
                .raw(Method::DELETE, &path)
                .bearer_auth(&server.key)
                .header("content-type", "application/json"),
        )
        .await;
    assert_eq!(
        reply.ok(),
        &json!({"object": "certificate.deleted", "id": id})
    );
    server
        .get(&path)
        .await
        .assert_error(404, Some("certificate_id"), None);
    server
        .delete(&path)
        .await
        .assert_error(404, Some("certificate_id"), None);
    server
        .post(&path, json!({"name": "x"}))
        .await
        .assert_error(404, Some("certificate_id"), None);
    assert_eq!(list_len(&server).await, 0);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let server = TestServer::start().await;
    for id in [
        "cert_aaaaaaaaaaaaaaaaaaaaaaaa",
        "cert_abc",
        "nonsense",
        "cert_%27%20OR%201%3D1--",
        "..%2F..%2Fetc%2Fpasswd",
    ] {
        let path = format!("/organization/certificates/{id}");
        server
            .get(&path)
            .await
            .assert_error(404, Some("certificate_id"), None);
        server
            .delete(&path)
            .await
            .assert_error(404, Some("certificate_id"), None);
        server.post(&path, json!({"name": "x"})).await.assert_error(
            404,
            Some("certificate_id"),
            None,
        );
    }
}

#[tokio::test]
async fn delete_is_refused_while_active_anywhere() {
    let server = TestServer::start().await;
    let id = server.upload_id("busy").await;
    let project = server.create_project("p").await;
    let path = format!("/organization/certificates/{id}");

    server
        .post(
            "/organization/certificates/activate",
            json!({"certificate_ids": [id]}),
        )
        .await
        .ok();
    server.delete(&path).await.assert_error(
        409,
        Some("certificate_id"),
        Some("certificate_in_use"),
    );
    server
        .post(
            "/organization/certificates/deactivate",
            json!({"certificate_ids": [id]}),
        )
        .await
        .ok();

    server
        .post(
            &format!("/organization/projects/{project}/certificates/activate"),
            json!({"certificate_ids": [id]}),
        )
        .await
        .ok();
    // Archiving the project does not release the certificate: deactivate it first.
    server
        .post(
            &format!("/organization/projects/{project}/archive"),
            json!({}),
        )
        .await
        .ok();
    let refused = server.delete(&path).await;
    refused.assert_error(409, Some("certificate_id"), Some("certificate_in_use"));
    assert_eq!(refused.header("x-should-retry"), Some("false"));
    server
        .post(
            &format!("/organization/projects/{project}/certificates/deactivate"),
            json!({"certificate_ids": [id]}),
        )
        .await
        .ok();
    server.delete(&path).await.ok();
}
