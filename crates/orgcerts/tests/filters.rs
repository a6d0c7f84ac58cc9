//! `orgcerts certs upload --filter`, `certs set-filter` and the filter in `certs get`, end to
//! end: the real binary against a server.

mod common;

use common::{Fault, TestServer, anchor, json, proxy, run, run_with_stdin, start_server, upload};

const API: i32 = 3;
const USAGE: i32 = 2;
const DNS_FILTER: &str =
    r#"subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))"#;

/// The `filter` line of `certs get ID`.
#[track_caller]
fn filter_line(server: &impl TestServer, id: &str) -> String {
    let shown = run(server, &["certs", "get", id]).ok();
    let line = shown
        .lines()
        .find(|line| line.starts_with("filter "))
        .unwrap_or_else(|| panic!("no filter line in\n{shown}"));
    line["filter".len()..].trim().to_owned()
}

/// The `attribute_filter` of `certs get ID --json`.
#[track_caller]
fn filter_json(server: &impl TestServer, id: &str) -> serde_json::Value {
    let shown = json(&run(server, &["certs", "get", id, "--json"]).ok());
    assert!(
        shown.get("attribute_filter").is_some(),
        "get asks for the filter: {shown}"
    );
    shown["attribute_filter"].clone()
}

#[test]
fn upload_with_a_filter_then_get_shows_it() {
    let server = start_server();
    let uploaded = run_with_stdin(
        &server,
        &[
            "certs", "upload", "-", "--name", "filtered", "--filter", DNS_FILTER, "--json",
        ],
        &anchor("filtered"),
    )
    .ok();
    let id = json(&uploaded)["id"].as_str().unwrap().to_owned();

    assert_eq!(filter_line(&server, &id), DNS_FILTER);
    assert_eq!(filter_json(&server, &id), DNS_FILTER);
    let with_content = json(&run(&server, &["certs", "get", &id, "--content", "--json"]).ok());
    assert_eq!(with_content["attribute_filter"], DNS_FILTER);
    assert!(with_content["certificate_details"]["content"].is_string());

    let plain = upload(&server, "plain");
    assert_eq!(filter_line(&server, &plain), "-");
    assert!(filter_json(&server, &plain).is_null());

    // An empty --filter is no filter.
    let empty = run_with_stdin(
        &server,
        &["certs", "upload", "-", "--filter", "", "--json"],
        &anchor("empty filter"),
    )
    .ok();
    let empty = json(&empty)["id"].as_str().unwrap().to_owned();
    assert!(filter_json(&server, &empty).is_null());
}

#[test]
fn set_filter_changes_it_and_clears_it() {
    let server = start_server();
    let id = upload(&server, "svc");

    let set = run(
        &server,
        &[
            "certs",
            "set-filter",
            &id,
            r#"subject.common_name == "svc""#,
        ],
    )
    .ok();
    assert!(set.starts_with(&format!("id          {id}")), "{set}");
    assert!(
        set.contains(r#"filter      subject.common_name == "svc""#),
        "{set}"
    );
    assert!(set.contains("name        svc"), "the name stays: {set}");
    assert_eq!(filter_line(&server, &id), r#"subject.common_name == "svc""#);

    let changed = run(&server, &["certs", "set-filter", &id, DNS_FILTER, "--json"]).ok();
    assert_eq!(json(&changed)["id"], id.as_str());
    assert_eq!(filter_json(&server, &id), DNS_FILTER);

    let cleared = run(&server, &["certs", "set-filter", &id, "--clear"]).ok();
    assert!(cleared.contains("filter      -"), "{cleared}");
    assert!(filter_json(&server, &id).is_null());

    run(&server, &["certs", "set-filter", &id, DNS_FILTER]).ok();
    run(&server, &["certs", "set-filter", &id, ""]).ok();
    assert!(
        filter_json(&server, &id).is_null(),
        "an empty expression clears"
    );
}

#[test]
fn set_filter_wants_an_expression_or_clear_not_both() {
    let server = start_server();
    let id = upload(&server, "usage");
    let neither = run(&server, &["certs", "set-filter", &id]);
    assert_eq!(neither.code, USAGE, "{}", neither.stderr);
    let both = run(&server, &["certs", "set-filter", &id, "true", "--clear"]);
    assert_eq!(both.code, USAGE, "{}", both.stderr);
}

#[test]
fn an_invalid_filter_prints_the_apis_message_with_its_position() {
    let server = start_server();
    let id = upload(&server, "kept");
    run(&server, &["certs", "set-filter", &id, DNS_FILTER]).ok();

    let failed = run(
        &server,
        &["certs", "set-filter", &id, "subject.common_name == "],
    );
    assert_eq!(failed.code, API, "{}", failed.stderr);
    assert!(failed.stdout.is_empty(), "{}", failed.stdout);
    let lines: Vec<&str> = failed.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {}", failed.stderr);
    let line = lines[0];
    assert!(line.starts_with("error: "), "{line}");
    assert!(
        line.contains("HTTP 400") && line.contains("mtls_cel_policy_invalid"),
        "{line}"
    );
    assert!(line.contains("param attribute_filter"), "{line}");
    assert!(line.contains("line 1") && line.contains("column"), "{line}");
    assert_eq!(
        filter_json(&server, &id),
        DNS_FILTER,
        "a refused filter changes nothing"
    );

    let unknown = run_with_stdin(
        &server,
        &[
            "certs",
            "upload",
            "-",
            "--filter",
            "subject.surname == \"x\"",
        ],
        &anchor("refused"),
    );
    assert_eq!(unknown.code, API, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("mtls_cel_policy_invalid") && unknown.stderr.contains("surname"),
        "{}",
        unknown.stderr
    );
    let listed = json(&run(&server, &["certs", "list", "--json"]).ok());
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        1,
        "the refused upload stored nothing"
    );
}

#[test]
fn get_asks_again_without_the_filter_where_the_api_has_none() {
    let server = proxy(start_server());
    let id = upload(&server, "elsewhere");
    let refusal = r#"{"error":{"message":"Invalid value 'attribute_filter' for include.","type":"invalid_request_error","param":"include","code":null}}"#;
    server.clear_requests();
    server.fail_next([Fault::Body {
        status: 400,
        body: refusal.to_owned(),
    }]);
    let shown = run(&server, &["certs", "get", &id]).ok();
    assert!(shown.starts_with(&format!("id          {id}")), "{shown}");
    assert!(!shown.contains("filter"), "no filter line: {shown}");
    let queries: Vec<Option<String>> = server
        .requests()
        .into_iter()
        .map(|request| request.query)
        .collect();
    assert_eq!(
        queries,
        [Some("include[]=attribute_filter".to_owned()), None],
        "asked with the include, then without"
    );
}
