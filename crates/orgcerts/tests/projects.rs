//! `orgcerts projects …` end to end.

mod common;

use common::{json, run, start_server};

#[test]
fn create_get_rename_archive_and_list() {
    let server = start_server();
    let created = run(&server, &["projects", "create", "Payments"]).ok();
    assert!(created.starts_with("id        proj_"), "{created}");
    assert!(created.contains("status    active"));
    let id = created.split_whitespace().nth(1).unwrap().to_owned();
    let other = json(&run(&server, &["projects", "create", "Search", "--json"]).ok())["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert!(
        run(&server, &["projects", "get", &id])
            .ok()
            .contains("name      Payments")
    );
    assert!(
        run(&server, &["projects", "rename", &id, "Billing"])
            .ok()
            .contains("name      Billing")
    );
    let archived = run(&server, &["projects", "archive", &other]).ok();
    assert!(
        archived.contains("status    archived") && archived.contains("archived  "),
        "{archived}"
    );

    let listed = run(&server, &["projects", "list"]).ok();
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.lines().next().unwrap().starts_with("ID"));
    assert!(listed.contains("Billing") && !listed.contains("Search"));
    let everything = run(&server, &["projects", "ls", "--include-archived"]).ok();
    assert!(
        everything.contains("Search") && everything.contains("archived"),
        "{everything}"
    );
}

#[test]
fn list_all_pages_and_json() {
    let server = start_server();
    for index in 0..5 {
        run(
            &server,
            &["projects", "create", &format!("project {index}")],
        )
        .ok();
    }
    let table = run(&server, &["projects", "list", "--limit", "2", "--all"]).ok();
    assert_eq!(table.lines().count(), 6, "{table}");
    let whole = json(
        &run(
            &server,
            &["projects", "list", "--limit", "2", "--all", "--json"],
        )
        .ok(),
    );
    assert_eq!(whole["data"].as_array().unwrap().len(), 5, "{whole}");
    assert_eq!(whole["has_more"], false);
    let lines = run(
        &server,
        &["projects", "list", "--limit", "2", "--all", "--jsonl"],
    )
    .ok();
    assert_eq!(lines.lines().count(), 5, "{lines}");
    assert!(
        lines
            .lines()
            .all(|line| json(line)["object"] == "organization.project")
    );
    let one = json(&run(&server, &["projects", "list", "--limit", "2", "--json"]).ok());
    assert_eq!(one["object"], "list");
    assert_eq!(one["has_more"], true);
}
