//! `orgcerts certs …` end to end: the real binary against a server.

mod common;

use common::{TestServer, anchor, json, run, run_with_stdin, start_server, upload};
use orgcerts_testkit::CertSpec;
use orgcerts_testkit::time::{Duration, OffsetDateTime};

#[test]
fn upload_from_a_file_and_from_stdin() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("anchor.pem");
    std::fs::write(&path, anchor("from file")).unwrap();

    let from_file = run(
        &server,
        &[
            "certs",
            "upload",
            path.to_str().unwrap(),
            "--name",
            "from file",
        ],
    )
    .ok();
    assert!(from_file.starts_with("id          cert_"), "{from_file}");
    assert!(from_file.contains("name        from file"));
    assert!(from_file.contains("days left)"));

    let from_stdin = run_with_stdin(
        &server,
        &["certs", "upload", "-", "--json"],
        &anchor("stdin"),
    )
    .ok();
    let uploaded = json(&from_stdin);
    assert_eq!(uploaded["object"], "certificate");
    assert!(uploaded["name"].is_null());

    let listed = json(&run(&server, &["certs", "list", "--json"]).ok());
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
}

#[test]
fn list_prints_a_table_with_marks() {
    let server = start_server();
    let now = OffsetDateTime::now_utc();
    let soon = CertSpec::ca("soon")
        .valid(now - Duration::days(1), now + Duration::days(10))
        .mint()
        .cert_pem;
    run_with_stdin(
        &server,
        &["certs", "upload", "-", "--name", "expiring"],
        &soon,
    )
    .ok();
    let id = upload(&server, "long lived");
    run(&server, &["certs", "activate", &id]).ok();

    let table = run(&server, &["certs", "list"]).ok();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    let header: Vec<&str> = lines[0]
        .split("  ")
        .filter(|cell| !cell.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(
        header,
        ["ID", "NAME", "ACTIVE", "VALID FROM", "EXPIRES", "DAYS LEFT"]
    );
    // Newest first: the long-lived, active one, then the one expiring in 10 days.
    assert!(
        lines[1].starts_with(&id) && lines[1].contains("long lived") && lines[1].contains("yes"),
        "{table}"
    );
    assert!(
        lines[2].contains("expiring") && lines[2].contains(" no "),
        "{table}"
    );
    assert!(
        lines[2].trim_end().ends_with("9, expiring soon")
            || lines[2].trim_end().ends_with("10, expiring soon"),
        "{table}"
    );
    let today = now.date();
    let date = format!(
        "{:04}-{:02}-{:02}",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    let expires = now + Duration::days(365);
    let expires = format!(
        "{:04}-{:02}-{:02}",
        expires.year(),
        u8::from(expires.month()),
        expires.day()
    );
    assert!(
        lines[1].contains(&expires) && !lines[1].contains(&date),
        "{table}"
    );

    let ascending = run(&server, &["certs", "ls", "--order", "asc"]).ok();
    assert!(ascending.lines().nth(1).unwrap().contains("expiring"));
}

#[test]
fn list_json_is_the_api_body_exactly() {
    let server = start_server();
    upload(&server, "a");
    upload(&server, "b");
    let printed = run(&server, &["certs", "list", "--json", "--limit", "1"]).ok();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = orgcerts_client::Client::builder()
        .api_key(server.admin_key())
        .base_url(server.base_url())
        .build()
        .unwrap();
    let params = orgcerts_client::ListParams::new().limit(1);
    let page = runtime
        .block_on(client.admin().organization().certificates().list(&params))
        .unwrap();
    assert_eq!(printed.trim_end_matches('\n'), page.raw_body());
    assert_eq!(json(&printed)["has_more"], true);
}

#[test]
fn all_follows_every_page() {
    let server = start_server();
    let ids: Vec<String> = (0..5)
        .map(|index| upload(&server, &format!("c{index}")))
        .collect();

    let first_page = run(&server, &["certs", "list", "--limit", "2"]);
    assert_eq!(first_page.code, 0);
    assert_eq!(first_page.stdout.lines().count(), 3);
    assert!(
        first_page.stderr.contains("--all"),
        "a hint names --all: {}",
        first_page.stderr
    );

    let walked = run(
        &server,
        &["certs", "list", "--limit", "2", "--all", "--order", "asc"],
    );
    assert!(
        walked.stderr.is_empty(),
        "no progress when stderr is not a terminal: {}",
        walked.stderr
    );
    let table = walked.ok();
    let listed: Vec<&str> = table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());

    // One JSON document holding every item, whatever the page size.
    let whole = run(
        &server,
        &["certs", "list", "--limit", "2", "--all", "--json"],
    )
    .ok();
    let document = json(&whole);
    let listed: Vec<&str> = document["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect();
    let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(listed, newest_first, "pages run newest first by default");
    assert_eq!(document["object"], "list");
    assert_eq!(document["has_more"], false);
    assert_eq!(document["first_id"], ids[4].as_str());
    assert_eq!(document["last_id"], ids[0].as_str());

    // One item per line.
    let lines = run(
        &server,
        &["certs", "list", "--limit", "2", "--all", "--jsonl"],
    )
    .ok();
    let listed: Vec<String> = lines
        .lines()
        .map(|line| json(line)["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, newest_first);
}

#[test]
fn get_rename_activate_deactivate_delete() {
    let server = start_server();
    let pem = anchor("details");
    let id = json(&run_with_stdin(&server, &["certs", "upload", "-", "--json"], &pem).ok())["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let details = run(&server, &["certs", "get", &id]).ok();
    assert!(
        details.contains(&id) && details.contains("name        -"),
        "{details}"
    );
    let content = run(&server, &["certs", "get", &id, "--content"]).ok();
    assert_eq!(content.trim(), pem.trim());
    let with_content = json(&run(&server, &["certs", "get", &id, "--content", "--json"]).ok());
    assert_eq!(
        with_content["certificate_details"]["content"]
            .as_str()
            .unwrap()
            .trim(),
        pem.trim()
    );

    let renamed = run(&server, &["certs", "rename", &id, "edge proxies"]).ok();
    assert!(renamed.contains("name        edge proxies"));

    let activated = run(&server, &["certs", "activate", &id]).ok();
    assert!(
        activated.lines().nth(1).unwrap().contains("yes"),
        "{activated}"
    );
    let refused = run(&server, &["certs", "delete", &id]);
    assert_eq!(refused.code, 3, "{refused:?}");
    assert!(refused.stderr.contains("certificate_in_use"));
    let deactivated = run(&server, &["certs", "deactivate", &id]).ok();
    assert!(
        deactivated.lines().nth(1).unwrap().contains(" no "),
        "{deactivated}"
    );
    assert_eq!(
        run(&server, &["certs", "rm", &id]).ok().trim(),
        format!("Deleted {id}")
    );
    assert_eq!(
        run(&server, &["certs", "list"]).ok().trim(),
        "No certificates."
    );
}

#[test]
fn project_scope() {
    let server = start_server();
    let project = json(&run(&server, &["projects", "create", "Payments", "--json"]).ok())["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = upload(&server, "one");
    let second = upload(&server, "two");

    let activated = json(
        &run(
            &server,
            &[
                "certs",
                "activate",
                &first,
                &second,
                "--project",
                &project,
                "--json",
            ],
        )
        .ok(),
    );
    assert_eq!(
        activated["object"],
        "organization.project.certificate.activation"
    );
    assert_eq!(activated["data"].as_array().unwrap().len(), 2);

    let in_project = run(&server, &["certs", "list", "--project", &project]).ok();
    assert_eq!(
        in_project
            .lines()
            .filter(|line| line.contains(" yes "))
            .count(),
        2,
        "{in_project}"
    );
    let in_organization = run(&server, &["certs", "list"]).ok();
    assert_eq!(
        in_organization
            .lines()
            .filter(|line| line.contains(" yes "))
            .count(),
        0
    );

    run(
        &server,
        &["certs", "deactivate", &first, "--project", &project],
    )
    .ok();
    let after = run(&server, &["certs", "list", "--project", &project, "--json"]).ok();
    let actives: Vec<bool> = json(&after)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["active"].as_bool().unwrap())
        .collect();
    assert_eq!(actives, [true, false], "newest (second) still active");
}
