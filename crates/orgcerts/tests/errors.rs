//! Each failure path: one `error:` line on stderr and its own exit code.

mod common;

use common::{
    Fault, TestServer, closed_port, orgcerts, proxy, run, run_command, run_with_stdin, start_server,
};

const API: i32 = 3;
const UNREACHABLE: i32 = 4;
const BAD_RESPONSE: i32 = 5;

#[track_caller]
fn one_error_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    lines[0]
}

#[test]
fn an_api_error_names_status_type_param_and_request_id() {
    let server = start_server();
    let failed = run(
        &server,
        &["certs", "get", "cert_nosuchcertificate000000000"],
    );
    assert_eq!(failed.code, API);
    assert!(failed.stdout.is_empty());
    let line = one_error_line(&failed.stderr);
    assert!(
        line.contains("HTTP 404") && line.contains("invalid_request_error"),
        "{line}"
    );
    assert!(
        line.contains("param certificate_id") && line.contains("cert_nosuchcertificate"),
        "{line}"
    );
    assert!(line.contains("(request id req_"), "{line}");
}

#[test]
fn a_rejected_upload_is_an_api_error() {
    let server = start_server();
    let failed = run_with_stdin(&server, &["certs", "upload", "-"], "not a certificate");
    assert_eq!(failed.code, API);
    assert!(one_error_line(&failed.stderr).contains("mtls_certificate_invalid"));
}

#[test]
fn a_wrong_key_is_an_api_error() {
    let server = start_server();
    let failed = run_command(
        orgcerts(&server.base_url(), "sk-admin-wrong").args(["projects", "list"]),
        None,
    );
    assert_eq!(failed.code, API);
    assert!(one_error_line(&failed.stderr).contains("invalid_api_key"));
}

#[test]
fn an_unreachable_server_is_its_own_code() {
    let base_url = format!("http://127.0.0.1:{}/v1", closed_port());
    let failed = run_command(
        orgcerts(&base_url, "sk-admin-x").args(["certs", "list", "--max-retries", "1"]),
        None,
    );
    assert_eq!(failed.code, UNREACHABLE);
    let line = one_error_line(&failed.stderr);
    assert!(
        line.contains("could not reach the API") && line.contains("Connection refused"),
        "{line}"
    );
}

#[test]
fn an_answer_that_is_not_json_is_its_own_code() {
    let server = proxy(start_server());
    server.fail_next([Fault::garbage()]);
    let failed = run(&server, &["certs", "list"]);
    assert_eq!(failed.code, BAD_RESPONSE);
    let line = one_error_line(&failed.stderr);
    assert!(
        line.contains("unexpected response") && line.contains("request id req_"),
        "{line}"
    );
}

#[test]
fn server_errors_are_retried_before_failing() {
    let server = proxy(start_server());
    server.fail_next([Fault::status(503)]);
    run(&server, &["certs", "list"]).ok();
    server.clear_requests();
    server.fail_next([Fault::status(500), Fault::status(500)]);
    let failed = run(&server, &["certs", "list", "--max-retries", "1"]);
    assert_eq!(failed.code, API);
    assert!(one_error_line(&failed.stderr).contains("HTTP 500"));
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn usage_errors_exit_2() {
    let server = proxy(start_server());
    for args in [
        &["certs"][..],
        &["certs", "list", "--limit", "0"],
        &["certs", "list", "--order", "sideways"],
        &["certs", "activate"],
        &["projects", "rename", "proj_x"],
        &["nonsense"],
    ] {
        let failed = run(&server, args);
        assert_eq!(failed.code, 2, "{args:?}: {failed:?}");
    }
    let no_key = run_command(
        orgcerts(&server.base_url(), "").args(["certs", "list"]),
        None,
    );
    assert_eq!(no_key.code, 2);
    assert!(one_error_line(&no_key.stderr).contains("OPENAI_ADMIN_KEY"));
    let bad_url = run_command(
        orgcerts("not a url", "sk-admin-x").args(["certs", "list"]),
        None,
    );
    assert_eq!(bad_url.code, 2);
    assert!(one_error_line(&bad_url.stderr).contains("invalid base URL"));
    let empty = run_with_stdin(&server, &["certs", "upload", "-"], "");
    assert_eq!(empty.code, 2);
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[test]
fn an_unreadable_file_is_a_local_failure() {
    let server = start_server();
    let failed = run(&server, &["certs", "upload", "/nonexistent/anchor.pem"]);
    assert_eq!(failed.code, 1);
    assert!(one_error_line(&failed.stderr).contains("cannot read /nonexistent/anchor.pem"));
}

#[test]
fn the_key_can_come_from_a_file() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    std::fs::write(&path, format!("{}\n", server.admin_key())).unwrap();
    let listed = run_command(
        orgcerts(&server.base_url(), "sk-admin-wrong").args([
            "projects",
            "list",
            "--api-key-file",
            path.to_str().unwrap(),
        ]),
        None,
    );
    assert_eq!(listed.code, 0, "{listed:?}");
}
