//! async-openai (crates.io, feature `administration`), a client no one on this team wrote,
//! driving every certificate and project method it has against the server.
//!
//! Its typed responses are its own wire types, so a field of the wrong type or a missing
//! required field fails the call. Two defects of its own are worked around, and asserted so
//! that an upgrade that fixes them is noticed:
//! - `GetCertificateQuery` (a `Vec` in a query) cannot be serialized, so `include[]=content`
//!   is passed by hand;
//! - `ProjectListResponse::has_more` is typed `String` (the spec says boolean), so the typed
//!   `projects().list()` cannot parse any list; `list_byot` reads the page with its `Project`.

mod common;

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::traits::RequestOptionsBuilder;
use async_openai::types::admin::certificates::{
    Certificate, GetCertificateQuery, ListOrganizationCertificatesOrder,
    ListOrganizationCertificatesQuery, ListProjectCertificatesOrder, ListProjectCertificatesQuery,
    ModifyCertificateRequestArgs, ToggleCertificatesRequestArgs, UploadCertificateRequest,
    UploadCertificateRequestArgs,
};
use async_openai::types::admin::projects::{
    ListProjectsQuery, Project, ProjectCreateRequest, ProjectUpdateRequestArgs,
    PublicProjectResidency,
};
use async_openai::{Client, config::Config};
use common::{TestServer, ca_pem};
use serde::Deserialize;

type OpenAI = Client<OpenAIConfig>;

fn client(server: &TestServer) -> OpenAI {
    Client::with_config(
        OpenAIConfig::new()
            .with_api_base(&server.base)
            .with_api_key(&server.key),
    )
}

