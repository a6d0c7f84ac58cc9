//! Attribute filters through the client: upload with one, read it back with
//! `include[]=attribute_filter`, set, change and clear it, and the API's refusal of an invalid one.

mod common;

use common::{anchor, client, server};
use orgcerts_client::CertificateInclude;
use orgcerts_client::types::{ModifyCertificateRequest, UploadCertificateRequest};

const DNS_FILTER: &str =
    r#"subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))"#;

#[tokio::test]
async fn upload_retrieve_set_and_clear() {
    let server = server();
    let client = client(&server);
    let certificates = client.admin().organization().certificates();
    let filter = &[CertificateInclude::AttributeFilter];

    let uploaded = certificates
        .create(&UploadCertificateRequest {
            certificate: anchor("filtered"),
            name: Some("filtered".into()),
            attribute_filter: Some(DNS_FILTER.into()),
        })
        .await
        .unwrap();
    let id = uploaded.into_inner().id;

    let plain = certificates.retrieve(&id, &[]).await.unwrap();
    let raw: serde_json::Value = serde_json::from_str(plain.raw_body()).unwrap();
    assert!(
        raw.get("attribute_filter").is_none(),
        "only when asked: {raw}"
    );
    assert_eq!(plain.attribute_filter, None);

    let read = certificates.retrieve(&id, filter).await.unwrap();
    assert_eq!(
        read.attribute_filter.clone().flatten().as_deref(),
        Some(DNS_FILTER)
    );
    assert!(read.certificate_details.content.is_none());
    let both = certificates
        .retrieve(
            &id,
            &[
                CertificateInclude::Content,
                CertificateInclude::AttributeFilter,
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        both.attribute_filter.clone().flatten().as_deref(),
        Some(DNS_FILTER)
    );
    assert!(both.certificate_details.content.is_some());

    let set = certificates
        .set_attribute_filter(&id, Some(r#"subject.common_name == "svc""#))
        .await
        .unwrap();
    assert_eq!(set.name.as_deref(), Some("filtered"), "the name stays");
    let read = certificates.retrieve(&id, filter).await.unwrap();
    assert_eq!(
        read.attribute_filter.clone().flatten().as_deref(),
        Some(r#"subject.common_name == "svc""#)
    );

    // A rename leaves the filter as it is.
    certificates
        .update(
            &id,
            &ModifyCertificateRequest {
                name: Some("renamed".into()),
                ..ModifyCertificateRequest::default()
            },
        )
        .await
        .unwrap();
    let read = certificates.retrieve(&id, filter).await.unwrap();
    assert_eq!(read.name.as_deref(), Some("renamed"));
    assert!(read.attribute_filter.clone().flatten().is_some());

    certificates.set_attribute_filter(&id, None).await.unwrap();
    let read = certificates.retrieve(&id, filter).await.unwrap();
    assert_eq!(read.attribute_filter, Some(None));
    let raw: serde_json::Value = serde_json::from_str(read.raw_body()).unwrap();
    assert!(raw["attribute_filter"].is_null(), "null when none: {raw}");

    certificates
        .set_attribute_filter(&id, Some(DNS_FILTER))
        .await
        .unwrap();
    certificates
        .set_attribute_filter(&id, Some(""))
        .await
        .unwrap();
    let read = certificates.retrieve(&id, filter).await.unwrap();
    assert_eq!(read.attribute_filter, Some(None), "an empty filter clears");

    // Through update: a string sets, an empty string clears.
    let request = |filter: &str| ModifyCertificateRequest {
        attribute_filter: Some(Some(filter.to_owned())),
        ..ModifyCertificateRequest::default()
    };
    certificates
        .update(&id, &request(DNS_FILTER))
        .await
        .unwrap();
    let read = certificates.retrieve(&id, filter).await.unwrap();
    assert_eq!(
        read.attribute_filter.clone().flatten().as_deref(),
        Some(DNS_FILTER)
    );
    certificates.update(&id, &request("")).await.unwrap();
    let read = certificates.retrieve(&id, filter).await.unwrap();
    assert_eq!(read.attribute_filter, Some(None));
}

#[tokio::test]
async fn an_invalid_filter_is_refused_and_says_where() {
    let server = server();
    let client = client(&server);
    let certificates = client.admin().organization().certificates();

    let error = certificates
        .create(&UploadCertificateRequest {
            certificate: anchor("refused"),
            name: None,
            attribute_filter: Some("subject.common_name ==".into()),
        })
        .await
        .unwrap_err();
    let api = error.as_api().expect("an API error");
    assert_eq!(api.status.as_u16(), 400);
    assert_eq!(api.code.as_deref(), Some("mtls_cel_policy_invalid"));
    assert_eq!(api.param.as_deref(), Some("attribute_filter"));
    assert!(
        api.message.contains("line 1") && api.message.contains("column"),
        "{}",
        api.message
    );

    let id = certificates
        .create(&UploadCertificateRequest {
            certificate: anchor("kept"),
            name: None,
            attribute_filter: Some(DNS_FILTER.into()),
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    let error = certificates
        .set_attribute_filter(&id, Some("subject.surname == \"x\""))
        .await
        .unwrap_err();
    let api = error.as_api().expect("an API error");
    assert_eq!(api.code.as_deref(), Some("mtls_cel_policy_invalid"));
    let read = certificates
        .retrieve(&id, &[CertificateInclude::AttributeFilter])
        .await
        .unwrap();
    assert_eq!(
        read.attribute_filter.clone().flatten().as_deref(),
        Some(DNS_FILTER),
        "a refused filter changes nothing"
    );
}
