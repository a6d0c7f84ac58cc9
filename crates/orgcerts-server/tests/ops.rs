//! Operator endpoints: `/healthz`, `/readyz`, `/metrics`, outside `/v1` and without auth.

mod common;

use common::TestServer;
use reqwest::Method;

#[tokio::test]
async fn health_and_readiness_need_no_key() {
    let server = TestServer::start().await;
    let root = server.base.trim_end_matches("/v1").to_owned();
    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let reply =
            TestServer::reply_outside_spec(reqwest::get(format!("{root}{path}")).await.unwrap())
                .await;
        assert_eq!(reply.ok()["status"], status);
        assert!(reply.header("x-request-id").is_some());
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_certificates_by_expiry() {
    let server = TestServer::start_with(common::Options {
        http: orgcerts_server::HttpSettings {
            metrics_on_api_listener: true,
            ..orgcerts_server::HttpSettings::default()
        },
        ..common::Options::default()
    })
    .await;
    let id = server.upload_id("metered").await;
    server
        .get(&format!("/organization/certificates/{id}"))
        .await
        .ok();
    server
        .call(Method::GET, "/organization/certificates?limit=0", None)
        .await
        .assert_error(400, Some("limit"), None);
    let root = server.base.trim_end_matches("/v1").to_owned();
    let response = reqwest::get(format!("{root}/metrics")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = response.text().await.unwrap();
    for needle in [
        // Routes are templates, never raw ids.
        r#"orgcerts_http_requests_total{route="/v1/organization/certificates/{certificate_id}",method="GET",status="200"} 1"#,
        r#"orgcerts_http_requests_total{route="/v1/organization/certificates",method="POST",status="200"} 1"#,
        r#"orgcerts_http_requests_total{route="/v1/organization/certificates",method="GET",status="400"} 1"#,
        "orgcerts_http_request_duration_seconds_bucket",
        r#"orgcerts_certificates_by_expiry{window="ge_90d"} 1"#,
        r#"orgcerts_certificates_by_expiry{window="expired"} 0"#,
        r#"orgcerts_db_pool_connections{state="idle"}"#,
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    assert!(!text.contains(&id), "no ids in labels");
}

#[tokio::test]
async fn expiry_gauges_count_live_certificates_by_window() {
    let server = TestServer::start_with(common::Options {
        http: orgcerts_server::HttpSettings {
            metrics_on_api_listener: true,
            ..orgcerts_server::HttpSettings::default()
        },
        ..common::Options::default()
    })
    .await;
    let mut ids = Vec::new();
    for (name, days) in [
        ("d3", 3),
        ("d20", 20),
        ("d60", 60),
        ("d400", 400),
        ("gone", 400),
    ] {
        let mut spec = common::CertSpec::ca(name);
        spec.not_after =
            common::time::OffsetDateTime::now_utc() + common::time::Duration::days(days);
        let uploaded = server
            .post(
                "/organization/certificates",
                serde_json::json!({"certificate": spec.mint().cert_pem}),
            )
            .await;
        ids.push(uploaded.ok()["id"].as_str().unwrap().to_owned());
    }
    server
        .delete(&format!("/organization/certificates/{}", ids[4]))
        .await
        .ok();
    // Another organization's certificates count too: the gauges are for the whole server.
    let (_, other) = server.second_org().await;
    server
        .call_as(
            &other,
            Method::POST,
            "/organization/certificates",
            Some(serde_json::json!({"certificate": common::ca_pem("other")})),
        )
        .await
        .ok();
    let root = server.base.trim_end_matches("/v1").to_owned();
    let text = reqwest::get(format!("{root}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (window, count) in [
        ("expired", 0),
        ("lt_7d", 1),
        ("lt_30d", 1),
        ("lt_90d", 1),
        ("ge_90d", 2),
    ] {
        let line = format!("orgcerts_certificates_by_expiry{{window=\"{window}\"}} {count}\n");
        assert!(text.contains(&line), "missing {line} in\n{text}");
    }
}
