//! async-openai (crates.io, feature `administration`), a client no one on this team wrote,
//! driving every certificate, project, admin API key, audit log, service account and project
//! API key method it has against the server.
//!
//! Its typed responses are its own wire types, so a field of the wrong type or a missing
//! required field fails the call. Its service account and project API key types read every
//! answer as it is; three defects of its own elsewhere are worked around, and asserted so that
//! an upgrade that fixes them is noticed:
//! - `GetCertificateQuery` (a `Vec` in a query) cannot be serialized, so `include[]=content`
//!   is passed by hand;
//! - `ProjectListResponse::has_more` is typed `String` (the spec says boolean), so the typed
//!   `projects().list()` cannot parse any list; `list_byot` reads the page with its `Project`;
//! - its audit log actor requires a user `email` (the spec leaves it optional), so the typed
//!   `audit_logs().get()` cannot parse a page; `get_byot` reads it with its other types.

mod common;

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::traits::RequestOptionsBuilder;
use async_openai::types::admin::api_keys::{
    CreateAdminApiKeyRequestArgs, ListAdminApiKeysOrder, ListAdminApiKeysQuery,
};
use async_openai::types::admin::audit_logs::{
    AuditLogApiKeyCreated, AuditLogEventType, ListAuditLogsQuery,
};
use async_openai::types::admin::certificates::{
    Certificate, GetCertificateQuery, ListOrganizationCertificatesOrder,
    ListOrganizationCertificatesQuery, ListProjectCertificatesOrder, ListProjectCertificatesQuery,
    ModifyCertificateRequestArgs, ToggleCertificatesRequestArgs, UploadCertificateRequest,
    UploadCertificateRequestArgs,
};
use async_openai::types::admin::project_api_keys::{
    ListProjectApiKeysQuery, OwnerProjectAccess, ProjectApiKeyOwnerType,
};
use async_openai::types::admin::project_service_accounts::{
    CreateProjectServiceAccountApiKeyBody, ListProjectServiceAccountsQuery,
    ProjectServiceAccountCreateRequest, ProjectServiceAccountCreateResponse,
    ProjectServiceAccountRole, UpdateProjectServiceAccountBody,
    UpdateProjectServiceAccountBodyRole,
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

/// `ListAuditLogsResponse` over [`AuditLogEntry`].
#[derive(Deserialize)]
struct AuditLogPage {
    data: Vec<AuditLogEntry>,
    last_id: Option<String>,
    has_more: bool,
}

/// async-openai's `AuditLog` fields, but the actor, which its types cannot read.
#[derive(Deserialize)]
struct AuditLogEntry {
    id: String,
    #[serde(rename = "type")]
    kind: AuditLogEventType,
    #[serde(rename = "api_key.created")]
    api_key_created: Option<AuditLogApiKeyCreated>,
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

/// Admin API keys (create, retrieve, list with its query type, delete) and the audit log (its
/// typed entries, paged with `limit` and `after`). The audit log query's filters are `Vec`s in a
/// query, which async-openai cannot serialize (like `include[]` above), so none is sent.
#[tokio::test]
async fn admin_api_keys_and_the_audit_log() {
    record_requests();
    let server = TestServer::start().await;
    let openai = client(&server);
    let admin = openai.admin();

    let request = CreateAdminApiKeyRequestArgs::default()
        .name("async-openai")
        .expires_in_seconds(3600u32)
        .build()
        .unwrap();
    let created = admin.api_keys().create(request).await.unwrap();
    assert!(created.id.starts_with("key_"));
    assert_eq!(created.object, "organization.admin_api_key");
    assert!(created.value.starts_with("sk-admin-") && created.value.len() == 57);
    assert_eq!(created.expires_at, Some(created.created_at + 3600));
    let got = admin.api_keys().retrieve(&created.id).await.unwrap();
    assert_eq!(
        (got.id.as_str(), got.name.as_deref(), got.expires_at),
        (
            created.id.as_str(),
            Some("async-openai"),
            created.expires_at
        )
    );

    let query = ListAdminApiKeysQuery {
        limit: Some(1),
        order: Some(ListAdminApiKeysOrder::Desc),
        after: None,
    };
    let newest = admin
        .api_keys()
        .query(&query)
        .unwrap()
        .list()
        .await
        .unwrap();
    let ids: Vec<&str> = newest.data.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, [created.id.as_str()]);
    assert!(newest.has_more);

    let deleted = admin.api_keys().delete(&created.id).await.unwrap();
    assert_eq!(
        (
            deleted.object.as_str(),
            deleted.id.as_str(),
            deleted.deleted
        ),
        (
            "organization.admin_api_key.deleted",
            created.id.as_str(),
            true
        )
    );
    assert_eq!(
        api_error(admin.api_keys().retrieve(&created.id).await),
        (404, None)
    );

    // Its typed `AuditLog` requires the actor user's `email`, which the spec leaves optional
    // (orgcerts' actors have none), so the typed call cannot parse a page ...
    let first = ListAuditLogsQuery {
        limit: Some(1),
        ..ListAuditLogsQuery::default()
    };
    match admin.audit_logs().query(&first).unwrap().get().await {
        Err(OpenAIError::JSONDeserialize(err, _)) => {
            assert!(err.to_string().contains("missing field `email`"), "{err}");
        }
        other => panic!("the typed audit log parsed (fixed upstream?): {other:?}"),
    }
    // ... and `get_byot` reads the pages with entries of its own `AuditLog` shape but the actor.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let query = ListAuditLogsQuery {
            limit: Some(1),
            after: after.clone(),
            ..ListAuditLogsQuery::default()
        };
        let page: AuditLogPage = admin
            .audit_logs()
            .query(&query)
            .unwrap()
            .get_byot()
            .await
            .unwrap();
        assert!(page.data.len() <= 1);
        for entry in page.data {
            assert!(entry.id.starts_with("audit_log-"));
            let kind = serde_json::to_value(&entry.kind).unwrap();
            let created_id = entry.api_key_created.map(|c| c.id);
            seen.push((kind.as_str().unwrap().to_owned(), created_id));
        }
        if !page.has_more {
            break;
        }
        after = page.last_id;
    }
    let kinds: Vec<&str> = seen.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["api_key.deleted", "api_key.created", "api_key.created"]
    );
    assert_eq!(seen[1].1.as_deref(), Some(created.id.as_str()));
}

