//! A project's service accounts and API keys (`openai-project-service-accounts.openapi.yaml`)
//! through the client, end to end, auto-paging included.

mod common;

use common::{client, server};
use futures_util::TryStreamExt;
use orgcerts_client::types::{
    CreateProjectServiceAccountApiKeyBody, ProjectApiKeyOwnerAccess, ProjectApiKeyOwnerType,
    ProjectCreateRequest, ProjectServiceAccountCreateRequest, ProjectServiceAccountRole,
    UpdateProjectServiceAccountBody, UpdateProjectServiceAccountRole,
};
use orgcerts_client::{
    Client, Error, ListProjectApiKeysParams, ListServiceAccountsParams, OwnerProjectAccess,
};

async fn new_project(client: &Client) -> String {
    let request = ProjectCreateRequest {
        name: "Apps".to_owned(),
        residency: None,
        external_key_id: None,
    };
    let projects = client.admin().organization().projects();
    projects.create(&request).await.unwrap().into_inner().id
}

fn named(name: &str) -> ProjectServiceAccountCreateRequest {
    ProjectServiceAccountCreateRequest {
        name: name.to_owned(),
        create_service_account_only: None,
    }
}

#[tokio::test]
async fn service_accounts_and_their_keys() {
    let server = server();
    let client = client(&server);
    let project = new_project(&client).await;
    let projects = client.admin().organization().projects();
    let accounts = projects.service_accounts(&project);

    let created = accounts
        .create(&named("Deployer"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.role, ProjectServiceAccountRole::Member);
    let first = created.api_key.clone().unwrap();
    assert!(first.value.starts_with("sk-svcacct-"));
    let mut ids = vec![created.id.clone()];
    for index in 0..4 {
        let other = accounts
            .create(&named(&format!("bot {index}")))
            .await
            .unwrap();
        ids.push(other.into_inner().id);
    }
    let walked: Vec<String> = accounts
        .list(&ListServiceAccountsParams::new().limit(2))
        .await
        .unwrap()
        .into_stream()
        .map_ok(|account| account.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(walked, ids, "every page, in creation order");

    let update = UpdateProjectServiceAccountBody {
        name: Some("Release".to_owned()),
        role: Some(UpdateProjectServiceAccountRole::Owner),
    };
    let updated = accounts.update(&created.id, &update).await.unwrap();
    assert_eq!(updated.role, ProjectServiceAccountRole::Owner);
    assert_eq!(
        accounts.retrieve(&created.id).await.unwrap().name,
        "Release"
    );
    let body = CreateProjectServiceAccountApiKeyBody {
        name: Some("ci".to_owned()),
        scopes: None,
    };
    let second = accounts.create_api_key(&created.id, &body).await.unwrap();
    assert_eq!(second.name, "ci");

    let keys = projects.api_keys(&project);
    let listed: Vec<_> = keys
        .list(&ListProjectApiKeysParams::new().limit(2))
        .await
        .unwrap()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 6, "five first keys and the second");
    assert_eq!(listed[0].id, first.id);
    assert_eq!(listed[0].owner.kind, ProjectApiKeyOwnerType::ServiceAccount);
    assert_eq!(
        listed[0].owner_project_access,
        ProjectApiKeyOwnerAccess::Active
    );
    let inactive = keys
        .list(&ListProjectApiKeysParams::new().owner_project_access(OwnerProjectAccess::Inactive))
        .await
        .unwrap();
    assert!(inactive.data.is_empty());

    assert_eq!(keys.retrieve(&second.id).await.unwrap().name, "ci");
    assert!(keys.delete(&second.id).await.unwrap().deleted);
    let Err(Error::Api(gone)) = keys.retrieve(&second.id).await else {
        panic!("a deleted key is gone");
    };
    assert_eq!(gone.status.as_u16(), 404);

    assert!(accounts.delete(&created.id).await.unwrap().deleted);
    let Err(Error::Api(gone)) = keys.retrieve(&first.id).await else {
        panic!("the account's keys went with it");
    };
    assert_eq!(gone.status.as_u16(), 404);
    let Err(Error::InvalidInput(_)) = accounts.retrieve(" ").await else {
        panic!("an empty id is refused before sending");
    };
}