/// The status and code of an API error; panics on anything else.
#[track_caller]
fn api_error<T: std::fmt::Debug>(result: Result<T, OpenAIError>) -> (u16, Option<String>) {
    match result {
        Err(OpenAIError::ApiError(err)) => (err.status_code.as_u16(), err.api_error.code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Writes the server's request log where `scripts/test` collects what each client covered.
fn record_requests() {
    let Some(dir) = std::env::var_os("ORGCERTS_COMPAT_DIR") else {
        return;
    };
    let path = std::path::Path::new(&dir).join("async-openai.log");
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .json()
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

async fn upload(openai: &OpenAI, name: &str) -> Certificate {
    let request = UploadCertificateRequestArgs::default()
        .name(name)
        .certificate(ca_pem(name))
        .build()
        .unwrap();
    openai
        .admin()
        .certificates()
        .upload_organization(request)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_organization_certificate_method() {
    record_requests();
    let server = TestServer::start().await;
    let openai = client(&server);
    let admin = openai.admin();
    let certs = || admin.certificates();

    let created = upload(&openai, "My Example Certificate").await;
    assert!(created.id.starts_with("cert_"));
    assert_eq!(created.object, "certificate");
    assert_eq!(created.name.as_deref(), Some("My Example Certificate"));
    assert_eq!(created.active, None, "upload returns no active flag");
    let details = &created.certificate_details;
    assert!(details.valid_at < details.expires_at);
    assert_eq!(details.content, None);

    let unnamed = certs()
        .upload_organization(UploadCertificateRequest {
            name: None,
            certificate: ca_pem("unnamed"),
        })
        .await
        .unwrap();
    assert_eq!(unnamed.name, None);

    let got = certs().retrieve(&created.id).await.unwrap();
    assert_eq!(got, created);

    // Its own query type cannot be serialized ...
    let include = GetCertificateQuery {
        include: Some(vec!["content".to_owned()]),
    };
    assert!(matches!(
        certs().query(&include),
        Err(OpenAIError::InvalidArgument(_))
    ));
    // ... so the parameter goes by hand.
    let with_content = certs()
        .query(&[("include[]", "content")])
        .unwrap()
        .retrieve(&created.id)
        .await
        .unwrap();
    let pem = with_content.certificate_details.content.unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(pem.ends_with("-----END CERTIFICATE-----\n"));

    let renamed = certs()
        .modify(
            &created.id,
            ModifyCertificateRequestArgs::default()
                .name("Renamed")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Renamed"));
    assert_eq!(renamed.created_at, created.created_at);

    let on = certs()
        .activate_organization(
            ToggleCertificatesRequestArgs::default()
                .certificate_ids([created.id.clone()])
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(on.object, "organization.certificate.activation");
    let [item] = on.data.as_slice() else {
        panic!("{on:?}")
    };
    assert_eq!(
        (item.object.as_str(), item.id.as_str(), item.active),
        ("organization.certificate", created.id.as_str(), true)
    );

    let listed = certs().list_organization().await.unwrap();
    assert_eq!(listed.object, "list");
    assert!(!listed.has_more);
    let actives: Vec<(&str, bool)> = listed
        .data
        .iter()
        .map(|c| (c.id.as_str(), c.active))
        .collect();
    // Newest first by default.
    assert_eq!(actives, [(unnamed.id.as_str(), false), (&created.id, true)]);
    assert_eq!(listed.first_id.as_deref(), Some(unnamed.id.as_str()));
    assert_eq!(listed.last_id.as_deref(), Some(created.id.as_str()));

    assert_eq!(
        api_error(certs().delete(&created.id).await),
        (409, Some("certificate_in_use".to_owned()))
    );
    let off = certs()
        .deactivate_organization(
            ToggleCertificatesRequestArgs::default()
                .certificate_ids([created.id.clone()])
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(off.object, "organization.certificate.deactivation");
    assert!(off.data.iter().all(|c| !c.active));

    let deleted = certs().delete(&created.id).await.unwrap();
    assert_eq!(
        (deleted.object.as_str(), deleted.id.as_str()),
        ("certificate.deleted", created.id.as_str())
    );
    assert_eq!(api_error(certs().retrieve(&created.id).await), (404, None));
}

#[tokio::test]
async fn organization_list_pages_with_its_query_type() {
    record_requests();
    let server = TestServer::start().await;
    let openai = client(&server);
    let mut uploaded = Vec::new();
    for i in 0..7 {
        uploaded.push(upload(&openai, &format!("c{i}")).await.id);
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let query = ListOrganizationCertificatesQuery {
            limit: Some(3),
            after: after.clone(),
            order: Some(ListOrganizationCertificatesOrder::Asc),
        };
        let page = openai
            .admin()
            .certificates()
            .query(&query)
            .unwrap()
            .list_organization()
            .await
            .unwrap();
        assert!(page.data.len() <= 3);
        seen.extend(page.data.iter().map(|c| c.id.clone()));
        if !page.has_more {
            break;
        }
        after = page.last_id;
    }
    assert_eq!(
        seen, uploaded,
        "three pages, every certificate once, in order"
    );
}

/// `ProjectListResponse` as the spec has it, over async-openai's own `Project`.
#[derive(Debug, Deserialize)]
struct ProjectPage {
    object: String,
    data: Vec<Project>,
    first_id: Option<String>,
    last_id: Option<String>,
    has_more: bool,
}

#[tokio::test]
async fn every_project_method() {
    record_requests();
    let server = TestServer::start().await;
    let openai = client(&server);
    let admin = openai.admin();
    let projects = || admin.projects();

    let project = projects()
        .create(ProjectCreateRequest {
            name: "Project ABC".to_owned(),
            external_key_id: Some("key_1".to_owned()),
            residency: Some(PublicProjectResidency::EUSTORAGEPROCESSING),
            // Leaves out the deprecated `geography`, which its builder insists on.
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(project.id.starts_with("proj_"));
    assert_eq!(project.object, "organization.project");
    assert_eq!(project.status.as_deref(), Some("active"));
    assert_eq!(project.archived_at, None);
    assert_eq!(project.external_key_id.as_deref(), Some("key_1"));
    assert_eq!(
        project.residency,
        Some(PublicProjectResidency::EUSTORAGEPROCESSING)
    );
    assert_eq!(
        projects().retrieve(project.id.clone()).await.unwrap(),
        project
    );

    let renamed = projects()
        .modify(
            project.id.clone(),
            ProjectUpdateRequestArgs::default()
                .name("Project DEF")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Project DEF"));

    // The typed list cannot parse a boolean has_more (see the module docs).
    match projects().list().await {
        Err(OpenAIError::JSONDeserialize(err, _)) => {
            assert!(err.to_string().contains("expected a string"), "{err}");
        }
        other => panic!("async-openai's typed project list parsed after all: {other:?}"),
    }
    let page: ProjectPage = projects().list_byot().await.unwrap();
    assert_eq!(page.object, "list");
    assert!(!page.has_more);
    assert_eq!(page.first_id.as_deref(), Some(project.id.as_str()));
    assert_eq!(page.last_id, page.first_id);
    assert_eq!(page.data, [renamed]);

    let archived = projects().archive(project.id.clone()).await.unwrap();
    assert_eq!(archived.status.as_deref(), Some("archived"));
    assert!(archived.archived_at.is_some());
    let visible: ProjectPage = projects().list_byot().await.unwrap();
    assert!(visible.data.is_empty(), "archived projects are hidden");
    let all: ProjectPage = projects()
        .query(&ListProjectsQuery {
            include_archived: Some(true),
            ..Default::default()
        })
        .unwrap()
        .list_byot()
        .await
        .unwrap();
    assert_eq!(all.data, [archived]);
    assert_eq!(
        api_error(projects().retrieve("proj_unknown".to_owned()).await),
        (404, None)
    );
}

#[tokio::test]
async fn every_project_certificate_method() {
    record_requests();
    let server = TestServer::start().await;
    let openai = client(&server);
    let admin = openai.admin();
    let projects = admin.projects();
    let project = projects
        .create(ProjectCreateRequest {
            name: "mTLS".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();
    let cert = upload(&openai, "for the project").await;
    let project_certs = || projects.certificates(&project.id);
    let ids = || {
        ToggleCertificatesRequestArgs::default()
            .certificate_ids([cert.id.clone()])
            .build()
            .unwrap()
    };
    let on = project_certs().activate(ids()).await.unwrap();
    assert_eq!(on.object, "organization.project.certificate.activation");
    assert_eq!(
        on.data
            .iter()
            .map(|c| (c.object.as_str(), c.id.as_str(), c.active))
            .collect::<Vec<_>>(),
        [("organization.project.certificate", cert.id.as_str(), true)]
    );
    let listed = project_certs()
        .query(&ListProjectCertificatesQuery {
            limit: Some(1),
            after: None,
            order: Some(ListProjectCertificatesOrder::Desc),
        })
        .unwrap()
        .list()
        .await
        .unwrap();
    assert_eq!(listed.object, "list");
    assert_eq!(listed.data.len(), 1);
    assert!(listed.data[0].active);
    assert!(!listed.has_more);
    // Project-level activation is not organization-level activation.
    let org_list = openai.admin().certificates().list_organization().await;
    assert!(!org_list.unwrap().data[0].active);
    let off = project_certs().deactivate(ids()).await.unwrap();
    assert_eq!(off.object, "organization.project.certificate.deactivation");
    assert!(!off.data[0].active);

    projects.archive(project.id.clone()).await.unwrap();
    assert_eq!(
        api_error(project_certs().activate(ids()).await),
        (400, None),
        "activation for an archived project"
    );
}

#[tokio::test]
async fn keys_errors_and_a_trailing_slash_base_url() {
    record_requests();
    let server = TestServer::start().await;
    let wrong = Client::with_config(
        OpenAIConfig::new()
            .with_api_base(&server.base)
            .with_api_key(format!("sk-admin-{}", "A".repeat(48))),
    );
    assert_eq!(
        api_error(wrong.admin().certificates().list_organization().await),
        (401, Some("invalid_api_key".to_owned()))
    );

    let config = OpenAIConfig::new()
        .with_api_base(format!("{}/", server.base))
        .with_api_key(&server.key)
        .with_org_id(&server.org_id);
    assert!(
        config
            .url("/organization/certificates")
            .contains("v1//organization")
    );
    let slashed = Client::with_config(config);
    let cert = upload(&slashed, "through a trailing slash").await;
    let got = slashed.admin().certificates().retrieve(&cert.id).await;
    assert_eq!(got.unwrap().id, cert.id);

    let bad_pem = UploadCertificateRequest {
        name: None,
        certificate: "not a certificate".to_owned(),
    };
    assert_eq!(
        api_error(
            slashed
                .admin()
                .certificates()
                .upload_organization(bad_pem)
                .await
        ),
        (400, Some("mtls_certificate_invalid".to_owned()))
    );
}
