//! `orgcerts projects service-accounts …` and `orgcerts projects api-keys …` end to end.

mod common;

use common::{json, run, start_server};

/// A project with a service account made by `orgcerts projects service-accounts create`:
/// (server, project id, account id, its key's secret).
fn account() -> (impl common::TestServer, String, String, String) {
    let server = start_server();
    let project = json(&run(&server, &["projects", "create", "Apps", "--json"]).ok())["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let created = run(
        &server,
        &[
            "projects",
            "service-accounts",
            "create",
            &project,
            "Deployer",
        ],
    );
    assert!(
        created.stderr.contains("Store the API key now"),
        "{}",
        created.stderr
    );
    let created = created.ok();
    assert!(created.starts_with("id        svc_acct_"), "{created}");
    assert!(created.contains("role      member"));
    let secret = created
        .lines()
        .find_map(|line| line.strip_prefix("api key   "))
        .unwrap()
        .to_owned();
    assert!(
        secret.starts_with("sk-svcacct-") && secret.len() == 75,
        "{secret}"
    );
    let id = created.split_whitespace().nth(1).unwrap().to_owned();
    (server, project, id, secret)
}

#[test]
fn service_accounts_create_get_rename_list_delete() {
    let (server, project, id, _) = account();
    let alone = json(
        &run(
            &server,
            &[
                "projects",
                "service-accounts",
                "create",
                &project,
                "Later",
                "--no-key",
                "--json",
            ],
        )
        .ok(),
    );
    assert_eq!(
        (&alone["role"], &alone["api_key"]),
        (&"none".into(), &serde_json::Value::Null)
    );

    let renamed = run(
        &server,
        &[
            "projects",
            "service-accounts",
            "rename",
            &project,
            &id,
            "Release",
        ],
    )
    .ok();
    assert!(renamed.contains("name      Release"), "{renamed}");
    assert!(
        run(
            &server,
            &["projects", "service-accounts", "get", &project, &id]
        )
        .ok()
        .contains("name      Release")
    );
    let listed = run(
        &server,
        &[
            "projects",
            "service-accounts",
            "list",
            &project,
            "--limit",
            "1",
            "--all",
        ],
    )
    .ok();
    assert_eq!(listed.lines().count(), 3, "{listed}");

    let deleted = run(
        &server,
        &["projects", "service-accounts", "rm", &project, &id],
    )
    .ok();
    assert!(deleted.contains(&id), "{deleted}");
    let missing = run(
        &server,
        &["projects", "service-accounts", "get", &project, &id],
    );
    assert_ne!(missing.code, 0, "{missing:?}");
}

#[test]
fn api_keys_list_get_delete() {
    let (server, project, id, secret) = account();
    let keys = run(&server, &["projects", "api-keys", "list", &project]).ok();
    assert_eq!(keys.lines().count(), 2, "{keys}");
    assert!(keys.contains(&id) && keys.contains("active"), "{keys}");
    assert!(!keys.contains(&secret), "never the secret");
    let key_id = keys
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let inactive = run(
        &server,
        &[
            "projects",
            "api-keys",
            "ls",
            &project,
            "--owner-access",
            "inactive",
        ],
    )
    .ok();
    assert_eq!(inactive.trim(), "No API keys.");
    assert!(
        run(&server, &["projects", "api-keys", "get", &project, &key_id])
            .ok()
            .contains("access    active")
    );
    assert!(
        run(
            &server,
            &["projects", "api-keys", "delete", &project, &key_id]
        )
        .ok()
        .contains(&key_id)
    );
    let gone = run(&server, &["projects", "api-keys", "get", &project, &key_id]);
    assert_ne!(gone.code, 0, "{gone:?}");
}
