//! Every method of the client, end to end.

mod common;

use common::{anchor, client, proxy, server};
use orgcerts_client::types::{
    CertificateObject, ModifyCertificateRequest, ProjectCreateRequest, ProjectStatus,
    ProjectUpdateRequest, ToggleObject, UploadCertificateRequest,
};
use orgcerts_client::{CertificateInclude, Error, ListParams};

fn upload_request(pem: &str, name: Option<&str>) -> UploadCertificateRequest {
    UploadCertificateRequest {
        certificate: pem.to_owned(),
        name: name.map(str::to_owned),
        attribute_filter: None,
    }
}

#[tokio::test]
async fn certificate_lifecycle_at_organization_level() {
    let server = server();
    let client = client(&server);
    let certificates = client.admin().organization().certificates();
    let pem = anchor("lifecycle");

    let uploaded = certificates
        .create(&upload_request(&pem, Some("first")))
        .await
        .unwrap();
    assert_eq!(uploaded.object, CertificateObject::Certificate);
    assert!(uploaded.id.starts_with("cert_"));
    assert_eq!(uploaded.name.as_deref(), Some("first"));
    assert!(uploaded.certificate_details.content.is_none());
    assert!(
        uploaded
            .request_id()
            .is_some_and(|id| id.starts_with("req_"))
    );
    let raw: serde_json::Value = serde_json::from_str(uploaded.raw_body()).unwrap();
    assert_eq!(raw["id"], uploaded.id.as_str());
    let id = uploaded.into_inner().id;

    let plain = certificates.retrieve(&id, &[]).await.unwrap();
    assert!(plain.certificate_details.content.is_none());
    let with_content = certificates
        .retrieve(&id, &[CertificateInclude::Content])
        .await
        .unwrap();
    let content = with_content
        .certificate_details
        .content
        .as_deref()
        .expect("content");
    assert_eq!(content.trim(), pem.trim());

    let renamed = certificates
        .update(
            &id,
            &ModifyCertificateRequest {
                name: Some("renamed".into()),
                ..ModifyCertificateRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("renamed"));

    let filter = r#"subject.common_name == "svc""#;
    let filtered = certificates
        .update(
            &id,
            &ModifyCertificateRequest {
                attribute_filter: Some(Some(filter.to_owned())),
                ..ModifyCertificateRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(filtered.attribute_filter, None, "shown only when asked for");
    let shown = certificates
        .retrieve(&id, &[CertificateInclude::AttributeFilter])
        .await
        .unwrap();
    assert_eq!(shown.attribute_filter, Some(Some(filter.to_owned())));
    certificates
        .update(
            &id,
            &ModifyCertificateRequest {
                attribute_filter: Some(None),
                ..ModifyCertificateRequest::default()
            },
        )
        .await
        .unwrap();
    let cleared = certificates
        .retrieve(&id, &[CertificateInclude::AttributeFilter])
        .await
        .unwrap();
    assert_eq!(
        cleared.attribute_filter,
        Some(None),
        "null when none is set"
    );

    let activated = certificates.activate([id.as_str()]).await.unwrap();
    assert_eq!(activated.object, ToggleObject::OrganizationActivation);
    assert!(activated.data.len() == 1 && activated.data[0].active);
    let listed = certificates.list(&ListParams::new()).await.unwrap();
    assert!(listed.data.iter().any(|item| item.id == id && item.active));

    let refused = certificates.delete(&id).await.unwrap_err();
    let api = refused.as_api().expect("an API error");
    assert_eq!(
        (api.status.as_u16(), api.code.as_deref()),
        (409, Some("certificate_in_use"))
    );

    let deactivated = certificates.deactivate(vec![id.clone()]).await.unwrap();
    assert_eq!(deactivated.object, ToggleObject::OrganizationDeactivation);
    assert!(!deactivated.data[0].active);
    let deleted = certificates.delete(&id).await.unwrap();
    assert_eq!(deleted.id, id);
    let gone = certificates.retrieve(&id, &[]).await.unwrap_err();
    assert_eq!(gone.status().map(|status| status.as_u16()), Some(404));
}

#[tokio::test]
async fn include_content_is_sent_as_include_brackets() {
    let server = proxy(server());
    let client = client(&server);
    let certificates = client.admin().organization().certificates();
    let id = certificates
        .create(&upload_request(&anchor("q"), None))
        .await
        .unwrap()
        .into_inner()
        .id;
    server.clear_requests();
    certificates
        .retrieve(&id, &[CertificateInclude::Content])
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.path, format!("/v1/organization/certificates/{id}"));
    assert_eq!(request.query.as_deref(), Some("include[]=content"));
}

#[tokio::test]
async fn projects_and_their_certificates() {
    let server = server();
    let client = client(&server);
    let projects = client.admin().organization().projects();

    let created = projects
        .create(&ProjectCreateRequest {
            name: "Payments".into(),
            residency: None,
            external_key_id: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(created.id.starts_with("proj_"));
    assert_eq!(created.status, Some(ProjectStatus::Active));
    let fetched = projects.retrieve(&created.id).await.unwrap();
    assert_eq!(fetched.name.as_deref(), Some("Payments"));
    let renamed = projects
        .update(
            &created.id,
            &ProjectUpdateRequest {
                name: Some("Billing".into()),
                external_key_id: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Billing"));

    let certificate = client
        .admin()
        .organization()
        .certificates()
        .create(&upload_request(&anchor("project"), Some("p")))
        .await
        .unwrap()
        .into_inner();
    let scoped = projects.certificates(created.id.as_str());
    let activated = scoped.activate([certificate.id.as_str()]).await.unwrap();
    assert_eq!(activated.object, ToggleObject::ProjectActivation);
    assert!(activated.data[0].active);
    let listed = scoped.list(&ListParams::new()).await.unwrap();
    assert_eq!(listed.data.len(), 1);
    assert!(listed.data[0].active);
    // Project-level activation is not folded into the organization list.
    let organization = client
        .admin()
        .organization()
        .certificates()
        .list(&ListParams::new())
        .await
        .unwrap();
    assert!(!organization.data[0].active);
    let deactivated = scoped.deactivate([certificate.id.as_str()]).await.unwrap();
    assert_eq!(deactivated.object, ToggleObject::ProjectDeactivation);
    assert!(!deactivated.data[0].active);

    let archived = projects.archive(&created.id).await.unwrap();
    assert_eq!(archived.status, Some(ProjectStatus::Archived));
    assert!(archived.archived_at.is_some());
    let refused = scoped
        .activate([certificate.id.as_str()])
        .await
        .unwrap_err();
    assert_eq!(
        refused.as_api().and_then(|error| error.param.as_deref()),
        Some("project_id")
    );
}

#[tokio::test]
async fn empty_ids_are_refused_before_sending() {
    let server = proxy(server());
    let client = client(&server);
    let certificates = client.admin().organization().certificates();
    assert!(matches!(
        certificates.retrieve("", &[]).await,
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        certificates.delete(" ").await,
        Err(Error::InvalidInput(_))
    ));
    let projects = client.admin().organization().projects();
    assert!(matches!(
        projects.archive("").await,
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        projects.certificates("").list(&ListParams::new()).await,
        Err(Error::InvalidInput(_))
    ));
    assert!(server.requests().is_empty());
}
