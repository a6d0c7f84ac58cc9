//! `orgcerts db …`: the operator commands, their old spellings, and database options in any
//! position.

mod common;

use std::process::Command;

use common::{json, run_command};
use orgcerts_testkit::database::TestDatabase;

fn orgcerts(args: &[&str]) -> common::Run {
    run_command(
        Command::new(env!("CARGO_BIN_EXE_orgcerts"))
            .env_clear()
            .args(args),
        None,
    )
}

#[test]
fn db_commands_take_the_database_url_anywhere_and_old_spellings_still_work() {
    let database = TestDatabase::fresh();
    let url = database.url();

    // The option after the subcommand, where a person types it.
    let created = json(
        &orgcerts(&[
            "db",
            "organization",
            "create",
            "--name",
            "Acme",
            "--database-url",
            &url,
        ])
        .ok(),
    );
    let org = created["organization_id"].as_str().unwrap().to_owned();
    assert!(org.starts_with("org-"), "{created}");
    assert!(
        created["admin_key"]
            .as_str()
            .unwrap()
            .starts_with("sk-admin-")
    );

    // Before the subcommand, and through the old spelling.
    let listed = json(&orgcerts(&["db", "--database-url", &url, "organization", "list"]).ok());
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let listed = json(&orgcerts(&["organization", "list", "--database-url", &url]).ok());
    assert_eq!(listed[0]["id"], org.as_str());

    let key = json(
        &orgcerts(&[
            "admin-key",
            "create",
            "--organization",
            &org,
            "--name",
            "ci",
            "--database-url",
            &url,
        ])
        .ok(),
    );
    let key_id = key["id"].as_str().unwrap().to_owned();
    let keys = json(
        &orgcerts(&[
            "db",
            "admin-key",
            "list",
            "--organization",
            &org,
            "--database-url",
            &url,
        ])
        .ok(),
    );
    assert_eq!(keys.as_array().unwrap().len(), 2, "{keys}");

    let revoked = json(
        &orgcerts(&[
            "db",
            "admin-key",
            "revoke",
            "--organization",
            &org,
            &key_id,
            "--database-url",
            &url,
        ])
        .ok(),
    );
    assert!(revoked["revoked_at"].is_i64(), "{revoked}");
    let keys = json(
        &orgcerts(&[
            "admin-key",
            "list",
            "--database-url",
            &url,
            "--organization",
            &org,
        ])
        .ok(),
    );
    assert_eq!(
        keys.as_array().unwrap().len(),
        1,
        "a revoked key is no longer listed"
    );
}

#[test]
fn bad_organization_ids_are_refused_without_changing_anything() {
    let database = TestDatabase::fresh();
    let url = database.url();
    let refused = orgcerts(&[
        "db",
        "admin-key",
        "create",
        "--organization",
        "acme",
        "--database-url",
        &url,
    ]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("'acme' is not an organization id"),
        "{}",
        refused.stderr
    );
    let listed = json(&orgcerts(&["db", "organization", "list", "--database-url", &url]).ok());
    assert_eq!(listed.as_array().unwrap().len(), 0);
}

#[test]
fn top_level_help_groups_the_database_commands_and_says_what_each_kind_needs() {
    let help = orgcerts(&["--help"]).ok();
    assert!(help.contains("  db "), "{help}");
    for hidden in ["  organization ", "  admin-key "] {
        assert!(!help.contains(hidden), "{hidden} is a hidden alias: {help}");
    }
    let line = help
        .lines()
        .skip_while(|line| !line.contains("`serve`, `gateway` and `db …` work on the database"))
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        line.contains("DATABASE_URL") && line.contains("admin key (OPENAI_ADMIN_KEY)"),
        "{help}"
    );
    let db = orgcerts(&["db", "--help"]).ok();
    assert!(
        db.contains("  organization ")
            && db.contains("  admin-key ")
            && db.contains("--database-url"),
        "{db}"
    );
}
