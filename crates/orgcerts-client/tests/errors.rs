//! Errors come back typed, with the three sources kept apart.

mod common;

use common::{Fault, TestServer, anchor, builder, client, closed_port, proxy, server};
use orgcerts_client::types::UploadCertificateRequest;
use orgcerts_client::{Client, Error, ListParams};

#[tokio::test]
async fn api_errors_carry_status_type_code_param_message_and_request_id() {
    let server = server();
    let client = client(&server);
    let error = client
        .admin()
        .organization()
        .certificates()
        .retrieve("cert_doesnotexist0000000000000", &[])
        .await
        .unwrap_err();
    let Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}")
    };
    assert_eq!(api.status.as_u16(), 404);
    assert_eq!(api.kind.as_deref(), Some("invalid_request_error"));
    assert_eq!(api.param.as_deref(), Some("certificate_id"));
    assert_eq!(api.code, None);
    assert!(api.message.contains("cert_doesnotexist"));
    let request_id = api.request_id.as_deref().expect("a request id");
    assert!(
        request_id.starts_with("req_") && request_id.len() == 36,
        "{request_id}"
    );
    assert_eq!(error.request_id(), Some(request_id));
    assert!(error.to_string().contains(request_id));
}

#[tokio::test]
async fn duplicate_upload_names_its_code() {
    let server = server();
    let client = client(&server);
    let certificates = client.admin().organization().certificates();
    let request = UploadCertificateRequest {
        certificate: anchor("dup"),
        name: None,
        attribute_filter: None,
    };
    certificates.create(&request).await.unwrap();
    let error = certificates.create(&request).await.unwrap_err();
    let api = error.as_api().unwrap();
    assert_eq!(api.status.as_u16(), 409);
    assert_eq!(api.code.as_deref(), Some("certificate_already_exists"));
    assert_eq!(api.param.as_deref(), Some("certificate"));
}

#[tokio::test]
async fn a_wrong_key_is_a_401_invalid_api_key() {
    let server = server();
    let client = Client::builder()
        .api_key("sk-admin-wrong")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let error = client
        .admin()
        .organization()
        .certificates()
        .list(&ListParams::new())
        .await
        .unwrap_err();
    let api = error.as_api().unwrap();
    assert_eq!(
        (api.status.as_u16(), api.code.as_deref()),
        (401, Some("invalid_api_key"))
    );
}

#[tokio::test]
async fn a_success_status_with_a_body_that_is_not_json_is_a_decode_error() {
    let server = proxy(server());
    let client = client(&server);
    server.fail_next([Fault::garbage()]);
    let error = client
        .admin()
        .organization()
        .certificates()
        .list(&ListParams::new())
        .await
        .unwrap_err();
    let Error::Decode {
        status, request_id, ..
    } = &error
    else {
        panic!("expected a decode error, got {error:?}")
    };
    assert_eq!(status.as_u16(), 200);
    assert!(
        request_id
            .as_deref()
            .is_some_and(|id| id.starts_with("req_"))
    );
    assert!(error.as_api().is_none());
    // A decode error is not retried: the server did answer.
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_bad_limit_names_the_parameter() {
    let server = server();
    let client = client(&server);
    let error = client
        .admin()
        .organization()
        .certificates()
        .list(&ListParams::new().limit(101))
        .await
        .unwrap_err();
    assert_eq!(
        error.as_api().and_then(|api| api.param.as_deref()),
        Some("limit")
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error() {
    let server = server();
    let client = builder(&server)
        .base_url(format!("http://127.0.0.1:{}/v1", closed_port()))
        .max_retries(0)
        .build()
        .unwrap();
    let error = client
        .admin()
        .organization()
        .projects()
        .retrieve("proj_x")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Transport(source) if source.is_connect()),
        "{error:?}"
    );
    assert!(error.status().is_none() && error.request_id().is_none());
}
