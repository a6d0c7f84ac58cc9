//! `orgcerts admin-keys …` end to end, over the API.

mod common;

use common::{TestServer, json, orgcerts, run, run_command, start_server};

#[test]
fn create_list_get_and_delete() {
    let server = start_server();
    let created = json(&run(&server, &["admin-keys", "create", "ci", "--json"]).ok());
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["value"].as_str().unwrap().to_owned();
    assert!(
        id.starts_with("key_") && secret.starts_with("sk-admin-"),
        "{created}"
    );

    // The new key works, as the secret printed this once.
    let listed = run_command(
        orgcerts(&server.base_url(), &secret).args(["admin-keys", "list"]),
        None,
    )
    .ok();
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 3, "{listed}");
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("LAST USED"),
        "{listed}"
    );
    assert!(
        lines[2].starts_with(&id) && lines[2].contains("ci"),
        "oldest first: {listed}"
    );
    assert!(!listed.contains(&secret), "a listing never shows a secret");

    let human = run(
        &server,
        &["admin-keys", "create", "deploy", "--expires-in", "3600"],
    )
    .ok();
    assert!(
        human.contains("name        deploy") && human.contains("secret      sk-admin-"),
        "{human}"
    );
    assert!(!human.contains("expires     never"), "{human}");

    let got = run(&server, &["admin-keys", "get", &id]).ok();
    assert!(
        got.starts_with(&format!("id          {id}")) && got.contains("name        ci"),
        "{got}"
    );
    assert!(
        got.contains("expires     never") && !got.contains(&secret),
        "{got}"
    );

    let deleted = run(&server, &["admin-keys", "delete", &id]).ok();
    assert_eq!(deleted.trim(), format!("Deleted {id}"));
    let refused = run_command(
        orgcerts(&server.base_url(), &secret).args(["admin-keys", "list"]),
        None,
    );
    assert_eq!(refused.code, 3, "a deleted key is refused: {refused:?}");
    let gone = run(&server, &["admin-keys", "get", &id]);
    assert_eq!(gone.code, 3, "{gone:?}");
    assert!(gone.stderr.contains("HTTP 404"), "{}", gone.stderr);

    let all = json(
        &run(
            &server,
            &["admin-keys", "list", "--all", "--json", "--limit", "1"],
        )
        .ok(),
    );
    assert_eq!(all["data"].as_array().unwrap().len(), 2, "{all}");
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let server = start_server();
    let refused = run(
        &server,
        &["admin-keys", "create", "ci", "--expires-in", "0"],
    );
    assert_eq!(refused.code, 3, "{refused:?}");
    assert!(
        refused.stderr.contains("expires_in_seconds"),
        "{}",
        refused.stderr
    );
    let refused = run(
        &server,
        &["admin-keys", "create", "ci", "--expires-in", "soon"],
    );
    assert_eq!(refused.code, 2, "{refused:?}");
    let both = run(&server, &["admin-keys", "list", "--json", "--jsonl"]);
    assert_eq!(both.code, 2, "{both:?}");
    let keys = json(&run(&server, &["admin-keys", "list", "--json"]).ok());
    assert_eq!(keys["data"].as_array().unwrap().len(), 1, "{keys}");
}