/// Creates a service account named `name` in `project` with its default membership and key.
async fn create_account(
    openai: &OpenAI,
    project: &str,
    name: &str,
) -> ProjectServiceAccountCreateResponse {
    openai
        .admin()
        .projects()
        .service_accounts(project)
        .create(ProjectServiceAccountCreateRequest {
            name: name.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
}

async fn create_project(openai: &OpenAI, name: &str) -> String {
    let request = ProjectCreateRequest {
        name: name.to_owned(),
        ..Default::default()
    };
    openai.admin().projects().create(request).await.unwrap().id
}

/// Service accounts (create with and without a key, retrieve, update, another key, list,
/// delete), with async-openai's own types.
#[tokio::test]
async fn every_service_account_method() {
    record_requests();
    let server = TestServer::start().await;
    let openai = client(&server);
    let project = create_project(&openai, "Apps").await;
    let admin = openai.admin();
    let projects = admin.projects();
    let accounts = || projects.service_accounts(&project);

    let created = create_account(&openai, &project, "Deployer").await;
    assert!(created.id.starts_with("svc_acct_"), "{}", created.id);
    assert_eq!(created.object, "organization.project.service_account");
    assert_eq!(
        (created.name.as_str(), created.role.as_str()),
        ("Deployer", "member")
    );
    let first = created.api_key.expect("a key with the default membership");
    assert_eq!(first.object, "organization.project.service_account.api_key");
    assert_eq!(first.name, "Secret Key");
    assert!(first.id.starts_with("key_"));
    assert!(first.value.starts_with("sk-svcacct-") && first.value.len() == 11 + 64);
    assert_eq!(first.expires_at, None);

    let got = accounts().retrieve(&created.id).await.unwrap();
    assert_eq!(
        (got.object.as_str(), got.id.as_str(), got.name.as_str()),
        (
            "organization.project.service_account",
            created.id.as_str(),
            "Deployer"
        )
    );
    assert!(matches!(got.role, ProjectServiceAccountRole::Member));
    assert_eq!(got.created_at, created.created_at);

    let updated = accounts()
        .update(
            &created.id,
            UpdateProjectServiceAccountBody {
                name: Some("Release bot".to_owned()),
                role: Some(UpdateProjectServiceAccountBodyRole::Owner),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Release bot");
    assert!(matches!(updated.role, ProjectServiceAccountRole::Owner));

    let second = accounts()
        .create_api_key(
            &created.id,
            CreateProjectServiceAccountApiKeyBody {
                name: Some("ci".to_owned()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        second.object,
        "organization.project.service_account.api_key"
    );
    assert_eq!(second.name, "ci");
    assert!(second.value.starts_with("sk-svcacct-"));
    assert_ne!(second.value, first.value);

    let alone = accounts()
        .create(ProjectServiceAccountCreateRequest {
            name: "Later".to_owned(),
            create_service_account_only: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(alone.role, "none");
    assert!(alone.api_key.is_none(), "no key without a role");

    let listed = accounts().list().await.unwrap();
    assert_eq!(listed.object, "list");
    assert!(!listed.has_more);
    let ids: Vec<&str> = listed.data.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, [created.id.as_str(), alone.id.as_str()]);
    assert_eq!(listed.data[0].name, "Release bot");
    assert!(matches!(
        listed.data[1].role,
        ProjectServiceAccountRole::None
    ));
    assert_eq!(listed.first_id.as_deref(), Some(created.id.as_str()));
    assert_eq!(listed.last_id.as_deref(), Some(alone.id.as_str()));

    let deleted = accounts().delete(&created.id).await.unwrap();
    assert_eq!(
        (
            deleted.object.as_str(),
            deleted.id.as_str(),
            deleted.deleted
        ),
        (
            "organization.project.service_account.deleted",
            created.id.as_str(),
            true
        )
    );
    assert_eq!(
        api_error(accounts().retrieve(&created.id).await),
        (404, None)
    );
    assert_eq!(api_error(accounts().delete(&created.id).await), (404, None));
}

/// Project API keys (list, retrieve, delete), with async-openai's own types: the owner, the
/// redacted value, and the keys of a deleted service account gone with it.
#[tokio::test]
async fn every_project_api_key_method() {
    record_requests();
    let server = TestServer::start().await;
    let openai = client(&server);
    let project = create_project(&openai, "Apps").await;
    let admin = openai.admin();
    let projects = admin.projects();
    let keys = || projects.api_keys(&project);

    let account = create_account(&openai, &project, "Deployer").await;
    let first = account.api_key.unwrap();
    let second = projects
        .service_accounts(&project)
        .create_api_key(
            &account.id,
            CreateProjectServiceAccountApiKeyBody::default(),
        )
        .await
        .unwrap();

    let key_list = keys().list().await.unwrap();
    assert_eq!(key_list.object, "list");
    assert!(!key_list.has_more);
    let key_ids: Vec<&str> = key_list.data.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(key_ids, [first.id.as_str(), second.id.as_str()]);
    let listed_first = &key_list.data[0];
    assert_eq!(listed_first.object, "organization.project.api_key");
    assert_eq!(listed_first.name, "Secret Key");
    assert_eq!(listed_first.last_used_at, None);
    assert!(matches!(
        listed_first.owner_project_access,
        Some(OwnerProjectAccess::Active)
    ));
    assert!(matches!(
        listed_first.owner.r#type,
        ProjectApiKeyOwnerType::ServiceAccount
    ));
    assert!(listed_first.owner.user.is_none());
    let owner = listed_first.owner.service_account.as_ref().unwrap();
    assert_eq!(
        (owner.id.as_str(), owner.name.as_str(), owner.role.as_str()),
        (account.id.as_str(), "Deployer", "member")
    );
    // The secret is shown once: the list has only its redacted form.
    let redacted = &listed_first.redacted_value;
    assert!(redacted.starts_with(&first.value[..13]), "{redacted}");
    assert!(redacted.ends_with(&first.value[first.value.len() - 4..]));
    assert!(!redacted.contains(&first.value[13..first.value.len() - 4]));

    let got = keys().retrieve(&first.id).await.unwrap();
    assert_eq!(
        (got.id.as_str(), &got.redacted_value),
        (first.id.as_str(), redacted)
    );
    let deleted = keys().delete(&first.id).await.unwrap();
    assert_eq!(
        (
            deleted.object.as_str(),
            deleted.id.as_str(),
            deleted.deleted
        ),
        (
            "organization.project.api_key.deleted",
            first.id.as_str(),
            true
        )
    );
    assert_eq!(api_error(keys().retrieve(&first.id).await), (404, None));
    assert_eq!(api_error(keys().delete(&first.id).await), (404, None));

    projects
        .service_accounts(&project)
        .delete(&account.id)
        .await
        .unwrap();
    assert_eq!(api_error(keys().retrieve(&second.id).await), (404, None));
    let left = keys().list().await.unwrap();
    assert!(left.data.is_empty(), "its keys went with it");
}

/// Both lists page with their own query types (`limit`, `after`), and the key list filters on
/// `owner_project_access`.
#[tokio::test]
async fn service_account_and_key_lists_page_with_their_query_types() {
    record_requests();
    let server = TestServer::start().await;
    let openai = client(&server);
    let project = create_project(&openai, "Apps").await;
    let admin = openai.admin();
    let projects = admin.projects();
    let mut made = Vec::new();
    let mut made_keys = Vec::new();
    for i in 0..5 {
        let created = create_account(&openai, &project, &format!("bot {i}")).await;
        made_keys.push(created.api_key.unwrap().id);
        made.push(created.id);
    }

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let query = ListProjectServiceAccountsQuery {
            limit: Some(2),
            after: after.clone(),
        };
        let page = projects
            .service_accounts(&project)
            .query(&query)
            .unwrap()
            .list()
            .await
            .unwrap();
        assert!(page.data.len() <= 2);
        seen.extend(page.data.into_iter().map(|a| a.id));
        if !page.has_more {
            break;
        }
        after = page.last_id;
    }
    assert_eq!(seen, made, "three pages, every account once, in order");

    let mut seen_keys = Vec::new();
    let mut after = None;
    loop {
        let query = ListProjectApiKeysQuery {
            limit: Some(3),
            after: after.clone(),
            owner_project_access: None,
        };
        let page = projects
            .api_keys(&project)
            .query(&query)
            .unwrap()
            .list()
            .await
            .unwrap();
        assert!(page.data.len() <= 3);
        seen_keys.extend(page.data.into_iter().map(|k| k.id));
        if !page.has_more {
            break;
        }
        after = page.last_id;
    }
    assert_eq!(seen_keys, made_keys);

    let inactive = ListProjectApiKeysQuery {
        owner_project_access: Some("inactive".to_owned()),
        ..Default::default()
    };
    let none = projects
        .api_keys(&project)
        .query(&inactive)
        .unwrap()
        .list()
        .await
        .unwrap();
    assert!(none.data.is_empty(), "every owner has a role");
}
