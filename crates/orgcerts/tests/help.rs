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
    for command in ["certs", "projects", "completions"] {
        assert!(top.contains(&format!("  {command} ")), "{command}: {top}");
    }
    assert!(top.contains("Exit codes:") && top.contains("4  the API could not be reached"));

    let certs = orgcerts(&["certs", "--help"]).ok();
    for command in [
        "list",
        "upload",
        "get",
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
        ("certs upload", &["FILE|-", "--name"]),
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
