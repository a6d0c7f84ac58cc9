//! `orgcerts audit-logs list` and its filters, over the API.

mod common;

use common::{TestServer, json, run, start_server, upload};

/// The `type`s of the entries `audit-logs list ARGS --json` prints, in order.
fn types(server: &impl TestServer, args: &[&str]) -> Vec<String> {
    let mut command = vec!["audit-logs", "list", "--json"];
    command.extend_from_slice(args);
    let listed = json(&run(server, &command).ok());
    listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["type"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_filter_narrows_the_list() {
    let server = start_server();
    let first = upload(&server, "first");
    let second = upload(&server, "second");
    run(&server, &["projects", "create", "Payments"]).ok();
    run(&server, &["certs", "rename", &first, "renamed"]).ok();

    let all = [
        "certificate.updated",
        "project.created",
        "certificate.created",
        "certificate.created",
        "api_key.created",
    ];
    assert_eq!(
        types(&server, &["--all", "--limit", "1"]),
        all,
        "newest first"
    );
    assert_eq!(
        types(&server, &["--type", "certificate.created"]),
        all[2..4]
    );
    assert_eq!(
        types(
            &server,
            &["--type", "project.created", "--type", "certificate.updated"]
        ),
        all[..2]
    );
    assert_eq!(
        types(&server, &["--resource-id", &first]),
        ["certificate.updated", "certificate.created"]
    );
    assert_eq!(
        types(&server, &["--resource-id", &second]),
        ["certificate.created"]
    );

    let newest = json(&run(&server, &["audit-logs", "list", "--json", "--limit", "1"]).ok());
    let actor = newest["data"][0]["actor"]["api_key"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The bootstrap key was made by the server itself: no actor.
    assert_eq!(types(&server, &["--actor-id", &actor]), all[..4]);
    assert!(types(&server, &["--actor-id", "key_nobody"]).is_empty());

    assert_eq!(types(&server, &["--since", "7d", "--until", "0s"]), all);
    assert!(types(&server, &["--until", "2001-09-09"]).is_empty());
    assert!(types(&server, &["--since", "2999-01-01T00:00:00Z"]).is_empty());

    let table = run(&server, &["audit-logs", "ls", "--resource-id", &first]).ok();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[0].starts_with("WHEN") && lines[0].contains("RESOURCE"),
        "{table}"
    );
    assert!(
        lines[1].contains("certificate.updated")
            && lines[1].contains(&first)
            && lines[1].contains(&actor),
        "{table}"
    );
    let bootstrap = run(&server, &["audit-logs", "ls", "--type", "api_key.created"]).ok();
    assert!(bootstrap.contains(" operator "), "{bootstrap}");
}

#[test]
fn paging_hints_name_the_cursor_each_way() {
    let server = start_server();
    for name in ["a", "b", "c", "d"] {
        upload(&server, name);
    }
    // Paging: each way, the hint names the cursor that leads on.
    let older = run(&server, &["audit-logs", "list", "--limit", "2"]);
    let last = older
        .stdout
        .lines()
        .nth(2)
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_owned();
    assert!(
        older.stderr.contains(&format!("--after {last}")),
        "{}",
        older.stderr
    );
    let oldest = json(
        &run(
            &server,
            &["audit-logs", "list", "--json", "--after", &last, "--all"],
        )
        .ok(),
    );
    let oldest_id = oldest["last_id"].as_str().unwrap().to_owned();
    let newer = run(
        &server,
        &["audit-logs", "list", "--limit", "2", "--before", &oldest_id],
    );
    let first = newer
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_owned();
    assert!(
        newer.stderr.contains(&format!("--before {first}")),
        "{}",
        newer.stderr
    );
    assert_eq!(
        types(&server, &["--before", &oldest_id, "--all", "--limit", "2"]).len(),
        4,
        "--before follows the pages towards newer entries"
    );
}

#[test]
fn moments_that_cannot_be_read_are_usage_errors() {
    let server = start_server();
    for args in [
        &["--since", "yesterday"][..],
        &["--until", "7y"],
        &["--since", "1d", "--until", "2d"],
    ] {
        let mut command = vec!["audit-logs", "list"];
        command.extend_from_slice(args);
        let refused = run(&server, &command);
        assert_eq!(refused.code, 2, "{args:?}: {refused:?}");
        assert!(refused.stdout.is_empty());
        assert!(
            refused.stderr.contains("a duration back from now")
                || refused.stderr.contains("later than --until"),
            "{args:?}: {}",
            refused.stderr
        );
    }
}
