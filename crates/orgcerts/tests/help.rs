//! Help and completions.

mod common;

use common::run_command;
use std::process::Command;

fn orgcerts(args: &[&str]) -> common::Run {
    run_command(
        Command::new(env!("CARGO_BIN_EXE_orgcerts"))
            .env_clear()
            .args(args),
        None,
    )
}

#[test]
fn help_names_every_command_and_the_exit_codes() {
    let top = orgcerts(&["--help"]).ok();
    for command in [
        "serve",
        "db",
        "certs",
        "projects",
        "admin-keys",
        "audit-logs",
        "completions",
    ] {
        assert!(top.contains(&format!("  {command} ")), "{command}: {top}");
    }
    assert!(top.contains("Exit codes:") && top.contains("4  the API could not be reached"));

    let certs = orgcerts(&["certs", "--help"]).ok();
    for command in [
        "list",
        "upload",
        "get",
        "set-filter",
        "rename",
        "delete",
        "activate",
        "deactivate",
    ] {
        assert!(
            certs.contains(&format!("  {command} ")),
            "{command}: {certs}"
        );
    }
    for flag in [
        "--api-key",
        "--api-key-file",
        "--base-url",
        "--timeout",
        "--max-retries",
        "--json",
    ] {
        assert!(certs.contains(flag), "{flag}");
    }
    let projects = orgcerts(&["projects", "--help"]).ok();
    for command in ["list", "create", "get", "rename", "archive"] {
        assert!(
            projects.contains(&format!("  {command} ")),
            "{command}: {projects}"
        );
    }
}

#[test]
fn every_subcommand_has_help() {
    let flags = [
        (
            "certs list",
            &[
                "--project",
                "--limit",
                "--order",
                "--after",
                "--all",
                "--json",
            ][..],
        ),
        ("certs upload", &["FILE|DIR|-", "--name", "--filter <EXPR>"]),
        ("certs set-filter", &["<ID>", "[EXPR]", "--clear"]),
        ("certs get", &["--content"]),
        ("certs rename", &["<NAME>"]),
        ("certs delete", &["<ID>"]),
        ("certs activate", &["--project"]),
        ("certs deactivate", &["--project"]),
        ("projects list", &["--include-archived", "--all", "--limit"]),
        ("projects create", &["<NAME>"]),
        ("projects get", &["<ID>"]),
        ("projects rename", &["<NAME>"]),
        ("projects archive", &["<ID>"]),
        (
            "admin-keys list",
            &["--all", "--limit", "--order", "--jsonl"],
        ),
        ("admin-keys create", &["<NAME>", "--expires-in"]),
        ("admin-keys get", &["<ID>"]),
        ("admin-keys delete", &["<ID>"]),
        (
            "audit-logs list",
            &[
                "--type",
                "--actor-id",
                "--actor-email",
                "--resource-id",
                "--project-id",
                "--since",
                "--until",
                "--before",
                "--all",
            ],
        ),
        ("db organization create", &["--name", "--database-url"]),
        ("db admin-key revoke", &["--organization", "--database-url"]),
        ("completions", &["bash", "zsh", "fish"]),
    ];
    for (command, expected) in flags {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let help = orgcerts(&args).ok();
        for flag in expected {
            assert!(
                help.contains(flag),
                "{command}: {flag} missing from\n{help}"
            );
        }
    }
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let script = orgcerts(&["completions", shell]).ok();
        assert!(
            script.contains("orgcerts") && script.contains("deactivate"),
            "{shell}"
        );
    }
    assert_eq!(orgcerts(&["completions", "tcsh"]).code, 2);
}

/// docs/cli.md ends with every command's help; `ORGCERTS_BLESS=1` rewrites that part.
#[test]
fn docs_cli_md_ends_with_the_current_help() {
    const MARKER: &str = "<!-- Generated from the help: everything below this line. -->\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli.md");
    let doc = std::fs::read_to_string(&path).expect("docs/cli.md");
    let Some(at) = doc.find(MARKER) else {
        panic!("docs/cli.md lacks the line {MARKER}");
    };
    let generated = orgcerts(&["cli-reference"]).ok();
    let expected = format!("{}{generated}", &doc[..at + MARKER.len()]);
    if std::env::var_os("ORGCERTS_BLESS").is_some() {
        std::fs::write(&path, &expected).expect("write docs/cli.md");
        return;
    }
    assert!(
        doc == expected,
        "docs/cli.md differs from the help; regenerate it with \
         `ORGCERTS_BLESS=1 cargo nextest run -p orgcerts --test help` and review the diff"
    );
}
