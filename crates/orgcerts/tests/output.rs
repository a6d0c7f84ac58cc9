//! What a person sees: colour only where it belongs, and uploads of a directory.

mod common;

use common::{TestServer, anchor, json, orgcerts, run, run_command, run_with_stdin, start_server};
use orgcerts_testkit::CertSpec;
use orgcerts_testkit::time::{Duration, OffsetDateTime};

/// Runs `args` with the colour variables given, nothing else of the caller's.
fn with_colour(server: &impl TestServer, args: &[&str], vars: &[(&str, &str)]) -> String {
    let mut command = orgcerts(&server.base_url(), server.admin_key());
    command.env_remove("NO_COLOR").args(args);
    for (name, value) in vars {
        command.env(name, value);
    }
    run_command(&mut command, None).ok()
}

#[test]
fn expiring_soon_is_said_in_words_and_coloured_only_on_request() {
    let server = start_server();
    let now = OffsetDateTime::now_utc();
    let pem = CertSpec::ca("soon")
        .valid(
            now - Duration::days(1),
            now + Duration::days(20) + Duration::hours(1),
        )
        .mint()
        .cert_pem;
    let id = json(&run_with_stdin(&server, &["certs", "upload", "-", "--json"], &pem).ok())["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let plain = with_colour(&server, &["certs", "get", &id], &[]);
    assert!(
        plain.ends_with("(20 days left, expiring soon)\nfilter      -\n"),
        "{plain}"
    );
    assert!(!plain.contains('\u{1b}'), "piped: no colour");
    let table = with_colour(&server, &["certs", "list"], &[]);
    assert!(
        table.lines().nth(1).unwrap().ends_with("20, expiring soon"),
        "{table}"
    );

    let forced = with_colour(&server, &["certs", "get", &id], &[("CLICOLOR_FORCE", "1")]);
    assert!(
        forced.contains("\u{1b}[33m20 days left, expiring soon"),
        "{forced:?}"
    );
    let forced = with_colour(&server, &["certs", "list"], &[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains('\u{1b}'), "{forced:?}");

    let refused = [("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")];
    assert!(!with_colour(&server, &["certs", "get", &id], &refused).contains('\u{1b}'));
    assert!(!with_colour(&server, &["certs", "list"], &refused).contains('\u{1b}'));
}

#[test]
fn upload_a_directory_of_pem_files() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b-edge.crt"), anchor("b")).unwrap();
    std::fs::write(dir.path().join("a-root.pem"), anchor("a")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a certificate").unwrap();
    let path = dir.path().to_str().unwrap();

    let uploaded = run(&server, &["certs", "upload", path]);
    assert!(
        uploaded.stderr.is_empty(),
        "no progress bar when piped: {}",
        uploaded.stderr
    );
    let out = uploaded.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("a-root.pem") && lines[0].contains("  cert_"),
        "{out}"
    );
    assert!(lines[1].contains("b-edge.crt"), "name order: {out}");

    let listed = json(&run(&server, &["certs", "list", "--json", "--order", "asc"]).ok());
    let names: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cert| cert["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a-root", "b-edge"]);

    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("c.pem"), anchor("c")).unwrap();
    std::fs::write(other.path().join("d.pem"), anchor("d")).unwrap();
    let other = other.path().to_str().unwrap();
    let again = run(&server, &["certs", "upload", other, "--jsonl"]).ok();
    let names: Vec<String> = again
        .lines()
        .map(|line| json(line)["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["c", "d"]);
}

#[test]
fn a_bad_file_stops_the_directory_upload_and_is_named() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1-good.pem"), anchor("good")).unwrap();
    std::fs::write(
        dir.path().join("2-bad.pem"),
        "-----BEGIN CERTIFICATE-----\nnope\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("3-later.pem"), anchor("later")).unwrap();
    let path = dir.path().to_str().unwrap();

    let failed = run(&server, &["certs", "upload", path]);
    assert_eq!(failed.code, 3, "{failed:?}");
    assert!(
        failed.stdout.contains("1-good.pem") && !failed.stdout.contains("3-later"),
        "{failed:?}"
    );
    assert!(
        failed.stderr.contains("2-bad.pem") && failed.stderr.contains("HTTP 400"),
        "{}",
        failed.stderr
    );
    let listed = json(&run(&server, &["certs", "list", "--json"]).ok());
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");

    // An empty file stops the run too, and the list of what was uploaded is still printed.
    std::fs::write(dir.path().join("2-bad.pem"), "").unwrap();
    std::fs::remove_file(dir.path().join("1-good.pem")).unwrap();
    std::fs::write(dir.path().join("0-new.pem"), anchor("new")).unwrap();
    let failed = run(&server, &["certs", "upload", path, "--json"]);
    assert_eq!(failed.code, 2, "{failed:?}");
    assert!(
        failed.stderr.contains("2-bad.pem is empty"),
        "{}",
        failed.stderr
    );
    let printed = json(&failed.stdout);
    assert_eq!(printed["data"][0]["name"], "0-new", "{printed}");
    assert_eq!(printed["data"].as_array().unwrap().len(), 1, "{printed}");

    let named = run(&server, &["certs", "upload", path, "--name", "x"]);
    assert_eq!(named.code, 2, "{named:?}");
    let empty = tempfile::tempdir().unwrap();
    let nothing = run(
        &server,
        &["certs", "upload", empty.path().to_str().unwrap()],
    );
    assert_eq!(nothing.code, 2, "{nothing:?}");
    assert!(
        nothing.stderr.contains("no *.pem or *.crt file"),
        "{}",
        nothing.stderr
    );
}
